"""Answering collected items as the Page/OA, and hiding comments (the spokesperson rule applies).

A monitor proposes a reply; it waits for an approver of the item's organisation (or above) unless
the organisation switched ``replies_need_approval`` off. Nobody approves their own reply: the rule
exists so that a second person reads what will be said publicly in the union's name. Approved
replies are sent by the scheduler (``scheduler/replies.py``), never from a web request. Hiding a
comment is moderation, not speech: a monitor does it at once through ``publishers.engage`` (it is
reversible and safe to repeat). Every step is in the audit log, on the reply and on the item.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import AuthExpired, InvalidInput, InvalidState, NotFound, PermissionDenied
from db.base import utcnow
from db.models import Channel, ChannelStatus, Item, ItemReply, ItemSource, Organisation, ReplyStatus, Role, User
from domain import audit
from domain import channels as channel_service
from domain.access import org_ids_with_role
from domain.opinion import get_item

REPLYABLE = (ItemSource.facebook_comment, ItemSource.zalo_message)
HIDEABLE = (ItemSource.facebook_comment,)
APPROVER_ROLES = (Role.approver, Role.admin)
# Zalo CS messages are capped at 2,000 characters; a Page reply longer than that is a post, not a reply.
MAX_REPLY_CHARS = {ItemSource.zalo_message: 2000, ItemSource.facebook_comment: 8000}


def _record(session: Session, reply: ItemReply, *, action: str, actor: User | None, from_state: str | None,
            to_state: str | None, reason: str | None = None, data: dict | None = None) -> None:
    """Audit on the reply and on its item (the item's history tells the whole story)."""
    audit.record(session, entity_type="item_reply", entity_id=reply.id, action=action, actor=actor,
                 org_id=reply.org_id, from_state=from_state, to_state=to_state, reason=reason, data=data)
    audit.record(session, entity_type="item", entity_id=reply.item_id, action=f"reply_{action}", actor=actor,
                 org_id=reply.org_id, from_state=from_state, to_state=to_state, reason=reason,
                 data={"reply_id": reply.id, **(data or {})})


def can_reply(item: Item) -> bool:
    """Whether the item can be answered as the page (a comment or a Zalo message on one of our channels)."""
    return item.source in REPLYABLE and item.channel_id is not None


def propose_reply(session: Session, user: User, item_id: int, text: str) -> ItemReply:
    """A monitor writes a reply as the Page/OA; it waits for approval when the organisation requires it."""
    item = get_item(session, user, item_id)
    if not can_reply(item):
        raise InvalidInput("Chỉ trả lời được bình luận trên Trang hoặc tin nhắn Zalo gửi tới kênh của tổ chức.",
                           field="text")
    text = (text or "").strip()
    if not text:
        raise InvalidInput("Nội dung trả lời không được để trống.", field="text")
    limit = MAX_REPLY_CHARS[item.source]
    if len(text) > limit:
        raise InvalidInput(f"Nội dung trả lời dài {len(text):,} ký tự, vượt giới hạn {limit:,} ký tự."
                           .replace(",", "."), field="text")
    channel = session.get(Channel, item.channel_id)
    if channel is None or channel.status == ChannelStatus.disabled:
        raise InvalidState("Kênh nhận bình luận/tin nhắn này đã bị tắt hoặc gỡ; không thể trả lời.")
    org = session.get(Organisation, item.org_id)
    needs = org.replies_need_approval if org.replies_need_approval is not None else True
    reply = ItemReply(item_id=item.id, org_id=item.org_id, channel_id=channel.id, text=text, author_id=user.id,
                      status=ReplyStatus.pending_approval if needs else ReplyStatus.approved)
    session.add(reply)
    session.flush()
    _record(session, reply, action="proposed", actor=user, from_state=None, to_state=reply.status,
            reason=None if needs else "Tổ chức không yêu cầu duyệt câu trả lời.")
    return reply


def _approver_org_ids(session: Session, user: User) -> set[int]:
    return org_ids_with_role(session, user, *APPROVER_ROLES)


def get_reply(session: Session, user: User, reply_id: int, *, lock: bool = False) -> ItemReply:
    """A reply the user may see (its item's desk, or an approver of its organisation); else NotFound."""
    reply = session.get(ItemReply, reply_id)
    if reply is None:
        raise NotFound("Không tìm thấy câu trả lời.", reply_id=reply_id)
    from domain.opinion import desk_org_ids

    if reply.org_id not in desk_org_ids(session, user) | _approver_org_ids(session, user):
        raise NotFound("Không tìm thấy câu trả lời.", reply_id=reply_id)
    if lock:
        session.refresh(reply, with_for_update=True)
    return reply


def _decide(session: Session, user: User, reply_id: int) -> ItemReply:
    reply = get_reply(session, user, reply_id, lock=True)
    if reply.org_id not in _approver_org_ids(session, user):
        raise PermissionDenied("Cần vai trò duyệt bài hoặc quản trị của tổ chức (hoặc cấp trên) để duyệt câu trả lời.")
    if reply.status != ReplyStatus.pending_approval:
        raise InvalidState(f"Câu trả lời không còn chờ duyệt (hiện: {STATUS_VI[reply.status]}).")
    return reply


def approve_reply(session: Session, user: User, reply_id: int, note: str | None = None) -> ItemReply:
    """An approver lets the reply go out; the scheduler sends it. Nobody approves their own reply."""
    reply = _decide(session, user, reply_id)
    if reply.author_id == user.id:
        raise PermissionDenied("Không thể tự duyệt câu trả lời của chính mình; cần một người duyệt khác.")
    reply.status, reply.decided_by = ReplyStatus.approved, user.id
    _record(session, reply, action="approved", actor=user, from_state=ReplyStatus.pending_approval,
            to_state=ReplyStatus.approved, reason=(note or "").strip() or None)
    return reply


def reject_reply(session: Session, user: User, reply_id: int, reason: str) -> ItemReply:
    """An approver refuses the reply, saying why (shown to its author)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Cần ghi lý do từ chối để người viết biết cần sửa gì.", field="reason")
    reply = _decide(session, user, reply_id)
    reply.status, reply.decided_by, reply.reject_reason = ReplyStatus.rejected, user.id, reason[:2000]
    _record(session, reply, action="rejected", actor=user, from_state=ReplyStatus.pending_approval,
            to_state=ReplyStatus.rejected, reason=reason[:2000])
    return reply


def retry_reply(session: Session, user: User, reply_id: int) -> ItemReply:
    """Send a failed reply again once the cause is fixed (an approver decides: it speaks for the Page)."""
    reply = get_reply(session, user, reply_id, lock=True)
    if reply.org_id not in _approver_org_ids(session, user):
        raise PermissionDenied("Cần vai trò duyệt bài hoặc quản trị để gửi lại câu trả lời.")
    if reply.status != ReplyStatus.failed:
        raise InvalidState("Chỉ gửi lại được câu trả lời bị lỗi.")
    reply.status = ReplyStatus.approved
    _record(session, reply, action="resend", actor=user, from_state=ReplyStatus.failed,
            to_state=ReplyStatus.approved, reason=reply.last_error)
    return reply


def pending_for(session: Session, user: User, *, limit: int = 100) -> list[tuple[ItemReply, Item]]:
    """Replies waiting for this user's approval (oldest first), with their items."""
    orgs = _approver_org_ids(session, user)
    if not orgs:
        return []
    stmt = (select(ItemReply, Item).join(Item, Item.id == ItemReply.item_id)
            .where(ItemReply.org_id.in_(orgs), ItemReply.status == ReplyStatus.pending_approval)
            .order_by(ItemReply.created_at, ItemReply.id).limit(limit))
    return [(r, i) for r, i in session.execute(stmt)]


def recent_for(session: Session, user: User, *, limit: int = 30) -> list[tuple[ItemReply, Item]]:
    """The latest decided replies of the user's organisations (to follow what was sent or failed)."""
    from domain.opinion import desk_org_ids

    orgs = _approver_org_ids(session, user) | desk_org_ids(session, user)
    if not orgs:
        return []
    stmt = (select(ItemReply, Item).join(Item, Item.id == ItemReply.item_id)
            .where(ItemReply.org_id.in_(orgs), ItemReply.status != ReplyStatus.pending_approval)
            .order_by(ItemReply.id.desc()).limit(limit))
    return [(r, i) for r, i in session.execute(stmt)]


def replies_of(session: Session, item: Item) -> list[ItemReply]:
    """Replies written to one item, oldest first."""
    return list(session.scalars(select(ItemReply).where(ItemReply.item_id == item.id).order_by(ItemReply.id)))


def may_approve(session: Session, user: User, org_id: int) -> bool:
    """Whether the user approves replies of this organisation."""
    return org_id in _approver_org_ids(session, user)


# --- Hiding a comment ---------------------------------------------------------------------------------

def set_hidden(session: Session, user: User, item_id: int, *, hidden: bool,
               platform_hide: Callable[[Channel, Item, bool], None]) -> Item:
    """Hide (or show again) a Facebook comment on the Page and record it; platform errors propagate.

    An expired token or a missing permission marks the channel ``needs_reauth`` before the error
    propagates: the caller commits that even though the action failed.
    """
    item = get_item(session, user, item_id)
    if item.source not in HIDEABLE or item.channel_id is None:
        raise InvalidInput("Chỉ ẩn được bình luận trên Trang Facebook của tổ chức.")
    if hidden == (item.hidden_at is not None):
        raise InvalidState("Bình luận đã được ẩn." if hidden else "Bình luận đang hiển thị.")
    channel = session.get(Channel, item.channel_id)
    if channel is None or channel.status != ChannelStatus.active:
        raise InvalidState("Kênh Facebook của bình luận này đang tắt hoặc cần kết nối lại; hãy kết nối lại kênh "
                           "trước khi ẩn bình luận.")
    try:
        # The caller's platform client (publishers.engage.Engager.set_hidden) does the call.
        platform_hide(channel, item, hidden)
    except AuthExpired as exc:
        channel_service.mark_needs_reauth(session, channel=channel, reason=exc.message_vi)
        raise
    before = "hidden" if item.hidden_at else "visible"
    item.hidden_at = utcnow() if hidden else None
    audit.record(session, entity_type="item", entity_id=item.id, action="hide" if hidden else "unhide", actor=user,
                 org_id=item.org_id, from_state=before, to_state="hidden" if hidden else "visible",
                 data={"channel_id": channel.id})
    return item


STATUS_VI = {ReplyStatus.pending_approval: "chờ duyệt", ReplyStatus.approved: "đã duyệt, chờ gửi",
             ReplyStatus.rejected: "bị từ chối", ReplyStatus.sending: "đang gửi", ReplyStatus.sent: "đã gửi",
             ReplyStatus.failed: "lỗi"}
