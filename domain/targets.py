"""Plan targets (chỉ tiêu) and how far an organisation has come: measured from Loa's own data when it can.

The plans (../shared/plans) set targets such as "100% CĐCS xây dựng trang Fanpage, Zalo", "tỉ trọng
sản phẩm truyền thông trên nền tảng số chiếm 50%", "≥ 2 bài/tuần trên mỗi kênh" or "xử lý tin sai
lệch kịp thời". Each target has a kind (``TargetKind``); Loa measures:

* ``cdcs_channel_pct`` — CĐCS below the organisation with at least one active Fanpage or Zalo OA,
  out of all its CĐCS (the organisation itself when it is a CĐCS);
* ``posts_per_channel_week`` — posts a week on each channel (the weakest channel is the figure, so
  "≥ 2 on every channel" holds exactly when it is ≥ 2); the organisation's own channels, or its
  whole subtree with ``params.subtree``;
* ``flagged_handled_pct`` — flagged items a monitor acted on (confirmed, dismissed, escalated,
  relabelled) within ``params.hours`` (24) of their creation; items younger than that are not judged;
* ``published_posts`` — posts (not per channel) published in the period;
* ``digital_products_pct`` — posts published in Loa out of the period's total communication products,
  a total Loa cannot see and the organisation enters (``manual_value``);
* ``manual`` — a figure entered by hand (trainings held, printed material…).

A period still running is measured up to the given day; its status says whether the target is met
*so far* (đạt / chưa đạt), or "không đo được" with the reason when there is nothing to measure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Interval, and_, case, distinct, func, literal, select
from sqlalchemy.orm import Session

from common.errors import InvalidInput, NotFound
from db.base import utcnow
from db.models import (Channel, ChannelStatus, Item, Organisation, PlanTarget, PostTarget, ReviewStatus, TargetKind,
                       TargetStatus, User)
from domain.periods import Period
from domain.scope import Scope, load_scope

KIND_VI = {
    TargetKind.cdcs_channel_pct: "Tỷ lệ CĐCS có Fanpage hoặc Zalo OA đang hoạt động",
    TargetKind.posts_per_channel_week: "Số bài mỗi tuần trên mỗi kênh",
    TargetKind.flagged_handled_pct: "Tỷ lệ thông tin cần chú ý được xử lý kịp thời",
    TargetKind.published_posts: "Số bài đã đăng",
    TargetKind.digital_products_pct: "Tỷ lệ sản phẩm truyền thông trên nền tảng số",
    TargetKind.manual: "Chỉ tiêu nhập tay",
}
UNIT = {
    TargetKind.cdcs_channel_pct: "%", TargetKind.posts_per_channel_week: "bài/tuần",
    TargetKind.flagged_handled_pct: "%", TargetKind.published_posts: "bài", TargetKind.digital_products_pct: "%",
    TargetKind.manual: "",
}
MET, NOT_MET, UNMEASURABLE = "dat", "chua_dat", "khong_do_duoc"
STATUS_VI = {MET: "Đạt", NOT_MET: "Chưa đạt", UNMEASURABLE: "Không đo được"}
COMPARISONS = (">=", "<=")
DEFAULT_HANDLED_HOURS = 24


@dataclass(frozen=True)
class TargetResult:
    """A target, what was measured, and whether it is met."""

    target_id: int
    title: str
    kind: TargetKind
    period: Period
    threshold: float
    comparison: str
    unit: str
    actual: float | None
    status: str
    detail: str
    in_progress: bool  # the period has not ended at the measuring date

    @property
    def status_vi(self) -> str:
        return STATUS_VI[self.status]

    @property
    def progress(self) -> float | None:
        """How far towards the threshold (0–1, capped), for progress bars; None when not measurable."""
        if self.actual is None:
            return None
        if self.comparison == "<=":
            return 1.0 if self.actual <= self.threshold else max(0.0, self.threshold / self.actual)
        return 1.0 if self.threshold <= 0 else max(0.0, min(1.0, self.actual / self.threshold))

    @property
    def target_vi(self) -> str:
        sign = "≥" if self.comparison == ">=" else "≤"
        return f"{sign} {fmt_number(self.threshold)}{(' ' + self.unit) if self.unit else ''}".replace(" %", "%")

    @property
    def actual_vi(self) -> str:
        if self.actual is None:
            return "—"
        return f"{fmt_number(self.actual)}{(' ' + self.unit) if self.unit else ''}".replace(" %", "%")


def fmt_number(value: float) -> str:
    """Vietnamese number: 1.234 thousands, 12,5 decimals."""
    if abs(value - round(value)) < 1e-9:
        return f"{int(round(value)):,}".replace(",", ".")
    return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")


# --- Recording targets ---------------------------------------------------------------------------

def add_target(session: Session, *, org_id: int, kind: TargetKind, title: str, period: Period, threshold: float,
               comparison: str = ">=", params: dict | None = None, plan_ref: str | None = None,
               manual_value: float | None = None, actor: User | None = None) -> PlanTarget:
    """Record a target of the organisation's plan for a period."""
    if session.get(Organisation, org_id) is None:
        raise NotFound(f"Không có tổ chức #{org_id}.", org_id=org_id)
    title = (title or "").strip() or KIND_VI[kind]
    if comparison not in COMPARISONS:
        raise InvalidInput("Phép so sánh phải là >= hoặc <=.", field="comparison")
    if threshold < 0 or (UNIT[kind] == "%" and threshold > 100):
        raise InvalidInput("Mức chỉ tiêu không hợp lệ (tỷ lệ phải từ 0 đến 100).", field="threshold")
    params = dict(params or {})
    if kind == TargetKind.flagged_handled_pct:
        hours = params.setdefault("hours", DEFAULT_HANDLED_HOURS)
        if not isinstance(hours, (int, float)) or not 0 < hours <= 24 * 30:
            raise InvalidInput("Số giờ xử lý phải từ 1 đến 720.", field="hours")
    target = PlanTarget(org_id=org_id, kind=kind, title=title[:500], period_start=period.start,
                        period_end=period.end, threshold=float(threshold), comparison=comparison, params=params,
                        plan_ref=plan_ref, manual_value=manual_value, created_by=actor.id if actor else None)
    session.add(target)
    session.flush()
    return target


