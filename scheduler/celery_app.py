"""The one Celery app: broker from settings, JSON only, beat schedule, thin task modules."""

from __future__ import annotations

from celery import Celery
from celery.signals import worker_process_init

from common.settings import get_settings
from scheduler.runtime import reset_runtime

settings = get_settings()

app = Celery("loa", broker=settings.broker_url, include=["scheduler.tasks"])

_transport = {}
if settings.broker_url.startswith("redis"):
    # Only ETA messages of a few seconds are ever sent, far below the visibility timeout. A health
    # check every second: with kombu 5.6's default of 10 s, workers that had lost their connection
    # (a Redis restart) often took messages only in bursts every ~10 s afterwards, which the
    # publishing benchmark measured as 20-70 s of lateness; with 1 s no such stall was seen.
    _transport = {"visibility_timeout": 3600, "socket_timeout": 10, "socket_connect_timeout": 5,
                  "health_check_interval": 1}
# kombu's SQLAlchemy transport hands its options to create_engine(): give it none.

app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    result_backend=None,
    enable_utc=True,
    timezone="UTC",
    # A killed worker takes its reserved messages with it (they are re-sent once found stranded): reserve few.
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    broker_connection_max_retries=None,
    broker_transport_options=_transport,
    worker_hijack_root_logger=False,
    task_routes={
        "publishers.publish_target": {"queue": "loa.publish"},  # scheduler.tasks.PUBLISH_QUEUE
        "publishers.publish_batch": {"queue": "loa.publish"},
        "scheduler.*": {"queue": "loa.control"},
        # The beat tick that hands out collections runs on the control queue, never behind a
        # classification backlog (it would expire there and nothing would be collected).
        "collectors.collect_due": {"queue": "loa.control"},
        "collectors.*": {"queue": "loa.monitor"},
        "classifiers.*": {"queue": "loa.monitor"},
        "monitoring.*": {"queue": "loa.monitor"},
    },
    task_default_queue="loa.control",
    beat_schedule={
        "dispatch-due": {"task": "scheduler.dispatch_due", "schedule": settings.dispatch_interval_s,
                         "options": {"expires": max(settings.dispatch_interval_s, 1.0)}},
        "recover-stale": {"task": "scheduler.recover_stale", "schedule": settings.recover_interval_s,
                          "options": {"expires": settings.recover_interval_s}},
        "materialise-recurring": {"task": "scheduler.materialise_recurring", "schedule": 300.0,
                                  "options": {"expires": 300.0}},
        "collect-due": {"task": "collectors.collect_due", "schedule": 10.0, "options": {"expires": 10.0}},
        "classify-pending": {"task": "classifiers.label_pending", "schedule": settings.classify_interval_s,
                             "options": {"expires": settings.classify_interval_s}},
        "hot-topics": {"task": "monitoring.hot_topics", "schedule": settings.hot_topics_interval_s,
                       "options": {"expires": settings.hot_topics_interval_s}},
        "send-alerts": {"task": "monitoring.send_alerts", "schedule": 30.0, "options": {"expires": 30.0}},
    },
)


@worker_process_init.connect
def _fresh_runtime_after_fork(**_kwargs) -> None:  # noqa: ANN003
    """A forked child must not reuse its parent's database connections."""
    reset_runtime()


# --- Replies to collected items: the tick runs with the control tasks, sending on the publish queue ---
app.conf.task_routes = {"replies.dispatch": {"queue": "loa.control"}, "replies.*": {"queue": "loa.publish"},
                        **app.conf.task_routes}
app.conf.beat_schedule = {**app.conf.beat_schedule,
                          "dispatch-replies": {"task": "replies.dispatch", "schedule": 10.0,
                                               "options": {"expires": 10.0}}}


# --- Reporting (issue 5): insights pulls and weekly digests ------------------------------------
app.conf.task_routes = {
    **app.conf.task_routes,
    "insights.pull_due": {"queue": "loa.control"},
    "insights.*": {"queue": "loa.monitor"},
    "digest.send_due": {"queue": "loa.control"},
    "digest.*": {"queue": "loa.monitor"},
}
app.conf.beat_schedule = {
    **app.conf.beat_schedule,
    "insights-due": {"task": "insights.pull_due", "schedule": settings.insights_interval_s,
                     "options": {"expires": settings.insights_interval_s}},
    "digest-due": {"task": "digest.send_due", "schedule": settings.digest_check_interval_s,
                   "options": {"expires": settings.digest_check_interval_s}},
}
