"""The post page: content, per-channel results with retry, the audit timeline, and the actions a role allows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select

from common.errors import InvalidInput, NotFound, ServiceError
from db.base import utcnow
from db.models import (
    AttemptOutcome,
    Organisation,
    Post,
    PostShare,
    PostStatus,
    PostTarget,
    PublishAttempt,
    Role,
    ScheduleKind,
    TargetStatus,
    User,
)
from domain import posts, sharing
from domain.posts import EDITABLE, Schedule
from domain.scheduling import to_utc
from web.errors import STATUS
from web.pages.kit import Viewer, page_router, redirect, render, rt, viewer
from web.pages.labels import vi
from web.pages.post_view import (
    changes_since_approval,
    local_time,
    post_schedule_words,
    roles_at,
    timeline,
    visible_post,
)

router = page_router()

EDITORS = {Role.editor, Role.admin}
CANCELLABLE = {PostStatus.draft, PostStatus.pending_approval, PostStatus.approved, PostStatus.rejected,
               PostStatus.scheduled, PostStatus.failed}
LIVE_SOON = timedelta(minutes=15)


def status_code_of(exc: ServiceError) -> int:
    """The HTTP status a domain error maps to (same table as the JSON API)."""
    return next(code for cls, code in STATUS if isinstance(exc, cls))


def schedule_from_form(when: str, at: str, tz: str) -> Schedule:
    """The schedule chosen in a form: now, an exact local time, or the channel's next free slot."""
    if when == "now":
        return Schedule(ScheduleKind.now)
    if when == "slot":
        return Schedule(ScheduleKind.slot)
    if when == "exact":
        if not (at or "").strip():
            raise InvalidInput("Hãy chọn ngày và giờ đăng.")
        return Schedule(ScheduleKind.exact, at=to_utc(at, tz))
    raise InvalidInput("Hãy chọn thời điểm đăng: ngay, giờ cụ thể hoặc khung giờ trống kế tiếp.")


def poll_interval(post: Post) -> int | None:
    """Seconds between status checks while something may change soon; None when nothing will."""
    now = utcnow()
    statuses = {t.status for t in post.targets}
    if post.status == PostStatus.publishing or TargetStatus.publishing in statuses:
        return 5
    soon = [t for t in post.targets if t.status == TargetStatus.scheduled and t.due_at <= now + LIVE_SOON]
    if soon:
        return 5
    return 60 if TargetStatus.scheduled in statuses else None


def uncertain_targets(v: Viewer, post: Post) -> set[int]:
    """Targets with an attempt whose outcome was unknown (the platform may already have the post)."""
    ids = [t.id for t in post.targets]
    if not ids:
        return set()
    return set(v.session.scalars(select(PublishAttempt.target_id).where(
        PublishAttempt.target_id.in_(ids), PublishAttempt.outcome.in_([AttemptOutcome.unknown, AttemptOutcome.lost]))))


def render_post(request: Request, v: Viewer, post: Post, *, error: str | None = None, status_code: int = 200,
                form: dict | None = None) -> HTMLResponse:
    """The post page, optionally with an error and the user's input kept."""
    s = v.session
    org = s.get(Organisation, post.org_id)
    roles = roles_at(s, v.user, org.id)
    can_edit = bool(roles & EDITORS)
    shareable = post.status in sharing.SHAREABLE and bool(roles & (EDITORS | {Role.approver}))
    children = list(s.scalars(select(Organisation).where(Organisation.path.startswith(org.path),
                                                         Organisation.id != org.id).order_by(Organisation.path)))
    shares = list(s.scalars(select(PostShare).where(PostShare.post_id == post.id)))
    source = s.get(Post, post.source_post_id) if post.source_post_id else None
    can = {
        "edit": can_edit and post.status in EDITABLE,
        "submit": can_edit and post.status in (PostStatus.draft, PostStatus.rejected),
        "approve": Role.approver in roles and post.status == PostStatus.pending_approval,
        "cancel": bool(roles & (EDITORS | {Role.approver})) and post.status in CANCELLABLE,
        "share": shareable and bool(children),
        "schedule": can_edit and post.status == PostStatus.approved and post.schedule_kind is None,
        "retry": can_edit,
    }
    return render(
        request, "post_page.html", v, status_code=status_code, error=error, form=form or {}, post=post, org=org,
        author=s.get(User, post.author_id) if post.author_id else None,
        approver=s.get(User, post.approved_by_id) if post.approved_by_id else None,
        source=source, source_org=s.get(Organisation, source.org_id) if source else None,
        schedule_text=post_schedule_words(post), changes=changes_since_approval(s, post),
        history=timeline(s, post), uncertain=uncertain_targets(v, post), can=can, children=children,
        shares=shares, shared_org_ids={sh.to_org_id for sh in shares},
        org_names={o.id: o.name for o in children}, poll=poll_interval(post))


@router.get("/posts/{post_id:int}", response_class=HTMLResponse)
def post_page(request: Request, post_id: int, v: Viewer = Depends(viewer)) -> HTMLResponse:
    """One post: what it says, where and when it goes out, what happened, what I can do."""
    return render_post(request, v, visible_post(v.session, v.user, post_id))


