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


# --- Opinion monitoring (queue loa.monitor: CPU-bound classification never delays publishing) -----

def _monitoring():  # noqa: ANN202
    """The monitoring pipeline, imported on first use: publishing workers never load its numeric
    libraries (MinHash pulls in SciPy; the classifier, scikit-learn), ~70 MB per process."""
    from scheduler import monitoring

    return monitoring


@app.task(name="collectors.collect_due", ignore_result=True)
def collect_due_task() -> dict:
    """Send one collection task per channel and feed that is due (each is claimed first)."""
    channel_ids, feed_ids = _monitoring().claim_due_collections()
    for channel_id in channel_ids:
        collect_channel_task.delay(channel_id)
    for feed_id in feed_ids:
        collect_feed_task.delay(feed_id)
    return {"channels": len(channel_ids), "feeds": len(feed_ids)}


@app.task(name="collectors.collect_channel", ignore_result=True, acks_late=True)
def collect_channel_task(channel_id: int) -> dict:
    """Collect new comments/posts/messages of one channel (idempotent: safe to redeliver)."""
    return _monitoring().collect_channel(channel_id)


@app.task(name="collectors.collect_feed", ignore_result=True, acks_late=True)
def collect_feed_task(feed_id: int) -> dict:
    """Collect one RSS/Atom feed (idempotent: safe to redeliver)."""
    return _monitoring().collect_feed(feed_id)


@app.task(name="classifiers.label_pending", ignore_result=True, acks_late=True)
def classify_pending_task() -> int:
    """Classify unlabelled items in batches and raise alerts for high-risk ones."""
    return _monitoring().classify_pending()


@app.task(name="monitoring.hot_topics", ignore_result=True)
def hot_topics_task() -> dict:
    """One burst-detection pass per scope (overall and each organisation)."""
    return _monitoring().detect_hot_topics()


@app.task(name="monitoring.send_alerts", ignore_result=True)
def send_alerts_task() -> dict:
    """Email pending alerts to on-duty monitors (throttled, retried)."""
    return _monitoring().send_alerts()
