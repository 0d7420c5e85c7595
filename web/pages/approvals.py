"""The approvals inbox: posts waiting for me, with what changed since the last approval, approve or reject."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from common.errors import ServiceError
from db.base import utcnow
from db.models import Organisation, Post, PostChannel, PostMedia, PostStatus, Role, User
from domain import posts
from domain.access import org_ids_with_role
from web.pages.kit import Viewer, page_router, redirect, render, viewer
from web.pages.post_page import status_code_of
from web.pages.post_view import changes_since_approval, post_schedule_words, visible_post

router = page_router()
LIMIT = 100


def inbox(request: Request, v: Viewer, *, org: int | None = None, error: str | None = None,
          error_post_id: int | None = None, form: dict | None = None, status_code: int = 200) -> HTMLResponse:
    """Pending posts of the organisations where I approve (or administer), oldest first."""
    s = v.session
    approve_ids = org_ids_with_role(s, v.user, Role.approver)
    visible_ids = approve_ids | org_ids_with_role(s, v.user, Role.admin)
    orgs = {o.id: o for o in s.scalars(select(Organisation).where(Organisation.id.in_(visible_ids))
                                       .order_by(Organisation.path))} if visible_ids else {}
    shown_ids = {org} & visible_ids if org else visible_ids
    pending: list[Post] = []
    if shown_ids:
        pending = list(s.scalars(
            select(Post).where(Post.org_id.in_(shown_ids), Post.status == PostStatus.pending_approval)
            .options(selectinload(Post.channels).selectinload(PostChannel.channel),
                     selectinload(Post.media).selectinload(PostMedia.media), selectinload(Post.campaign))
            .order_by(Post.updated_at, Post.id).limit(LIMIT + 1)))
    authors = {u.id: u for u in s.scalars(select(User).where(User.id.in_({p.author_id for p in pending} - {None})))}
    rows = [{"post": p, "org": orgs.get(p.org_id), "author": authors.get(p.author_id),
             "schedule": post_schedule_words(p), "changes": changes_since_approval(s, p),
             "can_approve": p.org_id in approve_ids} for p in pending[:LIMIT]]
    return render(request, "approvals.html", v, status_code=status_code, rows=rows, more=len(pending) > LIMIT,
                  orgs=list(orgs.values()), org_filter=org, error=error, error_post_id=error_post_id,
                  form=form or {}, is_approver=bool(approve_ids))


@router.get("/approvals", response_class=HTMLResponse)
def approvals(request: Request, org: int | None = Query(None), v: Viewer = Depends(viewer)) -> HTMLResponse:
    """The inbox."""
    return inbox(request, v, org=org)


def decide(request: Request, v: Viewer, post_id: int, action: Callable[[Post], object], *, flash: str,
           form: dict) -> Response:
    """Apply one decision; a refusal shows the inbox again with the message and the typed text kept."""
    post = visible_post(v.session, v.user, post_id)
    try:
        action(post)
        v.session.commit()
    except ServiceError as exc:
        v.session.rollback()
        return inbox(request, v, error=exc.message_vi, error_post_id=post_id, form=form,
                     status_code=status_code_of(exc))
    return redirect("/approvals", v, flash=flash)


@router.post("/approvals/{post_id:int}/approve")
def approve(request: Request, post_id: int, note: str = Form("", max_length=2000),
            v: Viewer = Depends(viewer)) -> Response:
    """Approve one post from the inbox."""
    return decide(request, v, post_id, lambda p: posts.approve(v.session, actor=v.user, post=p, now=utcnow(),
                                                               note=note.strip() or None),
                  flash=f"Đã duyệt bài #{post_id}.", form={"note": note})


@router.post("/approvals/{post_id:int}/reject")
def reject(request: Request, post_id: int, reason: str = Form("", max_length=2000),
           v: Viewer = Depends(viewer)) -> Response:
    """Reject one post; the reason is required."""
    return decide(request, v, post_id, lambda p: posts.reject(v.session, actor=v.user, post=p, reason=reason),
                  flash=f"Đã từ chối bài #{post_id}.", form={"reason": reason})


@router.post("/approvals/bulk-approve")
def bulk_approve(request: Request, post_ids: list[int] = Form([]), v: Viewer = Depends(viewer)) -> Response:
    """Approve every checked post; each one succeeds or fails on its own."""
    if not post_ids:
        return inbox(request, v, error="Hãy đánh dấu ít nhất một bài để duyệt hàng loạt.", status_code=422)
    done, failed = [], []
    for post_id in dict.fromkeys(post_ids):
        try:
            post = visible_post(v.session, v.user, post_id)
            posts.approve(v.session, actor=v.user, post=post, now=utcnow())
            v.session.commit()
            done.append(post_id)
        except ServiceError as exc:
            v.session.rollback()
            failed.append(f"#{post_id}: {exc.message_vi}")
    message = f"Đã duyệt {len(done)} bài."
    if failed:
        message += " Không duyệt được " + "; ".join(failed)
    return redirect("/approvals", v, flash=message)
