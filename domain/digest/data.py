"""The figures of one organisation's weekly digest, gathered with aggregate SQL.

Everything is computed over the organisation *and its whole subtree* (a province's digest rolls up
its districts, sectors and grassroots unions), with a table per direct sub-organisation. About a
dozen grouped queries per digest, none loading rows it only counts: the subtree's ids come from one
query (``load_scope``) and are passed as IN lists; weekly trends are one GROUP BY over a CASE of
eight week boundaries, so the same query runs on PostgreSQL and SQLite.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from classifiers.labels import LABEL_NAMES_VI
from db.base import utcnow
from db.models import (Campaign, ChannelStatus, DigestDelivery, DigestStatus, HotTopic, HotTopicPoint, Item,
                       Platform, Post, PostMetric, PostTarget, ReviewStatus, TargetStatus)
from domain.periods import Period, Week, today_local
from domain.scope import load_scope
from domain.targets import TargetResult, fmt_number, measure_all

TREND_WEEKS = 8
RISKS = ("buc_xuc", "sai_lech", "kich_dong")
PLATFORM_VI = {Platform.facebook_page.value: "Facebook", Platform.zalo_oa.value: "Zalo OA"}
OPEN_GRIEVANCE = (ReviewStatus.new.value, ReviewStatus.confirmed.value, ReviewStatus.escalated.value)
TOP_POSTS, MAX_CHANNEL_ROWS, MAX_FAILED, MAX_TOPICS, MAX_GRIEVANCES = 5, 12, 8, 5, 5
EXCERPT = 140


@dataclass(frozen=True)
class ChannelRow:
    name: str
    org_name: str
    platform: str
    posts: int
    previous: int


@dataclass(frozen=True)
class CampaignRow:
    name: str
    posts: int


@dataclass(frozen=True)
class TopPost:
    excerpt: str
    channel: str
    platform: str
    published_local: str
    views: int | None
    reactions: int | None
    comments: int | None
    shares: int | None
    engagement: int
    url: str | None


@dataclass(frozen=True)
class FailedPost:
    excerpt: str
    channel: str
    at_local: str
    reason: str


@dataclass(frozen=True)
class TopicLine:
    label: str
    description: str


@dataclass(frozen=True)
class Grievance:
    excerpt: str
    org_name: str
    age_days: int
    status_vi: str
    url: str | None


@dataclass(frozen=True)
class UnitRow:
    name: str
    posts: int
    flagged: int
    grievances: int
    channels_active: int
    channels_total: int


@dataclass(frozen=True)
class DeliveryProblem:
    email: str
    week: str
    status_vi: str
    reason: str


@dataclass
class DigestData:
    """Everything the templates show; plain values only."""

    org_id: int
    org_name: str
    week: Week
    generated_at: datetime
    units_below: int
    channels_active: int
    channels_total: int
    trend_weeks: list[Week]
    posts_by_week: dict[str, list[int]]  # platform → 8 weekly counts (oldest first)
    channel_rows: list[ChannelRow]
    channel_rows_hidden: int
    campaign_rows: list[CampaignRow]
    top_posts: list[TopPost]
    week_views: int
    week_engagement: int
    failed_total: int
    failed: list[FailedPost]
    flagged_by_week: dict[str, list[int]]  # risk → 8 weekly counts (oldest first)
    flagged_handled: int
    hot_topics: list[TopicLine]
    grievances_open: int
    grievances_new: int
    grievances: list[Grievance]
    targets: list[TargetResult]
    units: list[UnitRow]
    delivery_problems: list[DeliveryProblem] = field(default_factory=list)

    @property
    def posts_week(self) -> int:
        return sum(v[-1] for v in self.posts_by_week.values())

    @property
    def posts_previous(self) -> int:
        return sum(v[-2] for v in self.posts_by_week.values())

    @property
    def flagged_week(self) -> int:
        return sum(v[-1] for v in self.flagged_by_week.values())

    def flagged_week_of(self, risk: str) -> int:
        return self.flagged_by_week[risk][-1]

    def flagged_trend_vi(self, risk: str | None = None) -> str:
        """'tăng 40% so với trung bình 4 tuần trước' and the like."""
        series = [sum(v[i] for v in self.flagged_by_week.values()) for i in range(TREND_WEEKS)] if risk is None \
            else self.flagged_by_week[risk]
        return trend_vi(series[-1], series[-5:-1])

    @property
    def posts_trend_vi(self) -> str:
        series = [sum(v[i] for v in self.posts_by_week.values()) for i in range(TREND_WEEKS)]
        return trend_vi(series[-1], series[-5:-1])


def trend_vi(current: int, before: list[int]) -> str:
    """Compare this week with the average of the weeks before, in words."""
    n = len(before)
    avg = sum(before) / n if before else 0
    shown = fmt_number(round(avg, 1))
    if avg == 0:
        return f"{n} tuần trước đó không có" if current else "không đổi"
    if avg < 5:
        # Percentages of tiny numbers mislead ("tăng 1100%"): say the numbers.
        word = "nhiều hơn" if current > avg else "ít hơn" if current < avg else "bằng"
        return f"{word} mức trung bình {shown}/tuần của {n} tuần trước"
    change = (current - avg) / avg
    if abs(change) < 0.1:
        return f"tương đương trung bình {n} tuần trước ({shown})"
    word = "tăng" if change > 0 else "giảm"
    return f"{word} {abs(change):.0%} so với trung bình {n} tuần trước ({shown})"


def excerpt(text: str | None, n: int = EXCERPT) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _bucket(col, bounds: list[datetime]):  # noqa: ANN001, ANN202
    """Index of the week (0 = oldest) that ``col`` falls in; callers restrict to [bounds[0], bounds[-1])."""
    return case(*[(col < bounds[i + 1], i) for i in range(len(bounds) - 1)], else_=len(bounds) - 2)


def _rows(session: Session, stmt) -> list:  # noqa: ANN001
    """Run a Core SELECT on the session's connection (same transaction, without the ORM's result layer)."""
    return session.connection().execute(stmt).all()


def _local(at: datetime | None) -> str:
    from domain.scheduling import to_local

    return to_local(at).strftime("%H:%M %d/%m") if at else ""


def gather(session: Session, org_id: int, week: Week, *, now: datetime | None = None) -> DigestData:
    """Collect the digest's figures for ``org_id`` (and its subtree) for ``week``."""
    now = now or utcnow()
    scope = load_scope(session, org_id)
    ids = scope.ids
    weeks = [week.shift(i - TREND_WEEKS + 1) for i in range(TREND_WEEKS)]
    bounds = [w.start_utc for w in weeks] + [week.end_utc]
    start, end = week.start_utc, week.end_utc

    channels = scope.channels(session)
    chan = {c.id: c for c in channels}
    chan_ids = list(chan)

    # Posts published per channel, campaign and week (8 weeks).
    posts_by_week = {p.value: [0] * TREND_WEEKS for p in Platform}
    per_channel: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    per_campaign: dict[str | None, int] = defaultdict(int)
    if chan_ids:
        b = _bucket(PostTarget.published_at, bounds).label("b")
        rows = _rows(session,
                     select(PostTarget.channel_id, Campaign.name, b, func.count())
                     .join(Post, Post.id == PostTarget.post_id).outerjoin(Campaign, Campaign.id == Post.campaign_id)
                     .where(PostTarget.channel_id.in_(chan_ids), PostTarget.status == TargetStatus.published,
                            PostTarget.published_at >= bounds[0], PostTarget.published_at < bounds[-1])
                     .group_by(PostTarget.channel_id, Campaign.name, b))
        for channel_id, campaign, bucket, n in rows:
            posts_by_week[chan[channel_id].platform.value][bucket] += n
            if bucket == TREND_WEEKS - 1:
                per_channel[channel_id][0] += n
                per_campaign[campaign] += n
            elif bucket == TREND_WEEKS - 2:
                per_channel[channel_id][1] += n
    names = {o.id: o.name for o in scope.orgs.values()}
    channel_rows = sorted((ChannelRow(chan[cid].name, names[chan[cid].org_id], PLATFORM_VI[chan[cid].platform.value],
                                      v[0], v[1]) for cid, v in per_channel.items() if v[0] or v[1]),
                          key=lambda r: (-r.posts, -r.previous, r.name))
    campaign_rows = sorted((CampaignRow(c or "Không thuộc chiến dịch", n) for c, n in per_campaign.items()),
                           key=lambda r: (-r.posts, r.name))

    top_posts, week_views, week_engagement = _top_posts(session, chan, chan_ids, start, end)
    failed_total, failed = _failed(session, chan, chan_ids, start, end)
    flagged_by_week, flagged_handled, flagged_by_org = _flagged(session, ids, bounds)
    grievances_open, grievances_new, grievances, grievances_by_org = _grievances(session, ids, names, start, end, now)

    units = []
    for child in scope.children:
        members = [o for o, br in scope.branch_of.items() if br == child.id]
        member_set = set(members)
        child_channels = [c for c in channels if c.org_id in member_set]
        units.append(UnitRow(
            name=child.name,
            posts=sum(per_channel[c.id][0] for c in child_channels if c.id in per_channel),
            flagged=sum(flagged_by_org.get(o, 0) for o in members),
            grievances=sum(grievances_by_org.get(o, 0) for o in members),
            channels_active=sum(1 for c in child_channels if c.status == ChannelStatus.active),
            channels_total=len(child_channels)))
    units.sort(key=lambda u: (-u.flagged, -u.grievances, u.name))

    targets = measure_all(session, org_id, as_of=min(week.sunday, today_local(now)), scope=scope,
                          overlapping=Period(week.monday, week.sunday))

    return DigestData(
        org_id=org_id, org_name=scope.root.name, week=week, generated_at=now, units_below=len(ids) - 1,
        channels_active=sum(1 for c in channels if c.status == ChannelStatus.active), channels_total=len(channels),
        trend_weeks=weeks, posts_by_week=posts_by_week, channel_rows=channel_rows[:MAX_CHANNEL_ROWS],
        channel_rows_hidden=max(0, len(channel_rows) - MAX_CHANNEL_ROWS), campaign_rows=campaign_rows,
        top_posts=top_posts, week_views=week_views, week_engagement=week_engagement, failed_total=failed_total,
        failed=failed, flagged_by_week=flagged_by_week, flagged_handled=flagged_handled,
        hot_topics=_hot_topics(session, ids, start, end), grievances_open=grievances_open,
        grievances_new=grievances_new, grievances=grievances, targets=targets, units=units,
        delivery_problems=_delivery_problems(session, org_id, week))


