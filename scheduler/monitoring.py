"""The opinion pipeline wired together: collect → store → classify → alert, and hot topics.

Plain functions over the process runtime, so tests call them without a broker; the Celery tasks in
``scheduler.tasks`` are one-line wrappers. Collection is claimed by pushing ``next_fetch_at``
forward before a task is sent (a guarded UPDATE), so two beats never collect the same channel at
once; storing is idempotent anyway (unique platform id), so a repeat costs only a request.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from collectors.base import Source
from collectors.ingest import Origin, store
from collectors.rss import FeedSource
from common.errors import AuthExpired, PlatformError, RetryLater
from db.base import utcnow
from db.models import (Channel, ChannelCursor, ChannelStatus, Feed, HotTopic, HotTopicPoint, Item, Organisation,
                       Platform, TrendState)
from db.session import insert_skipping_conflicts, session_scope
from domain import alerts as alert_service
from domain import channels as channel_service
from domain import hot_topics
from domain.opinion import item_text, label_pending
from publishers.credentials import refresh_channel_tokens
from scheduler.runtime import Runtime, get_runtime

logger = logging.getLogger(__name__)
# A collection claimed but never finished (worker died) is retried after this long.
COLLECT_LEASE = timedelta(minutes=5)


# --- Collection ---------------------------------------------------------------------------------

def claim_due_collections(rt: Runtime | None = None, *, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """Channels and feeds due for collection, claimed (lease) so only one task is sent for each."""
    rt = rt or get_runtime()
    now = now or utcnow()
    lease_end = now + COLLECT_LEASE
    with session_scope(rt.factory) as session:
        active = list(session.scalars(select(Channel.id).where(Channel.status == ChannelStatus.active)))
        have = set(session.scalars(select(ChannelCursor.channel_id)))
        for channel_id in set(active) - have:
            session.add(ChannelCursor(channel_id=channel_id, next_fetch_at=now))
        session.flush()
        channel_ids = list(session.scalars(
            update(ChannelCursor).where(ChannelCursor.channel_id.in_(active),
                                        (ChannelCursor.next_fetch_at.is_(None)) | (ChannelCursor.next_fetch_at <= now))
            .values(next_fetch_at=lease_end).returning(ChannelCursor.channel_id)))
        feed_ids = list(session.scalars(
            update(Feed).where(Feed.enabled.is_(True), (Feed.next_fetch_at.is_(None)) | (Feed.next_fetch_at <= now))
            .values(next_fetch_at=lease_end).returning(Feed.id)))
    return channel_ids, feed_ids


def _source_for(rt: Runtime, channel: Channel, creds: dict) -> Source:
    cfg = rt.publish_context.clients.config
    http = rt.collect_http
    timeout = (cfg.connect_timeout, cfg.read_timeout)
    if channel.platform == Platform.facebook_page:
        from collectors.facebook_comments import FacebookPageSource

        return FacebookPageSource(channel.external_id, creds["access_token"], base_url=cfg.facebook_graph_url,
                                  api_version=cfg.facebook_api_version, session=http, timeout=timeout,
                                  app_secret=cfg.facebook_app_secret)
    from collectors.zalo_messages import ZaloMessagesSource

    return ZaloMessagesSource(channel.external_id, creds["access_token"], base_url=cfg.zalo_openapi_url,
                              session=http, timeout=timeout)


def collect_channel(channel_id: int, rt: Runtime | None = None, *, now: datetime | None = None) -> dict:
    """Fetch what is new on one of our channels since its cursor and store it."""
    rt = rt or get_runtime()
    now = now or utcnow()
    interval = timedelta(seconds=rt.settings.collect_interval_s)
    with session_scope(rt.factory) as session:
        channel = session.get(Channel, channel_id)
        if channel is None or channel.status != ChannelStatus.active:
            return {"skipped": True}
        creds = channel_service.credentials_of(channel, rt.cipher)
        state = session.get(ChannelCursor, channel_id) or ChannelCursor(channel_id=channel_id)
        cursor, org_id, platform = state.cursor, channel.org_id, channel.platform
    try:
        try:
            batch = _source_for(rt, channel, creds).fetch(cursor)
        except AuthExpired as exc:
            if platform != Platform.zalo_oa or not exc.refreshable:
                raise
            creds = refresh_channel_tokens(rt.factory, channel_id=channel_id, used_access_token=creds["access_token"],
                                           cipher=rt.cipher, auth=rt.publish_context.clients.zalo_auth())
            batch = _source_for(rt, channel, creds).fetch(cursor)
    except RetryLater as exc:
        _finish_channel(rt, channel_id, next_at=now + timedelta(seconds=max(exc.retry_after or 0, 60)),
                        error=exc.message_vi)
        return {"error": exc.message_vi}
    except AuthExpired as exc:
        with session_scope(rt.factory) as session:
            ch = session.get(Channel, channel_id)
            if ch is not None and ch.status == ChannelStatus.active:
                channel_service.mark_needs_reauth(session, channel=ch, reason=exc.message_vi)
        _finish_channel(rt, channel_id, next_at=now + interval, error=exc.message_vi)
        return {"error": exc.message_vi}
    except PlatformError as exc:
        _finish_channel(rt, channel_id, next_at=now + interval, error=exc.message_vi)
        return {"error": exc.message_vi}
    with session_scope(rt.factory) as session:
        # collected_at is the time of storing (not of the task's start): hot-topic passes rely on it.
        result = store(session, batch.items, Origin(org_id=org_id, channel_id=channel_id),
                       salt=rt.settings.author_salt.get_secret_value())
        # A source that stopped early (page budget, rate limit near) continues as soon as it may.
        next_at = now + (timedelta(seconds=batch.retry_after or 1) if batch.more else interval)
        _save_cursor(session, channel_id, batch.cursor, next_at=next_at, now=now)
    return {"new": len(result.new_ids), "duplicates": result.duplicates}


def _save_cursor(session: Session, channel_id: int, cursor: dict | None, *, next_at: datetime,
                 now: datetime) -> None:
    state = session.get(ChannelCursor, channel_id)
    if state is None:
        state = ChannelCursor(channel_id=channel_id)
        session.add(state)
    state.cursor, state.next_fetch_at, state.last_fetched_at, state.last_error = cursor, next_at, now, None


def _finish_channel(rt: Runtime, channel_id: int, *, next_at: datetime, error: str) -> None:
    with session_scope(rt.factory) as session:
        session.execute(update(ChannelCursor).where(ChannelCursor.channel_id == channel_id)
                        .values(next_fetch_at=next_at, last_error=error[:1000]))
    logger.warning("collection failed", extra={"channel_id": channel_id, "error": error})


def collect_feed(feed_id: int, rt: Runtime | None = None, *, now: datetime | None = None) -> dict:
    """Fetch one RSS/Atom feed (conditional GET) and store new entries; a bad feed fails alone."""
    rt = rt or get_runtime()
    now = now or utcnow()
    with session_scope(rt.factory) as session:
        feed = session.get(Feed, feed_id)
        if feed is None or not feed.enabled:
            return {"skipped": True}
        url, cursor, org_id, interval = feed.url, feed.cursor, feed.org_id, feed.interval_s
    cfg = rt.publish_context.clients.config
    try:
        batch = FeedSource(url, session=rt.collect_http, timeout=(cfg.connect_timeout, cfg.read_timeout),
                           allow_private=rt.settings.feeds_allow_private).fetch(cursor)
    except Exception as exc:  # noqa: BLE001 - a hostile feed must not stop the others; the reason is kept
        reason = getattr(exc, "message_vi", None) or f"Không đọc được nguồn tin ({type(exc).__name__})."
        with session_scope(rt.factory) as session:
            session.execute(update(Feed).where(Feed.id == feed_id).values(
                last_error=reason[:1000], next_fetch_at=now + timedelta(seconds=max(interval, 60))))
        logger.warning("feed failed", extra={"feed_id": feed_id, "error": reason})
        return {"error": reason}
    # An article's id comes from the feed's publisher: scoped by feed, so two organisations following
    # the same feed each keep their copy and a hostile feed cannot claim another feed's ids.
    items = [replace(it, external_id=f"feed{feed_id}:{it.external_id}"[:512]) for it in batch.items]
    with session_scope(rt.factory) as session:
        result = store(session, items, Origin(org_id=org_id, feed_id=feed_id),
                       salt=rt.settings.author_salt.get_secret_value())
        session.execute(update(Feed).where(Feed.id == feed_id).values(
            cursor=batch.cursor, last_fetched_at=now, last_error=None,
            next_fetch_at=now + timedelta(seconds=interval)))
    return {"new": len(result.new_ids), "duplicates": result.duplicates}


# --- Classification and alerts -----------------------------------------------------------------

def classify_pending(rt: Runtime | None = None, *, batch: int = 500, budget_s: float = 30.0) -> int:
    """Label unlabelled items in batches until none are left (or the time budget is spent); raise alerts."""
    rt = rt or get_runtime()
    classifier = rt.classifier
    if classifier is None:
        logger.warning("no classifier model yet: run `loa train`")
        return 0
    done, started = 0, time.monotonic()
    while time.monotonic() - started < budget_s:
        with session_scope(rt.factory) as session:
            labelled = label_pending(session, classifier, limit=batch, thresholds=rt.settings.label_thresholds)
            alert_service.raise_item_alerts(session, labelled, min_score=rt.settings.alert_min_risk_score,
                                            base_url=rt.settings.public_base_url)
        done += len(labelled)
        if len(labelled) < batch:
            break
    return done


def send_alerts(rt: Runtime | None = None) -> dict:
    """Email pending alerts (throttled per recipient)."""
    rt = rt or get_runtime()
    return alert_service.send_pending(rt.factory, rt.mailer, throttle_s=rt.settings.alert_throttle_s)


# --- Hot topics ---------------------------------------------------------------------------------

# Items whose transaction may still be open are left for the next pass (ids are not commit-ordered).
SETTLE = timedelta(seconds=10)
# An organisation gets its own detector once it has this many items in the last day (the overall
# detector covers everyone else); thousands of quiet grassroots unions cost nothing.
MIN_ITEMS_FOR_SCOPE = 30
OBSERVE_BATCH = 5000
BASELINE_HISTORY = timedelta(days=2)
STALE_TOPIC = timedelta(hours=2)


def detect_hot_topics(rt: Runtime | None = None, *, now: datetime | None = None) -> dict:
    """One detection pass per scope: each provincial federation (its whole tree: the widest view any
    desk has) and each busy organisation below it (with its sub-organisations).

    There is no cross-province scope: no role spans provinces, and a topic built from another
    province's items would show its companies and places to the wrong desk.
    """
    rt = rt or get_runtime()
    now = now or utcnow()
    with session_scope(rt.factory) as session:
        counts = dict(session.execute(
            select(Item.org_id, func.count()).where(Item.created_at >= now - timedelta(days=1))
            .group_by(Item.org_id)).all())
        paths = dict(session.execute(select(Organisation.id, Organisation.path)).all())
    scope_orgs: set[int] = set()
    for org_id, n in counts.items():
        chain = [int(p) for p in paths.get(org_id, "").strip("/").split("/") if p]
        # The province always; a busy union makes its own scope and its ancestors' worth running.
        scope_orgs.update(chain if n >= MIN_ITEMS_FOR_SCOPE else chain[:1])
    stats = {"scopes": 0, "active": 0, "new": 0}
    for org_id in sorted(scope_orgs):
        active, new = _detect_scope(rt, f"org:{org_id}", org_id, paths[org_id], now)
        stats["scopes"] += 1
        stats["active"] += active
        stats["new"] += new
    with session_scope(rt.factory) as session:
        # Topics of a scope that went quiet (no longer run) end too, instead of staying "active".
        session.execute(update(HotTopic).where(HotTopic.ended_at.is_(None), HotTopic.last_seen_at < now - STALE_TOPIC)
                        .values(ended_at=now))
    return stats


def _detect_scope(rt: Runtime, scope: str, org_id: int, path: str, now: datetime) -> tuple[int, int]:
    with session_scope(rt.factory) as session:
        # Created if missing without racing a concurrent pass, then locked for this pass.
        session.execute(insert_skipping_conflicts(session, TrendState, ["scope"]).values(
            scope=scope, state=None, last_item_id=0, updated_at=now))
        state_row = session.get(TrendState, scope, with_for_update=True, populate_existing=True)
        detector = hot_topics.TrendDetector(state=state_row.state)
        last_id = state_row.last_item_id
        # A new scope learns its baseline from the last two days at once; later passes read only new ids.
        horizon = now - BASELINE_HISTORY
        while True:
            stmt = (select(Item.id, Item.text, Item.title, Item.created_at, Item.topic, Item.org_id)
                    .join(Organisation, Organisation.id == Item.org_id)
                    .where(Item.id > last_id, Item.collected_at < now - SETTLE, Item.created_at >= horizon,
                           Organisation.path.startswith(path))
                    .order_by(Item.id).limit(OBSERVE_BATCH))
            rows = session.execute(stmt).all()
            if not rows:
                break
            detector.observe(hot_topics.TopicItem(id=r.id, text=item_text(r.title, r.text), created_at=r.created_at,
                                                  topic=r.topic, org_id=r.org_id) for r in rows)
            last_id = rows[-1].id
        found = detector.detect(now)
        new = _save_topics(session, rt, scope, org_id, found, now)
        state_row.state, state_row.last_item_id, state_row.updated_at = detector.state(), last_id, now
    return len(found), new


def _save_topics(session: Session, rt: Runtime, scope: str, org_id: int | None, found: list, now: datetime) -> int:
    """Upsert the pass's hot topics, chart points, end the ones that cooled down, alert on new ones."""
    existing = {t.key: t for t in session.scalars(select(HotTopic).where(HotTopic.scope == scope,
                                                                       HotTopic.ended_at.is_(None)))}
    new = 0
    for h in found:
        row = existing.pop(h.key, None)
        if row is None:
            row = session.scalar(select(HotTopic).where(HotTopic.scope == scope, HotTopic.key == h.key))
        fresh = row is None
        if fresh:
            row = HotTopic(scope=scope, org_id=org_id, key=h.key, started_at=h.started_at, peak_score=0.0)
            session.add(row)
        row.label, row.keywords, row.entities = h.label[:512], list(h.keywords), list(h.entities)
        row.representative_ids = [int(i) for i in h.representative_ids]
        row.last_seen_at, row.ended_at = now, None
        row.peak_score = max(row.peak_score or 0.0, float(h.score))
        row.item_count = int(h.count_window)
        session.flush()
        session.merge(HotTopicPoint(hot_topic_id=row.id, at=now, count=int(h.count_window),
                                    baseline=float(h.baseline), score=float(h.score)))
        if fresh:
            new += 1
            alert_service.raise_hot_topic_alert(session, row, base_url=rt.settings.public_base_url)
    for row in existing.values():
        row.ended_at = now
    return new
