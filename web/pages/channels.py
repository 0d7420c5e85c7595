"""Channels: connect a Facebook Page or Zalo OA (token checked on the platform), status, re-auth, queue slots.

Tokens go in through password fields and are never written back into a page, not even after an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from starlette.datastructures import FormData

from common.errors import InvalidInput, NotFound, PlatformError, ServiceError
from db.models import AuditEntry, Channel, ChannelStatus, Organisation, Platform, PostTarget, Role, TargetStatus
from domain import access, channels
from domain.channels import PLATFORM_LABELS
from publishers.base import ChannelInfo
from web.pages.kit import Viewer, page_router, redirect, render, rt, viewer
from web.pages.post_page import status_code_of

router = page_router()
DAY_SHORT = ["T2", "T3", "T4", "T5", "T6", "T7", "CN"]


def slot_words(slot: dict) -> str:
    """{'weekdays': [0..4], 'time': '07:30'} → 'T2–T6 07:30'."""
    days = sorted(slot.get("weekdays") or [])
    if days == list(range(7)):
        label = "Hằng ngày"
    elif len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        label = f"{DAY_SHORT[days[0]]}–{DAY_SHORT[days[-1]]}"
    else:
        label = ", ".join(DAY_SHORT[d] for d in days)
    return f"{label} {slot.get('time', '')}"


def _latest(v: Viewer, model, key, order, ids: list[int], *conds) -> dict:  # noqa: ANN001
    """The newest row of ``model`` per ``key`` value (a window function: works on PostgreSQL and SQLite)."""
    if not ids:
        return {}
    ranked = (select(model.id, func.row_number().over(partition_by=key, order_by=order.desc()).label("rn"))
              .where(key.in_(ids), *conds).subquery())
    rows = v.session.scalars(select(model).join(ranked, ranked.c.id == model.id).where(ranked.c.rn == 1))
    return {getattr(r, key.key): r for r in rows}


def channels_page(request: Request, v: Viewer, *, org: int | None = None, error: str | None = None,
                  error_channel_id: int | None = None, form: dict | None = None,
                  status_code: int = 200) -> HTMLResponse:
    """Channels of the organisations I can see, grouped by organisation."""
    s = v.session
    visible = access.visible_org_ids(s, v.user)
    admin_ids = access.org_ids_with_role(s, v.user, Role.admin)
    slot_ids = access.org_ids_with_role(s, v.user, Role.editor, Role.admin)
    shown = ({org} & visible) if org else visible
    orgs = list(s.scalars(select(Organisation).where(Organisation.id.in_(visible)).order_by(Organisation.path))) \
        if visible else []
    rows = list(s.scalars(select(Channel).where(Channel.org_id.in_(shown)).order_by(Channel.org_id, Channel.id))) \
        if shown else []
    ids = [c.id for c in rows]
    last = _latest(v, PostTarget, PostTarget.channel_id, PostTarget.updated_at, ids,
                   PostTarget.status.in_([TargetStatus.published, TargetStatus.failed]))
    reauth_since = _latest(v, AuditEntry, AuditEntry.entity_id, AuditEntry.id,
                           [c.id for c in rows if c.status == ChannelStatus.needs_reauth],
                           AuditEntry.entity_type == "channel", AuditEntry.action == "needs_reauth")
    groups = [(o, [c for c in rows if c.org_id == o.id]) for o in orgs if o.id in shown]
    return render(request, "channels.html", v, status_code=status_code, groups=[g for g in groups if g[1]],
                  orgs=orgs, org_filter=org, admin_orgs=[o for o in orgs if o.id in admin_ids],
                  admin_ids=admin_ids, slot_ids=slot_ids, last=last, reauth_since=reauth_since,
                  slot_words=slot_words, error=error, error_channel_id=error_channel_id, form=form or {},
                  platforms=list(Platform), platform_labels=PLATFORM_LABELS)


def visible_channel(v: Viewer, channel_id: int) -> Channel:
    """A channel of an organisation I can see; anything else is 'not found'."""
    channel = v.session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("Không tìm thấy kênh.", channel_id=channel_id)
    access.get_visible_org(v.session, v.user, channel.org_id)
    return channel


@router.get("/channels", response_class=HTMLResponse)
def channel_list(request: Request, org: int | None = Query(None), v: Viewer = Depends(viewer)) -> HTMLResponse:
    """The channels page."""
    return channels_page(request, v, org=org)


def parse_connect_slots(times: str, days: list[int]) -> list[dict]:
    """'07:30, 19:30' on the chosen weekdays → slots."""
    found = [t for t in re.split(r"[\s,;]+", times or "") if t]
    return channels.validate_slots([{"weekdays": days or list(range(7)), "time": t} for t in found])


def probe(request: Request, platform: Platform, external_id: str, creds: dict) -> ChannelInfo:
    """Ask the platform whom the token belongs to (exactly as the JSON API does)."""
    try:
        return rt(request).clients.probe(platform.value, external_id, creds).whoami()
    except PlatformError as exc:
        raise InvalidInput(f"{PLATFORM_LABELS[platform]} không chấp nhận mã truy cập này: {exc.message_vi}") from exc


@router.post("/channels/connect")
def connect(request: Request, org_id: int = Form(...), platform: str = Form(""),
            access_token: str = Form("", max_length=4096), refresh_token: str = Form("", max_length=4096),
            external_id: str = Form("", max_length=64), slot_times: str = Form("", max_length=500),
            slot_days: list[int] = Form([]), v: Viewer = Depends(viewer)) -> Response:
    """Connect a Page/OA after the platform confirms the token (administrators)."""
    s = v.session
    form = {"org_id": org_id, "platform": platform, "external_id": external_id, "slot_times": slot_times,
            "slot_days": set(slot_days)}
    try:
        org = access.get_visible_org(s, v.user, org_id)
        access.require_role(s, v.user, org, Role.admin)
        try:
            chosen = Platform(platform)
        except ValueError:
            raise InvalidInput("Hãy chọn loại kênh: Trang Facebook hoặc Zalo OA.") from None
        slots = parse_connect_slots(slot_times, slot_days)
        creds = channels.validate_credentials(chosen, {"access_token": access_token, "refresh_token": refresh_token})
        ext = external_id.strip()
        info = probe(request, chosen, ext or "me", creds)
        if ext and info.external_id != ext:
            raise InvalidInput(f"Mã truy cập thuộc về kênh {info.external_id}, không phải {ext}.")
        channel = channels.connect_channel(s, org=org, platform=chosen, external_id=info.external_id,
                                           name=info.name, credentials=creds, cipher=rt(request).cipher,
                                           actor=v.user, slots=slots)
        s.commit()
    except ServiceError as exc:
        s.rollback()
        return channels_page(request, v, error=exc.message_vi, form=form, status_code=status_code_of(exc))
    return redirect(f"/channels#channel-{channel.id}", v,
                    flash=f"Đã kết nối {PLATFORM_LABELS[chosen]} \"{channel.name}\".")


def channel_action(request: Request, v: Viewer, channel_id: int, action: Callable[[Channel], None], *, flash: str,
                   roles: tuple[Role, ...] = (Role.admin,)) -> Response:
    """Check the role, run ``action(channel)``, commit; a refusal shows the page with the message."""
    channel = visible_channel(v, channel_id)
    try:
        access.require_role(v.session, v.user, channel.org, *roles)
        action(channel)
        v.session.commit()
    except ServiceError as exc:
        v.session.rollback()
        return channels_page(request, v, error=exc.message_vi, error_channel_id=channel_id,
                             status_code=status_code_of(exc))
    return redirect(f"/channels#channel-{channel_id}", v, flash=flash)


@router.post("/channels/{channel_id:int}/reauth")
def reauthorise(request: Request, channel_id: int, access_token: str = Form("", max_length=4096),
                refresh_token: str = Form("", max_length=4096), v: Viewer = Depends(viewer)) -> Response:
    """Replace a channel's token (checked to belong to the same Page/OA); the channel is active again."""
    def run(channel: Channel) -> None:
        creds = channels.validate_credentials(channel.platform, {"access_token": access_token,
                                                                 "refresh_token": refresh_token})
        info = probe(request, channel.platform, channel.external_id, creds)
        if info.external_id != channel.external_id:
            raise InvalidInput(f"Mã truy cập thuộc về kênh {info.external_id}, không phải kênh này.")
        channels.replace_credentials(v.session, channel=channel, credentials=creds, cipher=rt(request).cipher,
                                     actor=v.user)
    return channel_action(request, v, channel_id, run, flash="Đã kết nối lại kênh; kênh hoạt động trở lại.")