def _top_posts(session: Session, chan: dict, chan_ids: list[int], start: datetime, end: datetime):
    if not chan_ids:
        return [], 0, 0
    # The week's totals ride along as window sums: one round trip instead of two.
    rows = _rows(session,
                 select(PostMetric.channel_id, PostMetric.views, PostMetric.reactions, PostMetric.comments,
                        PostMetric.shares, PostMetric.engagement, PostMetric.published_at, Post.title,
                        func.substr(Post.text, 1, 400), PostTarget.external_url,
                        func.coalesce(func.sum(PostMetric.views).over(), 0),
                        func.coalesce(func.sum(PostMetric.engagement).over(), 0))
                 .join(Post, Post.id == PostMetric.post_id).join(PostTarget, PostTarget.id == PostMetric.target_id)
                 .where(PostMetric.channel_id.in_(chan_ids), PostMetric.published_at >= start,
                        PostMetric.published_at < end)
                 .order_by(PostMetric.engagement.desc(), PostMetric.views.desc(), PostMetric.target_id)
                 .limit(TOP_POSTS))
    top = [TopPost(excerpt=excerpt(f"{r.title}: {r[8]}" if r.title else r[8], 120), channel=chan[r.channel_id].name,
                   platform=PLATFORM_VI[chan[r.channel_id].platform.value], published_local=_local(r.published_at),
                   views=r.views, reactions=r.reactions, comments=r.comments, shares=r.shares,
                   engagement=r.engagement, url=r.external_url if (r.external_url or "").startswith("http") else None)
           for r in rows]
    return top, int(rows[0][10]) if rows else 0, int(rows[0][11]) if rows else 0


