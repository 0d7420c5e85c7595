"""`loa`: the operators' command line (database, organisations, users, channels, due posts, sandbox, run)."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import typer
from sqlalchemy import select

from common.errors import ServiceError

app = typer.Typer(help="Loa: lên lịch, duyệt, đăng bài và theo dõi dư luận cho Công đoàn.", no_args_is_help=True)
db_app = typer.Typer(help="Cơ sở dữ liệu.", no_args_is_help=True)
org_app = typer.Typer(help="Tổ chức Công đoàn.", no_args_is_help=True)
user_app = typer.Typer(help="Người dùng và mã API.", no_args_is_help=True)
channel_app = typer.Typer(help="Kênh Facebook/Zalo.", no_args_is_help=True)
feed_app = typer.Typer(help="Nguồn tin RSS/Atom theo dõi dư luận.", no_args_is_help=True)
app.add_typer(feed_app, name="feed")
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(user_app, name="user")
app.add_typer(channel_app, name="channel")


def _settings():  # noqa: ANN202
    from common.settings import get_settings

    return get_settings()


def _scope():  # noqa: ANN202
    from db.session import make_engine, make_sessionmaker, session_scope

    return session_scope(make_sessionmaker(make_engine(_settings().database_url)))


def _fail(exc: ServiceError) -> None:
    typer.secho(f"Lỗi: {exc.message_vi}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Chạy migration Alembic tới phiên bản mới nhất."""
    from db.migrate import upgrade

    upgrade(_settings().database_url)
    typer.echo("Cơ sở dữ liệu đã ở phiên bản mới nhất.")


@app.command()
def keygen() -> None:
    """In ra một khoá Fernet mới cho LOA_SECRET_KEYS."""
    from common.crypto import generate_key

    typer.echo(generate_key())


@org_app.command("create")
def org_create(name: str = typer.Option(..., help="Tên tổ chức"),
               kind: str = typer.Option(..., help="tinh | huyen | nganh | co_so"),
               parent: int | None = typer.Option(None, help="Id tổ chức cấp trên")) -> None:
    """Tạo tổ chức (cấp tỉnh không cần cấp trên)."""
    from db.models import OrgKind
    from domain.orgs import create_org

    try:
        with _scope() as s:
            org = create_org(s, name=name, kind=OrgKind(kind), parent_id=parent)
            typer.echo(f"Đã tạo tổ chức #{org.id}: {org.name}")
    except ValueError:
        _fail(ServiceError("Cấp tổ chức phải là tinh, huyen, nganh hoặc co_so."))
    except ServiceError as exc:
        _fail(exc)


@org_app.command("list")
def org_list() -> None:
    """Liệt kê cây tổ chức."""
    from db.models import Organisation

    with _scope() as s:
        for org in s.scalars(select(Organisation).order_by(Organisation.path)):
            typer.echo(f"{'  ' * org.depth}#{org.id} {org.name} ({org.kind.value})")


@user_app.command("create")
def user_create(email: str = typer.Option(...), name: str = typer.Option(""), org: int = typer.Option(...),
                role: str = typer.Option(..., help="admin | editor | approver | monitor | viewer")) -> None:
    """Tạo người dùng với một vai trò và in mã API của họ."""
    from db.models import Organisation, Role
    from domain.orgs import create_user, grant_role, issue_token

    try:
        with _scope() as s:
            organisation = s.get(Organisation, org)
            if organisation is None:
                raise ServiceError(f"Không có tổ chức #{org}.")
            user = create_user(s, email=email, full_name=name or email)
            grant_role(s, user=user, org=organisation, role=Role(role))
            token = issue_token(s, user=user, name="cli")
        typer.echo(f"Đã tạo {email} ({role} tại #{org}). Mã API: {token}")
    except ValueError:
        _fail(ServiceError("Vai trò phải là admin, editor, approver, monitor hoặc viewer."))
    except ServiceError as exc:
        _fail(exc)


@user_app.command("grant")
def user_grant(email: str = typer.Option(...), org: int = typer.Option(...), role: str = typer.Option(...)) -> None:
    """Cấp thêm vai trò cho người dùng."""
    from db.models import Organisation, Role, User
    from domain.orgs import grant_role

    with _scope() as s:
        user = s.scalar(select(User).where(User.email == email.lower()))
        organisation = s.get(Organisation, org)
        if user is None or organisation is None:
            _fail(ServiceError("Không tìm thấy người dùng hoặc tổ chức."))
        grant_role(s, user=user, org=organisation, role=Role(role))
    typer.echo("Đã cấp vai trò.")


