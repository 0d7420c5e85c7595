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
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, bindparam, exists, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from common.crypto import CredentialCipher
from common.errors import AuthExpired, OutcomeUnknown, PlatformError, Rejected, RetryLater, ServiceError
from db.base import utcnow
from db.models import (
    AttemptOutcome,
    Channel,
    ChannelStatus,
    Media,
    Post,
    PostChannel,
    PostStatus,
    PostMedia,
    PostTarget,
    PublishAttempt,
    TargetStatus,
)
from db.session import session_scope
from domain import audit
from domain import channels as channel_service
from domain.posts import advance_posts, set_target_status, sync_status_by_id
from publishers.base import MediaFile, OutgoingPost, PublishResult
from publishers.credentials import call_with_refresh

logger = logging.getLogger(__name__)
EARLY_GRACE = timedelta(seconds=2)  # a message may run this early (timer jitter, another machine's clock)
PUBLISHABLE_POST = (PostStatus.scheduled, PostStatus.publishing, PostStatus.published, PostStatus.failed)
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
    # Longest the one irreversible request may take (connect + read timeouts, plus a margin).
    send_budget_s: float = 35.0
    # Threads per process for the platform calls of a batch (they wait on the network).
    call_threads: int = 64
    worker: str = ""
    now: Callable[[], datetime] = utcnow


@dataclass(frozen=True)
class Claimed:
    """A target this worker owns for one attempt, with what it must send."""

    target_id: int
    attempt_id: int
    attempt_no: int
    started_at: datetime
    post_id: int
    org_id: int
    channel_id: int
    platform: str
    external_id: str
    channel_name: str
    credentials: dict
    post: OutgoingPost
    idempotency_key: str
    uncertain_before: bool  # an earlier attempt may have reached the platform


class LeaseLost(Exception):
    """Recovery took this target over while we were preparing it: nothing was sent, stop here."""


def publish_target(ctx: PublishContext, target_id: int) -> str:
    """Claim, publish and record one target; returns the target's status afterwards ('skipped' if not claimed)."""
    claimed = claim(ctx, target_id)
    if claimed is None:
        return "skipped"
    return finish(ctx, [claimed])[0]


def publish_batch(ctx: PublishContext, target_ids: list[int]) -> list[str]:
    """Claim the given targets that are due and still scheduled, publish them concurrently, record
    them together; returns the claimed targets' statuses afterwards (the others were skipped).

    What one dispatcher message runs: a group of targets due at nearly the same moment costs
    one message, one claiming transaction and one recording transaction instead of one each.
    """
    return finish(ctx, claim_many(ctx, target_ids))


def finish(ctx: PublishContext, batch: list[Claimed]) -> list[str]:
    """Send each claimed target (concurrently when there are several), then record the results.

    Successes are recorded in one transaction; anything else goes through the per-target paths
    (retry, failure, reconciliation), which are rare.
    """
    if len(batch) == 1:
        outcomes = [_send(ctx, batch[0])]
    else:
        outcomes = list(_call_pool(ctx).map(lambda c: _send(ctx, c), batch))
    statuses: dict[int, str] = {}
    done = [(c, out) for c, out in zip(batch, outcomes, strict=True) if isinstance(out, PublishResult)]
    if done:
        statuses.update(record_published_many(ctx, done, outcome=AttemptOutcome.published))
    for claimed, out in zip(batch, outcomes, strict=True):
        if not isinstance(out, PublishResult):
            statuses[claimed.target_id] = _settle_error(ctx, claimed, out)
    return [statuses[c.target_id] for c in batch]


def _send(ctx: PublishContext, claimed: Claimed) -> PublishResult | BaseException:
    """The platform call for one claimed target: its result, or the exception that ended it."""
    try:
        return _call_with_refresh(ctx, claimed, lambda p: p.publish(
            claimed.post, idempotency_key=claimed.idempotency_key, before_send=lambda: renew_lease(ctx, claimed)))
    except Exception as exc:  # noqa: BLE001 - sorted by _settle_error
        if not isinstance(exc, (LeaseLost, PlatformError)):
            # The details go to the log only: exception texts can carry SQL, URLs or tokens.
            logger.exception("publish crashed", extra={"target_id": claimed.target_id})
        return exc


