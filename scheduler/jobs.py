"""The plain functions behind the Celery tasks; tests call them without a broker."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from db.base import utcnow
from db.session import session_scope
from domain.posts import materialise_recurring
from publishers.recovery import recover_stale
from publishers.service import publish_batch, publish_target
from scheduler.due import group_due, take_due
from scheduler.runtime import get_runtime

logger = logging.getLogger(__name__)


def publish(target_id: int) -> str:
    """Publish one target with this process's runtime."""
    return publish_target(get_runtime().publish_context, target_id)


def publish_group(target_ids: list[int]) -> list[str]:
    """Publish a group of targets with this process's runtime."""
    return publish_batch(get_runtime().publish_context, target_ids)


def dispatch_due(*, send: Callable[[list[int], datetime | None], object], queue_depth: Callable[[], int],
                 now: datetime | None = None) -> int:
    """Take due targets in batches and hand each small group of them to ``send`` (with an ETA when it
    is due later); returns how many targets were handed out."""
    rt = get_runtime()
    s = rt.settings
    total = 0
    queue_empty = queue_depth() == 0
    while True:
        current = now or utcnow()
        with session_scope(rt.factory) as session:
            rows = take_due(session, now=current, lookahead_s=s.dispatch_lookahead_s,
                            requeue_after_s=s.requeue_after_s, batch=s.dispatch_batch, queue_empty=queue_empty)
        for ids, eta in group_due(rows, size=max(1, s.publish_batch), now=current):
            send(ids, eta)
        total += len(rows)
        if len(rows) < s.dispatch_batch:
            return total


def recover() -> dict:
    """Run recovery with this process's runtime."""
    return recover_stale(get_runtime().publish_context)


def materialise() -> int:
    """Create upcoming recurring targets."""
    rt = get_runtime()
    with session_scope(rt.factory) as session:
        return materialise_recurring(session, now=utcnow())