def set_manual_value(session: Session, target_id: int, value: float | None, note: str | None = None) -> PlanTarget:
    """Enter the figure of a manual target, or the total products of a digital-share target."""
    target = session.get(PlanTarget, target_id)
    if target is None:
        raise NotFound(f"Không có chỉ tiêu #{target_id}.", target_id=target_id)
    if target.kind not in (TargetKind.manual, TargetKind.digital_products_pct):
        raise InvalidInput("Chỉ tiêu này do Loa tự đo, không nhập tay.", field="value")
    if value is not None and value < 0:
        raise InvalidInput("Số liệu không được âm.", field="value")
    target.manual_value, target.manual_note = value, note
    return target


def targets_of(session: Session, org_id: int, *, overlapping: Period | None = None) -> list[PlanTarget]:
    """The organisation's targets, those whose period overlaps ``overlapping`` when given."""
    stmt = select(PlanTarget).where(PlanTarget.org_id == org_id)
    if overlapping is not None:
        stmt = stmt.where(PlanTarget.period_start <= overlapping.end, PlanTarget.period_end >= overlapping.start)
    return list(session.scalars(stmt.order_by(PlanTarget.period_start, PlanTarget.id)))


# --- Measuring -----------------------------------------------------------------------------------

def measure(session: Session, target: PlanTarget, *, as_of: date, scope: Scope | None = None) -> TargetResult:
    """Measure one target over its period up to ``as_of`` (a local date, included)."""
    scope = scope or load_scope(session, target.org_id)
    full = Period(target.period_start, target.period_end)
    period = full.clipped(as_of)
    in_progress = as_of < full.end
    kind = TargetKind(target.kind)
    params = target.params or {}
    actual, detail = _MEASURES[kind](session, target, scope, period, params)
    if actual is None:
        status = UNMEASURABLE
    else:
        actual = round(actual, 1)
        met = actual >= target.threshold if target.comparison == ">=" else actual <= target.threshold
        status = MET if met else NOT_MET
        if in_progress:
            detail += f" (tính đến {period.end:%d/%m/%Y}, kỳ kết thúc {full.end:%d/%m/%Y})"
    return TargetResult(target_id=target.id, title=target.title, kind=kind, period=full, threshold=target.threshold,
                        comparison=target.comparison, unit=UNIT[kind] or str(params.get("unit", "")),
                        actual=actual, status=status, detail=detail, in_progress=in_progress)


def measure_all(session: Session, org_id: int, *, as_of: date, overlapping: Period | None = None,
                scope: Scope | None = None) -> list[TargetResult]:
    """Every target of the organisation (overlapping a period when given), measured."""
    scope = scope or load_scope(session, org_id)
    return [measure(session, t, as_of=as_of, scope=scope)
            for t in targets_of(session, org_id, overlapping=overlapping)]


def _own_or_subtree(target: PlanTarget, scope: Scope, params: dict) -> list[int]:
    return scope.ids if params.get("subtree") else [target.org_id]


def _cdcs_channel_pct(session: Session, target: PlanTarget, scope: Scope, period: Period, params: dict):
    cdcs = {o.id for o in scope.grassroots()}
    if not cdcs:
        return None, "Không có CĐCS trực thuộc để đo."
    until = period.end_utc
    with_channel = len({c.org_id for c in scope.channels(session)
                        if c.org_id in cdcs and c.status == ChannelStatus.active and c.created_at < until})
    return 100.0 * with_channel / len(cdcs), f"{with_channel}/{len(cdcs)} CĐCS có kênh đang hoạt động"


