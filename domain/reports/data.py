"""Figures of the 6-month / annual communication report (báo cáo sơ kết, tổng kết) of one organisation.

The plans ask each level to report "kết quả 6 tháng đầu năm và cả năm": what was published where,
how it was received, what the opinion desk saw and handled, and how far each target (chỉ tiêu) got.
All figures cover the organisation and its subtree over the period, with monthly series (local
months) for the charts and a table per direct sub-organisation. Aggregate SQL only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from db.base import utcnow
from db.models import Campaign, Channel, ChannelStatus, Item, Platform, Post, PostMetric, PostTarget, ReviewStatus, \
    TargetStatus
from domain.digest.data import OPEN_GRIEVANCE, PLATFORM_VI, RISK_VI, RISKS, effective_risk, excerpt
from domain.periods import Period, local_midnight_utc, today_local
from domain.scope import load_scope
from domain.targets import TargetResult, within_hours, measure_all

HANDLED_HOURS = 24


@dataclass(frozen=True)
class ChannelLine:
    name: str
    org_name: str
    platform: str
    publications: int
    per_week: float
    views: int
    engagement: int


@dataclass(frozen=True)
class UnitLine:
    name: str
    publications: int
    views: int
    flagged: int
    grievances_open: int
    channels_active: int
    cdcs_with_channel: int
    cdcs_total: int


@dataclass(frozen=True)
class CampaignLine:
    name: str
    publications: int
    views: int
    engagement: int


@dataclass(frozen=True)
class PostLine:
    excerpt: str
    channel: str
    platform: str
    published: str
    views: int | None
    reactions: int | None
    comments: int | None
    shares: int | None
    engagement: int
    url: str | None


@dataclass
class ReportData:
    org_id: int
    org_name: str
    period: Period
    generated_at: datetime
    units_below: int
    posts: int
    publications: int
    publications_by_platform: dict[str, int]
    channels_active: int
    channels_total: int
    cdcs_with_channel: int
    cdcs_total: int
    views: int
    reach: int
    engagement: int
    flagged_by_risk: dict[str, int]
    flagged_handled_in_time: int
    flagged_judged: int
    grievances_new: int
    grievances_open: int
    months: list[str]
    publications_by_month: dict[str, list[int]]
    flagged_by_month: dict[str, list[int]]
    channels: list[ChannelLine]
    units: list[UnitLine]
    campaigns: list[CampaignLine]
    top_posts: list[PostLine]
    targets: list[TargetResult]

    @property
    def flagged_total(self) -> int:
        return sum(self.flagged_by_risk.values())

    @property
    def handled_pct(self) -> float | None:
        return 100.0 * self.flagged_handled_in_time / self.flagged_judged if self.flagged_judged else None

    def summary_items(self) -> list[tuple[str, object]]:
        """(label, value) pairs for the summary sheet/table; values are numbers where they are numbers."""
        pct = self.handled_pct
        return [
            ("Đơn vị", self.org_name + (f" và {self.units_below} đơn vị trực thuộc" if self.units_below else "")),
            ("Kỳ báo cáo", self.period.title_vi),
            ("Số bài đã đăng (sản phẩm truyền thông trên nền tảng số)", self.posts),
            ("Số lượt đăng trên các kênh", self.publications),
            *[(f"  – trên {PLATFORM_VI[p]}", v) for p, v in self.publications_by_platform.items()],
            ("Kênh đang hoạt động / tổng số kênh", f"{self.channels_active}/{self.channels_total}"),
            ("CĐCS có Fanpage hoặc Zalo OA / tổng số CĐCS", f"{self.cdcs_with_channel}/{self.cdcs_total}"),
            ("Lượt xem", self.views),
            ("Người xem không trùng lặp (Facebook)", self.reach),
            ("Tương tác (cảm xúc, bình luận, chia sẻ)", self.engagement),
            ("Thông tin cần chú ý", self.flagged_total),
            *[(f"  – {RISK_VI[r]}", self.flagged_by_risk[r]) for r in RISKS],
            (f"Tỷ lệ được xử lý trong {HANDLED_HOURS} giờ (%)", None if pct is None else round(pct, 1)),
            ("Phản ánh, khiếu nại mới trong kỳ", self.grievances_new),
            ("Phản ánh chưa xử lý xong (đến nay)", self.grievances_open),
        ]


def month_bounds(period: Period) -> tuple[list[str], list[datetime]]:
    """Labels 'MM/YYYY' and UTC boundaries of the local months the period touches (clipped to it)."""
    labels, starts = [], []
    d = period.start
    while d <= period.end:
        labels.append(f"{d:%m/%Y}")
        starts.append(local_midnight_utc(d))
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return labels, starts + [period.end_utc]


def _bucket(col, bounds: list[datetime]):  # noqa: ANN001, ANN202
    return case(*[(col < bounds[i + 1], i) for i in range(len(bounds) - 1)], else_=len(bounds) - 2)


def gather_report(session: Session, org_id: int, period: Period, *, now: datetime | None = None) -> ReportData:
    """Collect the report's figures for ``org_id`` and its subtree over ``period``."""
    now = now or utcnow()
    scope = load_scope(session, org_id)
    ids = scope.ids
    names = {o.id: o.name for o in scope.orgs.values()}
    start, end = period.start_utc, period.end_utc
    months, bounds = month_bounds(period)
    weeks = max(1.0, period.clipped(today_local(now)).days / 7)

    channels = session.execute(select(Channel.id, Channel.org_id, Channel.name, Channel.platform, Channel.status)
                               .where(Channel.org_id.in_(ids))).all()
    chan = {c.id: c for c in channels}
    chan_ids = list(chan)
    in_period = (PostTarget.channel_id.in_(chan_ids), PostTarget.status == TargetStatus.published,
                 PostTarget.published_at >= start, PostTarget.published_at < end)

    by_month = {p.value: [0] * len(months) for p in Platform}
    per_channel: dict[int, int] = defaultdict(int)
    b = _bucket(PostTarget.published_at, bounds).label("b")
    for channel_id, bucket, n in session.execute(select(PostTarget.channel_id, b, func.count()).where(*in_period)
                                                 .group_by(PostTarget.channel_id, b)):
        by_month[chan[channel_id].platform.value][bucket] += n
        per_channel[channel_id] += n
    posts = session.scalar(select(func.count(distinct(PostTarget.post_id))).where(*in_period)) or 0 if chan_ids else 0

    metric_window = (PostMetric.channel_id.in_(chan_ids), PostMetric.published_at >= start,
                     PostMetric.published_at < end)
    views_by_channel = {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in session.execute(
        select(PostMetric.channel_id, func.coalesce(func.sum(PostMetric.views), 0),
               func.coalesce(func.sum(PostMetric.reach), 0), func.coalesce(func.sum(PostMetric.engagement), 0))
        .where(*metric_window).group_by(PostMetric.channel_id))}

    channel_lines = sorted(
        (ChannelLine(c.name, names[c.org_id], PLATFORM_VI[c.platform.value], per_channel.get(c.id, 0),
                     round(per_channel.get(c.id, 0) / weeks, 1), views_by_channel.get(c.id, (0, 0, 0))[0],
                     views_by_channel.get(c.id, (0, 0, 0))[2]) for c in channels),
        key=lambda r: (-r.publications, r.name))

    flagged_by_month = {r: [0] * len(months) for r in RISKS}
    flagged_by_org: dict[int, int] = defaultdict(int)
    fb = _bucket(Item.created_at, bounds).label("b")
    risk = effective_risk().label("risk")
    for item_org, bucket, label, n in session.execute(
            select(Item.org_id, fb, risk, func.count())
            .where(Item.org_id.in_(ids), Item.flagged.is_(True), Item.created_at >= start, Item.created_at < end)
            .group_by(Item.org_id, fb, risk)):
        if label in flagged_by_month:
            flagged_by_month[label][bucket] += n
        flagged_by_org[item_org] += n
    judged_until = min(end, now) - _hours(HANDLED_HOURS)
    handled_cond = ((Item.reviewed_at.is_not(None)) & (Item.review_status != ReviewStatus.new)
                    & within_hours(session, Item.created_at, Item.reviewed_at, HANDLED_HOURS))
    judged, handled = session.execute(
        select(func.count(), func.coalesce(func.sum(case((handled_cond, 1), else_=0)), 0))
        .where(Item.org_id.in_(ids), Item.flagged.is_(True), Item.created_at >= start,
               Item.created_at < judged_until)).one()
    grievance = (Item.org_id.in_(ids), Item.flagged.is_(True), effective_risk() == "buc_xuc")
    grievances_new = session.scalar(select(func.count()).select_from(Item).where(
        *grievance, Item.created_at >= start, Item.created_at < end)) or 0
    open_by_org = dict(session.execute(select(Item.org_id, func.count()).where(
        *grievance, Item.review_status.in_(OPEN_GRIEVANCE), Item.created_at < end).group_by(Item.org_id)).all())

    cdcs = {o.id for o in scope.grassroots()}
    active_orgs = {c.org_id for c in channels if c.status == ChannelStatus.active}
    units = []
    for child in scope.children:
        members = [o for o, br in scope.branch_of.items() if br == child.id]
        mset = set(members)
        cc = [c for c in channels if c.org_id in mset]
        units.append(UnitLine(
            name=child.name, publications=sum(per_channel.get(c.id, 0) for c in cc),
            views=sum(views_by_channel.get(c.id, (0, 0, 0))[0] for c in cc),
            flagged=sum(flagged_by_org.get(o, 0) for o in members),
            grievances_open=sum(open_by_org.get(o, 0) for o in members),
            channels_active=sum(1 for c in cc if c.status == ChannelStatus.active),
            cdcs_with_channel=len(mset & cdcs & active_orgs), cdcs_total=len(mset & cdcs)))

    campaigns = [CampaignLine(name or "Không thuộc chiến dịch", int(n), int(v), int(e)) for name, n, v, e in
                 session.execute(select(Campaign.name, func.count(), func.coalesce(func.sum(PostMetric.views), 0),
                                        func.coalesce(func.sum(PostMetric.engagement), 0))
                                 .select_from(PostMetric).join(Post, Post.id == PostMetric.post_id)
                                 .outerjoin(Campaign, Campaign.id == Post.campaign_id).where(*metric_window)
                                 .group_by(Campaign.name).order_by(func.count().desc()))] if chan_ids else []

    top = session.execute(
        select(PostMetric.channel_id, PostMetric.views, PostMetric.reactions, PostMetric.comments, PostMetric.shares,
               PostMetric.engagement, PostMetric.published_at, Post.title, func.substr(Post.text, 1, 300),
               PostTarget.external_url)
        .join(Post, Post.id == PostMetric.post_id).join(PostTarget, PostTarget.id == PostMetric.target_id)
        .where(*metric_window).order_by(PostMetric.engagement.desc(), PostMetric.target_id).limit(10)).all() \
        if chan_ids else []
    from domain.scheduling import to_local

    top_posts = [PostLine(excerpt(f"{r.title}: {r[8]}" if r.title else r[8], 110), chan[r.channel_id].name,
                          PLATFORM_VI[chan[r.channel_id].platform.value],
                          to_local(r.published_at).strftime("%d/%m/%Y"), r.views, r.reactions, r.comments, r.shares,
                          r.engagement, r.external_url if (r.external_url or "").startswith("http") else None)
                 for r in top]

    totals = [sum(v) for v in zip(*views_by_channel.values(), strict=False)] if views_by_channel else [0, 0, 0]
    return ReportData(
        org_id=org_id, org_name=scope.root.name, period=period, generated_at=now, units_below=len(ids) - 1,
        posts=posts, publications=sum(per_channel.values()),
        publications_by_platform={p: sum(v) for p, v in by_month.items()},
        channels_active=sum(1 for c in channels if c.status == ChannelStatus.active), channels_total=len(channels),
        cdcs_with_channel=len(cdcs & active_orgs), cdcs_total=len(cdcs), views=totals[0], reach=totals[1],
        engagement=totals[2], flagged_by_risk={r: sum(v) for r, v in flagged_by_month.items()},
        flagged_handled_in_time=int(handled or 0), flagged_judged=int(judged or 0), grievances_new=grievances_new,
        grievances_open=sum(open_by_org.values()), months=months, publications_by_month=by_month,
        flagged_by_month=flagged_by_month, channels=channel_lines, units=units, campaigns=campaigns,
        top_posts=top_posts,
        targets=measure_all(session, org_id, as_of=min(period.end, today_local(now)), overlapping=period,
                            scope=scope))


def _hours(h: float):  # noqa: ANN202
    from datetime import timedelta

    return timedelta(hours=h)
