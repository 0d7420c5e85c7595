"""Sharing approved content down the hierarchy, and adopting it on a sub-organisation's channels."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import InvalidInput, InvalidState, NotFound
from db.models import Organisation, Post, PostShare, PostStatus, Role, User
from domain import audit
from domain.access import require_role
from domain.posts import EDITOR_ROLES, ChannelChoice, PostDraft, Schedule, create_post, schedule_targets, transition

SHAREABLE = {PostStatus.approved, PostStatus.scheduled, PostStatus.publishing, PostStatus.published}


def share_down(session: Session, *, actor: User, post: Post, to_org_ids: list[int], note: str = "") -> list[PostShare]:
    """Offer an approved post to chosen sub-organisations (idempotent per organisation)."""
    org = session.get(Organisation, post.org_id)
    require_role(session, actor, org, *EDITOR_ROLES, Role.approver)
    if post.status not in SHAREABLE:
        raise InvalidState("Chỉ chia sẻ được bài viết đã duyệt.", post_id=post.id)
    if not to_org_ids:
        raise InvalidInput("Hãy chọn ít nhất một tổ chức cấp dưới để chia sẻ.")
    shares = []
    for org_id in dict.fromkeys(to_org_ids):
        target = session.get(Organisation, org_id)
        if target is None or target.id == org.id or not target.path.startswith(org.path):
            raise InvalidInput(f"Tổ chức #{org_id} không phải cấp dưới của {org.name}.")
        share = session.scalar(select(PostShare).where(PostShare.post_id == post.id, PostShare.to_org_id == org_id))
        if share is None:
            share = PostShare(post_id=post.id, from_org_id=org.id, to_org_id=org_id, shared_by_id=actor.id, note=note)
            session.add(share)
            session.flush()
            audit.record(session, entity_type="post", entity_id=post.id, action="share", actor=actor, org_id=org.id,
                         data={"to_org_id": org_id, "share_id": share.id})
        shares.append(share)
    return shares


def shares_for(session: Session, *, org_ids: set[int]) -> list[PostShare]:
    """Shares offered to any of ``org_ids``, newest first."""
    if not org_ids:
        return []
    stmt = select(PostShare).where(PostShare.to_org_id.in_(org_ids)).order_by(PostShare.shared_at.desc())
    return list(session.scalars(stmt))


def adopt(session: Session, *, actor: User, share: PostShare, channels: list[ChannelChoice], schedule: Schedule,
          now: datetime, text: str | None = None, title: str | None = None, link: str | None = None,
          client_request_id: str | None = None) -> Post:
    """Schedule shared content on the receiving organisation's own channels in one action.

    Unchanged content was approved upstream and goes straight to the schedule; adapted
    wording goes through the receiving organisation's own approval.
    """
    org = session.get(Organisation, share.to_org_id)
    if org is None:
        raise NotFound("Không tìm thấy tổ chức nhận chia sẻ.")
    require_role(session, actor, org, *EDITOR_ROLES)
    source = share.post
    if source.status not in SHAREABLE:
        raise InvalidState("Bài gốc không còn ở trạng thái đã duyệt (có thể đã bị sửa hoặc huỷ).", post_id=source.id)
    adapted = any(v is not None and v != getattr(source, k) for k, v in (("text", text), ("title", title),
                                                                          ("link", link)))
    adapted = adapted or any(c.text is not None or c.title is not None or c.link is not None for c in channels)
    draft = PostDraft(text=source.text if text is None else text, title=source.title if title is None else title,
                      link=source.link if link is None else link, media_ids=[m.media_id for m in source.media],
                      channels=channels, schedule=schedule, broadcast=source.broadcast)
    post = create_post(session, actor=actor, org=org, draft=draft, now=now, client_request_id=client_request_id,
                       source_post_id=source.id)
    share.adopted_post_id = post.id
    if adapted:
        transition(session, post, PostStatus.pending_approval, action="submit", actor=actor,
                   reason="Nội dung chia sẻ đã được điều chỉnh nên cần duyệt tại đơn vị.")
        return post
    transition(session, post, PostStatus.approved, action="approve_upstream", actor=actor,
               reason=f"Nội dung đã được duyệt tại cấp trên (bài #{source.id}).",
               data={"source_post_id": source.id, "approved_by_id": source.approved_by_id})
    post.approved_by_id = source.approved_by_id
    post.approved_at = now
    post.approved_version = post.version
    schedule_targets(session, post=post, now=now, actor=actor)
    return post