@router.post("/channels/{channel_id:int}/status")
def set_status(request: Request, channel_id: int, status: str = Form(""), reason: str = Form("", max_length=1000),
               v: Viewer = Depends(viewer)) -> Response:
    """Disable or re-enable a channel (administrators)."""
    if status not in (ChannelStatus.active.value, ChannelStatus.disabled.value):
        status = ""

    def run(channel: Channel) -> None:
        if not status:
            raise InvalidInput("Trạng thái kênh không hợp lệ.")
        channels.set_status(v.session, channel=channel, status=ChannelStatus(status), actor=v.user,
                            reason=reason.strip())
    flash = "Đã tắt kênh; bài mới không lên lịch được trên kênh này." if status == "disabled" else "Đã bật lại kênh."
    return channel_action(request, v, channel_id, run, flash=flash)


async def form_data(request: Request) -> FormData:
    """The posted form (already parsed once by the CSRF check, so this is cached)."""
    return await request.form()


@router.post("/channels/{channel_id:int}/slots")
def set_slots(request: Request, channel_id: int, data: FormData = Depends(form_data),
              v: Viewer = Depends(viewer)) -> Response:
    """Replace the weekly queue slots (editors and administrators); a row with an empty time is removed."""
    slots = []
    for key in data:
        m = re.fullmatch(r"time_(\d{1,2})", key)
        if not m or not str(data.get(key) or "").strip():
            continue
        raw_days = data.getlist(f"days_{m.group(1)}")
        try:
            days = [int(d) for d in raw_days]
        except ValueError:
            days = [-1]
        slots.append({"weekdays": days, "time": str(data.get(key)).strip()})

    def run(channel: Channel) -> None:
        if any(not s["weekdays"] for s in slots):
            raise InvalidInput(f"Khung giờ {next(s['time'] for s in slots if not s['weekdays'])} "
                               "chưa chọn ngày nào trong tuần.")
        channel.slots = channels.validate_slots(slots)
    return channel_action(request, v, channel_id, run, flash="Đã lưu khung giờ đăng.",
                          roles=(Role.editor, Role.admin))
