"""Exactly-once publishing with the scriptable fake: claims, retries, reconciliation, recovery."""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from common.errors import AuthExpired, OutcomeUnknown, Rejected, RetryLater
from db.models import AttemptOutcome, Channel, ChannelStatus, Notification, PostStatus, PostTarget, PublishAttempt
from db.models import TargetStatus
from db.session import session_scope
from publishers.fake import FakeClientFactory, FakePlatform
from publishers.recovery import recover_stale
from publishers.service import PublishContext, claim, claim_many, publish_batch, publish_target
from tests.factories import make_scheduled_post


@pytest.fixture
def platform():
    return FakePlatform()


@pytest.fixture
def ctx(factory, cipher, platform, tmp_path):
    return PublishContext(factory=factory, cipher=cipher, clients=FakeClientFactory(platform), media_dir=tmp_path,
                          public_base_url="http://127.0.0.1:8000", lease_s=60, max_attempts=3, worker="test")


def scheduled_target(factory, world, now, channel="fb", text="Thông báo: lịch nghỉ Tết 2027."):
    with session_scope(factory) as s:
        post = make_scheduled_post(s, world, now=now, channel_ids=[getattr(world, channel)], text=text)
        return post.targets[0].id


def target(factory, target_id):
    with factory() as s:
        return s.get(PostTarget, target_id)


def test_publish_records_platform_id_and_url(ctx, factory, world, now, platform):
    tid = scheduled_target(factory, world, now)
    assert publish_target(ctx, tid) == "published"
    t = target(factory, tid)
    assert t.status == TargetStatus.published
    assert t.external_id == platform.published[0][0]
    assert t.external_url.startswith("https://fake/")
    with factory() as s:
        assert s.get(PostTarget, tid).post.status == PostStatus.published


def test_same_target_twice_publishes_once(ctx, factory, world, now, platform):
    tid = scheduled_target(factory, world, now)
    publish_target(ctx, tid)
    assert publish_target(ctx, tid) == "skipped"
    assert len(platform.published) == 1


def test_two_workers_racing_for_one_target_publish_once(ctx, factory, world, now, platform):
    tids = [scheduled_target(factory, world, now, text=f"Tin số {i}") for i in range(20)]
    barrier = threading.Barrier(4)

    def worker():
        barrier.wait()
        for tid in tids:
            publish_target(ctx, tid)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert platform.calls == 20
    assert sorted(p.text for _, p, _ in platform.published) == sorted(f"Tin số {i}" for i in range(20))


def test_transient_error_schedules_a_retry_with_backoff(ctx, factory, world, now, platform):
    tid = scheduled_target(factory, world, now)
    platform.script = [RetryLater("lỗi tạm thời", platform="facebook_page", platform_code=2)]
    assert publish_target(ctx, tid) == "scheduled"
    t = target(factory, tid)
    assert t.attempts == 1 and t.due_at > now and "lỗi tạm thời" in t.last_error


def test_throttling_pauses_the_channel(ctx, factory, world, now, platform):
    tid = scheduled_target(factory, world, now)
    platform.script = [RetryLater("quá giới hạn", retry_after=600, throttled=True)]
    publish_target(ctx, tid)
    with factory() as s:
        assert s.get(Channel, world.fb).paused_until > now + timedelta(minutes=9)


def test_retries_stop_after_max_attempts_with_a_clear_reason(ctx, factory, world, now, platform):
    tid = scheduled_target(factory, world, now)
    platform.script = [RetryLater("máy chủ lỗi")] * 3
    for _ in range(3):
        with session_scope(factory) as s:
            s.get(PostTarget, tid).due_at = now
        publish_target(ctx, tid)
    t = target(factory, tid)
    assert t.status == TargetStatus.failed
    assert "Đã thử 3 lần" in t.last_error


def test_permanent_rejection_fails_without_retry(ctx, factory, world, now, platform):
    tid = scheduled_target(factory, world, now)
    platform.script = [Rejected("Ảnh bị từ chối", platform="facebook_page", platform_code=100)]
    assert publish_target(ctx, tid) == "failed"
    assert target(factory, tid).last_error == "Ảnh bị từ chối"


