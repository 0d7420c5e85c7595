"""Settling targets whose worker died or whose outcome is unknown, once their lease has run out."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import insert, select, update


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
    """Look up every expired publishing target on its platform: published if found, retried if not."""
    now = ctx.now()
    counts = {"published": 0, "retried": 0, "waiting": 0}
    with session_scope(ctx.factory) as session:
        ids = list(session.scalars(select(PostTarget.id).where(
            PostTarget.status == TargetStatus.publishing, PostTarget.lease_until < now).limit(RECOVERY_BATCH)))
    for target_id in ids:
        try:
            _recover_one(ctx, target_id, counts)
        except Exception:  # noqa: BLE001 - one broken target must not stop the others' recovery
            logger.exception("recovery failed", extra={"target_id": target_id})
            counts["waiting"] += 1
    return counts


def _recover_one(ctx: PublishContext, target_id: int, counts: dict[str, int]) -> None:
    claimed = _take_over(ctx, target_id)
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


def _take_over(ctx: PublishContext, target_id: int) -> Claimed | None:
    """Take an expired claim over with a new attempt number (only one recoverer wins).

    The new number fences the old worker off: if it is merely slow, its lease renewal before the
    irreversible call and its final write both fail, so it can neither send nor record.
    """
    now = ctx.now()
    with session_scope(ctx.factory) as session:
        conn = session.connection()
        row = conn.execute(
            update(PostTarget)
            .where(PostTarget.id == target_id, PostTarget.status == TargetStatus.publishing,
                   PostTarget.lease_until < now)
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
