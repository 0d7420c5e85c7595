"""The shared content library: what upper levels shared down, scheduled on my channels in one action or adapted."""

from __future__ import annotations

import uuid

from fastapi import Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from common.errors import Conflict, InvalidInput, NotFound, ServiceError
from db.base import utcnow
from db.models import Channel, ChannelStatus, Organisation, Post, PostShare, Role, User
from domain import sharing
from domain.access import org_ids_with_role
from domain.posts import ChannelChoice
from web.pages.kit import Viewer, page_router, redirect, render, rt, viewer
from web.pages.post_page import schedule_from_form, status_code_of

router = page_router()
EDITORS = (Role.editor, Role.admin)


def _channels_by_org(v: Viewer, org_ids: set[int]) -> dict[int, list[Channel]]:
    out: dict[int, list[Channel]] = {i: [] for i in org_ids}
    if org_ids:
        for ch in v.session.scalars(select(Channel).where(Channel.org_id.in_(org_ids)).order_by(Channel.id)):
            out[ch.org_id].append(ch)
    return out


def _card(v: Viewer, share: PostShare, orgs: dict[int, Organisation], channels: dict[int, list[Channel]],
          people: dict[int, User]) -> dict:
    usable = [c for c in channels.get(share.to_org_id, []) if c.status == ChannelStatus.active]
    adopted = v.session.get(Post, share.adopted_post_id) if share.adopted_post_id else None
    return {"share": share, "post": share.post, "from_org": orgs.get(share.from_org_id),
            "to_org": orgs.get(share.to_org_id), "shared_by": people.get(share.shared_by_id),
            "channels": channels.get(share.to_org_id, []), "default_when": "slot" if any(c.slots for c in usable)
            else "now", "usable": bool(usable), "adopted": adopted,
            "available": share.post.status in sharing.SHAREABLE, "request_id": uuid.uuid4().hex}


def library_page(request: Request, v: Viewer, *, show_all: bool = False, error: str | None = None,
                 error_share_id: int | None = None, form: dict | None = None, status_code: int = 200) -> HTMLResponse:
    """Shares offered to the organisations where I write, newest first (not the ones my own level sent)."""
    s = v.session
    mine = org_ids_with_role(s, v.user, *EDITORS)
    shares = sharing.shares_for(s, org_ids=mine)
    if not show_all:
        shares = [sh for sh in shares if sh.from_org_id not in mine]
    org_ids = {sh.from_org_id for sh in shares} | {sh.to_org_id for sh in shares}
    orgs = {o.id: o for o in s.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))} if org_ids else {}
    people_ids = {sh.shared_by_id for sh in shares} - {None}
    people = {u.id: u for u in s.scalars(select(User).where(User.id.in_(people_ids)))} if people_ids else {}
    channels = _channels_by_org(v, {sh.to_org_id for sh in shares})
    cards = [_card(v, sh, orgs, channels, people) for sh in shares]
    return render(request, "library.html", v, status_code=status_code, cards=cards, show_all=show_all,
                  error=error, error_share_id=error_share_id, form=form or {}, can_write=bool(mine))


def receivable_share(v: Viewer, share_id: int) -> PostShare:
    """A share offered to an organisation where I write; anything else is 'not found'."""
    share = v.session.get(PostShare, share_id)
    if share is None or share.to_org_id not in org_ids_with_role(v.session, v.user, *EDITORS):
        raise NotFound("Không tìm thấy nội dung được chia sẻ.")
    return share


@router.get("/library", response_class=HTMLResponse)
def library(request: Request, all: int = Query(0), v: Viewer = Depends(viewer)) -> HTMLResponse:  # noqa: A002
    """The library."""
    return library_page(request, v, show_all=bool(all))


def _adopt(request: Request, v: Viewer, share: PostShare, *, channel_ids: list[int], when: str, at: str,
           request_id: str, text: str | None = None, title: str | None = None, link: str | None = None) -> Post:
    if not channel_ids:
        raise InvalidInput("Hãy chọn ít nhất một kênh của đơn vị để đăng.")
    choices = [ChannelChoice(i) for i in dict.fromkeys(channel_ids)]
    return sharing.adopt(v.session, actor=v.user, share=share, channels=choices,
                         schedule=schedule_from_form(when, at, rt(request).timezone), now=utcnow(), text=text,
                         title=title, link=link, client_request_id=(request_id or "")[:128] or None)