def test_timeout_after_platform_accepted_is_reconciled_not_reposted(ctx, factory, world, now, platform):
    # given the platform stores the post but the reply is lost
    tid = scheduled_target(factory, world, now)
    platform.script = [("apply_then", OutcomeUnknown("hết thời gian chờ"))]
    # when publishing
    assert publish_target(ctx, tid) == "published"
    # then it was found on the page, not posted again
    assert len(platform.published) == 1
    with factory() as s:
        attempt = s.scalars(select(PublishAttempt).where(PublishAttempt.target_id == tid)).one()
        assert attempt.outcome == AttemptOutcome.reconciled


def test_timeout_before_platform_accepted_retries(ctx, factory, world, now, platform):
    tid = scheduled_target(factory, world, now)
    platform.script = [OutcomeUnknown("hết thời gian chờ")]
    assert publish_target(ctx, tid) == "scheduled"
    assert platform.published == []


def test_facebook_token_revoked_marks_channel_and_tells_admins(ctx, factory, world, now, platform):
    tid = scheduled_target(factory, world, now)
    platform.script = [AuthExpired("Mã truy cập hết hạn", platform="facebook_page", platform_code=190)]
    assert publish_target(ctx, tid) == "failed"
    with factory() as s:
        assert s.get(Channel, world.fb).status == ChannelStatus.needs_reauth
        notes = s.scalars(select(Notification)).all()
        assert [n.user_id for n in notes] == [world.admin]
        assert "cần kết nối lại" in notes[0].message


def test_zalo_expired_token_is_refreshed_once_and_stored(ctx, factory, world, now, platform, cipher):
    tid = scheduled_target(factory, world, now, channel="zalo")
    platform.script = [AuthExpired("hết hạn", platform="zalo_oa", platform_code=-220, refreshable=True)]
    assert publish_target(ctx, tid) == "published"
    with factory() as s:
        creds = cipher.decrypt(s.get(Channel, world.zalo).credentials_enc)
    assert creds == {"access_token": "access-1", "refresh_token": "refresh-1"}
    assert platform.refreshes == ["ref"]


def test_worker_killed_after_platform_call_is_recovered_once(ctx, factory, world, now, platform):
    # given a worker claimed the target and the platform accepted the post, then the worker died
    tid = scheduled_target(factory, world, now)
    claimed = claim(ctx, tid)
    ctx.clients.publisher("facebook_page", "1001", {"access_token": "tok"}).publish(
        claimed.post, idempotency_key=claimed.idempotency_key)
    # when the lease runs out and recovery runs
    later_ctx = PublishContext(**{**ctx.__dict__, "now": lambda: now + timedelta(minutes=5)})
    assert recover_stale(later_ctx)["published"] == 1
    # then the target is published with the platform's id, and nothing was posted twice
    assert target(factory, tid).status == TargetStatus.published
    assert len(platform.published) == 1


def test_worker_killed_before_platform_call_is_retried(ctx, factory, world, now, platform):
    tid = scheduled_target(factory, world, now)
    claim(ctx, tid)
    later_ctx = PublishContext(**{**ctx.__dict__, "now": lambda: now + timedelta(minutes=5)})
    assert recover_stale(later_ctx)["retried"] == 1
    t = target(factory, tid)
    assert t.status == TargetStatus.scheduled
    with session_scope(factory) as s:
        s.get(PostTarget, tid).due_at = now
    assert publish_target(ctx, tid) == "published"
    assert len(platform.published) == 1


def test_duplicate_refusal_after_uncertain_attempt_means_published(ctx, factory, world, now, platform):
    tid = scheduled_target(factory, world, now)
    claim(ctx, tid)  # attempt 1 dies in flight; recovery cannot reach the platform
    platform.find_fails = 1
    later_ctx = PublishContext(**{**ctx.__dict__, "now": lambda: now + timedelta(minutes=5)})
    assert recover_stale(later_ctx)["waiting"] == 1
    # the post did reach the page meanwhile (e.g. a proxy delivered it late)
    from publishers.base import OutgoingPost
    platform.published.append(("1001_99", OutgoingPost(text="Thông báo: lịch nghỉ Tết 2027."), now))
    assert recover_stale(PublishContext(**{**ctx.__dict__, "now": lambda: now + timedelta(minutes=10)}))[
        "published"] == 1
    assert target(factory, tid).external_id == "1001_99"


