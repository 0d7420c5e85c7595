"""Reporting wired to the runtime: pulling post insights and sending weekly digests.

Plain functions over the process runtime (tests call them without a broker); the Celery tasks in
``scheduler.tasks`` are one-line wrappers. Insights: beat enrols newly published posts and claims
the due ones (a lease on ``next_fetch_at``), then one task per channel reads them. Digests: beat
finds organisations whose local send time has come and that still owe a recipient this week's copy,
then one task per organisation renders the digest once and sends each copy through the ledger in
``domain.digest.send``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from collectors.insights import FacebookInsights, PostGone, ZaloInsights
from common.errors import AuthExpired, PlatformError, RetryLater
from db.base import utcnow
from db.models import Channel, ChannelStatus, Platform
from db.session import session_scope
from domain import channels as channel_service
from domain import insights
from domain.digest import build_digest
from domain.digest import send as digest_send
from domain.periods import Week
from publishers.credentials import refresh_channel_tokens
from scheduler.runtime import Runtime, get_runtime

logger = logging.getLogger(__name__)
INSIGHTS_LEASE = timedelta(minutes=15)
# After a throttle or an outage the channel's posts are read again no sooner than this.
MIN_PAUSE = timedelta(minutes=5)
AUTH_PAUSE = timedelta(hours=1)


# --- Insights ------------------------------------------------------------------------------------

def claim_due_insights(rt: Runtime | None = None, *, now: datetime | None = None) -> dict[int, list[int]]:
    """Enrol newly published posts, then lease the posts due for a reading: channel id → target ids."""
    rt = rt or get_runtime()
    now = now or utcnow()
    max_age = timedelta(days=rt.settings.insights_max_age_days)
    with session_scope(rt.factory) as session:
        insights.enrol_published(session, now=now, max_age=max_age)
    with session_scope(rt.factory) as session:
        return insights.claim_due(session, now=now, lease=INSIGHTS_LEASE)


def _reader(rt: Runtime, channel: Channel, creds: dict):  # noqa: ANN202
    cfg = rt.publish_context.clients.config
    timeout = (cfg.connect_timeout, cfg.read_timeout)
    if channel.platform == Platform.facebook_page:
        return FacebookInsights(creds["access_token"], base_url=cfg.facebook_graph_url,
                                api_version=cfg.facebook_api_version, session=rt.collect_http, timeout=timeout,
                                app_secret=cfg.facebook_app_secret)
    return ZaloInsights(creds["access_token"], base_url=cfg.zalo_openapi_url, session=rt.collect_http,
                        timeout=timeout)


def pull_channel_insights(channel_id: int, target_ids: list[int], rt: Runtime | None = None, *,
                          now: datetime | None = None) -> dict:
    """Read the claimed posts of one channel and store the readings; errors pause only this channel."""
    rt = rt or get_runtime()
    now = now or utcnow()
    max_age = timedelta(days=rt.settings.insights_max_age_days)
    with session_scope(rt.factory) as session:
        channel = session.get(Channel, channel_id)
        if channel is None or channel.status != ChannelStatus.active:
            return {"skipped": True}
        creds = channel_service.credentials_of(channel, rt.cipher)
        todo = insights.targets_to_read(session, target_ids)
    reader, refreshed = _reader(rt, channel, creds), False
    stats = {"read": 0, "gone": 0, "error": None}
    pending = list(todo)
    while pending:
        item = pending[0]
        try:
            reading = reader.fetch(item.external_id)
        except PostGone as exc:
            with session_scope(rt.factory) as session:
                insights.stop_reading(session, item.target_id, exc.message_vi)
            stats["gone"] += 1
            pending.pop(0)
            continue
        except AuthExpired as exc:
            if channel.platform == Platform.zalo_oa and exc.refreshable and not refreshed:
                try:
                    # A refused refresh marks the channel needs_reauth itself and raises AuthExpired.
                    creds = refresh_channel_tokens(rt.factory, channel_id=channel_id,
                                                   used_access_token=creds["access_token"], cipher=rt.cipher,
                                                   auth=rt.publish_context.clients.zalo_auth())
                except PlatformError as refresh_exc:
                    exc = refresh_exc  # noqa: PLW2901 - report what stopped the refresh
                else:
                    reader, refreshed = _reader(rt, channel, creds), True
                    continue
            dead_token = isinstance(exc, AuthExpired)
            _pause(rt, pending, now + (AUTH_PAUSE if dead_token else MIN_PAUSE), exc.message_vi,
                   reauth=(channel_id, exc) if dead_token else None)
            stats["error"] = exc.message_vi
            break
        except RetryLater as exc:
            wait = max(MIN_PAUSE, timedelta(seconds=exc.retry_after or 0))
            _pause(rt, pending, now + wait, exc.message_vi)
            stats["error"] = exc.message_vi
            break
        except PlatformError as exc:
            # Refused for a reason of its own: try this post again tomorrow, carry on with the others.
            _pause(rt, [item], now + timedelta(days=1), exc.message_vi)
            pending.pop(0)
            continue
        with session_scope(rt.factory) as session:
            insights.record_reading(session, item.target_id, reading, now=utcnow(), max_age=max_age)
        stats["read"] += 1
        pending.pop(0)
    if stats["error"]:
        logger.warning("insights pull stopped", extra={"channel_id": channel_id, "error": stats["error"]})
    return stats


def _pause(rt: Runtime, items: list, until: datetime, reason: str, *,
           reauth: tuple[int, AuthExpired] | None = None) -> None:
    with session_scope(rt.factory) as session:
        insights.postpone(session, [i.target_id for i in items], until=until, reason=reason)
        if reauth is not None:
            channel = session.get(Channel, reauth[0])
            if channel is not None and channel.status == ChannelStatus.active:
                # Same as the collectors: the token is dead; admins are notified, readings wait.
                channel_service.mark_needs_reauth(session, channel=channel, reason=reauth[1].message_vi)


# --- Weekly digests ------------------------------------------------------------------------------

def due_digests(rt: Runtime | None = None, *, now: datetime | None = None) -> list[tuple[int, str]]:
    """Settle abandoned claims, then list (organisation, week) digests that are due or due a retry."""
    rt = rt or get_runtime()
    now = now or utcnow()
    with session_scope(rt.factory) as session:
        digest_send.recover_stale(session, now=now)
    with session_scope(rt.factory) as session:
        return digest_send.due_digests(session, now=now)


def send_digest(org_id: int, week: str, rt: Runtime | None = None, *, now: datetime | None = None) -> dict:
    """Render and send one organisation's digest for ``week`` to every recipient still owed it."""
    rt = rt or get_runtime()
    w = Week.parse(week)
    s = rt.settings
    return digest_send.send_digest(
        rt.factory, rt.mailer, org_id, w, now=now, lease_s=s.digest_send_lease_s, max_attempts=s.digest_max_attempts,
        build=lambda session: build_digest(session, org_id, w, base_url=s.public_base_url))
