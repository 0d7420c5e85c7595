"""`loa digest`, `loa target`, `loa report`, `loa insights`: the weekly digest, plan targets, reports, insights.

Registered on the main app by cli/main.py. Every command validates its input before touching the
database: a malformed week, an unknown organisation or a period whose start is after its end gets a
Vietnamese message, exit code 2, and nothing is stored.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import typer

from common.errors import ServiceError

digest_app = typer.Typer(help="Thư tổng hợp tuần gửi lãnh đạo (xem trước, gửi, người nhận, lỗi gửi).",
                         invoke_without_command=True)
target_app = typer.Typer(help="Chỉ tiêu của kế hoạch (Fanpage/Zalo, số bài, xử lý thông tin…).", no_args_is_help=True)
insights_app = typer.Typer(help="Số liệu tương tác của bài đã đăng (lượt xem, cảm xúc, bình luận, chia sẻ).",
                           no_args_is_help=True)


def _settings():  # noqa: ANN202
    from common.settings import get_settings

    return get_settings()


def _factory():  # noqa: ANN202
    from db.session import make_engine, make_sessionmaker

    return make_sessionmaker(make_engine(_settings().database_url))


def _scope():  # noqa: ANN202
    from db.session import session_scope

    return session_scope(_factory())


def _fail(message: str) -> None:
    typer.secho(f"Lỗi: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _require_org(session, org_id: int | None) -> None:  # noqa: ANN001
    from db.models import Organisation

    if org_id is None:
        raise ServiceError("Cần chọn tổ chức: --org ID (xem `loa org list`).")
    if session.get(Organisation, org_id) is None:
        raise ServiceError(f"Không có tổ chức #{org_id} (xem `loa org list`).")


# --- loa digest ----------------------------------------------------------------------------------

@digest_app.callback()
def digest(ctx: typer.Context,
           org: int | None = typer.Option(None, help="Id tổ chức"),
           week: str | None = typer.Option(None, help="Tuần ISO, ví dụ 2027-W18 (mặc định: tuần này; với --send: "
                                                       "tuần trước)"),
           preview: Path | None = typer.Option(None, help="Ghi thư dạng HTML (ảnh nhúng sẵn) ra tệp này"),
           text: Path | None = typer.Option(None, help="Ghi phần văn bản thuần ra tệp này"),
           send: bool = typer.Option(False, "--send",
                                     help="Gửi ngay tới người nhận chưa nhận thư của tuần đó")) -> None:
    """Lập thư tổng hợp tuần của một tổ chức: xem trước (--preview) hoặc gửi (--send)."""
    if ctx.invoked_subcommand is not None:
        return
    from db.base import utcnow
    from domain.digest import build_digest, preview_html
    from domain.periods import Week

    try:
        w = Week.parse(week) if week else Week.containing(utcnow()).shift(-1 if send else 0)
        if preview is None and text is None and not send:
            raise ServiceError("Cần --preview TỆP.html, --text TỆP.txt hoặc --send.")
        with _scope() as session:
            _require_org(session, org)
            rendered = build_digest(session, org, w, base_url=_settings().public_base_url)
    except ServiceError as exc:
        _fail(exc.message_vi)
    for path, body in ((preview, preview_html(rendered) if preview else None), (text, rendered.text)):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
            typer.echo(f"Đã ghi {path}")
    d = rendered.data
    typer.echo(f"{rendered.subject}: {d.posts_week} lượt đăng, {d.flagged_week} mục cần chú ý, "
               f"{d.grievances_open} phản ánh còn mở, {len(d.targets)} chỉ tiêu, {len(rendered.images)} biểu đồ.")
    if send:
        from scheduler.runtime import get_runtime
        from scheduler.reporting import send_digest

        if not get_runtime().mailer.enabled:
            _fail("Chưa cấu hình máy chủ thư (LOA_SMTP_HOST).")
        stats = send_digest(org, w.label)
        if not any(stats.values()):
            typer.echo(f"Không còn ai phải gửi thư {w.label}: mọi người nhận đã có thư, thư lỗi chờ `loa digest "
                       f"resend`, hoặc chưa có người nhận (`loa digest settings --org {org} --add …`).")
            return
        typer.echo(f"Gửi thư {w.label}: {stats['sent']} đã gửi, {stats['retry']} sẽ thử lại, {stats['failed']} lỗi, "
                   f"{stats['skipped']} đã gửi trước đó hoặc đang gửi.")


@digest_app.command("settings")
def digest_settings(org: int = typer.Option(..., help="Id tổ chức"),
                    add: list[str] = typer.Option([], "--add", help="Thêm người nhận (lặp lại được)"),
                    remove: list[str] = typer.Option([], "--remove", help="Bỏ người nhận"),
                    weekday: int | None = typer.Option(None, help="Ngày gửi: 0 = thứ Hai … 6 = Chủ nhật"),
                    hour: int | None = typer.Option(None, help="Giờ gửi (0–23, giờ Việt Nam)"),
                    on: bool | None = typer.Option(None, "--on/--off", help="Bật/tắt thư tổng hợp")) -> None:
    """Người nhận, ngày và giờ gửi thư tổng hợp tuần (mặc định thứ Hai 07:00)."""
    from domain.digest.send import configure, describe_settings

    try:
        with _scope() as session:
            _require_org(session, org)
            if add or remove or weekday is not None or hour is not None or on is not None:
                configure(session, org, add=add, remove=remove, weekday=weekday, hour=hour, enabled=on)
            typer.echo(describe_settings(session, org))
    except ServiceError as exc:
        _fail(exc.message_vi)


@digest_app.command("failures")
def digest_failures(org: int | None = typer.Option(None, help="Chỉ tổ chức này")) -> None:
    """Thư tổng hợp không gửi được hoặc không chắc đã đến (không bao giờ bị bỏ qua lặng lẽ)."""
    from domain.digest.send import STATUS_VI, problems

    with _scope() as session:
        rows = problems(session, org_id=org)
        for d in rows:
            typer.echo(f"{d.week}  tổ chức #{d.org_id}  {d.email}  [{STATUS_VI[d.status]}] sau {d.attempts} lần: "
                       f"{d.last_error or ''}")
        if not rows:
            typer.echo("Không có thư tổng hợp nào bị lỗi.")


@digest_app.command("resend")
def digest_resend(org: int = typer.Option(...), week: str = typer.Option(...), email: str = typer.Option(...)) -> None:
    """Gửi lại một thư bị lỗi hoặc không chắc đã đến (lần kiểm tra kế tiếp của lịch sẽ gửi)."""
    from domain.digest.send import resend
    from domain.periods import Week

    try:
        w = Week.parse(week)
        with _scope() as session:
            _require_org(session, org)
            resend(session, org, w, email)
        typer.echo(f"Đã xếp lại thư {w.label} gửi {email}; sẽ được gửi trong lần kiểm tra tới (hoặc dùng "
                   f"`loa digest --org {org} --week {w.label} --send`).")
    except ServiceError as exc:
        _fail(exc.message_vi)


# --- loa target ----------------------------------------------------------------------------------

KIND_HELP = ("cdcs_channel_pct (tỷ lệ CĐCS có Fanpage/Zalo) | posts_per_channel_week (bài/tuần mỗi kênh) | "
             "flagged_handled_pct (tỷ lệ xử lý trong --hours giờ) | published_posts (số bài) | "
             "digital_products_pct (tỷ lệ sản phẩm trên nền tảng số; nhập tổng bằng `target set`) | manual")


@target_app.command("add")
def target_add(org: int = typer.Option(..., help="Id tổ chức"), kind: str = typer.Option(..., help=KIND_HELP),
               period: str = typer.Option(..., help="2027 | 2027-H1 | 2027-Q2 | 2027-01-01:2027-06-30"),
               threshold: float = typer.Option(..., help="Mức chỉ tiêu, ví dụ 100 (%), 2 (bài/tuần)"),
               title: str = typer.Option("", help="Nguyên văn chỉ tiêu trong kế hoạch"),
               at_most: bool = typer.Option(False, "--at-most", help="Chỉ tiêu dạng «không quá» (≤)"),
               hours: float | None = typer.Option(None, help="flagged_handled_pct: số giờ (mặc định 24)"),
               subtree: bool = typer.Option(False, "--subtree", help="Tính cả các đơn vị trực thuộc"),
               unit: str = typer.Option("", help="manual: đơn vị tính"),
               plan: str = typer.Option("", help="Số hiệu kế hoạch, ví dụ 27/KH-LĐLĐ")) -> None:
    """Ghi một chỉ tiêu của kế hoạch cho một kỳ."""
    from db.models import TargetKind
    from domain.periods import parse_period
    from domain.targets import add_target

    try:
        try:
            target_kind = TargetKind(kind)
        except ValueError:
            raise ServiceError(f"Loại chỉ tiêu «{kind}» không có. Các loại: {KIND_HELP}.") from None
        p = parse_period(period)
        params: dict = {}
        if hours is not None:
            params["hours"] = hours
        if subtree:
            params["subtree"] = True
        if unit:
            params["unit"] = unit
        with _scope() as session:
            _require_org(session, org)
            t = add_target(session, org_id=org, kind=target_kind, title=title, period=p, threshold=threshold,
                           comparison="<=" if at_most else ">=", params=params, plan_ref=plan or None)
            typer.echo(f"Đã ghi chỉ tiêu #{t.id}: {t.title} ({p.title_vi}).")
    except ServiceError as exc:
        _fail(exc.message_vi)


@target_app.command("set")
def target_set(id: int = typer.Option(..., "--id", help="Id chỉ tiêu"),  # noqa: A002
               value: float = typer.Option(..., help="Số liệu (manual) hoặc tổng số sản phẩm của kỳ "
                                                     "(digital_products_pct)"),
               note: str = typer.Option("", help="Ghi chú nguồn số liệu")) -> None:
    """Nhập số liệu cho chỉ tiêu Loa không tự đo được."""
    from domain.targets import set_manual_value

    try:
        with _scope() as session:
            t = set_manual_value(session, id, value, note or None)
            typer.echo(f"Đã nhập số liệu cho chỉ tiêu #{t.id}: {t.title}.")
    except ServiceError as exc:
        _fail(exc.message_vi)


@target_app.command("remove")
def target_remove(id: int = typer.Option(..., "--id")) -> None:  # noqa: A002
    """Xoá một chỉ tiêu."""
    from db.models import PlanTarget

    with _scope() as session:
        t = session.get(PlanTarget, id)
        if t is None:
            _fail(f"Không có chỉ tiêu #{id}.")
        session.delete(t)
    typer.echo(f"Đã xoá chỉ tiêu #{id}.")


@target_app.command("list")
def target_list(org: int = typer.Option(..., help="Id tổ chức"),
                at: str = typer.Option("", help="Đo đến ngày (mặc định hôm nay), ví dụ 2027-06-30")) -> None:
    """Các chỉ tiêu của tổ chức, số đo được và trạng thái (đạt / chưa đạt / không đo được)."""
    from db.base import utcnow
    from domain.periods import parse_date, today_local
    from domain.targets import measure_all

    try:
        as_of = parse_date(at) if at else today_local(utcnow())
        with _scope() as session:
            _require_org(session, org)
            results = measure_all(session, org, as_of=as_of)
    except ServiceError as exc:
        _fail(exc.message_vi)
    for r in results:
        typer.echo(f"#{r.target_id} [{r.status_vi}] {r.title} — chỉ tiêu {r.target_vi}, đạt {r.actual_vi}; "
                   f"{r.detail} (kỳ {r.period.title_vi})")
    if not results:
        typer.echo("Tổ chức chưa có chỉ tiêu nào (loa target add …).")


# --- loa report ----------------------------------------------------------------------------------

def report(org: int = typer.Option(..., help="Id tổ chức"),
           from_: str = typer.Option(..., "--from", help="Ngày đầu kỳ, ví dụ 2027-01-01"),
           to: str = typer.Option(..., "--to", help="Ngày cuối kỳ, ví dụ 2027-06-30"),
           format: str = typer.Option("xlsx", "--format", help="xlsx | pdf"),  # noqa: A002
           output: Path | None = typer.Option(None, help="Tệp kết quả (mặc định trong LOA_REPORTS_DIR)")) -> None:
    """Báo cáo công tác truyền thông 6 tháng / năm (bảng và biểu đồ) ra Excel hoặc PDF."""
    from domain.periods import Period, parse_date
    from domain.reports import gather_report, write_pdf, write_xlsx

    try:
        if format not in ("xlsx", "pdf"):
            raise ServiceError("Định dạng phải là xlsx hoặc pdf.")
        period = Period(parse_date(from_, field="from"), parse_date(to, field="to"))
        if period.days > 2 * 366:
            raise ServiceError("Kỳ báo cáo dài tối đa 2 năm.")
        with _scope() as session:
            _require_org(session, org)
            data = gather_report(session, org, period)
    except ServiceError as exc:
        _fail(exc.message_vi)
    path = output or _settings().reports_dir / f"bao-cao-{org}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{format}"
    path.parent.mkdir(parents=True, exist_ok=True)
    (write_xlsx if format == "xlsx" else write_pdf)(data, path)
    typer.echo(f"Đã xuất báo cáo {data.org_name}, kỳ {period.title_vi}: {path}")


# --- loa insights --------------------------------------------------------------------------------

@insights_app.command("pull")
def insights_pull() -> None:
    """Đọc ngay số liệu các bài đến hạn (thường do lịch chạy mỗi 10 phút)."""
    from scheduler.reporting import claim_due_insights, pull_channel_insights

    claimed = claim_due_insights()
    total = {"read": 0, "gone": 0}
    for channel_id, target_ids in claimed.items():
        stats = pull_channel_insights(channel_id, target_ids)
        total["read"] += stats.get("read", 0)
        total["gone"] += stats.get("gone", 0)
        if stats.get("error"):
            typer.echo(f"Kênh #{channel_id}: {stats['error']}")
    typer.echo(f"Đã đọc số liệu {total['read']} bài trên {len(claimed)} kênh ({total['gone']} bài không còn).")


@insights_app.command("show")
def insights_show(org: int = typer.Option(..., help="Id tổ chức (gồm các đơn vị trực thuộc)"),
                  by: str = typer.Option("channel", help="post | channel | campaign | org"),
                  days: int = typer.Option(30, help="Bài đăng trong bao nhiêu ngày gần đây")) -> None:
    """Hiệu quả bài đăng theo bài, kênh, chiến dịch hoặc đơn vị."""
    from db.base import utcnow
    from domain.insights import GROUPS, performance
    from domain.scope import load_scope
    from domain.targets import fmt_number

    try:
        if by not in GROUPS:
            raise ServiceError("--by phải là post, channel, campaign hoặc org.")
        with _scope() as session:
            scope = load_scope(session, org)
            now = utcnow()
            rows = performance(session, by=by, org_ids=scope.ids, since=now - timedelta(days=days), until=now)
    except ServiceError as exc:
        _fail(exc.message_vi)
    for r in rows:
        typer.echo(f"{r.label[:60]:60}  {r.publications:>4} lượt đăng  {fmt_number(r.views):>9} xem  "
                   f"{fmt_number(r.engagement):>7} tương tác ({fmt_number(r.reactions)} cảm xúc, "
                   f"{fmt_number(r.comments)} bình luận, {fmt_number(r.shares)} chia sẻ)")
    if not rows:
        typer.echo("Chưa có số liệu tương tác trong khoảng này.")