def _done(v: Viewer, post: Post) -> Response:
    if post.status.value == "pending_approval":
        message = (f"Đã tạo bài #{post.id} từ nội dung chia sẻ; vì nội dung đã được điều chỉnh, "
                   "bài đang chờ duyệt tại đơn vị.")
    else:
        message = f"Đã lên lịch bài #{post.id} trên kênh của đơn vị (nội dung đã được cấp trên duyệt)."
    return redirect(f"/posts/{post.id}", v, flash=message)


def _duplicate(v: Viewer, exc: Conflict) -> Response | None:
    post_id = exc.details.get("post_id")
    if post_id is None:
        return None
    return redirect(f"/posts/{post_id}", v, flash="Yêu cầu này đã được gửi trước đó; đây là bài đã tạo.")


@router.post("/library/{share_id:int}/adopt")
def adopt(request: Request, share_id: int, channel_ids: list[int] = Form([]), when: str = Form(""),
          at: str = Form(""), request_id: str = Form(""), v: Viewer = Depends(viewer)) -> Response:
    """Schedule shared content, unchanged, on my organisation's channels in one action."""
    share = receivable_share(v, share_id)
    form = {"channel_ids": set(channel_ids), "when": when, "at": at}
    try:
        post = _adopt(request, v, share, channel_ids=channel_ids, when=when, at=at, request_id=request_id)
        v.session.commit()
    except Conflict as exc:
        v.session.rollback()
        if (done := _duplicate(v, exc)) is not None:
            return done
        return library_page(request, v, error=exc.message_vi, error_share_id=share_id, form=form, status_code=409)
    except ServiceError as exc:
        v.session.rollback()
        return library_page(request, v, error=exc.message_vi, error_share_id=share_id, form=form,
                            status_code=status_code_of(exc))
    return _done(v, post)


def _adapt_page(request: Request, v: Viewer, share: PostShare, *, form: dict, error: str | None = None,
                status_code: int = 200) -> HTMLResponse:
    s = v.session
    channels = _channels_by_org(v, {share.to_org_id})[share.to_org_id]
    return render(request, "library_adapt.html", v, status_code=status_code, share=share, post=share.post,
                  from_org=s.get(Organisation, share.from_org_id), to_org=s.get(Organisation, share.to_org_id),
                  channels=channels, form=form, error=error, available=share.post.status in sharing.SHAREABLE)


@router.get("/library/{share_id:int}/adapt", response_class=HTMLResponse)
def adapt_form(request: Request, share_id: int, v: Viewer = Depends(viewer)) -> HTMLResponse:
    """A form pre-filled with the shared wording, to adapt it for my organisation."""
    share = receivable_share(v, share_id)
    src = share.post
    usable = [c for c in _channels_by_org(v, {share.to_org_id})[share.to_org_id] if c.status == ChannelStatus.active]
    return _adapt_page(request, v, share, form={
        "title": src.title or "", "text": src.text or "", "link": src.link or "", "channel_ids": set(),
        "when": "slot" if any(c.slots for c in usable) else "now", "at": "", "request_id": uuid.uuid4().hex})


def _changed(value: str, original: str | None) -> str | None:
    """The adapted value, or None when it equals the shared one (so unchanged content stays approved upstream)."""
    value = value.replace("\r\n", "\n")
    return None if value.strip() == (original or "").strip() else value


@router.post("/library/{share_id:int}/adapt")
def adapt(request: Request, share_id: int, title: str = Form("", max_length=255), text: str = Form(""),
          link: str = Form("", max_length=2048), channel_ids: list[int] = Form([]), when: str = Form(""),
          at: str = Form(""), request_id: str = Form(""), v: Viewer = Depends(viewer)) -> Response:
    """Create my organisation's version; changed wording goes through my organisation's approval."""
    share = receivable_share(v, share_id)
    form = {"title": title, "text": text, "link": link, "channel_ids": set(channel_ids), "when": when, "at": at,
            "request_id": request_id}
    src = share.post
    try:
        post = _adopt(request, v, share, channel_ids=channel_ids, when=when, at=at, request_id=request_id,
                      text=_changed(text, src.text), title=_changed(title, src.title),
                      link=_changed(link, src.link))
        v.session.commit()
    except Conflict as exc:
        v.session.rollback()
        if (done := _duplicate(v, exc)) is not None:
            return done
        return _adapt_page(request, v, share, form=form, error=exc.message_vi, status_code=409)
    except ServiceError as exc:
        v.session.rollback()
        return _adapt_page(request, v, receivable_share(v, share_id), form=form, error=exc.message_vi,
                           status_code=status_code_of(exc))
    return _done(v, post)
