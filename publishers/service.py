"""Publishing one target exactly once: a claim and an attempt row before the call, the result after.

This module is the one deliberate exception to "services never commit": publishing crosses a
network boundary, so it takes a sessionmaker and commits around the platform call.

1. Claim: a guarded UPDATE scheduled → publishing (only one claimer can win), an attempt row
   and a lease, committed before anything is sent.
2. Call the platform outside any transaction.
3. Record: published (with the platform id), retry later, failed, or — when the request may
   have reached the platform — reconcile by looking for the post before any retry.
A worker killed between 2 and 3 leaves the target in publishing; when its lease runs out,
``publishers.recovery`` looks the post up on the platform and settles it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from common.crypto import CredentialCipher
from common.errors import AuthExpired, OutcomeUnknown, PlatformError, Rejected, RetryLater
from db.base import utcnow
from db.models import (
    AttemptOutcome,
    Channel,
    ChannelStatus,
    Post,
    PostTarget,
    PublishAttempt,
    TargetStatus,
)
from db.session import session_scope
from domain import channels as channel_service
from domain.posts import set_target_status, sync_status
from publishers.base import MediaFile, OutgoingPost, PublishResult
from publishers.credentials import refresh_channel_tokens

logger = logging.getLogger(__name__)
EARLY_GRACE = timedelta(seconds=2)
RECONCILE_LOOKBACK = timedelta(minutes=10)
UNKNOWN_RECHECK = timedelta(seconds=30)


@dataclass(frozen=True)
class PublishContext:
    """Everything publishing needs, built once per worker process."""

    factory: sessionmaker[Session]
    cipher: CredentialCipher
    clients: object  # publishers.registry.ClientFactory or publishers.fake.FakeClientFactory
    media_dir: Path
    public_base_url: str
    lease_s: float = 180.0
    max_attempts: int = 8
    worker: str = ""
    now: Callable[[], datetime] = utcnow


@dataclass(frozen=True)
class Claimed:
    """A target this worker owns for one attempt, with what it must send."""

    target_id: int
    attempt_id: int
    attempt_no: int
    started_at: datetime
    channel_id: int
    platform: str
    external_id: str
    channel_name: str
    credentials: dict
    post: OutgoingPost
    idempotency_key: str
    uncertain_before: bool  # an earlier attempt may have reached the platform


def publish_target(ctx: PublishContext, target_id: int) -> str:
    """Claim, publish and record one target; returns the target's status afterwards ('skipped' if not claimed)."""
    claimed = claim(ctx, target_id)
    if claimed is None:
        return "skipped"
    try:
        result = _call_with_refresh(ctx, claimed, lambda p: p.publish(claimed.post,
                                                                     idempotency_key=claimed.idempotency_key))
    except OutcomeUnknown as exc:
        return settle_uncertain(ctx, claimed, exc)
    except Rejected as exc:
        if exc.details.get("duplicate") and claimed.uncertain_before:
            # The platform refuses a repeat of the post an earlier, uncertain attempt sent: it is there.
            return settle_uncertain(ctx, claimed, exc)
        return record_failure(ctx, claimed, exc)
    except (RetryLater, AuthExpired) as exc:
        return record_failure(ctx, claimed, exc)
    except Exception as exc:  # noqa: BLE001 - unknown failure after the claim: never retry blindly
        logger.exception("publish crashed", extra={"target_id": target_id})
        return settle_uncertain(ctx, claimed, OutcomeUnknown(f"Lỗi không lường trước: {exc!r}"[:500]))
    return record_published(ctx, claimed, result, outcome=AttemptOutcome.published)


