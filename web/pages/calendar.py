"""The content calendar: month, week and list views of post targets across the user's organisations,
with the union year's fixed events, the organisations' own events and campaigns; drag a post to move it.

What is read (and how it stays fast) is in ``calendar_data``; this module has the routes.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from common.errors import InvalidInput, NotFound, ServiceError
from db.base import utcnow
from db.models import Channel, OrgEvent, Organisation, Post, PostStatus, PostTarget, ScheduleKind
from domain import access, audit, posts
from domain.posts import ChannelChoice, PostDraft, Schedule
from domain.scheduling import to_local, to_utc
from domain.union_calendar import solar_to_lunar
from web.pages.calendar_data import (BACK_TO_APPROVAL, EDIT_ROLES, FIXED_POST, LIST_PAGE, MONTH_CAP, MONTHS_VI,
                                     PERIOD_MIN_DAYS, VIEWS, WEEK_CAP, Banner, Day, Entry, decorate,
                                     filter_options, parse_day, view_range, view_scope, utc_bounds, banners,
                                     campaigns_in, capped_entries, listed_entries)
from web.pages.kit import Viewer, page_router, redirect, render, viewer

router = page_router()

# --- the page --------------------------------------------------------------------------------------------

def calendar_url(view: str, anchor: date, scope_args: dict, **extra: object) -> str:
    """A calendar URL keeping the filters."""
    args = {"view": view, "date": anchor.isoformat(), **{k: v for k, v in scope_args.items() if v is not None},
            **{k: v for k, v in extra.items() if v is not None}}
    return "/calendar?" + urlencode(args)


def _optional_int(value: str | None) -> int | None:
    """Filter ids come from a <select> whose first option is empty."""
    if value is None or not value.strip():
        return None
    try:
        number = int(value)
    except ValueError as exc:
        raise InvalidInput("Bộ lọc không hợp lệ.") from exc
    if not 0 < number < 2**31:
        raise NotFound("Không tìm thấy đối tượng.")
    return number


@router.get("/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, view: str = "month", date_: str | None = Query(None, alias="date"),
                  org: str | None = None, channel: str | None = None, campaign: str | None = None,
                  day: int = 0, page: int = Query(1, ge=1, le=10_000),
                  v: Viewer = Depends(viewer)) -> HTMLResponse:
    """The calendar in month, week or list view, limited to the viewer's organisations and the filters."""
    s = v.session
    view = view if view in VIEWS else "month"
    today = to_local(utcnow()).date()
    anchor = parse_day(date_, today)
    scope = view_scope(v, _optional_int(org), _optional_int(channel), _optional_int(campaign))
    start, end, prev_anchor, next_anchor = view_range(view, anchor, bool(day))
    lo, hi = utc_bounds(start, end)
    scope_args = {"org": scope.org.id if scope.org else None, "channel": scope.channel.id if scope.channel else None,
                  "campaign": scope.campaign.id if scope.campaign else None}
    all_banners = banners(s, scope, start, end)
    periods = [b for b in all_banners if b.days >= PERIOD_MIN_DAYS]
    short = [b for b in all_banners if b.days < PERIOD_MIN_DAYS]
    ctx: dict = {"view": view, "anchor": anchor, "start": start, "end": end, "today": today, "scope": scope,
                 "scope_args": scope_args, "periods": periods, "banners_list": all_banners,
                 "campaigns": campaigns_in(s, scope, start, end), "url": calendar_url,
                 "prev_url": calendar_url(view, prev_anchor, scope_args, day=day or None),
                 "next_url": calendar_url(view, next_anchor, scope_args, day=day or None),
                 "today_url": calendar_url(view, today, scope_args, day=day or None),
                 "title": _title(view, anchor, start, end, bool(day)), "single_day": bool(day),
                 **filter_options(s, scope)}
    if view == "list":
        entries, total = listed_entries(s, scope, lo, hi, page)
        decorate(s, entries, scope)
        pages = max(1, -(-total // LIST_PAGE))
        ctx.update(entries=entries, total=total, page=min(page, pages), pages=pages,
                   page_url=calendar_url("list", anchor, scope_args, day=day or None) + "&")
    else:
        cap = MONTH_CAP if view == "month" else WEEK_CAP
        entries, totals = capped_entries(s, scope, lo, hi, cap)
        decorate(s, entries, scope)
        days = _days(start, end, anchor if view == "month" else None, today, short, entries, totals)
        ctx.update(days=days, weeks=[days[i:i + 7] for i in range(0, len(days), 7)],
                   total=sum(totals.values()))
    return render(request, "calendar.html", v, **ctx)


def _title(view: str, anchor: date, start: date, end: date, single_day: bool) -> str:
    if view == "week":
        return f"Tuần {start.strftime('%d/%m')} – {end.strftime('%d/%m/%Y')}"
    if view == "list" and single_day:
        return f"Ngày {anchor.strftime('%d/%m/%Y')}"
    return f"{MONTHS_VI[anchor.month]} năm {anchor.year}"


def _days(start: date, end: date, month_of: date | None, today: date, short: list[Banner], entries: list[Entry],
          totals: dict[date, int]) -> list[Day]:
    by_day: dict[date, list[Entry]] = {}
    for e in entries:
        by_day.setdefault(e.at.date(), []).append(e)
    days = []
    current = start
    while current <= end:
        lunar = solar_to_lunar(current)
        days.append(Day(
            day=current, in_range=month_of is None or current.month == month_of.month, today=current == today,
            lunar=lunar.short() if lunar.day == 1 or current == start else str(lunar.day),
            banners=[b for b in short if b.starts_on <= current <= b.ends_on],
            entries=by_day.get(current, []), total=totals.get(current, 0)))
        current += timedelta(days=1)
    return days


# --- moving a post ---------------------------------------------------------------------------------------

def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or "x-csrf-token" in request.headers


def _target_and_post(v: Viewer, target_id: int | None, post_id: int | None) -> tuple[PostTarget | None, Post]:
    """The target (or post) to move, if the viewer can see it; anything else looks missing."""
    s = v.session
    target = None
    if target_id is not None:
        target = s.get(PostTarget, target_id)
        if target is None:
            raise NotFound("Không tìm thấy bài trên lịch.")
        post_id = target.post_id
    if post_id is None:
        raise InvalidInput("Thiếu bài cần đổi lịch.")
    post = s.get(Post, post_id)
    if post is None or post.org_id not in access.visible_org_ids(s, v.user):
        raise NotFound("Không tìm thấy bài viết.")
    return target, post


def _current_local(target: PostTarget | None, post: Post) -> datetime | None:
    at = target.scheduled_at if target is not None else post.scheduled_at
    return to_local(at) if at else None


def reschedule(v: Viewer, *, target: PostTarget | None, post: Post, new_day: date,
               new_time: time | None = None) -> str:
    """Move ``post`` to ``new_day`` (keeping its time of day unless ``new_time``); returns what happened."""
    s, now = v.session, utcnow()
    if post.schedule_kind == ScheduleKind.recurring:
        raise InvalidInput("Bài đăng định kỳ không dời bằng cách kéo thả; hãy sửa quy tắc lặp trong trang sửa bài.")
    if post.status in FIXED_POST:
        raise InvalidInput(f"Bài viết \"{posts.STATUS_LABELS[post.status]}\" không thể dời lịch.")
    current = _current_local(target, post)
    clock = new_time or (current.time().replace(second=0, microsecond=0) if current else time(8, 0))
    local = datetime.combine(new_day, clock)
    at = to_utc(local)
    if current is not None and current.replace(second=0, microsecond=0, tzinfo=None) == local:
        return "Bài đã ở thời điểm này; không có gì thay đổi."
    schedule = Schedule(ScheduleKind.exact, at=at)
    shown = local.strftime("%H:%M %d/%m/%Y")
    was = post.status
    if was == PostStatus.approved:
        posts.set_schedule(s, actor=v.user, post=post, schedule=schedule, now=now)
        return f"Đã lên lịch bài #{post.id} lúc {shown}."
    draft = PostDraft(text=post.text, title=post.title, link=post.link, campaign_id=post.campaign_id,
                      media_ids=[m.media_id for m in post.media],
                      channels=[ChannelChoice(c.channel_id, c.variant_title, c.variant_text, c.variant_link)
                                for c in post.channels],
                      schedule=schedule, broadcast=post.broadcast)
    posts.update_post(s, actor=v.user, post=post, draft=draft, now=now)
    message = f"Đã dời bài #{post.id} sang {shown} (mọi kênh của bài)."
    if was in BACK_TO_APPROVAL:
        message += " Bài đã duyệt nên được gửi duyệt lại."
    return message


def _parse_new(day_s: str, time_s: str | None) -> tuple[date, time | None]:
    try:
        new_day = date.fromisoformat((day_s or "").strip())
    except ValueError as exc:
        raise InvalidInput("Ngày mới không hợp lệ (cần dạng năm-tháng-ngày).") from exc
    new_time = None
    if time_s and time_s.strip():
        try:
            new_time = time.fromisoformat(time_s.strip()[:5])
        except ValueError as exc:
            raise InvalidInput("Giờ mới không hợp lệ (cần dạng HH:MM).") from exc
    return new_day, new_time


def _safe_back(back: str | None) -> str:
    return back if back and back.startswith("/calendar") and "//" not in back and "\\" not in back else "/calendar"


@router.get("/calendar/reschedule", response_class=HTMLResponse)
def reschedule_form(request: Request, target_id: int | None = Query(None, ge=1, lt=2**31),
                    post_id: int | None = Query(None, ge=1, lt=2**31), back: str | None = None,
                    v: Viewer = Depends(viewer)) -> HTMLResponse:
    """The small form to move a post (without drag and drop: keyboard, phone)."""
    target, post = _target_and_post(v, target_id, post_id)
    current = _current_local(target, post)
    return _reschedule_page(request, v, target, post, back=_safe_back(back),
                            day_s=current.date().isoformat() if current else "",
                            time_s=current.strftime("%H:%M") if current else "08:00")


def _reschedule_page(request: Request, v: Viewer, target: PostTarget | None, post: Post, *, back: str, day_s: str,
                     time_s: str, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    channel = v.session.get(Channel, target.channel_id) if target is not None else None
    return render(request, "calendar_reschedule.html", v, status_code=status_code, target=target, post=post,
                  channel=channel, back=back, day_s=day_s, time_s=time_s, error=error,
                  current=_current_local(target, post), back_to_approval=post.status in BACK_TO_APPROVAL)


@router.post("/calendar/reschedule")
async def reschedule_post(request: Request, v: Viewer = Depends(viewer)) -> Response:
    """Move a post to another day: JSON from drag and drop, or the small form."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except ValueError:
            data = None
        data = data if isinstance(data, dict) else {}
    else:
        data = dict(await request.form())
    return await run_in_threadpool(_reschedule, request, v, data)


def _reschedule(request: Request, v: Viewer, data: dict) -> Response:
    as_json = _wants_json(request)
    back = _safe_back(str(data.get("back") or ""))
    target = post = None
    try:
        target, post = _target_and_post(v, _id_field(data.get("target_id")), _id_field(data.get("post_id")))
        new_day, new_time = _parse_new(str(data.get("date") or ""), str(data.get("time") or "") or None)
        message = reschedule(v, target=target, post=post, new_day=new_day, new_time=new_time)
        v.session.commit()
    except ServiceError as exc:
        v.session.rollback()
        status = 404 if isinstance(exc, NotFound) else 403 if exc.code == "permission_denied" else \
            409 if exc.code in ("invalid_state", "conflict") else 422
        if as_json:
            return JSONResponse({"ok": False, "message": exc.message_vi}, status_code=status)
        if post is None:
            raise
        return _reschedule_page(request, v, target, post, back=back, day_s=str(data.get("date") or ""),
                                time_s=str(data.get("time") or ""), error=exc.message_vi, status_code=status)
    if as_json:
        v.flash(message)
        v.session.commit()
        return JSONResponse({"ok": True, "message": message, "post_id": post.id, "status": post.status.value})
    return redirect(back, v, flash=message)


def _id_field(value: object) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value))
    except ValueError as exc:
        raise InvalidInput("Mã bài không hợp lệ.") from exc
    if not 0 < number < 2**31:
        raise NotFound("Không tìm thấy bài viết.")
    return number


# --- the organisations' own events -----------------------------------------------------------------------

@router.post("/calendar/events")
def add_event(request: Request, org_id: int = Form(..., ge=1, lt=2**31), title: str = Form(""),
              starts_on: str = Form(""), ends_on: str = Form(""), yearly: str = Form(""),
              v: Viewer = Depends(viewer)) -> Response:
    """Add an event to an organisation's calendar (its editors and administrators)."""
    s = v.session
    org = access.get_visible_org(s, v.user, org_id)
    access.require_role(s, v.user, org, *EDIT_ROLES)
    title = " ".join(title.split())
    try:
        first = date.fromisoformat(starts_on)
        last = date.fromisoformat(ends_on) if ends_on.strip() else None
    except ValueError:
        return redirect("/calendar", v, flash="Chưa thêm sự kiện: ngày không hợp lệ.")
    if not title or len(title) > 255:
        return redirect(f"/calendar?date={first.isoformat()}", v,
                        flash="Chưa thêm sự kiện: cần tên sự kiện (tối đa 255 ký tự).")
    if last is not None and last < first:
        return redirect(f"/calendar?date={first.isoformat()}", v,
                        flash="Chưa thêm sự kiện: ngày kết thúc phải sau ngày bắt đầu.")
    if last is not None and (last - first).days > 366:
        return redirect(f"/calendar?date={first.isoformat()}", v, flash="Chưa thêm sự kiện: dài quá một năm.")
    event = OrgEvent(org_id=org.id, title=title, starts_on=first, ends_on=last, yearly=bool(yearly),
                     created_by=v.user.id)
    s.add(event)
    s.flush()
    audit.record(s, entity_type="org_event", entity_id=event.id, action="create", actor=v.user, org_id=org.id,
                 data={"title": title, "starts_on": first.isoformat()})
    s.commit()
    return redirect(f"/calendar?date={first.isoformat()}", v, flash=f"Đã thêm sự kiện \"{title}\" vào lịch.")


@router.post("/calendar/events/{event_id:int}/delete")
def delete_event(event_id: int, v: Viewer = Depends(viewer)) -> Response:
    """Remove an organisation's event (its editors and administrators)."""
    s = v.session
    event = s.get(OrgEvent, event_id)
    if event is None or event.org_id not in access.visible_org_ids(s, v.user):
        raise NotFound("Không tìm thấy sự kiện.")
    access.require_role(s, v.user, s.get(Organisation, event.org_id), *EDIT_ROLES)
    day, title = event.starts_on, event.title
    audit.record(s, entity_type="org_event", entity_id=event.id, action="delete", actor=v.user, org_id=event.org_id,
                 data={"title": title})
    s.delete(event)
    s.commit()
    return redirect(f"/calendar?date={day.isoformat()}", v, flash=f"Đã xoá sự kiện \"{title}\".")
