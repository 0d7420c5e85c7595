"""Compose and edit a post: text with per-platform counters and previews, link, photos, per-channel
variants, campaign, schedule (now, exact Hà Nội time, next free slot, weekly/RRULE), Zalo broadcast;
save as a draft or submit for approval.

Everything is checked by the domain (``create_post``/``update_post``); a refused form comes back with
every input kept and nothing stored (the photos, the new campaign and the post share one transaction).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import Conflict, InvalidInput, NotFound, PermissionDenied, ServiceError
from db.base import utcnow
from db.models import Campaign, Channel, ChannelStatus, Media, Organisation, Post, PostStatus, Role
from domain import access, audit, posts
from domain.content import FACEBOOK_MAX_TEXT, MAX_PHOTOS, ZALO_MAX_PHOTO_BYTES, ZALO_MAX_TITLE
from domain.scheduling import next_free_slot, to_local
from web.errors import STATUS
from web.pages.compose_form import RRULE_DAYS, ComposeForm
from web.pages.compose_photos import Upload, read_uploads, store_uploads, thumbnail_url
from web.pages.kit import Viewer, page_router, redirect, render, rt, viewer

router = page_router()

EDIT_ROLES = (Role.editor, Role.admin)
ALL_CHANNELS_MAX_ORGS = 40  # beyond this many editable organisations, list only the chosen one's channels
ZALO_DESCRIPTION = 300  # publishers/zalo/article.py clips the article description here
LIMITS = {"facebook_text": FACEBOOK_MAX_TEXT, "zalo_title": ZALO_MAX_TITLE, "zalo_description": ZALO_DESCRIPTION,
          "photos": MAX_PHOTOS, "zalo_photo_bytes": ZALO_MAX_PHOTO_BYTES}
BACK_TO_APPROVAL = {PostStatus.approved, PostStatus.scheduled, PostStatus.failed}
UNUSABLE = {ChannelStatus.disabled: "Kênh đang tắt", ChannelStatus.needs_reauth: "Cần kết nối lại"}


@dataclass
class ChannelOption:
    """A channel the post may go to, with what the form shows next to it."""

    id: int
    org_id: int
    name: str
    platform: str
    usable: bool
    reason: str = ""
    next_slot: str = ""


def _status_of(exc: ServiceError) -> int:
    return next(code for cls, code in STATUS if isinstance(exc, cls))


def _editable_orgs(v: Viewer) -> list:
    ids = access.org_ids_with_role(v.session, v.user, *EDIT_ROLES)
    if not ids:
        return []
    return v.session.execute(select(Organisation.id, Organisation.name, Organisation.depth)
                             .where(Organisation.id.in_(ids)).order_by(Organisation.path)).all()


def _default_org(v: Viewer, orgs: list) -> int | None:
    ids = {o.id for o in orgs}
    for role, org in v.memberships:  # the user's own organisation first, not the first one below it
        if role in EDIT_ROLES and org.id in ids:
            return org.id
    return orgs[0].id if orgs else None


def _channel_options(s: Session, org_ids: list[int], chosen_org: int | None) -> list[ChannelOption]:
    rows = s.scalars(select(Channel).where(Channel.org_id.in_(org_ids)).order_by(Channel.org_id, Channel.name))
    now = utcnow()
    options = []
    for ch in rows:
        reason = UNUSABLE.get(ch.status, "")
        slot = ""
        if ch.org_id == chosen_org and not reason and ch.slots:
            try:
                slot = to_local(next_free_slot(s, channel=ch, after=now)).strftime("%H:%M %d/%m")
            except InvalidInput:
                slot = ""
        options.append(ChannelOption(ch.id, ch.org_id, ch.name, ch.platform.value, not reason, reason, slot))
    return options


def _chains(s: Session, org_ids: list[int]) -> dict[int, list[int]]:
    """Each organisation's ancestors (itself included): whose campaigns and photos it may use."""
    return {o.id: o.ancestor_ids() for o in s.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))}


def _campaigns(s: Session, chains: dict[int, list[int]]) -> list:
    """Campaigns usable by these organisations: their own and their ancestors'."""
    owners = {i for chain in chains.values() for i in chain}
    if not owners:
        return []
    return s.execute(select(Campaign.id, Campaign.name, Campaign.org_id).where(Campaign.org_id.in_(owners))
                     .order_by(Campaign.created_at.desc()).limit(300)).all()