@user_app.command("password")
def user_password(email: str = typer.Argument(...),
                  password: str = typer.Option(..., prompt="Mật khẩu mới", hide_input=True, confirmation_prompt=True,
                                               envvar="LOA_NEW_PASSWORD", help="Ít nhất 10 ký tự")) -> None:
    """Đặt mật khẩu đăng nhập web cho người dùng (đăng xuất mọi phiên cũ)."""
    from db.models import User
    from domain.accounts import set_password
    from web.auth import end_all_sessions

    try:
        with _scope() as s:
            user = s.scalar(select(User).where(User.email == email.lower()))
            if user is None:
                raise ServiceError(f"Không có người dùng {email}.")
            set_password(s, user=user, password=password)
            end_all_sessions(s, user_id=user.id)
        typer.echo(f"Đã đặt mật khẩu cho {email}.")
    except ServiceError as exc:
        _fail(exc)


@user_app.command("token")
def user_token(email: str = typer.Argument(...), revoke_old: bool = typer.Option(False, help="Thu hồi mã cũ")) -> None:
    """Tạo mã API mới cho người dùng."""
    from db.models import User
    from domain.orgs import issue_token, revoke_tokens

    with _scope() as s:
        user = s.scalar(select(User).where(User.email == email.lower()))
        if user is None:
            _fail(ServiceError(f"Không có người dùng {email}."))
        if revoke_old:
            revoke_tokens(s, user=user)
        typer.echo(issue_token(s, user=user, name="cli"))


@channel_app.command("connect")
def channel_connect(org: int = typer.Option(...), platform: str = typer.Option(..., help="facebook_page | zalo_oa"),
                    token: str = typer.Option(..., help="Page token hoặc OA access token"),
                    refresh_token: str = typer.Option("", help="Zalo: refresh token"),
                    slots: str = typer.Option("", help="Khung giờ, ví dụ '0-4@07:30,0-6@19:30' (0 = thứ Hai)")) -> None:
    """Kết nối kênh sau khi kiểm tra mã truy cập với nền tảng."""
    from db.models import Organisation, Platform
    from domain.channels import connect_channel, validate_credentials
    from publishers.registry import ClientFactory, PlatformConfig
    from scheduler.runtime import get_runtime

    try:
        plat = Platform(platform)
        creds = validate_credentials(plat, {"access_token": token, "refresh_token": refresh_token})
        info = ClientFactory(PlatformConfig.from_settings(_settings())).probe(plat.value, "me", creds).whoami()
        with _scope() as s:
            organisation = s.get(Organisation, org)
            if organisation is None:
                raise ServiceError(f"Không có tổ chức #{org}.")
            channel = connect_channel(s, org=organisation, platform=plat, external_id=info.external_id,
                                      name=info.name, credentials=creds, cipher=get_runtime().cipher,
                                      slots=parse_slots(slots))
            typer.echo(f"Đã kết nối kênh #{channel.id}: {channel.name} ({plat.value} {info.external_id})")
    except ValueError:
        _fail(ServiceError("Nền tảng phải là facebook_page hoặc zalo_oa."))
    except ServiceError as exc:
        _fail(exc)


def parse_slots(text: str) -> list[dict]:
    """'0-4@07:30,5@09:00' → [{"weekdays": [0..4], "time": "07:30"}, {"weekdays": [5], "time": "09:00"}]."""
    slots = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        days, _, hhmm = part.partition("@")
        lo, _, hi = days.partition("-")
        try:
            slots.append({"weekdays": list(range(int(lo), int(hi or lo) + 1)), "time": hhmm})
        except ValueError as exc:
            raise ServiceError(f"Khung giờ '{part}' không hợp lệ (ví dụ 0-4@07:30).") from exc
    return slots


@channel_app.command("list")
def channel_list() -> None:
    """Liệt kê các kênh và trạng thái."""
    from db.models import Channel

    with _scope() as s:
        for ch in s.scalars(select(Channel).order_by(Channel.id)):
            typer.echo(f"#{ch.id} [{ch.status.value}] {ch.platform.value} {ch.external_id} {ch.name} (tổ chức #{ch.org_id})")