def _failed(session: Session, chan: dict, chan_ids: list[int], start: datetime, end: datetime):
    if not chan_ids:
        return 0, []
    rows = _rows(session,
                 select(PostTarget.channel_id, PostTarget.updated_at, PostTarget.last_error, Post.title,
                        func.substr(Post.text, 1, 300), func.count().over())
                 .join(Post, Post.id == PostTarget.post_id)
                 .where(PostTarget.channel_id.in_(chan_ids), PostTarget.status == TargetStatus.failed,
                        PostTarget.updated_at >= start, PostTarget.updated_at < end)
                 .order_by(PostTarget.updated_at.desc(), PostTarget.id.desc()).limit(MAX_FAILED))
    total = int(rows[0][5]) if rows else 0
    return total, [FailedPost(excerpt(r.title or r[4], 100), chan[r.channel_id].name, _local(r.updated_at),
                              excerpt(r.last_error or "Không rõ lý do", 200)) for r in rows]


def effective_risk():  # noqa: ANN201
    """A monitor's relabel wins over the classifier's label (SQL expression)."""
    return func.coalesce(Item.human_labels["risk"].as_string(), Item.risk)


def _flagged(session: Session, ids: list[int], bounds: list[datetime]):
    by_week = {r: [0] * TREND_WEEKS for r in RISKS}
    by_org: dict[int, int] = defaultdict(int)
    risk = effective_risk().label("risk")
    b = _bucket(Item.created_at, bounds).label("b")
    handled_expr = func.sum(case((Item.review_status != ReviewStatus.new, 1), else_=0))
    rows = _rows(session, select(Item.org_id, b, risk, func.count(), handled_expr)
                 .where(Item.org_id.in_(ids), Item.flagged.is_(True), Item.created_at >= bounds[0],
                        Item.created_at < bounds[-1])
                 .group_by(Item.org_id, b, risk))
    handled = 0
    for org_id, bucket, label, n, done in rows:
        if label in by_week:
            by_week[label][bucket] += n
        if bucket == TREND_WEEKS - 1:
            by_org[org_id] += n
            handled += int(done or 0)
    return by_week, handled, by_org


