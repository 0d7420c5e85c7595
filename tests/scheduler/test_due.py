"""The dispatcher: due targets are handed out once, and re-sent only when their message must be lost."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from db.session import session_scope
from scheduler.due import group_due, take_due
from tests.factories import make_scheduled_post


def scheduled(factory, world, now, n=3):
    with session_scope(factory) as s:
        return [make_scheduled_post(s, world, now=now, text=f"Tin {i}").targets[0].id for i in range(n)]


def take(factory, now, *, queue_empty=False, batch=100):
    with session_scope(factory) as s:
        return [tid for tid, _ in take_due(s, now=now, lookahead_s=1.5, requeue_after_s=4, batch=batch,
                                           queue_empty=queue_empty)]


def test_due_targets_are_handed_out_once(factory, world, now):
    ids = scheduled(factory, world, now)
    assert sorted(take(factory, now)) == sorted(ids)
    assert take(factory, now + timedelta(seconds=1)) == []


def test_unclaimed_target_is_not_resent_while_the_queue_has_a_backlog(factory, world, now):
    ids = scheduled(factory, world, now)
    take(factory, now)
    assert take(factory, now + timedelta(seconds=60), queue_empty=False) == []
    assert sorted(take(factory, now + timedelta(seconds=60), queue_empty=True)) == sorted(ids)


def test_backstop_resends_even_with_a_backlog(factory, world, now):
    ids = scheduled(factory, world, now, n=1)
    take(factory, now)
    assert take(factory, now + timedelta(minutes=6), queue_empty=False) == ids


def test_future_targets_wait(factory, world, now):
    from domain.posts import Schedule
    from db.models import ScheduleKind

    with session_scope(factory) as s:
        make_scheduled_post(s, world, now=now, schedule=Schedule(ScheduleKind.exact, at=now + timedelta(minutes=5)))
    assert take(factory, now) == []
    assert len(take(factory, now + timedelta(minutes=5))) == 1


def test_concurrent_dispatchers_never_take_the_same_target(factory, world, now):
    ids = scheduled(factory, world, now, n=40)
    taken, barrier = [], threading.Barrier(4)

    def dispatcher():
        barrier.wait()
        for _ in range(10):
            taken.extend(take(factory, now, batch=5))

    threads = [threading.Thread(target=dispatcher) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == sorted(ids)


def test_targets_due_together_share_a_message_timed_for_the_last_of_them():
    t0 = datetime(2027, 5, 1, 0, 30, tzinfo=UTC)
    rows = [(i, t0 + timedelta(seconds=s)) for i, s in enumerate([0.0, 0.05, 0.1, 0.12, 0.2, 0.9, 5.0])]
    # groups of at most 3, spanning at most 0.25 s; each message runs when its last target is due
    assert group_due(rows, size=3, now=t0 - timedelta(seconds=1)) == [
        ([0, 1, 2], t0 + timedelta(seconds=0.1)), ([3, 4], t0 + timedelta(seconds=0.2)),
        ([5], t0 + timedelta(seconds=0.9)), ([6], t0 + timedelta(seconds=5.0))]
    # already due: no ETA
    assert group_due(rows[:2], size=3, now=t0 + timedelta(seconds=1)) == [([0, 1], None)]
    assert group_due([], size=3, now=t0) == []


def test_a_lost_message_is_resent_only_once_its_target_has_been_due_a_while(factory, world, now):
    from domain.posts import Schedule
    from db.models import ScheduleKind

    due = now + timedelta(minutes=1)
    with session_scope(factory) as s:
        tid = make_scheduled_post(s, world, now=now, schedule=Schedule(ScheduleKind.exact, at=due)).targets[0].id
    # handed out 1.5 s ahead of time; its message never runs (the broker restarted)
    assert take(factory, due - timedelta(seconds=1.5)) == [tid]
    # sent long enough ago, but only just due: its message may simply not have run yet
    assert take(factory, due + timedelta(seconds=1), queue_empty=True) == []
    # due for longer than the re-send delay, still unclaimed: sent again
    assert take(factory, due + timedelta(seconds=4.5), queue_empty=True) == [tid]
