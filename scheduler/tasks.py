"""Thin Celery tasks over plain functions. Task names are a wire contract: never rename them."""

from __future__ import annotations

import logging

from scheduler.celery_app import app
from scheduler.jobs import dispatch_due, materialise, publish, recover

logger = logging.getLogger(__name__)


@app.task(name="publishers.publish_target", ignore_result=True)
def publish_target_task(target_id: int) -> str:
    """Publish one target (claiming it first, so duplicate messages are harmless)."""
    return publish(target_id)


PUBLISH_QUEUE = "loa.publish"


def publish_queue_depth() -> int:
    """Messages waiting in the publish queue (0 also when the broker cannot say)."""
    with app.connection_for_read() as conn:
        try:
            return conn.default_channel.queue_declare(queue=PUBLISH_QUEUE, passive=True).message_count or 0
        except conn.channel_errors:
            return 0  # Redis drops an empty list: "no such queue" means nothing is waiting
        except Exception:  # noqa: BLE001 - a broker that cannot count must not stop dispatching
            logger.warning("cannot read the publish queue depth", exc_info=True)
            return 0


@app.task(name="scheduler.dispatch_due", ignore_result=True)
def dispatch_due_task() -> int:
    """Enqueue the targets due in the next moments; runs every second from beat."""
    with app.producer_or_acquire() as producer:
        return dispatch_due(
            send=lambda target_id, eta: publish_target_task.apply_async((target_id,), eta=eta, producer=producer),
            queue_depth=publish_queue_depth)


@app.task(name="scheduler.recover_stale", ignore_result=True)
def recover_stale_task() -> dict:
    """Settle targets whose worker died mid-publish."""
    return recover()


@app.task(name="scheduler.materialise_recurring", ignore_result=True)
def materialise_recurring_task() -> int:
    """Create upcoming occurrences of recurring posts."""
    return materialise()