def _media(s: Session, ids: list[int], org_id: int | None, media_dir) -> list[dict]:  # noqa: ANN001
    """The kept photos with thumbnails (only those the organisation may use: its own and its ancestors')."""
    org = s.get(Organisation, org_id) if org_id else None
    if not ids or org is None:
        return []
    found = {m.id: m for m in s.scalars(select(Media).where(Media.id.in_(ids), Media.org_id.in_(org.ancestor_ids())))}
    return [{"id": m.id, "name": m.filename, "url": f"/media/{m.stored_name}", "thumb": thumbnail_url(media_dir, m),
             "size": m.size, "too_big_for_zalo": m.size > ZALO_MAX_PHOTO_BYTES}
            for i in ids if (m := found.get(i)) is not None]


def _page(request: Request, v: Viewer, form: ComposeForm, *, post: Post | None = None, error: str | None = None,
          status_code: int = 200, photos_lost: bool = False) -> HTMLResponse:
    s = v.session
    orgs = _editable_orgs(v)
    chosen = post.org_id if post is not None else None
    if chosen is None:
        try:
            chosen = int(form.org_id) if form.org_id else _default_org(v, orgs)
        except ValueError:
            chosen = _default_org(v, orgs)
    if post is None and chosen not in {o.id for o in orgs}:
        chosen = _default_org(v, orgs)
    listed = [chosen] if post is not None or len(orgs) > ALL_CHANNELS_MAX_ORGS else [o.id for o in orgs]
    channels = _channel_options(s, [i for i in listed if i is not None], chosen)
    org_names = {o.id: o.name for o in orgs}
    if post is not None and post.org_id not in org_names:
        org_names[post.org_id] = s.get(Organisation, post.org_id).name
    chains = _chains(s, [i for i in listed if i is not None])
    groups = [(oid, org_names.get(oid, ""), [c for c in channels if c.org_id == oid], chains.get(oid, []))
              for oid in listed]
    return render(request, "compose.html", v, status_code=status_code, error=error, form=form, post=post,
                  orgs=orgs, chosen_org=chosen, groups=[g for g in groups if g[2] or g[0] == chosen],
                  campaigns=_campaigns(s, chains), limits=LIMITS, weekdays=RRULE_DAYS,
                  photos=_media(s, form.keep_media, chosen, rt(request).media_dir), photos_lost=photos_lost,
                  platforms={c.platform for c in channels if c.org_id == chosen},
                  back_to_approval=post is not None and post.status in BACK_TO_APPROVAL)


def _campaign_for(s: Session, v: Viewer, org: Organisation, form: ComposeForm) -> int | None:
    """The chosen campaign, or a new one of ``org`` named in the form (reused when the name exists)."""
    if not form.new_campaign:
        return form.campaign()
    name = form.new_campaign[:255]
    existing = s.scalar(select(Campaign.id).where(Campaign.org_id == org.id, Campaign.name == name))
    if existing is not None:
        return existing
    campaign = Campaign(org_id=org.id, name=name, description="")
    s.add(campaign)
    s.flush()
    audit.record(s, entity_type="campaign", entity_id=campaign.id, action="create", actor=v.user, org_id=org.id)
    return campaign.id


async def _read(request: Request) -> tuple[ComposeForm, list[Upload], str | None]:
    """The form, the uploaded photos' bytes, and why the photos could not be read (if so)."""
    data = await request.form()
    form = ComposeForm.from_form(data)
    try:
        return form, await read_uploads([f for f in data.getlist("photos") if hasattr(f, "read")]), None
    except InvalidInput as exc:
        return form, [], exc.message_vi


def _save(request: Request, v: Viewer, form: ComposeForm, uploads: list[Upload], org: Organisation,
          post: Post | None) -> Post:
    """Store photos, campaign and the post in the session (the caller commits or rolls back)."""
    s, runtime, now = v.session, rt(request), utcnow()
    kept = list(form.keep_media)
    new = store_uploads(s, org=org, actor=v.user, uploads=uploads, kept=len(kept), media_dir=runtime.media_dir,
                        max_bytes=runtime.max_photo_bytes, auto_shrink=form.auto_shrink)
    draft = form.draft(media_ids=kept + [m.id for m in new], campaign_id=_campaign_for(s, v, org, form), now=now)
    if post is None:
        post = posts.create_post(s, actor=v.user, org=org, draft=draft, now=now,
                                 client_request_id=f"web:{form.client_request_id}")
    else:
        posts.update_post(s, actor=v.user, post=post, draft=draft, now=now)
    if form.action == "submit" and post.status in (PostStatus.draft, PostStatus.rejected):
        posts.submit(s, actor=v.user, post=post)
    return post