def claim(ctx: PublishContext, target_id: int) -> Claimed | None:
    """Take a scheduled, due target for this worker (at most one claimer wins) and load its content."""
    now = ctx.now()
    with session_scope(ctx.factory) as session:
        channel_ok = exists().where(
            Channel.id == PostTarget.channel_id, Channel.status == ChannelStatus.active,
            or_(Channel.paused_until.is_(None), Channel.paused_until <= now))
        row = session.execute(
            update(PostTarget)
            .where(PostTarget.id == target_id, PostTarget.status == TargetStatus.scheduled,
                   PostTarget.due_at <= now + EARLY_GRACE, channel_ok)
            .values(status=TargetStatus.publishing, attempts=PostTarget.attempts + 1,
                    lease_until=now + timedelta(seconds=ctx.lease_s), enqueued_at=None, updated_at=now)
            .returning(PostTarget.attempts)
            .execution_options(synchronize_session=False)).first()
        if row is None:
            return None
        attempt_no = row[0]
        attempt = PublishAttempt(target_id=target_id, number=attempt_no, started_at=now, worker=ctx.worker[:128])
        session.add(attempt)
        session.flush()
        target = session.get(PostTarget, target_id, populate_existing=True)
        target.current_attempt_id = attempt.id
        uncertain = session.scalar(select(exists().where(
            PublishAttempt.target_id == target_id, PublishAttempt.id != attempt.id,
            PublishAttempt.outcome.in_([AttemptOutcome.unknown, AttemptOutcome.lost])))) or False
        from domain import audit

        audit.record(session, entity_type="target", entity_id=target_id, action="claim", org_id=target.post.org_id,
                     from_state=TargetStatus.scheduled.value, to_state=TargetStatus.publishing.value,
                     data={"attempt": attempt_no, "worker": ctx.worker})
        sync_status(session, target.post)
        channel = target.channel
        return Claimed(target_id=target_id, attempt_id=attempt.id, attempt_no=attempt_no, started_at=now,
                       channel_id=channel.id, platform=channel.platform.value, external_id=channel.external_id,
                       channel_name=channel.name, credentials=channel_service.credentials_of(channel, ctx.cipher),
                       post=outgoing_for(ctx, target), idempotency_key=target.idempotency_key,
                       uncertain_before=bool(uncertain))


def outgoing_for(ctx: PublishContext, target: PostTarget) -> OutgoingPost:
    """What ``target``'s channel should receive: the post with the channel's variant applied."""
    post: Post = target.post
    variant = next((c for c in post.channels if c.channel_id == target.channel_id), None)
    photos = tuple(
        MediaFile(path=str(ctx.media_dir / pm.media.stored_name), content_type=pm.media.content_type,
                  size=pm.media.size, url=f"{ctx.public_base_url.rstrip('/')}/media/{pm.media.stored_name}")
        for pm in post.media)
    return OutgoingPost(
        text=(variant.variant_text if variant and variant.variant_text is not None else post.text) or "",
        link=(variant.variant_link if variant and variant.variant_link else post.link),
        title=(variant.variant_title if variant and variant.variant_title else post.title),
        photos=photos, broadcast=post.broadcast, cover_url=target.channel.default_cover_url)


def settle_uncertain(ctx: PublishContext, claimed: Claimed, cause: PlatformError) -> str:
    """The post may be on the platform: look for it before anything else happens."""
    try:
        found = _call_with_refresh(ctx, claimed, lambda p: p.find_published(
            claimed.post, idempotency_key=claimed.idempotency_key, since=claimed.started_at - RECONCILE_LOOKBACK))
    except PlatformError as exc:
        logger.warning("reconcile lookup failed", extra={"target_id": claimed.target_id, "error": exc.message_vi})
        return _leave_unknown(ctx, claimed, cause)
    if found is not None:
        return record_published(ctx, claimed, found, outcome=AttemptOutcome.reconciled)
    if isinstance(cause, Rejected):
        return record_failure(ctx, claimed, cause)
    # Not on the platform: the request never took effect, so another attempt is safe.
    return record_failure(ctx, claimed, RetryLater(cause.message_vi, platform=cause.platform,
                                                   platform_code=cause.platform_code),
                          retry_outcome=AttemptOutcome.lost)


def record_published(ctx: PublishContext, claimed: Claimed, result: PublishResult, *, outcome: AttemptOutcome) -> str:
    """Mark the target published if this attempt still owns it."""
    now = ctx.now()
    with session_scope(ctx.factory) as session:
        target = _owned(session, claimed)
        if target is None:
            _close_attempt(session, claimed, outcome, now=now, note="kết quả đến sau khi mục tiêu đã được xử lý")
            return "stale"
        target.external_id = result.external_id[:128]
        target.external_url = (result.url or "")[:1024] or None
        target.published_at = result.accepted_at or now
        target.lease_until = None
        target.last_error = target.last_error_code = None
        set_target_status(session, target, TargetStatus.published, action="published",
                          data={"external_id": result.external_id, "attempt": claimed.attempt_no,
                                "reconciled": outcome == AttemptOutcome.reconciled})
        _close_attempt(session, claimed, outcome, now=now)
        sync_status(session, target.post)
        return TargetStatus.published.value


