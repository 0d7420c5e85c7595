"""Settling targets whose worker died or whose outcome is unknown, once their lease has run out."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update


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
        claimed = _take_over(ctx, target_id)
        if claimed is None:
            continue
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
            continue
        if found is not None:
            record_published(ctx, claimed, found, outcome=AttemptOutcome.reconciled)
            counts["published"] += 1
        else:
            record_failure(ctx, claimed, RetryLater(
                "Lần đăng trước bị gián đoạn và bài chưa có trên nền tảng; hệ thống đăng lại.", retry_after=0),
                retry_outcome=AttemptOutcome.lost)
            counts["retried"] += 1
    return counts


def _take_over(ctx: PublishContext, target_id: int) -> Claimed | None:
    """Extend an expired lease for this recovery run (only one recoverer wins) and load the target."""
    now = ctx.now()
    with session_scope(ctx.factory) as session:
        won = session.execute(
            update(PostTarget)
            .where(PostTarget.id == target_id, PostTarget.status == TargetStatus.publishing,
                   PostTarget.lease_until < now)
            .values(lease_until=now + timedelta(seconds=ctx.lease_s))
            .execution_options(synchronize_session=False)).rowcount
        if not won:
            return None
        target = session.get(PostTarget, target_id, populate_existing=True)
        attempt = session.scalar(select(PublishAttempt).where(PublishAttempt.target_id == target_id,
                                                              PublishAttempt.number == target.attempts)
                                 .order_by(PublishAttempt.id.desc()).limit(1))
        if attempt is None:
            return None
        content = load_content(session, ctx, post_id=target.post_id, channel_id=target.channel_id)
        return Claimed(target_id=target_id, attempt_id=attempt.id, attempt_no=attempt.number,
                       started_at=attempt.started_at, post_id=target.post_id, org_id=content.org_id,
                       channel_id=target.channel_id, platform=content.platform, external_id=content.external_id,
                       channel_name=content.channel_name, credentials=content.credentials, post=content.post,
                       idempotency_key=target.idempotency_key, uncertain_before=True)
