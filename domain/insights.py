"""Post insights in Loa's database: which published posts to read now, storing readings, performance.

Every published post on a Facebook Page or Zalo OA gets a ``post_metrics`` row (``enrol_published``).
It is read often while young and less as it ages (``next_fetch``): hourly on its first two days,
every 6 hours in its first week, daily until ``max_age`` (30 days by default), then a last time and
no more. Each reading updates the row and appends a ``post_metric_snapshots`` row, so the history
answers "how did it perform" at any date. Claiming pushes ``next_fetch_at`` forward by a lease with
a guarded UPDATE, so two beats never read the same post at once; a worker that dies leaves the rows
to come back when the lease ends.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from db.models import (Campaign, Channel, ChannelStatus, Organisation, Post, PostMetric, PostMetricSnapshot,
                       PostTarget, TargetStatus)
from db.session import insert_skipping_conflicts

YOUNG, WEEK = timedelta(days=2), timedelta(days=7)
# Rows claimed per beat tick; a reading costs 1–3 platform calls, so this bounds one tick's work.
CLAIM_BATCH = 2000


def next_fetch(published_at: datetime, now: datetime, max_age: timedelta) -> datetime | None:
    """When to read a post next: hourly while young, 6-hourly in week one, daily, a last time at max_age."""
    age = now - published_at
    if age >= max_age:
        return None
    step = timedelta(hours=1) if age < YOUNG else timedelta(hours=6) if age < WEEK else timedelta(days=1)
    return min(now + step, published_at + max_age)


def enrol_published(session: Session, *, now: datetime, max_age: timedelta) -> int:
    """Give every recently published post a metrics row, due now (idempotent)."""
    pt, ch, pm = PostTarget.__table__, Channel.__table__, PostMetric.__table__
    source = (select(pt.c.id, pt.c.post_id, pt.c.channel_id, ch.c.org_id, ch.c.platform, pt.c.published_at)
              .select_from(pt.join(ch, ch.c.id == pt.c.channel_id)
                           .outerjoin(pm, pm.c.target_id == pt.c.id))
              .where(pt.c.status == TargetStatus.published.value, pt.c.published_at >= now - max_age,
                     pt.c.external_id.is_not(None), pm.c.target_id.is_(None)))
    rows = session.execute(source).all()
    if not rows:
        return 0
    stmt = insert_skipping_conflicts(session, pm, ["target_id"])
    session.execute(stmt, [{"target_id": r.id, "post_id": r.post_id, "channel_id": r.channel_id, "org_id": r.org_id,
                            "platform": r.platform, "published_at": r.published_at, "engagement": 0, "fetches": 0,
                            "next_fetch_at": now} for r in rows])
    return len(rows)


def claim_due(session: Session, *, now: datetime, lease: timedelta,
              limit: int = CLAIM_BATCH) -> dict[int, list[int]]:
    """Due rows of active channels, leased; returns channel id → target ids."""
    pm = PostMetric.__table__
    due = (select(pm.c.target_id).join(Channel.__table__, Channel.__table__.c.id == pm.c.channel_id)
           .where(pm.c.next_fetch_at <= now, Channel.__table__.c.status == ChannelStatus.active.value)
           .order_by(pm.c.next_fetch_at).limit(limit))
    ids = list(session.scalars(due))
    if not ids:
        return {}
    claimed = session.execute(update(pm).where(pm.c.target_id.in_(ids), pm.c.next_fetch_at <= now)
                              .values(next_fetch_at=now + lease).returning(pm.c.target_id, pm.c.channel_id)).all()
    out: dict[int, list[int]] = defaultdict(list)
    for target_id, channel_id in claimed:
        out[channel_id].append(target_id)
    return dict(out)


@dataclass(frozen=True)
class ToRead:
    """A claimed post: where to read it."""

    target_id: int
    external_id: str
    published_at: datetime


def targets_to_read(session: Session, target_ids: Sequence[int]) -> list[ToRead]:
    """Platform ids of claimed rows (a target re-planned meanwhile may have lost its id)."""
    rows = session.execute(select(PostTarget.id, PostTarget.external_id, PostTarget.published_at)
                           .where(PostTarget.id.in_(list(target_ids)))).all()
    return [ToRead(r.id, r.external_id, r.published_at) for r in rows if r.external_id and r.published_at]


def record_reading(session: Session, target_id: int, stats, *,  # noqa: ANN001 - collectors.insights.PostStats
                   now: datetime, max_age: timedelta) -> None:
    """Store one reading (``collectors.insights.PostStats``) and schedule the next."""
    row = session.get(PostMetric, target_id)
    if row is None:
        return
    row.views, row.reach, row.reactions = stats.views, stats.reach, stats.reactions
    row.comments, row.shares, row.engagement = stats.comments, stats.shares, stats.engagement
    row.fetched_at, row.fetches, row.last_error = now, row.fetches + 1, None
    row.next_fetch_at = next_fetch(row.published_at, now, max_age)
    session.add(PostMetricSnapshot(target_id=target_id, fetched_at=now, views=stats.views, reach=stats.reach,
                                   reactions=stats.reactions, comments=stats.comments, shares=stats.shares))


def stop_reading(session: Session, target_id: int, reason: str) -> None:
    """No more readings for this post (gone from the platform); its last numbers stay."""
    session.execute(update(PostMetric).where(PostMetric.target_id == target_id)
                    .values(next_fetch_at=None, last_error=reason[:1000]))


def postpone(session: Session, target_ids: Iterable[int], *, until: datetime, reason: str) -> None:
    """Read these posts again later (throttled, token expired, platform down)."""
    ids = list(target_ids)
    if ids:
        session.execute(update(PostMetric).where(PostMetric.target_id.in_(ids))
                        .values(next_fetch_at=until, last_error=reason[:1000]))


# --- How did it perform? ---------------------------------------------------------------------------

GROUPS = ("post", "channel", "campaign", "org")


@dataclass(frozen=True)
class Performance:
    """Totals of the latest readings of a group of publications."""

    key: object
    label: str
    publications: int
    views: int
    reach: int
    reactions: int
    comments: int
    shares: int
    engagement: int


def performance(session: Session, *, by: str, org_ids: Iterable[int], since: datetime, until: datetime,
                limit: int = 50) -> list[Performance]:
    """Latest insights summed per post, channel, campaign or organisation, for posts published in [since, until)."""
    if by not in GROUPS:
        raise ValueError(by)
    pm = PostMetric
    key_col, label_col, joins = {
        "post": (pm.post_id, func.coalesce(Post.title, func.substr(Post.text, 1, 80)), [(Post, Post.id == pm.post_id)]),
        "channel": (pm.channel_id, Channel.name, [(Channel, Channel.id == pm.channel_id)]),
        "campaign": (Post.campaign_id, func.coalesce(Campaign.name, "(không thuộc chiến dịch)"),
                     [(Post, Post.id == pm.post_id), (Campaign, Campaign.id == Post.campaign_id)]),
        "org": (pm.org_id, Organisation.name, [(Organisation, Organisation.id == pm.org_id)]),
    }[by]
    sums = [func.count(), *(func.coalesce(func.sum(c), 0) for c in (pm.views, pm.reach, pm.reactions, pm.comments,
                                                                   pm.shares, pm.engagement))]
    stmt = select(key_col, label_col, *sums).select_from(pm)
    for model, cond in joins:
        stmt = stmt.outerjoin(model, cond) if model is Campaign else stmt.join(model, cond)
    stmt = (stmt.where(and_(pm.org_id.in_(list(org_ids)), pm.published_at >= since, pm.published_at < until))
            .group_by(key_col, label_col).order_by(func.coalesce(func.sum(pm.engagement), 0).desc()).limit(limit))
    return [Performance(r[0], str(r[1] or ""), *(int(v) for v in r[2:])) for r in session.execute(stmt)]


def history(session: Session, target_id: int) -> list[PostMetricSnapshot]:
    """Every reading of one publication, oldest first."""
    return list(session.scalars(select(PostMetricSnapshot).where(PostMetricSnapshot.target_id == target_id)
                                .order_by(PostMetricSnapshot.fetched_at)))