@router.get("/posts/{post_id:int}/status.json")
def post_status(post_id: int, v: Viewer = Depends(viewer)) -> JSONResponse:
    """Live status for the page's poller: the post's and each channel's."""
    post = visible_post(v.session, v.user, post_id)
    targets = [{"id": t.id, "status": t.status.value, "label": vi(t.status, "target_status"),
                "published_url": t.external_url, "published_at": local_time(t.published_at),
                "error": t.last_error} for t in post.targets]
    signature = post.status.value + "|" + ",".join(f"{t.id}:{t.status.value}" for t in post.targets)
    return JSONResponse({"status": post.status.value, "label": vi(post.status, "post_status"), "targets": targets,
                         "signature": signature, "poll": poll_interval(post)},
                        headers={"Cache-Control": "no-store"})


def act(request: Request, v: Viewer, post_id: int, action: Callable[[Post], object], *, flash: str,
        form: dict | None = None) -> Response:
    """Run ``action(post)`` and commit; a domain refusal re-renders the page with its message, changing nothing."""
    post = visible_post(v.session, v.user, post_id)
    try:
        action(post)
        v.session.commit()
    except ServiceError as exc:
        v.session.rollback()
        return render_post(request, v, visible_post(v.session, v.user, post_id), error=exc.message_vi,
                           status_code=status_code_of(exc), form=form)
    return redirect(f"/posts/{post_id}", v, flash=flash)


@router.post("/posts/{post_id:int}/approve")
def approve(request: Request, post_id: int, note: str = Form("", max_length=2000),
            v: Viewer = Depends(viewer)) -> Response:
    """Approve a pending post (approvers); its channels are scheduled."""
    return act(request, v, post_id, lambda p: posts.approve(v.session, actor=v.user, post=p, now=utcnow(),
                                                            note=note.strip() or None),
               flash=f"Đã duyệt bài #{post_id}.", form={"note": note})


@router.post("/posts/{post_id:int}/reject")
def reject(request: Request, post_id: int, reason: str = Form("", max_length=2000),
           v: Viewer = Depends(viewer)) -> Response:
    """Reject a pending post with the reason the author will read."""
    return act(request, v, post_id, lambda p: posts.reject(v.session, actor=v.user, post=p, reason=reason),
               flash=f"Đã từ chối bài #{post_id}; người viết sẽ thấy lý do.", form={"reason": reason})


@router.post("/posts/{post_id:int}/submit")
def submit(request: Request, post_id: int, v: Viewer = Depends(viewer)) -> Response:
    """Send a draft (or a rejected post after changes) for approval."""
    return act(request, v, post_id, lambda p: posts.submit(v.session, actor=v.user, post=p),
               flash=f"Đã gửi bài #{post_id} đi duyệt.")


@router.post("/posts/{post_id:int}/cancel")
def cancel(request: Request, post_id: int, reason: str = Form("", max_length=2000),
           v: Viewer = Depends(viewer)) -> Response:
    """Cancel the post and every channel that has not gone out yet."""
    return act(request, v, post_id, lambda p: posts.cancel(v.session, actor=v.user, post=p,
                                                           reason=reason.strip() or None),
               flash=f"Đã huỷ bài #{post_id}.", form={"cancel_reason": reason})


@router.post("/posts/{post_id:int}/schedule")
def schedule(request: Request, post_id: int, when: str = Form(""), at: str = Form(""),
             v: Viewer = Depends(viewer)) -> Response:
    """Give an approved post without a time its schedule."""
    tz = rt(request).timezone
    return act(request, v, post_id, lambda p: posts.set_schedule(
        v.session, actor=v.user, post=p, schedule=schedule_from_form(when, at, tz), now=utcnow()),
        flash=f"Đã lên lịch bài #{post_id}.", form={"when": when, "at": at})


@router.post("/posts/{post_id:int}/share")
def share(request: Request, post_id: int, org_ids: list[int] = Form([]), note: str = Form("", max_length=2000),
          v: Viewer = Depends(viewer)) -> Response:
    """Offer an approved post to chosen sub-organisations."""
    return act(request, v, post_id, lambda p: sharing.share_down(v.session, actor=v.user, post=p,
                                                                 to_org_ids=org_ids, note=note.strip()),
               flash=f"Đã chia sẻ bài #{post_id} cho {len(set(org_ids))} tổ chức cấp dưới.",
               form={"share_org_ids": set(org_ids), "share_note": note})


@router.post("/posts/{post_id:int}/targets/{target_id:int}/retry")
def retry(request: Request, post_id: int, target_id: int, v: Viewer = Depends(viewer)) -> Response:
    """Send a failed channel again now (after its cause was fixed)."""
    def run(post: Post) -> None:
        target = v.session.get(PostTarget, target_id)
        if target is None or target.post_id != post.id:
            raise NotFound("Không tìm thấy kênh đăng của bài.", target_id=target_id)
        posts.retry_target(v.session, actor=v.user, target=target, now=utcnow())
    return act(request, v, post_id, run, flash="Đã xếp kênh vào hàng đăng lại; kết quả sẽ hiện trong giây lát.")
