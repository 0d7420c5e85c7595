"""Posts: write, submit, approve/reject, schedule, cancel, share down, adopt, follow results."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Query
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.errors import NotFound
from db.base import utcnow
from db.models import Post, PostShare, PostStatus, PostTarget, User
from domain import access, audit, posts, sharing
from domain.posts import ChannelChoice, PostDraft, Schedule
from domain.scheduling import to_utc
from scheduler.due import list_due
from web.api.convert import local, post_read
from web.deps import WebRuntime, current_user, db, runtime
from web.errors import API_ERRORS
from web.schemas import (
    AdoptIn,
    ApproveIn,
    AuditRead,
    ChannelChoiceIn,
    PostCreate,
    PostRead,
    PostWrite,
    Reason,
    ScheduleIn,
    ShareIn,
    ShareRead,
)

router = APIRouter(prefix="/api", tags=["bài viết"], responses=API_ERRORS)


def to_schedule(body: ScheduleIn | None) -> Schedule | None:
    """Convert the HTTP schedule (local time) into the domain's (UTC)."""
    if body is None:
        return None
    return Schedule(kind=body.kind, at=to_utc(body.at, body.timezone) if body.at else None, rrule=body.rrule)


def to_choices(items: list[ChannelChoiceIn]) -> list[ChannelChoice]:
    """HTTP channel choices → domain ones."""
    return [ChannelChoice(channel_id=c.channel_id, title=c.title, text=c.text, link=c.link) for c in items]


def to_draft(body: PostWrite) -> PostDraft:
    """HTTP post body → domain draft."""
    return PostDraft(text=body.text, title=body.title, link=body.link, campaign_id=body.campaign_id,
                     media_ids=list(body.media_ids), channels=to_choices(body.channels),
                     schedule=to_schedule(body.schedule), broadcast=body.broadcast)


def visible_post(session: Session, user: User, post_id: int) -> Post:
    """A post of an organisation the user can see (their own or below), else 404."""
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound("Không tìm thấy bài viết.", post_id=post_id)
    access.get_visible_org(session, user, post.org_id)
    return post


