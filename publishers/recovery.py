"""Settling targets whose worker died or whose outcome is unknown, once their lease has run out."""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from sqlalchemy import and_, insert, select, update


from common.errors import AuthExpired, PlatformError, RetryLater
from db.models import AttemptOutcome, PostTarget, PublishAttempt, TargetStatus
from db.session import session_scope
from publishers.service import (
    RECONCILE_LOOKBACK,
    Claimed,
    PublishContext,
    _call_with_refresh,
    load_content,
    record_failure,
    record_published,
)
from domain import channels as channel_service

logger = logging.getLogger(__name__)
RECOVERY_BATCH = 100


def recover_stale(ctx: PublishContext) -> dict[str, int]:
    """Look up on its platform every publishing target whose lease expired or whose worker process is
    gone: published if found, retried if not."""
    now = ctx.now()
    counts = {"published": 0, "retried": 0, "waiting": 0}
    with session_scope(ctx.factory) as session:
        expired = [(target_id, None) for target_id in session.scalars(select(PostTarget.id).where(
            PostTarget.status == TargetStatus.publishing, PostTarget.lease_until < now).limit(RECOVERY_BATCH))]
        orphaned = _orphaned_claims(session, now, wait=timedelta(seconds=ctx.send_budget_s))
    for target_id, attempt_no in expired + orphaned:
        try:
            _recover_one(ctx, target_id, counts, attempt_no=attempt_no)
        except Exception:  # noqa: BLE001 - one broken target must not stop the others' recovery
            logger.exception("recovery failed", extra={"target_id": target_id})
            counts["waiting"] += 1
    return counts


_SEEN_DEAD: dict[tuple[int, int], datetime] = {}  # (target id, attempt number) → when its worker was first seen gone
_SEEN_LOCK = threading.Lock()


def _orphaned_claims(session, now: datetime, *, wait: timedelta) -> list[tuple[int, int]]:  # noqa: ANN001
    """(target id, attempt number) of live claims whose worker ran on this machine and has been gone
    for at least ``wait``.

    A worker killed mid-publish (OOM, SIGKILL, a crash) and restarted by its supervisor would
    otherwise leave its targets waiting for the whole lease. A process that no longer exists sends
    nothing more, but the last request it sent may still be running on the platform's side, so its
    claims are settled once ``wait`` (the longest one request may take) has passed since it was
    first seen gone — by the same platform lookup and with the same fencing (a new attempt number)
    as an expired lease. Claims of other machines, or of a process that still exists, wait for
    their lease as before.
    """
    host = socket.gethostname()
    rows = session.execute(
        select(PostTarget.id, PostTarget.attempts, PublishAttempt.worker)
        .join(PublishAttempt, and_(PublishAttempt.target_id == PostTarget.id,
                                   PublishAttempt.number == PostTarget.attempts))
        .where(PostTarget.status == TargetStatus.publishing, PostTarget.lease_until >= now,
               PublishAttempt.outcome == AttemptOutcome.in_flight,
               PublishAttempt.worker.startswith(f"{host}:", autoescape=True))
        .limit(RECOVERY_BATCH)).all()
    gone = {(r.id, r.attempts) for r in rows if not process_exists(r.worker.rpartition(":")[2])}
    with _SEEN_LOCK:
        for key in list(_SEEN_DEAD):
            if key not in gone:
                del _SEEN_DEAD[key]
        return [key for key in sorted(gone) if now - _SEEN_DEAD.setdefault(key, now) >= wait]


def process_exists(pid: str) -> bool:
    """True unless ``pid`` is surely gone from this machine (no such process, or a zombie)."""
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but belongs to someone else
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


def _recover_one(ctx: PublishContext, target_id: int, counts: dict[str, int], *,
                 attempt_no: int | None = None) -> None:
    claimed = _take_over(ctx, target_id, attempt_no=attempt_no)
    if claimed is None:
        return
    try:
        found = _call_with_refresh(ctx, claimed, lambda p, c=claimed: p.find_published(
            c.post, idempotency_key=c.idempotency_key, since=c.started_at - RECONCILE_LOOKBACK))
    except PlatformError as exc:
        logger.warning("recovery lookup failed", extra={"target_id": target_id, "error": exc.message_vi})
        counts["waiting"] += 1
        if isinstance(exc, AuthExpired):
            with session_scope(ctx.factory) as session:
                target = session.get(PostTarget, target_id)
                channel_service.mark_needs_reauth(session, channel=target.channel, reason=exc.message_vi)
        return
    if found is not None:
        record_published(ctx, claimed, found, outcome=AttemptOutcome.reconciled)
        counts["published"] += 1
    else:
        record_failure(ctx, claimed, RetryLater(
            "Lần đăng trước bị gián đoạn và bài chưa có trên nền tảng; hệ thống đăng lại.", retry_after=0),
            retry_outcome=AttemptOutcome.lost)
        counts["retried"] += 1


def _take_over(ctx: PublishContext, target_id: int, *, attempt_no: int | None = None) -> Claimed | None:
    """Take an expired claim (or attempt ``attempt_no``, whose worker is gone) over with a new attempt
    number; only one recoverer wins.

    The new number fences the old worker off: if it is merely slow, its lease renewal before the
    irreversible call and its final write both fail, so it can neither send nor record.
    """
    now = ctx.now()
    still_open = PostTarget.lease_until < now if attempt_no is None else PostTarget.attempts == attempt_no
    with session_scope(ctx.factory) as session:
        conn = session.connection()
        row = conn.execute(
            update(PostTarget)
            .where(PostTarget.id == target_id, PostTarget.status == TargetStatus.publishing, still_open)
            .values(lease_until=now + timedelta(seconds=ctx.lease_s), attempts=PostTarget.attempts + 1)
            .returning(PostTarget.attempts, PostTarget.post_id, PostTarget.channel_id,
                       PostTarget.idempotency_key)).first()
        if row is None:
            return None
        # The earliest attempt whose fate is open is when the post may have gone out.
        conn.execute(update(PublishAttempt)
                     .where(PublishAttempt.target_id == target_id,
                            PublishAttempt.outcome == AttemptOutcome.in_flight)
                     .values(outcome=AttemptOutcome.unknown))
        since = conn.scalar(select(PublishAttempt.started_at).where(
            PublishAttempt.target_id == target_id, PublishAttempt.outcome == AttemptOutcome.unknown)
            .order_by(PublishAttempt.started_at).limit(1)) or now
        attempt_id = conn.execute(insert(PublishAttempt).values(
            target_id=target_id, number=row.attempts, started_at=now, worker=f"recovery {ctx.worker}"[:128],
            outcome=AttemptOutcome.in_flight).returning(PublishAttempt.id)).scalar_one()
        content = load_content(session, ctx, post_id=row.post_id, channel_id=row.channel_id)
        return Claimed(target_id=target_id, attempt_id=attempt_id, attempt_no=row.attempts, started_at=since,
                       post_id=row.post_id, org_id=content.org_id, channel_id=row.channel_id,
                       platform=content.platform, external_id=content.external_id,
                       channel_name=content.channel_name, credentials=content.credentials, post=content.post,
                       idempotency_key=row.idempotency_key, uncertain_before=True)