def _settle_error(ctx: PublishContext, claimed: Claimed, exc: BaseException) -> str:
    """What a failed call means for its target: retry, fail, or look it up on the platform first."""
    if isinstance(exc, LeaseLost):
        logger.warning("lease lost before sending", extra={"target_id": claimed.target_id})
        return "stale"
    if isinstance(exc, OutcomeUnknown):
        return settle_uncertain(ctx, claimed, exc)
    if isinstance(exc, Rejected):
        if exc.details.get("duplicate") and claimed.uncertain_before:
            # The platform refuses a repeat of the post an earlier, uncertain attempt sent: it is there.
            return settle_uncertain(ctx, claimed, exc)
        return record_failure(ctx, claimed, exc)
    if isinstance(exc, (RetryLater, AuthExpired)):
        return record_failure(ctx, claimed, exc)
    # Unknown failure after the claim: never retry blindly.
    return settle_uncertain(ctx, claimed, OutcomeUnknown("Lỗi không lường trước khi đăng bài; hệ thống kiểm tra "
                                                         "lại trên nền tảng trước khi thử lại."))


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _call_pool(ctx: PublishContext) -> ThreadPoolExecutor:
    """One pool per process for the platform calls of batches (they wait on the network, not the CPU)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=ctx.call_threads, thread_name_prefix="loa-publish")
        return _POOL


def claim(ctx: PublishContext, target_id: int) -> Claimed | None:
    """Take one scheduled, due target for this worker (at most one claimer wins) and load its content."""
    claimed = claim_many(ctx, [target_id])
    return claimed[0] if claimed else None


def claim_many(ctx: PublishContext, target_ids: list[int]) -> list[Claimed]:
    """Take those of ``target_ids`` that are scheduled and due (each has at most one claimer)."""
    if not target_ids:
        return []
    now = ctx.now()
    return _take(ctx, {"ids": sorted(set(target_ids)), "now": now, "due_by": now + EARLY_GRACE,
                       "lease_until": now + timedelta(seconds=ctx.lease_s)}, now=now)


def _take(ctx: PublishContext, params: dict, *, now: datetime) -> list[Claimed]:
    """Run a claiming UPDATE and, in the same transaction, write an attempt row per claimed target,
    load what each must send and audit the claims; committed before anything is sent.

    Plain statements rather than ORM loading, one round trip per step for the whole batch: this
    runs for every post on every channel.
    """
    unloadable: dict[int, ServiceError] = {}
    with session_scope(ctx.factory) as session:
        conn = session.connection()  # Core statements: no ORM bookkeeping on the hot path
        rows = sorted(conn.execute(_CLAIM, params).all(), key=lambda r: r.id)
        if not rows:
            return []
        attempt_ids = conn.execute(_NEW_ATTEMPTS, [
            {"target_id": r.id, "number": r.attempts, "started_at": now, "worker": ctx.worker[:128],
             "outcome": AttemptOutcome.in_flight} for r in rows]).scalars().all()
        retried = [r.id for r in rows if r.attempts > 1]
        uncertain = set(conn.execute(_UNCERTAIN, {"ids": retried}).scalars()) if retried else set()
        contents = load_contents(session, ctx, [r.id for r in rows])
        for r in rows:
            if isinstance(contents[r.id], ServiceError):
                unloadable[r.id] = contents[r.id]
        if not unloadable:
            entries = [audit.entry(entity_type="target", entity_id=r.id, action="claim",
                                   org_id=contents[r.id].org_id, from_state=TargetStatus.scheduled.value,
                                   to_state=TargetStatus.publishing.value,
                                   data={"attempt": r.attempts, "worker": ctx.worker}) for r in rows]
            entries += advance_posts(session, sorted({r.post_id for r in rows}), to=PostStatus.publishing)
            audit.record_many(session, entries)
            return [Claimed(target_id=r.id, attempt_id=aid, attempt_no=r.attempts, started_at=now, post_id=r.post_id,
                            org_id=c.org_id, channel_id=r.channel_id, platform=c.platform, external_id=c.external_id,
                            channel_name=c.channel_name, credentials=c.credentials, post=c.post,
                            idempotency_key=r.idempotency_key, uncertain_before=r.id in uncertain)
                    for r, aid, c in ((r, aid, contents[r.id]) for r, aid in zip(rows, attempt_ids, strict=True))]
        session.rollback()
    # A target whose content or credentials cannot be read fails with the reason instead of
    # looping; the others of the batch were released by the rollback and are taken again.
    for target_id, exc in unloadable.items():
        _fail_unloadable(ctx, target_id, exc)
    return _take(ctx, params, now=now)


@dataclass(frozen=True)
class Content:
    """A target's outgoing post and the channel it goes to."""

    org_id: int
    platform: str
    external_id: str
    channel_name: str
    credentials: dict
    post: OutgoingPost


