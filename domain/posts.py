"""The post lifecycle: write, submit, approve or reject, schedule, cancel, and edit back to approval.

draft → pending_approval → approved | rejected → scheduled → publishing → published | failed,
plus cancelled. Illegal transitions raise InvalidState and change nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from common.errors import Conflict, InvalidInput, InvalidState, NotFound
from db.models import (
    Campaign,
    Channel,
    Media,
    Organisation,
    Post,
    PostChannel,
    PostMedia,
    PostStatus,
    PostTarget,
    Role,
    ScheduleKind,
    TargetStatus,
    User,
)
from domain import audit, scheduling
from domain.access import require_role
from domain.content import ChannelContent, check_channel_usable, check_content, check_link

S = PostStatus
STATUS_LABELS = {
    S.draft: "bản nháp", S.pending_approval: "chờ duyệt", S.approved: "đã duyệt", S.rejected: "bị từ chối",
    S.scheduled: "đã lên lịch", S.publishing: "đang đăng", S.published: "đã đăng", S.failed: "đăng lỗi",
    S.cancelled: "đã huỷ",
}
ALLOWED: dict[PostStatus, set[PostStatus]] = {
    # draft → approved only for shared content adopted unchanged (approved upstream, see sharing.adopt).
    S.draft: {S.pending_approval, S.approved, S.cancelled},
    S.pending_approval: {S.approved, S.rejected, S.cancelled},
    S.approved: {S.scheduled, S.pending_approval, S.cancelled},
    S.rejected: {S.pending_approval, S.cancelled},
    S.scheduled: {S.publishing, S.published, S.failed, S.pending_approval, S.approved, S.cancelled},
    S.publishing: {S.published, S.failed, S.scheduled},
    S.failed: {S.scheduled, S.publishing, S.pending_approval, S.cancelled},
    S.published: {S.publishing, S.scheduled},  # only through further occurrences of a recurring post
    S.cancelled: set(),
}
EDITABLE = {S.draft, S.pending_approval, S.rejected, S.approved, S.scheduled, S.failed}
EDITOR_ROLES = (Role.editor, Role.admin)
RECURRENCE_HORIZON = timedelta(days=14)


@dataclass(frozen=True)
class ChannelChoice:
    """A channel picked for a post, with optional per-channel wording."""

    channel_id: int
    title: str | None = None
    text: str | None = None
    link: str | None = None


@dataclass(frozen=True)
class Schedule:
    """When to publish: now (on approval), at an exact time, next free slot, or recurring."""

    kind: ScheduleKind
    at: datetime | None = None  # UTC; for exact, and the first occurrence of recurring
    rrule: str | None = None


@dataclass
class PostDraft:
    """Everything an editor writes; used for create and edit."""

    text: str = ""
    title: str | None = None
    link: str | None = None
    campaign_id: int | None = None
    media_ids: list[int] = field(default_factory=list)
    channels: list[ChannelChoice] = field(default_factory=list)
    schedule: Schedule | None = None
    broadcast: bool = False


def transition(session: Session, post: Post, to: PostStatus, *, action: str, actor: User | None = None,
               reason: str | None = None, data: dict | None = None) -> None:
    """Move ``post`` to ``to`` if allowed, with an audit entry; otherwise raise InvalidState."""
    if to not in ALLOWED[post.status]:
        raise InvalidState(f"Không thể chuyển bài viết từ trạng thái \"{STATUS_LABELS[post.status]}\" "
                           f"sang \"{STATUS_LABELS[to]}\".", post_id=post.id, status=post.status.value)
    old = post.status
    post.status = to
    session.flush()
    audit.record(session, entity_type="post", entity_id=post.id, action=action, actor=actor, org_id=post.org_id,
                 from_state=old.value, to_state=to.value, reason=reason, data=data)


def lock_targets(session: Session, post: Post) -> list[PostTarget]:
    """Lock the post's targets and reload them, so a worker's claim cannot slip in between our check and write.

    A claim that committed first shows up here as ``publishing``; a claim that comes later waits
    for our commit and then finds the target no longer ``scheduled``.
    """
    if post.id is None:
        return []
    return list(session.scalars(select(PostTarget).where(PostTarget.post_id == post.id).with_for_update()
                                .execution_options(populate_existing=True)))


def get_post(session: Session, post_id: int) -> Post:
    """Load a post or raise NotFound."""
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound("Không tìm thấy bài viết.", post_id=post_id)
    return post


def create_post(session: Session, *, actor: User, org: Organisation, draft: PostDraft, now: datetime,
                client_request_id: str | None = None, source_post_id: int | None = None) -> Post:
    """Write a new draft post (checked against every chosen channel's rules)."""
    require_role(session, actor, org, *EDITOR_ROLES)
    if client_request_id:
        existing = session.scalar(select(Post).where(Post.author_id == actor.id,
                                                     Post.client_request_id == client_request_id))
        if existing is not None:
            raise Conflict("Bài viết này đã được gửi trước đó (trùng yêu cầu).", post_id=existing.id)
    post = Post(org_id=org.id, author_id=actor.id, status=S.draft, client_request_id=client_request_id,
                source_post_id=source_post_id)
    session.add(post)
    _apply_draft(session, post, draft, now=now)
    audit.record(session, entity_type="post", entity_id=post.id, action="create", actor=actor, org_id=org.id,
                 to_state=S.draft.value, data={"channels": [c.channel_id for c in draft.channels]})
    return post


def update_post(session: Session, *, actor: User, post: Post, draft: PostDraft, now: datetime) -> Post:
    """Edit a post; an approved or scheduled post goes back to approval."""
    require_role(session, actor, _org(session, post), *EDITOR_ROLES)
    if post.status not in EDITABLE:
        raise InvalidState(f"Không thể sửa bài viết ở trạng thái \"{STATUS_LABELS[post.status]}\".", post_id=post.id)
    if any(t.status == TargetStatus.publishing for t in lock_targets(session, post)):
        raise InvalidState("Bài viết đang được đăng, hãy chờ xong rồi sửa.", post_id=post.id)
    _apply_draft(session, post, draft, now=now)
    post.version += 1
    if post.status in (S.approved, S.scheduled, S.failed):
        transition(session, post, S.pending_approval, action="edit", actor=actor,
                   reason="Bài đã duyệt được sửa nên cần duyệt lại.")
    else:
        audit.record(session, entity_type="post", entity_id=post.id, action="edit", actor=actor,
                     org_id=post.org_id, from_state=post.status.value, to_state=post.status.value)
    return post


def submit(session: Session, *, actor: User, post: Post) -> Post:
    """Send a draft (or a rejected post after changes) for approval."""
    require_role(session, actor, _org(session, post), *EDITOR_ROLES)
    if post.status == S.pending_approval:
        raise InvalidState("Bài viết đã được gửi duyệt rồi.", post_id=post.id)
    if not post.channels:
        raise InvalidInput("Hãy chọn ít nhất một kênh trước khi gửi duyệt.")
    transition(session, post, S.pending_approval, action="submit", actor=actor)
    return post


def approve(session: Session, *, actor: User, post: Post, now: datetime, note: str | None = None) -> Post:
    """Approve a pending post (approver of its organisation or an ancestor) and schedule its targets."""
    require_role(session, actor, _org(session, post), Role.approver)
    lock_targets(session, post)
    session.refresh(post, with_for_update=True)  # two approvers clicking at once: the second one waits
    if post.status != S.pending_approval:
        raise InvalidState(f"Chỉ duyệt được bài đang chờ duyệt (bài này: \"{STATUS_LABELS[post.status]}\").",
                           post_id=post.id)
    transition(session, post, S.approved, action="approve", actor=actor, reason=note)
    post.approved_by_id = actor.id
    post.approved_at = now
    post.approved_version = post.version
    post.approved_snapshot = snapshot(post)
    post.rejection_reason = None
    if post.schedule_kind is not None:
        schedule_targets(session, post=post, now=now, actor=actor)
    return post


def reject(session: Session, *, actor: User, post: Post, reason: str) -> Post:
    """Reject a pending post; the reason is required and shown to the author."""
    require_role(session, actor, _org(session, post), Role.approver)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Cần ghi lý do từ chối để người viết biết cần sửa gì.")
    transition(session, post, S.rejected, action="reject", actor=actor, reason=reason)
    post.rejection_reason = reason
    return post


def cancel(session: Session, *, actor: User, post: Post, reason: str | None = None) -> Post:
    """Cancel a post and every target that has not gone out yet."""
    require_role(session, actor, _org(session, post), *EDITOR_ROLES, Role.approver)
    if any(t.status == TargetStatus.publishing for t in lock_targets(session, post)):
        raise InvalidState("Bài viết đang được đăng, không thể huỷ lúc này.", post_id=post.id)
    transition(session, post, S.cancelled, action="cancel", actor=actor, reason=reason)
    for target in post.targets:
        if target.status in (TargetStatus.pending, TargetStatus.scheduled, TargetStatus.failed):
            target.slot_at = None  # free the queue slot for other posts
            set_target_status(session, target, TargetStatus.cancelled, action="cancel", actor=actor, reason=reason)
    return post


def set_schedule(session: Session, *, actor: User, post: Post, schedule: Schedule, now: datetime) -> Post:
    """Schedule an approved post that had no time yet (approval is not needed again)."""
    require_role(session, actor, _org(session, post), *EDITOR_ROLES)
    if post.status != S.approved:
        raise InvalidState("Chỉ lên lịch được bài đã duyệt mà chưa có lịch; bài khác hãy sửa lịch rồi gửi duyệt.",
                           post_id=post.id)
    _validate_schedule(schedule, now)
    post.schedule_kind, post.scheduled_at, post.rrule = schedule.kind, schedule.at, schedule.rrule
    _plan_targets(session, post, now=now)
    schedule_targets(session, post=post, now=now, actor=actor)
    return post


def schedule_targets(session: Session, *, post: Post, now: datetime, actor: User | None) -> None:
    """Turn an approved post's pending targets into scheduled ones (called on approval)."""
    taken: dict[int, set[datetime]] = {}
    for target in list(post.targets):
        if target.status != TargetStatus.pending:
            continue
        if post.schedule_kind == ScheduleKind.recurring and target.scheduled_at <= now:
            # An occurrence that passed while the post waited for approval is skipped, not sent late.
            post.targets.remove(target)
            session.delete(target)
            continue
        if post.schedule_kind == ScheduleKind.now or target.scheduled_at <= now:
            if post.schedule_kind == ScheduleKind.slot:
                channel = session.get(Channel, target.channel_id)
                slot = scheduling.next_free_slot(session, channel=channel, after=now,
                                                 skip=taken.setdefault(channel.id, set()))
                taken[channel.id].add(slot)
                target.scheduled_at = target.slot_at = slot
            else:
                # Approved after its time (or "publish now"): it goes out right away.
                target.scheduled_at = now
        target.due_at = target.scheduled_at
        set_target_status(session, target, TargetStatus.scheduled, action="schedule", actor=actor)
    if any(t.status == TargetStatus.scheduled for t in post.targets):
        transition(session, post, S.scheduled, action="schedule", actor=actor)


def set_target_status(session: Session, target: PostTarget, to: TargetStatus, *, action: str,
                      actor: User | None = None, reason: str | None = None, data: dict | None = None) -> None:
    """Change a target's status with an audit entry."""
    old = target.status
    target.status = to
    audit.record(session, entity_type="target", entity_id=target.id, action=action, actor=actor,
                 org_id=target.post.org_id if target.post else None, from_state=old.value if old else None,
                 to_state=to.value, reason=reason, data=data)


AGGREGATED = (S.scheduled, S.publishing, S.published, S.failed)


def derive_status(target_statuses: list[TargetStatus]) -> PostStatus | None:
    """A scheduled post's status from its targets' (None when it has no live target)."""
    live = [t for t in target_statuses if t != TargetStatus.cancelled]
    if not live:
        return None
    if TargetStatus.publishing in live:
        return S.publishing
    if TargetStatus.scheduled in live or TargetStatus.pending in live:
        return S.scheduled
    if TargetStatus.failed in live or TargetStatus.unknown in live:
        return S.failed
    return S.published


def sync_status(session: Session, post: Post, *, actor: User | None = None) -> None:
    """Derive a scheduled post's status from its targets (publishing, published or failed)."""
    if post.status not in AGGREGATED:
        return
    new = derive_status([t.status for t in post.targets])
    if new is not None and new != post.status:
        transition(session, post, new, action="target_result", actor=actor)


def sync_status_by_id(session: Session, post_id: int) -> None:
    """``sync_status`` in one locked read (plus a write when it changes), for the publishing hot path."""
    conn = session.connection()
    rows = conn.execute(_POST_AND_TARGETS, {"post_id": post_id}).all()
    if not rows or rows[0].status not in AGGREGATED:
        return
    new = derive_status([r.target_status for r in rows if r.target_status is not None])
    if new is None or new == rows[0].status:
        return
    conn.execute(_SET_POST_STATUS, {"post_id": post_id, "status": new})
    audit.record(session, entity_type="post", entity_id=post_id, action="target_result", org_id=rows[0].org_id,
                 from_state=rows[0].status.value, to_state=new.value)


def advance_posts(session: Session, post_ids: list[int], *, to: PostStatus) -> list[dict]:
    """The publishing hot path's shortcut for the common single-channel post, for a batch of posts.

    claim (``to=publishing``): scheduled → publishing. Result (``to=published``): publishing →
    published when no other target is still live. One statement for the batch; each post the
    shortcut does not apply to goes through the locked ``sync_status_by_id``. Posts are locked
    in id order first, so two batches sharing posts (a post on several channels) cannot deadlock.
    Returns the audit rows to write.
    """
    if not post_ids:
        return []
    post_ids = sorted(set(post_ids))
    conn = session.connection()
    if len(post_ids) > 1 and conn.dialect.name == "postgresql":
        conn.execute(_LOCK_POSTS, {"ids": post_ids}).all()
    if to == S.publishing:
        stmt, frm = _SHORTCUT_PUBLISHING, S.scheduled
    else:
        stmt, frm = _SHORTCUT_PUBLISHED, S.publishing
    done = {row.id: row.org_id for row in conn.execute(stmt, {"ids": post_ids})}
    for post_id in post_ids:
        if post_id not in done:
            sync_status_by_id(session, post_id)
    return [audit.entry(entity_type="post", entity_id=post_id, action="target_result", org_id=done[post_id],
                        from_state=frm.value, to_state=to.value) for post_id in post_ids if post_id in done]


_LOCK_POSTS = (select(Post.id).where(Post.id.in_(bindparam("ids", expanding=True))).order_by(Post.id)
               .with_for_update())
_SHORTCUT_PUBLISHING = (update(Post).where(Post.id.in_(bindparam("ids", expanding=True)), Post.status == S.scheduled)
                        .values(status=S.publishing, updated_at=func.now()).returning(Post.id, Post.org_id))
_SHORTCUT_PUBLISHED = (
    update(Post)
    .where(Post.id.in_(bindparam("ids", expanding=True)), Post.status == S.publishing,
           ~select(PostTarget.id).where(PostTarget.post_id == Post.id,
                                        PostTarget.status.notin_([TargetStatus.published, TargetStatus.cancelled]))
           .exists())
    .values(status=S.published, updated_at=func.now()).returning(Post.id, Post.org_id))
_POST_AND_TARGETS = (
    select(Post.status, Post.org_id, PostTarget.status.label("target_status"))
    .outerjoin(PostTarget, PostTarget.post_id == Post.id)
    .where(Post.id == bindparam("post_id"))
    .with_for_update(of=Post)
)
_SET_POST_STATUS = (update(Post).where(Post.id == bindparam("post_id"))
                    .values(status=bindparam("status"), updated_at=func.now()))


def snapshot(post: Post) -> dict:
    """The approvable content of a post (for the diff shown when an approved post is edited)."""
    return {
        "title": post.title, "text": post.text, "link": post.link,
        "media_ids": [m.media_id for m in post.media],
        "channels": [{"channel_id": c.channel_id, "title": c.variant_title, "text": c.variant_text,
                      "link": c.variant_link} for c in post.channels],
        "schedule": {"kind": post.schedule_kind.value if post.schedule_kind else None,
                     "at": post.scheduled_at.isoformat() if post.scheduled_at else None, "rrule": post.rrule},
    }


def materialise_recurring(session: Session, *, now: datetime, horizon: timedelta = RECURRENCE_HORIZON) -> int:
    """Create targets for upcoming occurrences of approved recurring posts; returns how many."""
    created = 0
    posts = session.scalars(select(Post).where(Post.schedule_kind == ScheduleKind.recurring,
                                               Post.status.in_([S.scheduled, S.published, S.failed])))
    for post in posts:
        existing = {(t.channel_id, t.scheduled_at) for t in post.targets}
        for at in scheduling.occurrences(post.rrule, dtstart=post.scheduled_at, after=now, before=now + horizon):
            for choice in post.channels:
                if (choice.channel_id, at) in existing:
                    continue
                target = _new_target(post, choice.channel_id, at)
                target.status = TargetStatus.pending
                session.add(target)
                session.flush()
                set_target_status(session, target, TargetStatus.scheduled, action="recurrence")
                created += 1
        sync_status(session, post)
    return created


def _org(session: Session, post: Post) -> Organisation:
    return session.get(Organisation, post.org_id)


def _validate_schedule(schedule: Schedule | None, now: datetime) -> None:
    if schedule is None or schedule.kind in (ScheduleKind.now, ScheduleKind.slot):
        return
    if schedule.at is None:
        raise InvalidInput("Cần chọn thời điểm đăng.")
    scheduling.require_future(schedule.at, now)
    if schedule.kind == ScheduleKind.recurring:
        scheduling.parse_rrule(schedule.rrule or "", dtstart=schedule.at)


def _apply_draft(session: Session, post: Post, draft: PostDraft, *, now: datetime) -> None:
    """Validate and copy a draft onto a post, then re-plan its unpublished targets."""
    if draft.campaign_id is not None:
        campaign = session.get(Campaign, draft.campaign_id)
        if campaign is None or campaign.org_id not in _org_chain(session, post.org_id):
            raise InvalidInput("Chiến dịch không tồn tại hoặc không thuộc tổ chức này.")
    photos = _load_media(session, post.org_id, draft.media_ids)
    channels = _load_channels(session, post.org_id, draft.channels)
    link = check_link(draft.link)
    for choice, channel in zip(draft.channels, channels, strict=True):
        item = ChannelContent(channel=channel, title=(choice.title or draft.title),
                              text=choice.text if choice.text is not None else draft.text or "",
                              link=check_link(choice.link) or link)
        check_content(item, photos)
    _validate_schedule(draft.schedule, now)
    post.title = (draft.title or "").strip() or None
    post.text = draft.text or ""
    post.link = link
    post.campaign_id = draft.campaign_id
    post.broadcast = bool(draft.broadcast)
    # Delete the old rows before inserting new ones: the unique keys would collide otherwise.
    if post.id is not None and (post.media or post.channels):
        post.media.clear()
        post.channels.clear()
        session.flush()
    post.media = [PostMedia(media_id=m.id, position=i) for i, m in enumerate(photos)]
    post.channels = [PostChannel(channel_id=c.channel_id, variant_title=c.title, variant_text=c.text,
                                 variant_link=check_link(c.link)) for c in draft.channels]
    sched = draft.schedule
    post.schedule_kind = sched.kind if sched else None
    post.scheduled_at = sched.at if sched else None
    post.rrule = sched.rrule if sched else None
    session.add(post)
    session.flush()
    _plan_targets(session, post, now=now)


def _plan_targets(session: Session, post: Post, *, now: datetime) -> None:
    """Replace the targets that have not gone out with ones for the current channels and schedule.

    A channel that already carries this (non-recurring) post is not planned again: editing a
    partly published post must not publish it twice there. Failed attempts are superseded.
    """
    for target in list(post.targets):
        if target.status in (TargetStatus.pending, TargetStatus.scheduled) and target.attempts == 0:
            post.targets.remove(target)
            session.delete(target)
        elif target.status in (TargetStatus.pending, TargetStatus.scheduled, TargetStatus.failed):
            target.slot_at = None
            set_target_status(session, target, TargetStatus.cancelled, action="superseded",
                              reason="Bài được sửa và lên lịch lại.")
    session.flush()
    if post.schedule_kind is None:
        return
    done = {t.channel_id for t in post.targets if t.status in (TargetStatus.published, TargetStatus.publishing)}
    for choice in post.channels:
        if post.schedule_kind != ScheduleKind.recurring and choice.channel_id in done:
            continue
        if post.schedule_kind == ScheduleKind.recurring:
            times = scheduling.occurrences(post.rrule, dtstart=post.scheduled_at,
                                           after=post.scheduled_at - timedelta(seconds=1),
                                           before=max(now, post.scheduled_at) + RECURRENCE_HORIZON)
        elif post.schedule_kind == ScheduleKind.slot:
            channel = session.get(Channel, choice.channel_id)
            times = [scheduling.next_free_slot(session, channel=channel, after=now)]
        else:
            times = [post.scheduled_at or now]
        taken = {(t.channel_id, t.scheduled_at) for t in post.targets}
        for at in times:
            if (choice.channel_id, at) in taken:
                continue
            target = _new_target(post, choice.channel_id, at)
            if post.schedule_kind == ScheduleKind.slot:
                target.slot_at = at
            post.targets.append(target)
    session.flush()


def _new_target(post: Post, channel_id: int, at: datetime) -> PostTarget:
    return PostTarget(post_id=post.id, channel_id=channel_id, status=TargetStatus.pending, scheduled_at=at,
                      due_at=at, idempotency_key=uuid.uuid4().hex)


def _load_media(session: Session, org_id: int, media_ids: list[int]) -> list[Media]:
    if len(media_ids) != len(set(media_ids)):
        raise InvalidInput("Một ảnh được chọn hai lần.")
    photos = []
    for media_id in media_ids:
        media = session.get(Media, media_id)
        # Photos of an upper level may be reused below it (content shared down the hierarchy).
        if media is None or media.org_id not in _org_chain(session, org_id):
            raise InvalidInput(f"Ảnh #{media_id} không tồn tại hoặc không thuộc tổ chức này.")
        photos.append(media)
    return photos


def _load_channels(session: Session, org_id: int, choices: list[ChannelChoice]) -> list[Channel]:
    ids = [c.channel_id for c in choices]
    if len(ids) != len(set(ids)):
        raise InvalidInput("Một kênh được chọn hai lần.")
    channels = []
    for channel_id in ids:
        channel = session.get(Channel, channel_id)
        if channel is None:
            raise InvalidInput(f"Kênh #{channel_id} không tồn tại hoặc không thuộc tổ chức này.")
        check_channel_usable(channel, org_id)
        channels.append(channel)
    return channels


def _org_chain(session: Session, org_id: int) -> list[int]:
    return session.get(Organisation, org_id).ancestor_ids()


def retry_target(session: Session, *, actor: User, target: PostTarget, now: datetime) -> PostTarget:
    """Send a failed target again now (after the cause — a token, a photo — was fixed)."""
    post = target.post
    require_role(session, actor, _org(session, post), *EDITOR_ROLES)
    lock_targets(session, post)
    if target.status != TargetStatus.failed:
        raise InvalidState("Chỉ thử lại được kênh đang ở trạng thái đăng lỗi.", target_id=target.id)
    if post.status not in AGGREGATED or post.approved_version != post.version:
        raise InvalidState(f"Bài viết đang ở trạng thái \"{STATUS_LABELS[post.status]}\" hoặc đã được sửa sau khi "
                           "duyệt; không thể đăng lại kênh này.", post_id=post.id)
    channel = session.get(Channel, target.channel_id)
    check_channel_usable(channel, post.org_id)
    # The attempt counter is never lowered (it fences stale workers); the retry budget restarts here.
    target.retry_from = target.attempts
    target.due_at = now
    target.enqueued_at = None
    set_target_status(session, target, TargetStatus.scheduled, action="manual_retry", actor=actor)
    sync_status(session, post, actor=actor)
    return target