@app.command()
def due(within: int = typer.Option(60, help="Trong bao nhiêu phút tới")) -> None:
    """Liệt kê các bài sắp đến giờ đăng."""
    from db.base import utcnow
    from domain.scheduling import to_local
    from scheduler.due import list_due

    with _scope() as s:
        rows = list_due(s, now=utcnow(), within_s=within * 60)
        for t in rows:
            at = to_local(t.due_at).strftime("%H:%M:%S %d/%m/%Y")
            typer.echo(f"{at}  bài #{t.post_id}  kênh {t.channel.name}  (mục tiêu #{t.id}, lần thử {t.attempts})")
        if not rows:
            typer.echo(f"Không có bài nào đến giờ đăng trong {within} phút tới.")


@app.command()
def sandbox(host: str = "127.0.0.1", port: int = typer.Option(None), demo: bool = True,
            latency_ms: int = 0, error_rate: float = 0.0) -> None:
    """Chạy sandbox giả lập Graph API và Zalo OA API."""
    import subprocess

    args = [sys.executable, "-m", "sandbox", "--host", host, "--port", str(port or _settings().sandbox_port),
            "--latency-ms", str(latency_ms), "--error-rate", str(error_rate)] + (["--demo"] if demo else [])
    raise typer.Exit(subprocess.call(args))


@app.command("demo")
def demo_seed() -> None:
    """Tạo dữ liệu mẫu (cây tổ chức, người dùng mỗi vai trò, kênh trên sandbox) và một bài đăng thử."""
    from cli.demo import seed

    for line in seed(_settings()):
        typer.echo(line)


@app.command()
def run() -> None:
    """Chạy toàn bộ dịch vụ cục bộ: sandbox, API, worker, beat (SQLite, không cần máy chủ nào)."""
    from cli.devserver import run_all

    raise typer.Exit(run_all(_settings()))


