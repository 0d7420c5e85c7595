"""The home page: what needs me today, by role."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from db.base import utcnow
from db.models import HotTopic, Item, Post, PostStatus, PostTarget, ReviewStatus, Role, TargetStatus, Channel
from domain.access import org_ids_with_role, visible_org_ids
from domain.opinion import desk_org_ids
from web.pages.kit import Viewer, page_router, render, viewer

router = page_router()
LIMIT = 8


@router.get("/", response_class=HTMLResponse)
def home(request: Request, v: Viewer = Depends(viewer)) -> HTMLResponse:
    s, user, now = v.session, v.user, utcnow()
    cards: dict[str, object] = {}
    approve_orgs = org_ids_with_role(s, user, Role.approver, Role.admin)
    if approve_orgs:
        q = select(Post).where(Post.org_id.in_(approve_orgs), Post.status == PostStatus.pending_approval)
        cards["to_approve"] = list(s.scalars(q.order_by(Post.updated_at).limit(LIMIT)))
        cards["to_approve_total"] = s.scalar(select(func.count()).select_from(q.subquery()))
    edit_orgs = org_ids_with_role(s, user, Role.editor, Role.admin, Role.approver)
    if edit_orgs:
        failed = (select(PostTarget, Post, Channel).join(Post, Post.id == PostTarget.post_id)
                  .join(Channel, Channel.id == PostTarget.channel_id)
                  .where(Post.org_id.in_(edit_orgs), PostTarget.status.in_([TargetStatus.failed, TargetStatus.unknown]))
                  .order_by(PostTarget.due_at.desc()).limit(LIMIT))
        cards["failed"] = list(s.execute(failed))
        cards["my_drafts"] = list(s.scalars(
            select(Post).where(Post.author_id == user.id, Post.status.in_([PostStatus.draft, PostStatus.rejected]))
            .order_by(Post.updated_at.desc()).limit(LIMIT)))
        upcoming = (select(PostTarget, Post, Channel).join(Post, Post.id == PostTarget.post_id)
                    .join(Channel, Channel.id == PostTarget.channel_id)
                    .where(Post.org_id.in_(edit_orgs), PostTarget.status == TargetStatus.scheduled,
                           PostTarget.due_at < now + timedelta(hours=24))
                    .order_by(PostTarget.due_at).limit(LIMIT))
        cards["upcoming"] = list(s.execute(upcoming))
    desk = desk_org_ids(s, user)
    if desk:
        cards["assigned"] = list(s.scalars(
            select(Item).where(Item.org_id.in_(desk), Item.assignee_id == user.id, Item.flagged.is_(True),
                               Item.review_status.in_([ReviewStatus.new, ReviewStatus.confirmed]))
            .order_by(Item.risk_score.desc()).limit(LIMIT)))
        cards["new_flagged"] = s.scalar(select(func.count()).select_from(Item).where(
            Item.org_id.in_(desk), Item.flagged.is_(True), Item.review_status == ReviewStatus.new))
    visible = visible_org_ids(s, user)
    if visible:
        cards["hot_topics"] = list(s.scalars(
            select(HotTopic).where(HotTopic.ended_at.is_(None), HotTopic.org_id.in_(visible))
            .order_by(HotTopic.last_seen_at.desc()).limit(5)))
    return render(request, "home.html", v, cards=cards)