def record_failure(ctx: PublishContext, claimed: Claimed, exc: PlatformError, *,
                   retry_outcome: AttemptOutcome = AttemptOutcome.retry) -> str:
    """Retry later with backoff, or fail for good with a Vietnamese reason.

    ``retry_outcome`` is ``lost`` when the attempt's fate had to be looked up, so that a later
    "duplicate post" refusal is recognised as proof the post went out.
    """
    now = ctx.now()
    with session_scope(ctx.factory) as session:
        target = _owned(session, claimed)
        if target is None:
            _close_attempt(session, claimed, AttemptOutcome.failed, now=now, note=exc.message_vi)
            return "stale"
        target.last_error = exc.message_vi
        target.last_error_code = f"{exc.platform or ''}:{exc.platform_code or exc.code}"[:64]
        target.lease_until = None
        if isinstance(exc, AuthExpired):
            channel_service.mark_needs_reauth(session, channel=target.channel, reason=exc.message_vi)
        retry = isinstance(exc, RetryLater) and claimed.attempt_no < ctx.max_attempts
        if retry:
            delay = max(backoff_s(claimed.attempt_no), exc.retry_after or 0)
            if exc.throttled:
                channel_service.pause_channel(session, channel_id=claimed.channel_id, until=now + timedelta(seconds=delay))
            target.due_at = now + timedelta(seconds=delay)
            set_target_status(session, target, TargetStatus.scheduled, action="retry", reason=exc.message_vi,
                              data={"attempt": claimed.attempt_no, "retry_in_s": round(delay, 2)})
            _close_attempt(session, claimed, retry_outcome, now=now, error=exc)
        else:
            if isinstance(exc, RetryLater):
                target.last_error = f"Đã thử {claimed.attempt_no} lần không thành công. Lỗi cuối: {exc.message_vi}"
            set_target_status(session, target, TargetStatus.failed, action="failed", reason=target.last_error,
                              data={"attempt": claimed.attempt_no, "code": target.last_error_code})
            _close_attempt(session, claimed, AttemptOutcome.failed, now=now, error=exc)
        sync_status(session, target.post)
        return target.status.value


def backoff_s(attempt_no: int, *, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff with jitter: about 1, 2, 4, 8 … seconds, never more than ``cap``."""
    return min(cap, base * 2 ** (attempt_no - 1)) * random.uniform(0.5, 1.0)


def _leave_unknown(ctx: PublishContext, claimed: Claimed, cause: PlatformError) -> str:
    """Keep the target claimed; recovery re-checks the platform once the short lease ends."""
    now = ctx.now()
    with session_scope(ctx.factory) as session:
        target = _owned(session, claimed)
        if target is None:
            return "stale"
        target.lease_until = now + UNKNOWN_RECHECK
        target.last_error = cause.message_vi
        _close_attempt(session, claimed, AttemptOutcome.unknown, now=now, error=cause, finished=False)
        return TargetStatus.publishing.value


def _owned(session: Session, claimed: Claimed) -> PostTarget | None:
    """The target, locked, if this attempt still owns it (recovery may have taken over)."""
    stmt = (select(PostTarget).where(and_(PostTarget.id == claimed.target_id,
                                          PostTarget.status == TargetStatus.publishing,
                                          PostTarget.current_attempt_id == claimed.attempt_id))
            .with_for_update())
    return session.scalar(stmt)


def _close_attempt(session: Session, claimed: Claimed, outcome: AttemptOutcome, *, now: datetime,
                   error: PlatformError | None = None, note: str | None = None, finished: bool = True) -> None:
    attempt = session.get(PublishAttempt, claimed.attempt_id)
    attempt.outcome = outcome
    attempt.finished_at = now if finished else None
    if error is not None:
        attempt.error_code = f"{error.platform or ''}:{error.platform_code or error.code}"[:64]
        attempt.error_message = error.message_vi
    elif note:
        attempt.error_message = note


def _call_with_refresh(ctx: PublishContext, claimed: Claimed, call):  # noqa: ANN001, ANN202
    """Run ``call(publisher)``; on a refreshable auth error, refresh the Zalo pair once and retry."""
    publisher = ctx.clients.publisher(claimed.platform, claimed.external_id, claimed.credentials,
                                      name=claimed.channel_name)
    try:
        return call(publisher)
    except AuthExpired as exc:
        if not exc.refreshable:
            raise
        creds = refresh_channel_tokens(ctx.factory, channel_id=claimed.channel_id,
                                       used_access_token=claimed.credentials["access_token"], cipher=ctx.cipher,
                                       auth=ctx.clients.zalo_auth())
        publisher = ctx.clients.publisher(claimed.platform, claimed.external_id, creds, name=claimed.channel_name)
        return call(publisher)