def _done_message(post: Post, *, created: bool, was: PostStatus | None) -> str:
    if post.status == PostStatus.pending_approval:
        if was in BACK_TO_APPROVAL:
            return f"Đã lưu thay đổi bài #{post.id}; bài được gửi duyệt lại."
        if was == PostStatus.pending_approval:
            return f"Đã lưu thay đổi bài #{post.id} (bài đang chờ duyệt)."
        return f"Đã gửi duyệt bài #{post.id}."
    return f"Đã lưu bản nháp bài #{post.id}." if created else f"Đã lưu thay đổi bài #{post.id}."


@router.get("/posts/new", response_class=HTMLResponse)
def new_post(request: Request, org: int | None = None, v: Viewer = Depends(viewer)) -> HTMLResponse:
    """An empty compose form (for the user's own organisation, or ``org``)."""
    if not access.org_ids_with_role(v.session, v.user, *EDIT_ROLES):
        raise PermissionDenied("Chỉ biên tập viên hoặc quản trị viên mới soạn được bài.")
    return _page(request, v, ComposeForm(org_id=str(org) if org else ""))


@router.post("/posts/new")
async def create(request: Request, v: Viewer = Depends(viewer)) -> Response:
    """Save a new post as a draft or submit it; a refused form comes back with the input kept."""
    form, uploads, problem = await _read(request)
    # The database and Pillow work runs in the thread pool, never on the event loop.
    return await run_in_threadpool(_create, request, v, form, uploads, problem)


def _create(request: Request, v: Viewer, form: ComposeForm, uploads: list[Upload], problem: str | None) -> Response:
    s = v.session
    org_id = int(form.org_id) if form.org_id.isdigit() and len(form.org_id) < 10 else 0
    # Another organisation (or one where the user only reads) is refused before anything else.
    org = access.get_visible_org(s, v.user, org_id)
    access.require_role(s, v.user, org, *EDIT_ROLES)
    lost = bool(uploads or problem)
    try:
        if problem:
            raise InvalidInput(problem)
        post = _save(request, v, form, uploads, org, None)
        s.commit()
    except Conflict as exc:
        s.rollback()
        existing = exc.details.get("post_id")
        if isinstance(existing, int):
            return redirect(f"/posts/{existing}", v, flash="Bài này đã được lưu trước đó (bấm gửi hai lần).")
        return _page(request, v, form, error=exc.message_vi, status_code=409, photos_lost=lost)
    except ServiceError as exc:
        s.rollback()
        if isinstance(exc, NotFound | PermissionDenied):
            raise
        return _page(request, v, form, error=exc.message_vi, status_code=_status_of(exc), photos_lost=lost)
    return redirect(f"/posts/{post.id}", v, flash=_done_message(post, created=True, was=None))


def _editable_post(v: Viewer, post_id: int) -> Post:
    s = v.session
    post = s.get(Post, post_id)
    if post is None or post.org_id not in access.visible_org_ids(s, v.user):
        raise NotFound("Không tìm thấy bài viết.", post_id=post_id)
    access.require_role(s, v.user, s.get(Organisation, post.org_id), *EDIT_ROLES)
    if post.status not in posts.EDITABLE:
        raise posts.InvalidState(f"Không thể sửa bài viết ở trạng thái \"{posts.STATUS_LABELS[post.status]}\".",
                                 post_id=post.id)
    return post


@router.get("/posts/{post_id:int}/edit", response_class=HTMLResponse)
def edit_form(request: Request, post_id: int, v: Viewer = Depends(viewer)) -> HTMLResponse:
    """The compose form filled with a post that may still be edited."""
    post = _editable_post(v, post_id)
    return _page(request, v, ComposeForm.from_post(post), post=post)


@router.post("/posts/{post_id:int}/edit")
async def edit(request: Request, post_id: int, v: Viewer = Depends(viewer)) -> Response:
    """Save changes (an approved post goes back to approval)."""
    form, uploads, problem = await _read(request)
    return await run_in_threadpool(_edit, request, v, post_id, form, uploads, problem)


def _edit(request: Request, v: Viewer, post_id: int, form: ComposeForm, uploads: list[Upload],
          problem: str | None) -> Response:
    s = v.session
    post = _editable_post(v, post_id)
    was = post.status
    form.org_id = str(post.org_id)  # a post never moves to another organisation
    try:
        if problem:
            raise InvalidInput(problem)
        _save(request, v, form, uploads, s.get(Organisation, post.org_id), post)
        s.commit()
    except ServiceError as exc:
        s.rollback()
        if isinstance(exc, NotFound | PermissionDenied):
            raise
        return _page(request, v, form, post=s.get(Post, post_id), error=exc.message_vi,
                     status_code=_status_of(exc), photos_lost=bool(uploads or problem))
    return redirect(f"/posts/{post.id}", v, flash=_done_message(post, created=False, was=was))