def _posts_per_channel_week(session: Session, target: PlanTarget, scope: Scope, period: Period, params: dict):
    org_ids = set(_own_or_subtree(target, scope, params))
    end = period.end_utc
    channels = [c for c in scope.channels(session)
                if c.org_id in org_ids and c.status != ChannelStatus.disabled and c.created_at < end]
    if not channels:
        return None, "Chưa có kênh nào để đo."
    counts = dict(session.execute(
        select(PostTarget.channel_id, func.count()).where(
            PostTarget.channel_id.in_([c.id for c in channels]), PostTarget.status == TargetStatus.published,
            PostTarget.published_at >= period.start_utc, PostTarget.published_at < end)
        .group_by(PostTarget.channel_id)).all())
    weeks = max(1.0, period.days / 7)
    rates = sorted(((counts.get(c.id, 0) / weeks, c.name) for c in channels))
    ok = sum(1 for rate, _ in rates if rate >= target.threshold)
    weakest_rate, weakest = rates[0]
    return weakest_rate, (f"{ok}/{len(rates)} kênh đạt; kênh thấp nhất: {weakest} "
                          f"({fmt_number(round(weakest_rate, 1))} bài/tuần)")


def _flagged_handled_pct(session: Session, target: PlanTarget, scope: Scope, period: Period, params: dict):
    hours = float(params.get("hours", DEFAULT_HANDLED_HOURS))
    start, end = period.start_utc, min(period.end_utc, utcnow())
    # An item younger than the allowed time can still be handled in time: it is not judged yet.
    judged_until = end - timedelta(hours=hours)
    handled_in_time = and_(Item.reviewed_at.is_not(None), Item.review_status != ReviewStatus.new,
                           within_hours(session, Item.created_at, Item.reviewed_at, hours))
    total, handled = session.execute(
        select(func.count(), func.coalesce(func.sum(case((handled_in_time, 1), else_=0)), 0)).where(
            Item.org_id.in_(scope.ids), Item.flagged.is_(True), Item.created_at >= start,
            Item.created_at < judged_until)).one()
    if not total:
        return None, "Không có thông tin cần chú ý nào trong kỳ để đo."
    return 100.0 * handled / total, f"{handled}/{total} mục được xử lý trong {fmt_number(hours)} giờ"


def within_hours(session: Session, start_col, end_col, hours: float):  # noqa: ANN001, ANN202
    """``end_col - start_col <= hours`` in SQL, for PostgreSQL and SQLite."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end_col) - func.julianday(start_col)) * 24.0 <= hours
    return end_col <= start_col + literal(timedelta(hours=hours), Interval())


def _published_count(session: Session, org_ids: list[int], period: Period) -> int:
    return session.scalar(
        select(func.count(distinct(PostTarget.post_id))).join(Channel, Channel.id == PostTarget.channel_id).where(
            Channel.org_id.in_(org_ids), PostTarget.status == TargetStatus.published,
            PostTarget.published_at >= period.start_utc, PostTarget.published_at < period.end_utc)) or 0


def _published_posts(session: Session, target: PlanTarget, scope: Scope, period: Period, params: dict):
    n = _published_count(session, _own_or_subtree(target, scope, params), period)
    return float(n), f"{fmt_number(n)} bài đã đăng trên Fanpage/Zalo"


def _digital_products_pct(session: Session, target: PlanTarget, scope: Scope, period: Period, params: dict):
    if not target.manual_value:
        return None, "Chưa nhập tổng số sản phẩm truyền thông của kỳ (loa target set --id … --value TỔNG)."
    n = _published_count(session, _own_or_subtree(target, scope, params), period)
    return (min(100.0, 100.0 * n / target.manual_value),
            f"{fmt_number(n)} bài trên nền tảng số / {fmt_number(target.manual_value)} sản phẩm")


def _manual(session: Session, target: PlanTarget, scope: Scope, period: Period, params: dict):
    if target.manual_value is None:
        return None, "Chưa nhập số liệu (loa target set --id … --value …)."
    return float(target.manual_value), (target.manual_note or "Số liệu do đơn vị nhập")


_MEASURES = {
    TargetKind.cdcs_channel_pct: _cdcs_channel_pct,
    TargetKind.posts_per_channel_week: _posts_per_channel_week,
    TargetKind.flagged_handled_pct: _flagged_handled_pct,
    TargetKind.published_posts: _published_posts,
    TargetKind.digital_products_pct: _digital_products_pct,
    TargetKind.manual: _manual,
}