@app.command()
def train(datasets: str = typer.Option(None, help="Thư mục dữ liệu (mặc định LOA_DATASETS_DIR)"),
          no_corrections: bool = typer.Option(False, help="Không dùng các nhãn cán bộ đã sửa"),
          if_missing: bool = typer.Option(False, help="Chỉ huấn luyện khi chưa có mô hình (make run)")) -> None:
    """Huấn luyện lại bộ phân loại từ dữ liệu chung và các nhãn cán bộ theo dõi đã sửa."""
    from pathlib import Path

    from classifiers.service import current_version

    if if_missing and current_version(_settings().models_dir):
        typer.echo(f"Đã có mô hình {current_version(_settings().models_dir)}; bỏ qua huấn luyện.")
        return

    from cli.progress import stage_progress
    from classifiers.train import train as run_training

    s = _settings()
    source = Path(datasets) if datasets else s.datasets_dir
    if not (source / "union-opinion").is_dir():
        typer.secho(f"Không tìm thấy dữ liệu huấn luyện tại {source} (đặt LOA_DATASETS_DIR hoặc --datasets).",
                    fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    corrections: list[dict] = []
    if not no_corrections:
        from domain.opinion import corrections as load_corrections

        try:
            with _scope() as session:
                corrections = load_corrections(session)
        except Exception as exc:  # noqa: BLE001 - no database yet: train from the datasets alone
            typer.echo(f"(Không đọc được nhãn đã sửa từ cơ sở dữ liệu: {type(exc).__name__}; bỏ qua.)")
    with stage_progress() as progress:
        path = run_training(source, s.models_dir, corrections=corrections, progress=progress)
    metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    typer.echo(f"Đã lưu mô hình {path.name} ({len(corrections)} nhãn đã sửa) sau {metrics.get('train_seconds')} giây:")
    for head, m in metrics.get("heads", {}).items():
        cv = (m.get("cv") or {}).get("argmax") or {}
        typer.echo(f"  {head:10} {m.get('examples', '?'):>6} mẫu  macro-F1 (kiểm định chéo) {cv.get('macro_f1', '?')}")
    typer.echo(f"Chi tiết: {path / 'metrics.json'}")


@app.command()
def classify(input: str = typer.Option(..., "--input", help="Tệp JSONL: mỗi dòng {\"id\": ..., \"text\": ...}"),
             output: str = typer.Option(..., "--output", help="Tệp JSONL kết quả")) -> None:
    """Phân loại một tệp JSONL (nhãn risk, topic, sentiment, toxicity và xác suất)."""
    from pathlib import Path

    from classifiers.service import classify_jsonl, load_current

    if Path(input).resolve() == Path(output).resolve():
        typer.secho("Tệp kết quả phải khác tệp đầu vào.", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    s = _settings()
    model = load_current(s.models_dir)
    if model is None:
        typer.secho("Chưa có mô hình: chạy `loa train` trước.", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    try:
        n = classify_jsonl(model, Path(input), Path(output))
    except OSError as exc:
        typer.secho(f"Lỗi đọc/ghi tệp: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"Đã phân loại {n} dòng bằng mô hình {model.version} → {output}")


@feed_app.command("add")
def feed_add(org: int = typer.Option(...), url: str = typer.Option(...), name: str = "",
             interval: int = typer.Option(900, help="Giây giữa hai lần đọc")) -> None:
    """Theo dõi một nguồn tin RSS/Atom cho một tổ chức."""
    from db.models import Feed, Organisation

    if not url.startswith(("http://", "https://")) or len(url) > 2048:
        typer.secho("Địa chỉ nguồn tin phải bắt đầu bằng http:// hoặc https:// (tối đa 2.048 ký tự).",
                    fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    from urllib.parse import urlsplit

    from collectors.feed_fetch import is_internal_host

    if not _settings().feeds_allow_private and is_internal_host(urlsplit(url).hostname or ""):
        typer.secho("Nguồn tin trỏ tới địa chỉ nội bộ: không được phép (LOA_FEEDS_ALLOW_PRIVATE).",
                    fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    with _scope() as session:
        if session.get(Organisation, org) is None:
            typer.secho(f"Không có tổ chức #{org}.", fg=typer.colors.RED, err=True)
            raise typer.Exit(2)
        feed = session.scalar(select(Feed).where(Feed.org_id == org, Feed.url == url))
        if feed is None:
            feed = Feed(org_id=org, url=url, name=(name or url)[:255], interval_s=max(60, interval))
            session.add(feed)
        feed.enabled = True
        session.flush()
        typer.echo(f"Nguồn tin #{feed.id}: {feed.url} (mỗi {feed.interval_s} giây)")


@feed_app.command("list")
def feed_list() -> None:
    """Các nguồn tin đang theo dõi và lỗi gần nhất."""
    from db.models import Feed

    with _scope() as session:
        for f in session.scalars(select(Feed).order_by(Feed.id)):
            state = "bật" if f.enabled else "tắt"
            typer.echo(f"#{f.id} tổ chức {f.org_id} [{state}] {f.url}  lỗi: {f.last_error or '-'}")


@user_app.command("duty")
def user_duty(email: str = typer.Option(...), org: int = typer.Option(...),
              on: bool = typer.Option(True, "--on/--off", help="Trực hay thôi trực")) -> None:
    """Đặt cán bộ theo dõi dư luận trực (nhận thư cảnh báo) tại một tổ chức."""
    from db.models import Membership, Role, User

    with _scope() as session:
        m = session.scalar(select(Membership).join(User).where(User.email == email.strip().lower(),
                                                               Membership.org_id == org, Membership.role == Role.monitor))
        if m is None:
            typer.secho("Người này không có vai trò theo dõi dư luận tại tổ chức đó.", fg=typer.colors.RED, err=True)
            raise typer.Exit(2)
        m.on_duty = on
        typer.echo(f"{email} {'đang trực' if on else 'thôi trực'} tại tổ chức #{org}.")


@app.command()
def mailbox(port: int = typer.Option(8025), folder: str = typer.Option("var/mail")) -> None:
    """Hộp thư cục bộ (SMTP) để đọc thư cảnh báo khi chạy thử: lưu thư vào var/mail."""
    from cli.mailbox import serve

    serve(port=port, folder=folder)


@app.command("publish-target")
def publish_target_now(target_id: int) -> None:
    """Đăng ngay một mục tiêu (gỡ lỗi; vẫn giữ đúng một lần)."""
    from scheduler.jobs import publish

    typer.echo(json.dumps({"target_id": target_id, "status": publish(target_id), "at": datetime.now().isoformat()}))



# --- Reporting (issue 5): weekly digest, plan targets, 6-month/annual reports, post insights ---------
from cli.reporting import digest_app, insights_app, report, target_app  # noqa: E402

app.add_typer(digest_app, name="digest")
app.add_typer(target_app, name="target")
app.add_typer(insights_app, name="insights")
app.command("report")(report)


if __name__ == "__main__":
    app()
