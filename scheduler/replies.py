"""Sending approved replies to collected items, each exactly once (the plain functions behind the tasks).

Like publishing (``publishers/service.py``), this crosses a network boundary, so it takes a
sessionmaker and commits around the platform call:

1. Claim: a guarded UPDATE approved → sending (only one caller wins) plus an audit row, committed.
2. Call the platform through ``publishers.engage`` outside any transaction.
3. Record: sent (with the platform id), back to approved for a later retry (transient errors, with
   backoff), or failed with the Vietnamese reason (refused, expired token → channel needs_reauth).
   When the request may have reached the platform, the reply is looked up before anything else and
   never re-sent blindly.

``item_replies`` has no attempt counter or next-try column: the attempts and the time of the last
one are read from the reply's own audit entries (action ``retry``), which are written anyway.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from common.crypto import CredentialCipher
from common.errors import AuthExpired, OutcomeUnknown, PlatformError, Rejected, RetryLater
from db.base import utcnow
from db.models import AuditEntry, Channel, ChannelStatus, Item, ItemReply, ReplyStatus
from db.session import session_scope
from domain import audit
from domain import channels as channel_service
from publishers.credentials import call_with_refresh
from publishers.engage import ReplyResult, ReplyTarget

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
# A claim older than this with no result: the worker died mid-send (outcome unknown).
STALE_SENDING = timedelta(minutes=10)
UNKNOWN_MESSAGE = ("Không rõ nền tảng đã nhận câu trả lời hay chưa và không tìm thấy nó khi kiểm tra lại; "
                   "hãy xem trên Trang/OA trước khi gửi lại để tránh trả lời hai lần.")


@dataclass(frozen=True)
class ReplyContext:
    """Everything sending needs, built once per worker process."""

    factory: sessionmaker[Session]
    cipher: CredentialCipher
    clients: object  # publishers.registry.ClientFactory or publishers.fake.FakeClientFactory
    # Raw Zalo user id → stored author key (Zalo replies find the follower with it).
    author_key: Callable[[str], str] | None = None
    max_attempts: int = MAX_ATTEMPTS
    now: Callable[[], datetime] = utcnow


@dataclass(frozen=True)
class _Claimed:
    reply_id: int
    item_id: int
    org_id: int
    channel_id: int
    platform: str
    channel_external_id: str
    credentials: dict
    target: ReplyTarget
    text: str
    started_at: datetime


def backoff_s(attempt: int, *, base: float = 30.0, cap: float = 1800.0) -> float:
    """About 30 s, 1 min, 2 min … with jitter, never more than ``cap``."""
    return min(cap, base * 2 ** (attempt - 1)) * random.uniform(0.75, 1.0)


def _retries(session: Session, reply_ids: list[int]) -> dict[int, tuple[int, datetime, float]]:
    """reply id → (retries so far, time of the last one, its wait in seconds), read from the audit log."""
    if not reply_ids:
        return {}
    rows = session.execute(
        select(AuditEntry.entity_id, func.count(), func.max(AuditEntry.at))
        .where(AuditEntry.entity_type == "item_reply", AuditEntry.entity_id.in_(reply_ids),
               AuditEntry.action == "retry")
        .group_by(AuditEntry.entity_id))
    out = {}
    for reply_id, count, last in rows:
        wait = session.scalar(select(AuditEntry.data).where(
            AuditEntry.entity_type == "item_reply", AuditEntry.entity_id == reply_id, AuditEntry.action == "retry",
            AuditEntry.at == last).limit(1)) or {}
        out[reply_id] = (count, last, float(wait.get("retry_in_s", 0)))
    return out


def due_replies(ctx: ReplyContext, *, limit: int = 100) -> list[int]:
    """Approved replies whose backoff has passed (and stale claims settled first)."""
    now = ctx.now()
    with session_scope(ctx.factory) as session:
        _settle_stale(session, now)
        rows = list(session.scalars(select(ItemReply.id).where(ItemReply.status == ReplyStatus.approved)
                                    .order_by(ItemReply.id).limit(limit)))
        waits = _retries(session, rows)
    return [r for r in rows if r not in waits or waits[r][1] + timedelta(seconds=waits[r][2]) <= now]


def _settle_stale(session: Session, now: datetime) -> None:
    """Replies left in ``sending`` by a dead worker fail with the outcome-unknown reason (never re-sent)."""
    stuck = list(session.scalars(select(ItemReply).where(ItemReply.status == ReplyStatus.sending)
                                 .with_for_update(skip_locked=True)))
    for reply in stuck:
        claimed_at = session.scalar(select(func.max(AuditEntry.at)).where(
            AuditEntry.entity_type == "item_reply", AuditEntry.entity_id == reply.id, AuditEntry.action == "sending"))
        if claimed_at is not None and claimed_at > now - STALE_SENDING:
            continue
        reply.status, reply.last_error = ReplyStatus.failed, UNKNOWN_MESSAGE
        _audit(session, reply, "failed", ReplyStatus.sending, ReplyStatus.failed, reason=UNKNOWN_MESSAGE)


def _audit(session: Session, reply: ItemReply, action: str, before, after, *, reason: str | None = None,  # noqa: ANN001
           data: dict | None = None) -> None:
    audit.record(session, entity_type="item_reply", entity_id=reply.id, action=action, org_id=reply.org_id,
                 from_state=before, to_state=after, reason=reason, data=data)
    audit.record(session, entity_type="item", entity_id=reply.item_id, action=f"reply_{action}", org_id=reply.org_id,
                 from_state=before, to_state=after, reason=reason, data={"reply_id": reply.id, **(data or {})})


def claim(ctx: ReplyContext, reply_id: int) -> _Claimed | None:
    """approved → sending for exactly one caller (guarded UPDATE), committed before anything is sent."""
    now = ctx.now()
    with session_scope(ctx.factory) as session:
        won = session.execute(
            update(ItemReply).where(
                and_(ItemReply.id == reply_id, ItemReply.status == ReplyStatus.approved,
                     # A throttled channel is left alone until its pause ends; a dead token waits for reauth.
                     ItemReply.channel_id.in_(select(Channel.id).where(
                         Channel.status == ChannelStatus.active,
                         (Channel.paused_until.is_(None)) | (Channel.paused_until <= now)))))
            .values(status=ReplyStatus.sending).returning(ItemReply.id)).first()
        if won is None:
            return None
        reply = session.get(ItemReply, reply_id)
        item = session.get(Item, reply.item_id)
        channel = session.get(Channel, reply.channel_id)
        _audit(session, reply, "sending", ReplyStatus.approved, ReplyStatus.sending)
        return _Claimed(reply_id=reply.id, item_id=item.id, org_id=reply.org_id, channel_id=channel.id,
                        platform=channel.platform.value, channel_external_id=channel.external_id,
                        credentials=channel_service.credentials_of(channel, ctx.cipher),
                        target=ReplyTarget(external_id=item.external_id, author_key=item.author_hash),
                        text=reply.text, started_at=now)


def send_reply(ctx: ReplyContext, reply_id: int) -> str:
    """Claim, send and record one approved reply; returns its status afterwards ('skipped' if not claimed)."""
    claimed = claim(ctx, reply_id)
    if claimed is None:
        return "skipped"
    try:
        result = _call_with_refresh(ctx, claimed, lambda e: e.reply(claimed.target, claimed.text))
    except OutcomeUnknown as exc:
        return _settle_unknown(ctx, claimed, exc)
    except PlatformError as exc:
        return _record_failure(ctx, claimed, exc)
    except Exception:  # noqa: BLE001 - unknown failure after the claim: never re-send blindly
        logger.exception("reply send crashed", extra={"reply_id": reply_id})
        return _record_failure(ctx, claimed, OutcomeUnknown(UNKNOWN_MESSAGE))
    return _record_sent(ctx, claimed, result)


def send_due(ctx: ReplyContext) -> dict:
    """Send every due reply in turn (used when no broker is around, e.g. tests and `make run`)."""
    out: dict[str, int] = {}
    for reply_id in due_replies(ctx):
        status = send_reply(ctx, reply_id)
        out[status] = out.get(status, 0) + 1
    return out


def _call_with_refresh(ctx: ReplyContext, claimed: _Claimed, call: Callable) -> ReplyResult:
    """Run ``call(engager)``; on a refreshable Zalo auth error, refresh the pair once and retry."""
    return call_with_refresh(
        ctx.factory, channel_id=claimed.channel_id, credentials=claimed.credentials, cipher=ctx.cipher,
        zalo_auth=ctx.clients.zalo_auth, call=call,
        build=lambda creds: ctx.clients.engager(claimed.platform, claimed.channel_external_id, creds,
                                                author_key=ctx.author_key))


def _owned(session: Session, claimed: _Claimed) -> ItemReply | None:
    return session.scalar(select(ItemReply).where(ItemReply.id == claimed.reply_id,
                                                  ItemReply.status == ReplyStatus.sending).with_for_update())


def _record_sent(ctx: ReplyContext, claimed: _Claimed, result: ReplyResult) -> str:
    with session_scope(ctx.factory) as session:
        reply = _owned(session, claimed)
        if reply is None:
            return "stale"
        reply.status, reply.external_id, reply.sent_at, reply.last_error = (
            ReplyStatus.sent, result.external_id[:255], ctx.now(), None)
        _audit(session, reply, "sent", ReplyStatus.sending, ReplyStatus.sent,
               data={"external_id": result.external_id[:255]})
        logger.info("reply sent", extra={"reply_id": claimed.reply_id, "platform": claimed.platform})
        return reply.status.value


def _settle_unknown(ctx: ReplyContext, claimed: _Claimed, cause: PlatformError) -> str:
    """The reply may be on the platform: look for it; record it as sent if there, else fail for a person."""
    try:
        found = _call_with_refresh(ctx, claimed, lambda e: e.find_reply(claimed.target, claimed.text,
                                                                           since=claimed.started_at))
    except PlatformError:
        found = None
    if found is not None:
        return _record_sent(ctx, claimed, found)
    return _record_failure(ctx, claimed, Rejected(UNKNOWN_MESSAGE, platform=cause.platform,
                                                  platform_code=cause.platform_code))


def _record_failure(ctx: ReplyContext, claimed: _Claimed, exc: PlatformError) -> str:
    """Back to approved after a backoff for transient errors, else failed with the reason."""
    now = ctx.now()
    with session_scope(ctx.factory) as session:
        reply = _owned(session, claimed)
        if reply is None:
            return "stale"
        reply.last_error = exc.message_vi[:2000]
        channel = session.get(Channel, claimed.channel_id)
        if isinstance(exc, AuthExpired) and channel is not None:
            channel_service.mark_needs_reauth(session, channel=channel, reason=exc.message_vi)
        done = _retries(session, [reply.id]).get(reply.id, (0, None, 0))[0]
        if isinstance(exc, RetryLater) and done + 1 < ctx.max_attempts:
            delay = max(backoff_s(done + 1), exc.retry_after or 0)
            if exc.throttled:
                channel_service.pause_channel(session, channel_id=claimed.channel_id,
                                              until=now + timedelta(seconds=delay))
            reply.status = ReplyStatus.approved
            _audit(session, reply, "retry", ReplyStatus.sending, ReplyStatus.approved, reason=exc.message_vi,
                   data={"attempt": done + 1, "retry_in_s": round(delay, 1)})
        else:
            if isinstance(exc, RetryLater):
                reply.last_error = f"Đã thử {done + 1} lần không thành công. Lỗi cuối: {exc.message_vi}"[:2000]
            reply.status = ReplyStatus.failed
            _audit(session, reply, "failed", ReplyStatus.sending, ReplyStatus.failed, reason=reply.last_error,
                   data={"code": f"{exc.platform or ''}:{exc.platform_code or exc.code}"[:64]})
        logger.warning("reply not sent", extra={"reply_id": claimed.reply_id, "status": reply.status.value,
                                                "code": exc.code})
        return reply.status.value


def context_from_runtime() -> ReplyContext:
    """This process's context (workers): the publishing runtime's database, cipher and clients."""
    from collectors.ingest import author_hash
    from scheduler.runtime import get_runtime

    rt = get_runtime()
    pc = rt.publish_context
    salt = rt.settings.author_salt.get_secret_value()
    return ReplyContext(factory=pc.factory, cipher=pc.cipher, clients=pc.clients,
                        author_key=lambda raw: author_hash(salt, "zalo_message", raw) or "")