def test_slow_worker_overtaken_by_recovery_never_sends(ctx, factory, world, now, platform):
    # given a worker claimed the target and is still uploading when its lease runs out
    from publishers.service import LeaseLost, renew_lease

    tid = scheduled_target(factory, world, now)
    slow = claim(ctx, tid)
    later_ctx = PublishContext(**{**ctx.__dict__, "now": lambda: now + timedelta(minutes=5)})
    assert recover_stale(later_ctx)["retried"] == 1  # recovery found nothing on the page yet
    # when the slow worker reaches its irreversible call
    publisher = ctx.clients.publisher("facebook_page", "1001", {"access_token": "tok"})
    with pytest.raises(LeaseLost):
        publisher.publish(slow.post, idempotency_key=slow.idempotency_key, before_send=lambda: renew_lease(later_ctx, slow))
    # then it sent nothing, and the target is published exactly once by the next attempt
    assert platform.published == []
    with session_scope(factory) as s:
        s.get(PostTarget, tid).due_at = now
    assert publish_target(ctx, tid) == "published"
    assert len(platform.published) == 1


def test_cancelled_post_is_never_claimed(ctx, factory, world, now, platform):
    from db.models import Post, PostStatus

    tid = scheduled_target(factory, world, now)
    with session_scope(factory) as s:
        s.get(PostTarget, tid).post.status = PostStatus.cancelled
    assert publish_target(ctx, tid) == "skipped"
    assert platform.calls == 0


def test_unreadable_credentials_fail_with_a_reason_instead_of_looping(ctx, factory, world, now, platform):
    from common.crypto import CredentialCipher, generate_key

    tid = scheduled_target(factory, world, now)
    wrong_key = PublishContext(**{**ctx.__dict__, "cipher": CredentialCipher([generate_key()])})
    assert publish_target(wrong_key, tid) == "skipped"
    t = target(factory, tid)
    assert t.status == TargetStatus.failed and "mã truy cập" in t.last_error
    assert platform.calls == 0


def test_refused_zalo_refresh_marks_channel_for_reauthorisation(ctx, factory, world, now, platform):
    tid = scheduled_target(factory, world, now, channel="zalo")
    platform.refreshes.append("ref")  # the stored refresh token was already spent elsewhere
    platform.script = [AuthExpired("hết hạn", platform="zalo_oa", platform_code=-220, refreshable=True)]
    assert publish_target(ctx, tid) == "failed"
    with factory() as s:
        assert s.get(Channel, world.zalo).status == ChannelStatus.needs_reauth
        assert s.scalars(select(Notification)).first() is not None


# --- Groups: targets due together are claimed, sent concurrently and recorded together -----------

def test_group_publishes_each_due_target_and_records_them(ctx, factory, world, now, platform):
    tids = [scheduled_target(factory, world, now, text=f"Tin lô {i}") for i in range(5)]
    assert publish_batch(ctx, tids) == ["published"] * 5
    assert sorted(p.text for _, p, _ in platform.published) == [f"Tin lô {i}" for i in range(5)]
    # a repeated message finds nothing left to claim
    assert publish_batch(ctx, tids) == []
    with factory() as s:
        for tid in tids:
            t = s.get(PostTarget, tid)
            assert t.status == TargetStatus.published and t.post.status == PostStatus.published
            assert t.external_url.startswith("https://fake/")
            outcomes = s.scalars(select(PublishAttempt.outcome).where(PublishAttempt.target_id == tid)).all()
            assert outcomes == [AttemptOutcome.published]


def test_group_leaves_targets_that_are_not_due_yet(ctx, factory, world, now, platform):
    from domain.posts import Schedule
    from db.models import ScheduleKind

    with session_scope(factory) as s:
        later = make_scheduled_post(s, world, now=now,
                                    schedule=Schedule(ScheduleKind.exact, at=now + timedelta(minutes=5)))
        later_id = later.targets[0].id
    due_id = scheduled_target(factory, world, now)
    assert publish_batch(ctx, [later_id, due_id]) == ["published"]
    assert target(factory, later_id).status == TargetStatus.scheduled
    assert platform.calls == 1