def load_content(session: Session, ctx: PublishContext, *, post_id: int, channel_id: int) -> Content:
    """What ``channel_id`` should receive for ``post_id``: the post with the channel's variant applied."""
    rows = session.connection().execute(_CONTENT, {"post_id": post_id, "channel_id": channel_id}).all()
    return _content(ctx, rows, {})


def load_contents(session: Session, ctx: PublishContext, target_ids: list[int]) -> dict[int, Content | ServiceError]:
    """Per target, what its channel should receive (one query for the batch), or why it cannot be read."""
    by_target: dict[int, list] = {}
    for row in session.connection().execute(_CONTENTS, {"ids": target_ids}):
        by_target.setdefault(row.target_id, []).append(row)
    decrypted: dict[bytes, dict] = {}
    out: dict[int, Content | ServiceError] = {}
    for target_id in target_ids:
        try:
            out[target_id] = _content(ctx, by_target[target_id], decrypted)
        except ServiceError as exc:
            out[target_id] = exc
    return out


def _content(ctx: PublishContext, rows: list, decrypted: dict) -> Content:
    """Build a Content from its rows (one per photo); ``decrypted`` caches credentials within a batch."""
    r = rows[0]
    base = ctx.public_base_url.rstrip("/")
    photos = tuple(MediaFile(path=str(ctx.media_dir / m.stored_name), content_type=m.content_type, size=m.size,
                             url=f"{base}/media/{m.stored_name}") for m in rows if m.stored_name)
    post = OutgoingPost(text=(r.variant_text if r.variant_text is not None else r.text) or "",
                        link=r.variant_link or r.link, title=r.variant_title or r.title, photos=photos,
                        broadcast=r.broadcast, cover_url=r.default_cover_url)
    credentials = decrypted.get(r.credentials_enc)
    if credentials is None:
        credentials = decrypted[r.credentials_enc] = ctx.cipher.decrypt(r.credentials_enc)
    return Content(org_id=r.org_id, platform=r.platform.value, external_id=r.external_id, channel_name=r.name,
                   credentials=credentials, post=post)


def renew_lease(ctx: PublishContext, claimed: Claimed) -> None:
    """Extend our claim right before the irreversible request, or raise LeaseLost if it is no longer ours.

    A publish may take minutes (photo uploads, Zalo processing); renewing here means recovery can
    never decide "not on the platform, send again" while this worker is about to send. When the
    lease left still covers the final request (``send_budget_s``), there is nothing to renew.
    """
    if ctx.now() < claimed.started_at + timedelta(seconds=ctx.lease_s - ctx.send_budget_s):
        return
    with session_scope(ctx.factory) as session:
        owned = session.connection().execute(_RENEW, {
            "target_id": claimed.target_id, "attempt_no": claimed.attempt_no,
            "lease_until": ctx.now() + timedelta(seconds=ctx.lease_s)}).rowcount
    if not owned:
        raise LeaseLost(claimed.target_id)


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
    if cause.details.get("token"):
        # Zalo accepted the article job (we hold its token) but lists an article only once it is
        # processed: "not listed yet" is no proof of absence. Recovery looks again later.
        return _leave_unknown(ctx, claimed, cause)
    if isinstance(cause, Rejected):
        return record_failure(ctx, claimed, cause)
    # Not on the platform: the request never took effect, so another attempt is safe.
    return record_failure(ctx, claimed, RetryLater(cause.message_vi, platform=cause.platform,
                                                   platform_code=cause.platform_code),
                          retry_outcome=AttemptOutcome.lost)


def record_published(ctx: PublishContext, claimed: Claimed, result: PublishResult, *, outcome: AttemptOutcome) -> str:
    """Mark the target published if this attempt still owns it (a guarded UPDATE)."""
    return record_published_many(ctx, [(claimed, result)], outcome=outcome)[claimed.target_id]


