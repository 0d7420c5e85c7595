"""Thin Celery tasks over plain functions. Task names are a wire contract: never rename them."""

from __future__ import annotations

import logging

from scheduler.celery_app import app
from scheduler.jobs import dispatch_due, materialise, publish, publish_group, recover

logger = logging.getLogger(__name__)


@app.task(name="publishers.publish_target", ignore_result=True)
def publish_target_task(target_id: int) -> str:
    """Publish one named target (claiming it first, so duplicate messages are harmless)."""
    return publish(target_id)


@app.task(name="publishers.publish_batch", ignore_result=True)
def publish_batch_task(target_ids: list[int]) -> list[str]:
    """Publish a group of targets due together (each claimed first, so duplicate messages are harmless)."""
    return publish_group([int(t) for t in target_ids])


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
    """Enqueue the targets due in the next moments, a message per small group; runs every second from beat."""
    with app.producer_or_acquire() as producer:
        return dispatch_due(
            send=lambda ids, eta: publish_batch_task.apply_async((ids,), eta=eta, producer=producer),
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


# --- Replies to collected items (spokesperson rule: only approved replies are ever sent) -----------

@app.task(name="replies.dispatch", ignore_result=True)
def dispatch_replies_task() -> int:
    """Enqueue one send per approved reply whose backoff has passed (the send claims it first)."""
    from scheduler import replies

    due = replies.due_replies(replies.context_from_runtime())
    for reply_id in due:
        send_reply_task.delay(reply_id)
    return len(due)


@app.task(name="replies.send", ignore_result=True)
def send_reply_task(reply_id: int) -> str:
    """Send one approved reply exactly once (a duplicate message finds it already claimed)."""
    from scheduler import replies

    return replies.send_reply(replies.context_from_runtime(), reply_id)


# --- Reporting (issue 5): post insights and weekly leadership digests ------------------------------
# Reading insights waits on the network and drawing charts takes CPU: both run on loa.monitor, so
# publishing never waits behind them; the beat ticks that hand the work out are light (loa.control).

def _reporting():  # noqa: ANN202
    """Imported on first use: publishing workers never load matplotlib."""
    from scheduler import reporting

    return reporting


@app.task(name="insights.pull_due", ignore_result=True)
def pull_due_insights_task() -> dict:
    """Enrol newly published posts and send one reading task per channel with due posts (leased)."""
    claimed = _reporting().claim_due_insights()
    for channel_id, target_ids in claimed.items():
        pull_channel_insights_task.delay(channel_id, target_ids)
    return {"channels": len(claimed), "posts": sum(len(v) for v in claimed.values())}


@app.task(name="insights.pull_channel", ignore_result=True, acks_late=True)
def pull_channel_insights_task(channel_id: int, target_ids: list[int]) -> dict:
    """Read the claimed posts of one channel (idempotent: a repeat only adds a reading)."""
    return _reporting().pull_channel_insights(channel_id, target_ids)


@app.task(name="digest.send_due", ignore_result=True)
def send_due_digests_task() -> int:
    """Find organisations whose weekly digest is due (or due a retry) and send one task each."""
    due = _reporting().due_digests()
    for org_id, week in due:
        send_digest_task.delay(org_id, week)
    return len(due)


# Not acks_late: a redelivered message would be harmless (every copy is claimed before sending), but
# a worker killed mid-send must leave its claim to expire as "uncertain", not race a second worker.
@app.task(name="digest.send", ignore_result=True)
def send_digest_task(org_id: int, week: str) -> dict:
    """Render one organisation's digest and send each recipient's copy once."""
    return _reporting().send_digest(org_id, week)