def test_one_failure_in_a_group_does_not_hold_back_the_others(ctx, factory, world, now, platform):
    tids = [scheduled_target(factory, world, now, text=f"Tin lô lỗi {i}") for i in range(4)]
    platform.script = [Rejected("Ảnh bị từ chối", platform="facebook_page", platform_code=100)]
    assert sorted(publish_batch(ctx, tids)) == ["failed", "published", "published", "published"]
    with factory() as s:
        states = sorted(s.get(PostTarget, tid).status.value for tid in tids)
    assert states == ["failed", "published", "published", "published"]
    assert len(platform.published) == 3


def test_overlapping_groups_racing_publish_every_target_exactly_once(ctx, factory, world, now, platform):
    texts = [f"Tin tranh nhau {i}" for i in range(40)]
    tids = [scheduled_target(factory, world, now, text=text) for text in texts]
    barrier = threading.Barrier(4)

    def worker(offset):
        barrier.wait()
        # every worker got a re-sent copy of the others' messages, in another order
        for i in range(0, 40, 5):
            publish_batch(ctx, tids[(i + offset) % 40:(i + offset) % 40 + 5][::-1])

    threads = [threading.Thread(target=worker, args=(k * 5,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert platform.calls == 40
    assert sorted(p.text for _, p, _ in platform.published) == sorted(texts)


def test_worker_killed_after_a_group_was_sent_is_recovered_once(ctx, factory, world, now, platform):
    # given a worker that dies after the platform accepted its group's posts, before recording them
    texts = [f"Tin lô chết giữa chừng {i}" for i in range(3)]
    tids = [scheduled_target(factory, world, now, text=text) for text in texts]
    batch = claim_many(ctx, tids)
    assert sorted(c.target_id for c in batch) == sorted(tids)
    for c in batch:
        ctx.clients.publisher("facebook_page", "1001", {"access_token": "tok"}).publish(
            c.post, idempotency_key=c.idempotency_key)
    # when the lease runs out and recovery runs
    later_ctx = PublishContext(**{**ctx.__dict__, "now": lambda: now + timedelta(minutes=5)})
    assert recover_stale(later_ctx)["published"] == 3
    # then each target is published, found on the platform, never sent twice
    with factory() as s:
        assert {s.get(PostTarget, tid).status for tid in tids} == {TargetStatus.published}
    assert platform.calls == 3 and len(platform.published) == 3


def test_claims_of_a_dead_worker_on_this_machine_are_settled_before_their_lease_ends(ctx, factory, world, now,
                                                                                     platform):
    import socket
    import subprocess
    import sys

    # given two workers on this machine: one exited (killed after the platform accepted its post)…
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = PublishContext(**{**ctx.__dict__, "worker": f"{socket.gethostname()}:{gone.pid}"})
    sent = scheduled_target(factory, world, now, text="Tin của worker đã chết")
    claimed = claim(dead, sent)
    ctx.clients.publisher("facebook_page", "1001", {"access_token": "tok"}).publish(
        claimed.post, idempotency_key=claimed.idempotency_key)
    # …and one still running (this test's own process) in the middle of its call
    alive = PublishContext(**{**ctx.__dict__, "worker": f"{socket.gethostname()}:{os.getpid()}"})
    busy = scheduled_target(factory, world, now, text="Tin của worker còn sống")
    claim(alive, busy)
    # when recovery runs, sees the dead worker, and runs again once the dead worker's last request
    # can no longer be in flight — long before the 60 s lease is over
    assert recover_stale(ctx)["published"] == 0
    soon = PublishContext(**{**ctx.__dict__, "now": lambda: now + timedelta(seconds=ctx.send_budget_s + 1)})
    assert recover_stale(soon)["published"] == 1
    # then the dead worker's post is found on the platform and recorded, never sent twice;
    # the living worker's claim is left alone
    assert target(factory, sent).status == TargetStatus.published
    assert target(factory, busy).status == TargetStatus.publishing
    assert len(platform.published) == 1