@router.get("/posts")
def list_posts(org_id: int | None = None, status: PostStatus | None = None, campaign_id: int | None = None,
               limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0),
               user: User = Depends(current_user), session: Session = Depends(db),
               rt: WebRuntime = Depends(runtime)) -> dict:
    """Posts of the organisations the user can see, newest first."""
    ids = access.visible_org_ids(session, user)
    if org_id is not None:
        ids = ids & {access.get_visible_org(session, user, org_id).id}
    stmt = select(Post).where(Post.org_id.in_(ids))
    if status is not None:
        stmt = stmt.where(Post.status == status)
    if campaign_id is not None:
        stmt = stmt.where(Post.campaign_id == campaign_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = session.scalars(stmt.order_by(Post.id.desc()).limit(limit).offset(offset))
    return {"total": total, "items": [post_read(p, rt.timezone) for p in items]}


@router.post("/posts", response_model=PostRead, status_code=201)
def create(body: PostCreate, idempotency_key: str | None = Header(None, max_length=128),
           user: User = Depends(current_user), session: Session = Depends(db),
           rt: WebRuntime = Depends(runtime)) -> PostRead:
    """Write a post (and optionally submit it). Repeat a request with the same Idempotency-Key: 409."""
    org = access.get_visible_org(session, user, body.org_id)
    post = posts.create_post(session, actor=user, org=org, draft=to_draft(body), now=utcnow(),
                             client_request_id=idempotency_key)
    if body.submit:
        posts.submit(session, actor=user, post=post)
    session.commit()
    return post_read(post, rt.timezone)


@router.get("/posts/{post_id}", response_model=PostRead)
def get(post_id: int, user: User = Depends(current_user), session: Session = Depends(db),
        rt: WebRuntime = Depends(runtime)) -> PostRead:
    """A post with, per channel, when it was published, its link, or why it failed."""
    return post_read(visible_post(session, user, post_id), rt.timezone)


@router.put("/posts/{post_id}", response_model=PostRead)
def edit(post_id: int, body: PostWrite, user: User = Depends(current_user), session: Session = Depends(db),
         rt: WebRuntime = Depends(runtime)) -> PostRead:
    """Edit a post; an approved one goes back to approval."""
    post = visible_post(session, user, post_id)
    posts.update_post(session, actor=user, post=post, draft=to_draft(body), now=utcnow())
    session.commit()
    return post_read(post, rt.timezone)


@router.post("/posts/{post_id}/submit", response_model=PostRead)
def submit(post_id: int, user: User = Depends(current_user), session: Session = Depends(db),
           rt: WebRuntime = Depends(runtime)) -> PostRead:
    """Send for approval."""
    post = posts.submit(session, actor=user, post=visible_post(session, user, post_id))
    session.commit()
    return post_read(post, rt.timezone)


@router.post("/posts/{post_id}/approve", response_model=PostRead)
def approve(post_id: int, body: ApproveIn | None = None, user: User = Depends(current_user),
            session: Session = Depends(db), rt: WebRuntime = Depends(runtime)) -> PostRead:
    """Approve (approver of the post's organisation or an ancestor); scheduled targets follow."""
    post = posts.approve(session, actor=user, post=visible_post(session, user, post_id), now=utcnow(),
                         note=body.note if body else None)
    session.commit()
    return post_read(post, rt.timezone)


@router.post("/posts/{post_id}/reject", response_model=PostRead)
def reject(post_id: int, body: Reason, user: User = Depends(current_user), session: Session = Depends(db),
           rt: WebRuntime = Depends(runtime)) -> PostRead:
    """Reject with a reason."""
    post = posts.reject(session, actor=user, post=visible_post(session, user, post_id), reason=body.reason)
    session.commit()
    return post_read(post, rt.timezone)


@router.post("/posts/{post_id}/cancel", response_model=PostRead)
def cancel(post_id: int, body: Reason | None = None, user: User = Depends(current_user),
           session: Session = Depends(db), rt: WebRuntime = Depends(runtime)) -> PostRead:
    """Cancel the post and what has not gone out yet."""
    post = posts.cancel(session, actor=user, post=visible_post(session, user, post_id),
                        reason=body.reason if body else None)
    session.commit()
    return post_read(post, rt.timezone)


@router.post("/posts/{post_id}/schedule", response_model=PostRead)
def schedule(post_id: int, body: ScheduleIn, user: User = Depends(current_user), session: Session = Depends(db),
             rt: WebRuntime = Depends(runtime)) -> PostRead:
    """Give an approved, unscheduled post its time."""
    post = posts.set_schedule(session, actor=user, post=visible_post(session, user, post_id),
                              schedule=to_schedule(body), now=utcnow())
    session.commit()
    return post_read(post, rt.timezone)


@router.get("/posts/{post_id}/audit", response_model=list[AuditRead])
def post_audit(post_id: int, user: User = Depends(current_user), session: Session = Depends(db)) -> list:
    """The post's history and its channels' (who, when, from → to, why)."""
    post = visible_post(session, user, post_id)
    entries = audit.history(session, entity_type="post", entity_id=post.id)
    for target in post.targets:
        entries += audit.history(session, entity_type="target", entity_id=target.id)
    return sorted(entries, key=lambda e: e.id)


@router.post("/targets/{target_id}/retry", response_model=PostRead)
def retry(target_id: int, user: User = Depends(current_user), session: Session = Depends(db),
          rt: WebRuntime = Depends(runtime)) -> PostRead:
    """Publish a failed channel again now."""
    target = session.get(PostTarget, target_id)
    if target is None:
        raise NotFound("Không tìm thấy kênh đăng của bài.")
    visible_post(session, user, target.post_id)
    posts.retry_target(session, actor=user, target=target, now=utcnow())
    session.commit()
    return post_read(target.post, rt.timezone)


@router.post("/posts/{post_id}/shares", response_model=list[ShareRead], status_code=201)
def share(post_id: int, body: ShareIn, user: User = Depends(current_user), session: Session = Depends(db)) -> list:
    """Offer an approved post to sub-organisations."""
    shares = sharing.share_down(session, actor=user, post=visible_post(session, user, post_id),
                                to_org_ids=body.org_ids, note=body.note)
    session.commit()
    return shares


@router.get("/shares", response_model=list[ShareRead])
def shared_with_me(user: User = Depends(current_user), session: Session = Depends(db)) -> list:
    """Content upper levels shared with the user's organisations."""
    return sharing.shares_for(session, org_ids=access.visible_org_ids(session, user))


@router.post("/shares/{share_id}/adopt", response_model=PostRead, status_code=201)
def adopt(share_id: int, body: AdoptIn, idempotency_key: str | None = Header(None, max_length=128),
          user: User = Depends(current_user), session: Session = Depends(db),
          rt: WebRuntime = Depends(runtime)) -> PostRead:
    """Schedule shared content on your own channels in one action (adapted text goes to your approval)."""
    share_row = session.get(PostShare, share_id)
    if share_row is None or share_row.to_org_id not in access.visible_org_ids(session, user):
        raise NotFound("Không tìm thấy nội dung được chia sẻ.")
    post = sharing.adopt(session, actor=user, share=share_row, channels=to_choices(body.channels),
                         schedule=to_schedule(body.schedule), now=utcnow(), text=body.text, title=body.title,
                         link=body.link, client_request_id=idempotency_key)
    session.commit()
    return post_read(post, rt.timezone)


@router.get("/due")
def due(within_minutes: int = Query(60, ge=1, le=10080), user: User = Depends(current_user),
        session: Session = Depends(db), rt: WebRuntime = Depends(runtime)) -> list[dict]:
    """Targets due soon on the user's organisations."""
    ids = access.visible_org_ids(session, user)
    return [{"target_id": t.id, "post_id": t.post_id, "channel": t.channel.name, "due_local": local(t.due_at, rt.timezone)}
            for t in list_due(session, now=utcnow(), within_s=within_minutes * 60) if t.post.org_id in ids]