def record_published_many(ctx: PublishContext, done: list[tuple[Claimed, PublishResult]], *,
                          outcome: AttemptOutcome) -> dict[int, str]:
    """Mark targets published, each only if its attempt still owns it (guarded UPDATEs), in one transaction.

    Returns target id → 'published', or 'stale' when recovery took the target over meanwhile.
    """
    now = ctx.now()
    out: dict[int, str] = {}
    with session_scope(ctx.factory) as session:
        conn = session.connection()
        entries = []
        for claimed, result in done:
            owned = conn.execute(_PUBLISHED, {
                "target_id": claimed.target_id, "attempt_no": claimed.attempt_no,
                "external_id": result.external_id[:128], "external_url": (result.url or "")[:1024] or None,
                "published_at": result.accepted_at or now, "now": now}).rowcount
            out[claimed.target_id] = TargetStatus.published.value if owned else "stale"
            if owned:
                entries.append(audit.entry(entity_type="target", entity_id=claimed.target_id, action="published",
                                           org_id=claimed.org_id, from_state=TargetStatus.publishing.value,
                                           to_state=TargetStatus.published.value,
                                           data={"external_id": result.external_id, "attempt": claimed.attempt_no,
                                                 "reconciled": outcome == AttemptOutcome.reconciled}))
        conn.execute(_CLOSE_ATTEMPTS, [
            {"attempt_id": c.attempt_id, "b_outcome": outcome, "b_finished": now,
             "b_note": None if out[c.target_id] != "stale" else "kết quả đến sau khi mục tiêu đã được xử lý"}
            for c, _ in done])
        posts = sorted({c.post_id for c, _ in done if out[c.target_id] != "stale"})
        entries += advance_posts(session, posts, to=PostStatus.published)
        audit.record_many(session, entries)
    return out


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
        retry = isinstance(exc, RetryLater) and claimed.attempt_no - target.retry_from < ctx.max_attempts
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
                target.last_error = (f"Đã thử {claimed.attempt_no - target.retry_from} lần không thành công. "
                                     f"Lỗi cuối: {exc.message_vi}")
            set_target_status(session, target, TargetStatus.failed, action="failed", reason=target.last_error,
                              data={"attempt": claimed.attempt_no, "code": target.last_error_code})
            _close_attempt(session, claimed, AttemptOutcome.failed, now=now, error=exc)
        sync_status_by_id(session, claimed.post_id)
        return target.status.value


# The hot-path statements, built once (constructing them per call costs more CPU than running them).
# Claims are disjoint unless a message was re-sent; two overlapping ones wait for each other (the
# second finds the rows taken), and PostgreSQL breaks the rare lock cycle by failing one claim, whose
# targets stay scheduled and are dispatched again.
_CLAIM = (
    update(PostTarget)
    .where(PostTarget.id.in_(bindparam("ids", expanding=True)), PostTarget.status == TargetStatus.scheduled,
           PostTarget.due_at <= bindparam("due_by"),
           exists().where(Channel.id == PostTarget.channel_id, Channel.status == ChannelStatus.active,
                          or_(Channel.paused_until.is_(None), Channel.paused_until <= bindparam("now"))),
           # A cancelled (or re-opened for approval) post never goes out, whatever its targets say.
           exists().where(Post.id == PostTarget.post_id, Post.status.in_(PUBLISHABLE_POST)))
    .values(status=TargetStatus.publishing, attempts=PostTarget.attempts + 1, lease_until=bindparam("lease_until"),
            enqueued_at=None, updated_at=bindparam("now"))
    .returning(PostTarget.id, PostTarget.attempts, PostTarget.post_id, PostTarget.channel_id,
               PostTarget.idempotency_key)
)
_RENEW = (update(PostTarget)
          .where(PostTarget.id == bindparam("target_id"), PostTarget.status == TargetStatus.publishing,
                 PostTarget.attempts == bindparam("attempt_no"))
          .values(lease_until=bindparam("lease_until")))
_NEW_ATTEMPTS = insert(PublishAttempt).returning(PublishAttempt.id, sort_by_parameter_order=True)
_UNCERTAIN = (select(PublishAttempt.target_id).distinct()
              .where(PublishAttempt.target_id.in_(bindparam("ids", expanding=True)),
                     PublishAttempt.outcome.in_([AttemptOutcome.unknown, AttemptOutcome.lost])))
_CLOSE_ATTEMPTS = (update(PublishAttempt.__table__)
                   .where(PublishAttempt.__table__.c.id == bindparam("attempt_id"))
                   .values(outcome=bindparam("b_outcome"), finished_at=bindparam("b_finished"),
                           error_message=bindparam("b_note")))
