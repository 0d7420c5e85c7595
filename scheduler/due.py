"""Finding due targets and handing them out in small groups, without double-claiming between dispatchers."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from db.models import Channel, ChannelStatus, PostTarget, TargetStatus

# Targets due within this span of each other share a message (whose ETA is the latest of them).
GROUP_SPAN = timedelta(seconds=0.25)


def take_due(session: Session, *, now: datetime, lookahead_s: float, requeue_after_s: float,
             batch: int, queue_empty: bool, backstop_s: float = 300.0) -> list[tuple[int, datetime]]:
    """Return (target id, due time) of scheduled targets due within ``lookahead_s`` and mark them enqueued.

    A target already enqueued but still unclaimed is offered again only when its message must
    have been lost: the publish queue is empty (e.g. Redis restarted, or a killed worker held
    it) and it was sent and due more than ``requeue_after_s`` ago — or, whatever the queue, after
    ``backstop_s``.
    Re-sending on a timer alone would multiply a backlog. A duplicate message is harmless
    anyway: the publish step claims with a guarded UPDATE. On PostgreSQL concurrent
    dispatchers skip each other's rows (FOR UPDATE SKIP LOCKED); SQLite serialises writers.
    """
    horizon = now + timedelta(seconds=lookahead_s)
    lost = PostTarget.enqueued_at < now - timedelta(seconds=backstop_s)
    if queue_empty:
        # Sent a while ago and due a while ago, yet unclaimed: a healthy message would have run.
        waited = now - timedelta(seconds=requeue_after_s)
        lost = and_(PostTarget.enqueued_at < waited, PostTarget.due_at < waited)
    stmt = (
        select(PostTarget.id, PostTarget.due_at)
        .join(Channel, Channel.id == PostTarget.channel_id)
        .where(PostTarget.status == TargetStatus.scheduled, PostTarget.due_at <= horizon,
               or_(PostTarget.enqueued_at.is_(None), lost),
               Channel.status == ChannelStatus.active,
               or_(Channel.paused_until.is_(None), Channel.paused_until <= horizon))
        .order_by(PostTarget.due_at)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=PostTarget, skip_locked=True)
    rows = [(r.id, r.due_at) for r in session.execute(stmt)]
    if rows:
        session.execute(update(PostTarget).where(PostTarget.id.in_([r[0] for r in rows]))
                        .values(enqueued_at=now).execution_options(synchronize_session=False))
    return rows


def group_due(rows: list[tuple[int, datetime]], *, size: int, now: datetime) -> list[tuple[list[int], datetime | None]]:
    """Groups of up to ``size`` targets due within `GROUP_SPAN` of each other, each with the ETA of
    its message: the group's latest due time (None when already due), so all of it is due then."""
    groups: list[tuple[list[int], datetime | None]] = []
    ids: list[int] = []
    first = last = None
    for target_id, due_at in sorted(rows, key=lambda r: r[1]):
        if ids and (len(ids) == size or due_at - first > GROUP_SPAN):
            groups.append((ids, last if last > now else None))
            ids = []
        if not ids:
            first = due_at
        ids.append(target_id)
        last = due_at
    if ids:
        groups.append((ids, last if last > now else None))
    return groups


def list_due(session: Session, *, now: datetime, within_s: float = 3600) -> list[PostTarget]:
    """Scheduled targets due within ``within_s`` (for operators: `loa due`)."""
    stmt = (select(PostTarget).where(PostTarget.status == TargetStatus.scheduled,
                                     PostTarget.due_at <= now + timedelta(seconds=within_s))
            .order_by(PostTarget.due_at))
    return list(session.scalars(stmt))
