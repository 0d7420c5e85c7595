"""The post lifecycle as editors and approvers live it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from common.errors import Conflict, InvalidInput, InvalidState, PermissionDenied
from db.models import AuditEntry, Post, PostStatus, ScheduleKind, TargetStatus, User
from domain.posts import ChannelChoice, PostDraft, Schedule, approve, cancel, reject, submit, update_post
from domain.scheduling import to_utc
from tests.factories import make_post, make_scheduled_post


def user(session, uid):
    return session.get(User, uid)


def test_approved_post_is_scheduled_at_exact_local_time(session, world, now):
    # given a post for 07:30 Hà Nội time tomorrow on the federation's Page and OA
    at_local = (now + timedelta(days=1)).astimezone(to_utc("2000-01-01T00:00").tzinfo)
    at = to_utc((now + timedelta(days=1)).strftime("%Y-%m-%dT07:30"))
    post = make_post(session, author_id=world.editor, org_id=world.province, channel_ids=[world.fb, world.zalo],
                     now=now, schedule=Schedule(ScheduleKind.exact, at=at))
    assert at_local is not None
    # when it is submitted and approved
    submit(session, actor=user(session, world.editor), post=post)
    approve(session, actor=user(session, world.approver), post=post, now=now)
    # then both channels hold a scheduled target at 00:30 UTC
    assert post.status == PostStatus.scheduled
    assert {t.status for t in post.targets} == {TargetStatus.scheduled}
    assert {t.scheduled_at.strftime("%H:%M") for t in post.targets} == {"00:30"}


def test_only_an_approver_of_the_org_or_an_ancestor_approves(session, world, now):
    post = make_post(session, author_id=world.grassroots_editor, org_id=world.grassroots,
                     channel_ids=[world.grassroots_fb], now=now)
    submit(session, actor=user(session, world.grassroots_editor), post=post)
    with pytest.raises(PermissionDenied):
        approve(session, actor=user(session, world.editor), post=post, now=now)
    # the district approver sits above the grassroots union: allowed
    approve(session, actor=user(session, world.district_approver), post=post, now=now)
    assert post.status == PostStatus.scheduled


def test_sibling_org_editor_cannot_touch_post(session, world, now):
    post = make_post(session, author_id=world.grassroots_editor, org_id=world.grassroots,
                     channel_ids=[world.grassroots_fb], now=now)
    with pytest.raises(Exception) as exc_info:
        submit(session, actor=user(session, world.other_editor), post=post)
    assert type(exc_info.value).__name__ in {"NotFound", "PermissionDenied"}
    assert post.status == PostStatus.draft


def test_illegal_transition_changes_nothing(session, world, now):
    post = make_post(session, author_id=world.editor, org_id=world.province, channel_ids=[world.fb], now=now)
    session.flush()
    audit_before = session.scalar(select(text("count(*)")).select_from(AuditEntry))
    with pytest.raises(InvalidState):
        approve(session, actor=user(session, world.approver), post=post, now=now)
    assert post.status == PostStatus.draft
    assert session.scalar(select(text("count(*)")).select_from(AuditEntry)) == audit_before


def test_editing_an_approved_post_sends_it_back_to_approval(session, world, now, later):
    post = make_scheduled_post(session, world, now=now, schedule=Schedule(ScheduleKind.exact, at=later))
    update_post(session, actor=user(session, world.editor), post=post, now=now,
                draft=PostDraft(text="Nội dung đã sửa", channels=[ChannelChoice(world.fb)],
                                schedule=Schedule(ScheduleKind.exact, at=later)))
    assert post.status == PostStatus.pending_approval
    assert [t.status for t in post.targets] == [TargetStatus.pending]
    assert post.approved_snapshot["text"] != post.text  # the approver can see what changed


def test_reject_needs_a_reason_and_records_it(session, world, now):
    post = make_post(session, author_id=world.editor, org_id=world.province, channel_ids=[world.fb], now=now)
    submit(session, actor=user(session, world.editor), post=post)
    with pytest.raises(InvalidInput):
        reject(session, actor=user(session, world.approver), post=post, reason="  ")
    reject(session, actor=user(session, world.approver), post=post, reason="Sai số liệu")
    assert post.status == PostStatus.rejected
    last = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "post")
                           .order_by(AuditEntry.id.desc())).first()
    assert (last.from_state, last.to_state, last.reason) == ("pending_approval", "rejected", "Sai số liệu")


@pytest.mark.parametrize("bad", [
    dict(text="", channel="fb"),
    dict(text="x" * 63_207, channel="fb"),
    dict(text="ok", channel="other_fb"),
    dict(text="ok", channel="fb", link="javascript:alert(1)"),
    dict(text="ok", channel="fb", schedule="past"),
    dict(text="ok", channel="fb", schedule="bad_rrule"),
])
def test_bad_posts_are_refused_and_nothing_is_stored(session, world, now, bad):
    schedule = Schedule(ScheduleKind.now)
    if bad.get("schedule") == "past":
        schedule = Schedule(ScheduleKind.exact, at=now - timedelta(minutes=5))
    elif bad.get("schedule") == "bad_rrule":
        schedule = Schedule(ScheduleKind.recurring, at=now + timedelta(days=1), rrule="EVERY MONDAY")
    channel_id = getattr(world, bad["channel"])
    with pytest.raises(InvalidInput):
        make_post(session, author_id=world.editor, org_id=world.province, channel_ids=[channel_id], now=now,
                  text=bad["text"], link=bad.get("link"), schedule=schedule)
    session.rollback()
    assert session.scalar(select(text("count(*)")).select_from(Post)) == 0


def test_duplicate_submission_is_refused(session, world, now):
    post = make_post(session, author_id=world.editor, org_id=world.province, channel_ids=[world.fb], now=now,
                     )
    submit(session, actor=user(session, world.editor), post=post)
    with pytest.raises(InvalidState):
        submit(session, actor=user(session, world.editor), post=post)
    from domain.posts import create_post
    from db.models import Organisation

    draft = PostDraft(text="Một bài", channels=[ChannelChoice(world.fb)])
    create_post(session, actor=user(session, world.editor), org=session.get(Organisation, world.province),
                draft=draft, now=now, client_request_id="abc")
    with pytest.raises(Conflict):
        create_post(session, actor=user(session, world.editor), org=session.get(Organisation, world.province),
                    draft=draft, now=now, client_request_id="abc")


def test_next_free_slot_skips_taken_slots(session, world, now):
    first = make_scheduled_post(session, world, now=now, schedule=Schedule(ScheduleKind.slot), text="Bài một")
    second = make_scheduled_post(session, world, now=now, schedule=Schedule(ScheduleKind.slot), text="Bài hai")
    a, b = first.targets[0].scheduled_at, second.targets[0].scheduled_at
    assert a != b and a > now and b > now
    assert {a.astimezone(to_utc("2000-01-01T00:00").tzinfo).strftime("%H:%M"), } <= {"00:30", "12:30"}


def test_weekly_recurring_bulletin_creates_monday_occurrences(session, world, now):
    first_monday = now + timedelta(days=(7 - now.weekday()) % 7 or 7)
    at = to_utc(first_monday.strftime("%Y-%m-%dT07:30"))
    post = make_scheduled_post(session, world, now=now,
                               schedule=Schedule(ScheduleKind.recurring, at=at, rrule="FREQ=WEEKLY;BYDAY=MO"))
    times = sorted(t.scheduled_at for t in post.targets)
    assert len(times) >= 2
    assert all(t.astimezone(to_utc("2000-01-01T00:00").tzinfo).weekday() == 0 for t in times)
    assert times[1] - times[0] == timedelta(days=7)


def test_cancel_cancels_unpublished_targets(session, world, now, later):
    post = make_scheduled_post(session, world, now=now, schedule=Schedule(ScheduleKind.exact, at=later))
    cancel(session, actor=user(session, world.editor), post=post, reason="Thay đổi kế hoạch")
    assert post.status == PostStatus.cancelled
    assert {t.status for t in post.targets} == {TargetStatus.cancelled}


def test_audit_log_is_append_only(factory, world):
    from sqlalchemy.exc import DBAPIError

    with factory() as s:
        with pytest.raises(DBAPIError):
            s.execute(text("UPDATE audit_log SET reason = 'sửa lén'"))
            s.flush()
        s.rollback()
        with pytest.raises(DBAPIError):
            s.execute(text("DELETE FROM audit_log"))
        s.rollback()


def test_editing_a_partly_published_post_does_not_publish_it_again(session, world, now, later):
    from db.models import PostTarget

    post = make_scheduled_post(session, world, now=now, channel_ids=[world.fb, world.zalo],
                               schedule=Schedule(ScheduleKind.exact, at=later))
    fb_target = next(t for t in post.targets if t.channel_id == world.fb)
    fb_target.status = TargetStatus.published  # Facebook went out, Zalo is still waiting
    session.flush()
    update_post(session, actor=user(session, world.editor), post=post, now=now,
                draft=PostDraft(text="Sửa lỗi chính tả", channels=[ChannelChoice(world.fb), ChannelChoice(world.zalo)],
                                schedule=Schedule(ScheduleKind.exact, at=later)))
    approve(session, actor=user(session, world.approver), post=post, now=now)
    live = [t for t in session.scalars(select(PostTarget).where(PostTarget.post_id == post.id))
            if t.status in (TargetStatus.scheduled, TargetStatus.published)]
    assert sorted((t.channel_id, t.status.value) for t in live) == sorted(
        [(world.fb, "published"), (world.zalo, "scheduled")])


def test_retry_of_a_cancelled_post_is_refused(session, world, now, later):
    from domain.posts import retry_target

    post = make_scheduled_post(session, world, now=now, schedule=Schedule(ScheduleKind.exact, at=later))
    post.targets[0].status = TargetStatus.failed
    session.flush()
    cancel(session, actor=user(session, world.editor), post=post)
    with pytest.raises(InvalidState):
        retry_target(session, actor=user(session, world.editor), target=post.targets[0], now=now)


@pytest.mark.parametrize("rule", ["FREQ=WEEKLY;INTERVAL=0", "FREQ=HOURLY;BYMINUTE=0,1,2", "FREQ=WEEKLY\nEXDATE:1",
                                  "FREQ=HOURLY;BYHOUR=25"])
def test_dangerous_recurrence_rules_are_refused_quickly(session, world, now, rule):
    with pytest.raises(InvalidInput):
        make_post(session, author_id=world.editor, org_id=world.province, channel_ids=[world.fb], now=now,
                  schedule=Schedule(ScheduleKind.recurring, at=now + timedelta(days=1), rrule=rule))


def test_cancelled_slot_post_frees_its_slot(session, world, now):
    first = make_scheduled_post(session, world, now=now, schedule=Schedule(ScheduleKind.slot), text="Một")
    slot = first.targets[0].scheduled_at
    cancel(session, actor=user(session, world.editor), post=first)
    second = make_scheduled_post(session, world, now=now, schedule=Schedule(ScheduleKind.slot), text="Hai")
    assert second.targets[0].scheduled_at == slot