# One round trip: the post, its channel, the channel's variant and the photos (one row each).
_CONTENT = (
    select(Post.org_id, Post.text, Post.link, Post.title, Post.broadcast, Channel.platform, Channel.external_id,
           Channel.name, Channel.credentials_enc, Channel.default_cover_url, PostChannel.variant_text,
           PostChannel.variant_link, PostChannel.variant_title, Media.stored_name, Media.content_type, Media.size)
    .select_from(Post).join(Channel, Channel.id == bindparam("channel_id"))
    .outerjoin(PostChannel, and_(PostChannel.post_id == Post.id, PostChannel.channel_id == bindparam("channel_id")))
    .outerjoin(PostMedia, PostMedia.post_id == Post.id).outerjoin(Media, Media.id == PostMedia.media_id)
    .where(Post.id == bindparam("post_id")).order_by(PostMedia.position)
)
# The same for a batch of targets, one row per (target, photo).
_CONTENTS = (
    select(PostTarget.id.label("target_id"), Post.org_id, Post.text, Post.link, Post.title, Post.broadcast,
           Channel.platform, Channel.external_id, Channel.name, Channel.credentials_enc, Channel.default_cover_url,
           PostChannel.variant_text, PostChannel.variant_link, PostChannel.variant_title, Media.stored_name,
           Media.content_type, Media.size)
    .select_from(PostTarget).join(Post, Post.id == PostTarget.post_id)
    .join(Channel, Channel.id == PostTarget.channel_id)
    .outerjoin(PostChannel, and_(PostChannel.post_id == Post.id, PostChannel.channel_id == PostTarget.channel_id))
    .outerjoin(PostMedia, PostMedia.post_id == Post.id).outerjoin(Media, Media.id == PostMedia.media_id)
    .where(PostTarget.id.in_(bindparam("ids", expanding=True))).order_by(PostTarget.id, PostMedia.position)
)
_PUBLISHED = (
    update(PostTarget)
    .where(PostTarget.id == bindparam("target_id"), PostTarget.status == TargetStatus.publishing,
           PostTarget.attempts == bindparam("attempt_no"))
    .values(status=TargetStatus.published, external_id=bindparam("external_id"),
            external_url=bindparam("external_url"), published_at=bindparam("published_at"), lease_until=None,
            last_error=None, last_error_code=None, updated_at=bindparam("now"))
)


def _fail_unloadable(ctx: PublishContext, target_id: int, exc: ServiceError) -> None:
    """A target whose content or credentials cannot be read fails with the reason, instead of looping."""
    logger.error("cannot load target content", extra={"target_id": target_id, "error": exc.message_vi})
    with session_scope(ctx.factory) as session:
        target = session.get(PostTarget, target_id)
        if target is not None and target.status == TargetStatus.scheduled:
            target.last_error = f"Không đọc được nội dung hoặc mã truy cập của kênh: {exc.message_vi}"
            set_target_status(session, target, TargetStatus.failed, action="failed", reason=target.last_error)
            sync_status_by_id(session, target.post_id)


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
                                          PostTarget.attempts == claimed.attempt_no))
            .with_for_update())
    return session.scalar(stmt)


def _close_attempt(session: Session, claimed: Claimed, outcome: AttemptOutcome, *, now: datetime,
                   error: PlatformError | None = None, note: str | None = None, finished: bool = True) -> None:
    values: dict = {"outcome": outcome, "finished_at": now if finished else None}
    if error is not None:
        values["error_code"] = f"{error.platform or ''}:{error.platform_code or error.code}"[:64]
        values["error_message"] = error.message_vi
    elif note:
        values["error_message"] = note
    session.connection().execute(update(PublishAttempt).where(PublishAttempt.id == claimed.attempt_id)
                                 .values(**values))


def _call_with_refresh(ctx: PublishContext, claimed: Claimed, call):  # noqa: ANN001, ANN202
    """Run ``call(publisher)``; on a refreshable auth error, refresh the Zalo pair once and retry."""
    return call_with_refresh(
        ctx.factory, channel_id=claimed.channel_id, credentials=claimed.credentials, cipher=ctx.cipher,
        zalo_auth=ctx.clients.zalo_auth, call=call,
        build=lambda creds: ctx.clients.publisher(claimed.platform, claimed.external_id, creds,
                                                  name=claimed.channel_name))