def _grievances(session: Session, ids: list[int], names: dict[int, str], start: datetime, end: datetime,
                now: datetime):
    cond = (Item.org_id.in_(ids), Item.flagged.is_(True), Item.review_status.in_(OPEN_GRIEVANCE),
            effective_risk() == "buc_xuc", Item.created_at < end)
    per_org = _rows(session, select(Item.org_id, func.count(),
                                    func.sum(case((Item.created_at >= start, 1), else_=0)))
                    .where(*cond).group_by(Item.org_id))
    by_org = {r[0]: int(r[1]) for r in per_org}
    total, new = sum(by_org.values()), sum(int(r[2] or 0) for r in per_org)
    rows = _rows(session, select(Item.org_id, Item.created_at, Item.review_status, func.substr(Item.text, 1, 300),
                                 Item.url).where(*cond).order_by(Item.created_at, Item.id).limit(MAX_GRIEVANCES)) \
        if total else []
    from domain.opinion import STATUS_VI

    out = [Grievance(excerpt(r[3]), names.get(r.org_id, ""), max(0, (now - r.created_at).days),
                     STATUS_VI[ReviewStatus(r.review_status)], r.url if (r.url or "").startswith("http") else None)
           for r in rows]
    return total, new, out, by_org


def _hot_topics(session: Session, ids: list[int], start: datetime, end: datetime) -> list[TopicLine]:
    # Each detection pass records the items of the last hour (hot_topic_points): the peak is their maximum.
    peak = (select(func.max(HotTopicPoint.count)).where(HotTopicPoint.hot_topic_id == HotTopic.id)
            .correlate(HotTopic).scalar_subquery())
    rows = _rows(session, select(HotTopic.key, HotTopic.label, HotTopic.keywords, HotTopic.entities,
                                 HotTopic.started_at, HotTopic.last_seen_at, HotTopic.ended_at,
                                 func.coalesce(peak, HotTopic.item_count).label("item_count"), HotTopic.peak_score)
                 .where(HotTopic.org_id.in_(ids), HotTopic.last_seen_at >= start, HotTopic.started_at < end)
                 .order_by(HotTopic.peak_score.desc(), HotTopic.id).limit(MAX_TOPICS * 4))
    seen, out = set(), []
    for r in rows:
        if r.key in seen:  # the same story detected in a district's scope and the province's
            continue
        seen.add(r.key)
        parts = [f"cao điểm {r.item_count} mục trong một giờ"]
        if r.keywords:
            parts.append("từ khoá: " + ", ".join(str(k) for k in r.keywords[:5]))
        if r.entities:
            parts.append("liên quan: " + ", ".join(str(e) for e in r.entities[:3]))
        span = f"từ {_local(r.started_at)}" + (f" đến {_local(r.ended_at)}" if r.ended_at else ", vẫn đang nóng")
        parts.append(span)
        out.append(TopicLine(excerpt(r.label, 90), "; ".join(parts)))
        if len(out) == MAX_TOPICS:
            break
    return out


DELIVERY_STATUS_VI = {DigestStatus.failed.value: "không gửi được",
                      DigestStatus.uncertain.value: "không chắc đã gửi (tiến trình gửi bị dừng giữa chừng)"}


def _delivery_problems(session: Session, org_id: int, week: Week) -> list[DeliveryProblem]:
    earlier = [week.shift(-i).label for i in range(0, 4)]
    rows = _rows(session, select(DigestDelivery.email, DigestDelivery.week, DigestDelivery.status,
                                 DigestDelivery.last_error)
                 .where(DigestDelivery.org_id == org_id, DigestDelivery.week.in_(earlier),
                        DigestDelivery.status.in_([DigestStatus.failed, DigestStatus.uncertain]))
                 .order_by(DigestDelivery.week.desc(), DigestDelivery.email))
    return [DeliveryProblem(r.email, r.week, DELIVERY_STATUS_VI[DigestStatus(r.status).value],
                            excerpt(r.last_error or "", 160)) for r in rows]


RISK_VI = {r: LABEL_NAMES_VI[r] for r in RISKS}
