"""End to end through real processes: beat → Redis → Celery worker → sandbox, with faults for real."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from db.base import utcnow
from db.models import Organisation, PostTarget, ScheduleKind, TargetStatus, User
from db.session import session_scope
from domain.posts import ChannelChoice, PostDraft, Schedule, approve, create_post, submit
from tests.conftest import REDIS_URL
from tests.scheduler.conftest import build_sandbox_world, wait_for


def schedule_posts(factory, world, texts, *, start, spacing_s=0.0):
    """Write, submit and approve one post per text, each on one of the world's channels."""
    with session_scope(factory) as s:
        editor, approver = s.get(User, world["editor"]), s.get(User, world["approver"])
        org = s.get(Organisation, world["org"])
        for i, text in enumerate(texts):
            at = start + timedelta(seconds=i * spacing_s)
            channel = world["channels"][i % len(world["channels"])]
            draft = PostDraft(text=text, channels=[ChannelChoice(channel)], schedule=Schedule(ScheduleKind.exact, at=at))
            post = create_post(s, actor=editor, org=org, draft=draft, now=utcnow())
            submit(s, actor=editor, post=post)
            approve(s, actor=approver, post=post, now=utcnow())


def target_statuses(factory):
    with factory() as s:
        return Counter(t.value for t in s.scalars(select(PostTarget.status)))


def sandbox_messages(sandbox):
    return Counter(p.get("message") for p in sandbox.posts(platform="facebook"))


def test_scheduled_post_goes_out_on_time_through_redis(factory, sandbox, sandbox_world, make_cluster):
    cluster = make_cluster(REDIS_URL.rsplit("/", 1)[0] + "/7")
    cluster.start_worker("w1")
    cluster.start_beat()
    start = utcnow() + timedelta(seconds=4)
    schedule_posts(factory, sandbox_world, ["Tin nhanh e2e: lịch trực Tết của Công đoàn."], start=start)
    assert wait_for(lambda: target_statuses(factory) == {"published": 1}, 40), cluster.logs()
    with factory() as s:
        t = s.scalars(select(PostTarget)).one()
    posted = sandbox.posts(platform="facebook")
    assert [p["id"] for p in posted if p.get("message", "").startswith("Tin nhanh e2e")] == [t.external_id]
    assert t.published_at >= start - timedelta(seconds=2)


def test_worker_killed_mid_publish_publishes_each_post_exactly_once(factory, sandbox, sandbox_world, make_cluster):
    # given the platform takes 3 s to answer, so a worker is caught in the middle of its calls
    sandbox.faults(platform="facebook", path="*/feed", method="POST", latency_ms=3000)
    cluster = make_cluster(REDIS_URL.rsplit("/", 1)[0] + "/8")
    cluster.start_worker("doomed")
    cluster.start_beat()
    texts = [f"Bài kiểm tra worker chết số {i}" for i in range(6)]
    schedule_posts(factory, sandbox_world, texts, start=utcnow() + timedelta(seconds=2))
    # when the worker is SIGKILLed while its requests are in flight
    assert wait_for(lambda: target_statuses(factory).get("publishing", 0) >= 3, 30), cluster.logs()
    cluster.kill("doomed")
    sandbox.clear_faults()
    cluster.start_worker("survivor")
    # then every post ends published, and the sandbox holds each message exactly once
    assert wait_for(lambda: target_statuses(factory) == {"published": 6}, 90), (target_statuses(factory),
                                                                                cluster.logs())
    counts = sandbox_messages(sandbox)
    assert {t: counts[t] for t in texts} == {t: 1 for t in texts}


def test_redis_restart_loses_no_post_and_duplicates_none(factory, sandbox, sandbox_world, make_cluster, redis_server):
    cluster = make_cluster(redis_server.url)
    cluster.start_worker("w1")
    cluster.start_beat()
    texts = [f"Bài kiểm tra khởi động lại Redis số {i}" for i in range(30)]
    schedule_posts(factory, sandbox_world, texts, start=utcnow() + timedelta(seconds=3), spacing_s=0.4)
    # when Redis crashes (losing every queued message) in the middle and comes back
    assert wait_for(lambda: target_statuses(factory).get("published", 0) >= 5, 40), cluster.logs()
    redis_server.restart(down_s=2)
    # then all posts are published once
    assert wait_for(lambda: target_statuses(factory) == {"published": 30}, 120), (target_statuses(factory),
                                                                                  cluster.logs())
    counts = sandbox_messages(sandbox)
    assert {t: counts[t] for t in texts} == {t: 1 for t in texts}


def test_embedded_mode_sqlite_database_and_broker_publish(sqlite_url, tmp_path, sandbox, cipher, make_cluster):
    """What `make run` uses: no server at all, SQLite for both the data and Celery's broker."""
    from db.session import make_engine, make_sessionmaker

    factory = make_sessionmaker(make_engine(sqlite_url))
    world = build_sandbox_world(factory, cipher, sandbox, pages=1)
    cluster = make_cluster(f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}")
    cluster.env["LOA_DATABASE_URL"] = sqlite_url
    cluster.start_worker("embedded", concurrency=2)
    cluster.start_beat()
    schedule_posts(factory, world, ["Bài đăng ở chế độ nhúng."], start=utcnow() + timedelta(seconds=2))
    assert wait_for(lambda: target_statuses(factory) == {"published": 1}, 60), cluster.logs()
    assert sandbox_messages(sandbox)["Bài đăng ở chế độ nhúng."] == 1
