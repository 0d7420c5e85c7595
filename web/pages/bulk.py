"""Bulk import: upload a CSV of posts, see every row checked (with its error) before anything is saved,
then create the good rows.

Preview: each row is written with the real domain rules (``create_post``) inside its own SAVEPOINT and
the whole transaction is rolled back at the end, so the check is exactly what saving would do (content
limits, channels, a time in the past, the next free slot after the rows above it) and nothing is kept.
The good rows travel to the confirm step in a hidden field signed with HMAC-SHA256 under a key derived
from ``LOA_SECRET_KEYS`` (bound to the user, the organisation and a 2-hour lifetime), and are checked
again on confirm. Confirm writes one transaction per row: a row that went bad in between (its time
passed, a channel was disconnected) is reported without blocking the others, and each row carries a
client request id so pressing the button twice never creates a post twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time as clock
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from common.errors import Conflict, InvalidInput, PermissionDenied, ServiceError
from db.base import utcnow
from db.models import Campaign, Channel, ChannelStatus, Organisation, Post, PostStatus, Role, ScheduleKind
from domain import access, audit, posts
from domain.posts import ChannelChoice, PostDraft, Schedule
from domain.scheduling import to_local
from web.pages import bulk_csv
from web.pages.kit import Viewer, page_router, render, rt, viewer

router = page_router()

EDIT_ROLES = (Role.editor, Role.admin)
SIGN_CONTEXT = b"loa:bulk-import:v1"
PAYLOAD_TTL_S = 2 * 3600
CHUNK = 400_000  # form fields are limited to 1 MB each; a large payload is split over several
ALL_WORDS = {"tat ca", "all", "*"}


@dataclass
class Checked:
    """One row after checking: what it would create, or why it cannot."""

    number: int
    text: str = ""
    title: str = ""
    link: str = ""
    campaign: str = ""
    channel_names: list[str] = field(default_factory=list)
    when: str = ""
    error: str = ""
    new_campaign: bool = False
    item: dict | None = None  # the normalised row carried to the confirm step
    post_id: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the row can be created."""
        return not self.error


# --- signing the checked rows --------------------------------------------------------------------------

def _keys(request: Request) -> list[bytes]:
    settings = rt(request).settings
    raw = settings.secret_keys.get_secret_value() if settings is not None else ""
    keys = [hmac.new(k.strip().encode(), SIGN_CONTEXT, hashlib.sha256).digest() for k in raw.split(",") if k.strip()]
    if not keys:
        raise ServiceError("Thiếu khoá bí mật LOA_SECRET_KEYS nên không thể nhập bài hàng loạt.")
    return keys


def sign(request: Request, payload: dict) -> tuple[list[str], str]:
    """The payload as base64 chunks for hidden fields, and its signature."""
    blob = base64.urlsafe_b64encode(zlib.compress(json.dumps(payload, ensure_ascii=False,
                                                             separators=(",", ":")).encode(), 6)).decode()
    signature = hmac.new(_keys(request)[0], blob.encode(), hashlib.sha256).hexdigest()
    return [blob[i:i + CHUNK] for i in range(0, len(blob), CHUNK)], signature


def unsign(request: Request, chunks: list[str], signature: str, *, user_id: int) -> dict:
    """The payload if the signature matches, it belongs to this user and is recent; otherwise InvalidInput."""
    expired = InvalidInput("Dữ liệu xác nhận không hợp lệ hoặc đã quá hạn (2 giờ). Hãy tải tệp lên lại.")
    blob = "".join(chunks)
    if not blob or len(blob) > 8 * CHUNK:
        raise expired
    if not any(hmac.compare_digest(hmac.new(k, blob.encode(), hashlib.sha256).hexdigest(), signature or "")
               for k in _keys(request)):
        raise expired
    try:
        payload = json.loads(zlib.decompress(base64.urlsafe_b64decode(blob.encode()), bufsize=4 * 1024 * 1024))
    except (ValueError, zlib.error) as exc:
        raise expired from exc
    if payload.get("u") != user_id or clock.time() - payload.get("t", 0) > PAYLOAD_TTL_S:
        raise expired
    return payload


# --- checking and creating rows ------------------------------------------------------------------------

def _resolve_channels(cell: str, channels: list[Channel]) -> list[Channel]:
    if not cell.strip():
        raise InvalidInput("Chưa ghi kênh đăng (tên hoặc mã kênh, nhiều kênh cách nhau bằng dấu ;).")
    if bulk_csv.fold_words(cell) in ALL_WORDS:
        found = [c for c in channels if c.status == ChannelStatus.active]
        if not found:
            raise InvalidInput("Tổ chức chưa có kênh nào đang hoạt động.")
        return found
    found: list[Channel] = []
    for token in (t.strip() for t in cell.split(";")):
        if not token:
            continue
        if token.lstrip("#").isdigit():
            match = [c for c in channels if str(c.id) == token.lstrip("#")]
        else:
            match = [c for c in channels if c.name.casefold() == token.casefold()]
            if not match:
                match = [c for c in channels if bulk_csv.fold_words(c.name) == bulk_csv.fold_words(token)]
        if len(match) != 1:
            raise InvalidInput(f"Không tìm thấy kênh \"{token[:60]}\" của tổ chức này"
                               + (" (trùng tên nhiều kênh, hãy ghi mã kênh)." if match else "."))
        if match[0] not in found:
            found.append(match[0])
    if not found:
        raise InvalidInput("Chưa ghi kênh đăng.")
    return found


def normalise(row: bulk_csv.Row, channels: list[Channel]) -> dict:
    """A row as the confirm step will create it (time in UTC, channel ids); InvalidInput when unreadable."""
    kind, at = bulk_csv.parse_time(row.time)
    chosen = _resolve_channels(row.channels, channels)
    return {"n": row.number, "text": row.text, "link": row.link, "title": row.title[:255],
            "campaign": row.campaign[:255], "channels": [c.id for c in chosen], "kind": kind,
            "at": at.isoformat() if at else None}


def _campaign_id(s: Session, v: Viewer, org: Organisation, name: str) -> tuple[int | None, bool]:
    """The campaign named ``name`` of the organisation or its ancestors, else a new one of the organisation."""
    if not name:
        return None, False
    found = s.scalar(select(Campaign.id).where(Campaign.org_id.in_(org.ancestor_ids()),
                                               func.lower(Campaign.name) == name.lower())
                     .order_by(Campaign.org_id.desc()).limit(1))
    if found is not None:
        return found, False
    campaign = Campaign(org_id=org.id, name=name, description="")
    s.add(campaign)
    s.flush()
    audit.record(s, entity_type="campaign", entity_id=campaign.id, action="create", actor=v.user, org_id=org.id,
                 data={"source": "bulk_import"})
    return campaign.id, True


def create_row(s: Session, v: Viewer, org: Organisation, item: dict, *, client_request_id: str | None = None,
               submit: bool = False) -> tuple[Post, bool]:
    """Write one row as a post with the domain's rules (the caller commits or rolls back)."""
    kind = ScheduleKind(item["kind"])
    at = datetime.fromisoformat(item["at"]) if item.get("at") else None
    campaign_id, new_campaign = _campaign_id(s, v, org, item.get("campaign") or "")
    draft = PostDraft(text=item.get("text") or "", title=item.get("title") or None, link=item.get("link") or None,
                      campaign_id=campaign_id, channels=[ChannelChoice(int(c)) for c in item["channels"]],
                      schedule=Schedule(kind, at=at))
    post = posts.create_post(s, actor=v.user, org=org, draft=draft, now=utcnow(), client_request_id=client_request_id)
    if submit:
        posts.submit(s, actor=v.user, post=post)
    return post, new_campaign


def _when(post: Post) -> str:
    if post.schedule_kind == ScheduleKind.now:
        return "Ngay khi được duyệt"
    times = sorted({t.scheduled_at for t in post.targets})
    shown = ", ".join(to_local(t).strftime("%H:%M %d/%m/%Y") for t in times[:3])
    return f"Khung giờ trống: {shown}" if post.schedule_kind == ScheduleKind.slot else shown


def check_rows(s: Session, v: Viewer, org: Organisation, rows: list[bulk_csv.Row]) -> list[Checked]:
    """Check every row with the domain's rules without keeping anything (the caller rolls back)."""
    channels = list(s.scalars(select(Channel).where(Channel.org_id == org.id).order_by(Channel.name)))
    names = {c.id: c.name for c in channels}
    results = []
    for row in rows:
        checked = Checked(number=row.number, text=row.text, title=row.title, link=row.link, campaign=row.campaign)
        nested = s.begin_nested()
        try:
            item = normalise(row, channels)
            checked.channel_names = [names[c] for c in item["channels"]]
            post, checked.new_campaign = create_row(s, v, org, item)
            checked.when = _when(post)
            checked.item = item
            nested.commit()  # kept until the final rollback, so later rows see the slots this one takes
        except ServiceError as exc:
            nested.rollback()
            checked.error = exc.message_vi
        except DBAPIError:
            nested.rollback()
            checked.error = "Dữ liệu của dòng không hợp lệ (ký tự không được phép hoặc quá dài)."
        results.append(checked)
    return results


# --- pages ---------------------------------------------------------------------------------------------

def _editable_orgs(v: Viewer) -> list:
    ids = access.org_ids_with_role(v.session, v.user, *EDIT_ROLES)
    if not ids:
        raise PermissionDenied("Chỉ biên tập viên hoặc quản trị viên mới nhập được bài.")
    return v.session.execute(select(Organisation.id, Organisation.name, Organisation.depth)
                             .where(Organisation.id.in_(ids)).order_by(Organisation.path)).all()


def _own_org(v: Viewer, orgs: list, wanted: int | None) -> int:
    ids = [o.id for o in orgs]
    if wanted in ids:
        return wanted
    for role, org in v.memberships:
        if role in EDIT_ROLES and org.id in ids:
            return org.id
    return ids[0]


def _upload_page(request: Request, v: Viewer, *, org_id: int | None = None, error: str | None = None,
                 status_code: int = 200) -> HTMLResponse:
    orgs = _editable_orgs(v)
    chosen = _own_org(v, orgs, org_id)
    channels = v.session.execute(select(Channel.id, Channel.name, Channel.platform, Channel.status)
                                 .where(Channel.org_id == chosen).order_by(Channel.name)).all()
    return render(request, "bulk.html", v, status_code=status_code, error=error, orgs=orgs, chosen_org=chosen,
                  channels=channels, max_rows=bulk_csv.MAX_ROWS, max_mb=bulk_csv.MAX_BYTES // 1048576,
                  headers=bulk_csv.HEADERS_VI)


@router.get("/posts/import", response_class=HTMLResponse)
def import_form(request: Request, org: int | None = None, v: Viewer = Depends(viewer)) -> HTMLResponse:
    """Step 1: choose the organisation and the CSV file."""
    return _upload_page(request, v, org_id=org)


@router.get("/posts/import/template.csv")
def template(org: int | None = None, v: Viewer = Depends(viewer)) -> Response:
    """The CSV template, with the organisation's own channel names in the example."""
    orgs = _editable_orgs(v)
    chosen = _own_org(v, orgs, org)
    names = list(v.session.scalars(select(Channel.name).where(Channel.org_id == chosen,
                                                              Channel.status == ChannelStatus.active)
                                   .order_by(Channel.platform, Channel.name).limit(2)))
    return Response(bulk_csv.template_csv(names), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="mau-nhap-bai-loa.csv"'})


@router.post("/posts/import", response_class=HTMLResponse)
async def preview(request: Request, org_id: int = Form(..., ge=1, lt=2**31), file: UploadFile | None = File(None),
                  v: Viewer = Depends(viewer)) -> HTMLResponse:
    """Step 2: every row checked with its error; nothing is saved."""
    data = await file.read(bulk_csv.MAX_BYTES + 1) if file is not None and file.filename else None
    # Checking up to 500 rows takes a while: in the thread pool, never on the event loop.
    return await run_in_threadpool(_preview, request, v, org_id, file.filename if file else "", data)


def _preview(request: Request, v: Viewer, org_id: int, filename: str, data: bytes | None) -> HTMLResponse:
    s = v.session
    org = access.get_visible_org(s, v.user, org_id)
    access.require_role(s, v.user, org, *EDIT_ROLES)
    if data is None:
        return _upload_page(request, v, org_id=org.id, error="Hãy chọn tệp CSV cần nhập.", status_code=422)
    try:
        parsed = bulk_csv.parse(data)
    except InvalidInput as exc:
        return _upload_page(request, v, org_id=org.id, error=exc.message_vi, status_code=422)
    try:
        results = check_rows(s, v, org, parsed.rows)
    finally:
        s.rollback()  # the preview keeps nothing
    good = [r for r in results if r.ok]
    chunks, signature = sign(request, {"v": 1, "u": v.user.id, "o": org.id, "b": uuid.uuid4().hex[:16],
                                       "t": int(clock.time()), "rows": [r.item for r in good]})
    return render(request, "bulk_preview.html", v, org=s.get(Organisation, org.id), results=results, good=len(good),
                  bad=len(results) - len(good), warnings=parsed.warnings, chunks=chunks, signature=signature,
                  filename=filename)


@router.post("/posts/import/confirm", response_class=HTMLResponse)
async def confirm(request: Request, v: Viewer = Depends(viewer)) -> HTMLResponse:
    """Step 3: create (and submit) the chosen good rows, one transaction each."""
    form = await request.form()
    return await run_in_threadpool(_confirm, request, v, [str(c) for c in form.getlist("payload")],
                                   str(form.get("signature") or ""), {str(n) for n in form.getlist("rows")},
                                   form.get("action") != "draft")


def _confirm(request: Request, v: Viewer, chunks: list[str], signature: str, wanted: set[str],
             submit: bool) -> HTMLResponse:
    s = v.session
    try:
        payload = unsign(request, chunks, signature, user_id=v.user.id)
    except InvalidInput as exc:
        return _upload_page(request, v, error=exc.message_vi, status_code=422)
    org = access.get_visible_org(s, v.user, int(payload["o"]))
    access.require_role(s, v.user, org, *EDIT_ROLES)
    names = dict(s.execute(select(Channel.id, Channel.name).where(Channel.org_id == org.id)).all())
    results = []
    for item in payload["rows"]:
        if str(item["n"]) not in wanted:
            continue
        checked = Checked(number=item["n"], text=item["text"], title=item["title"], link=item["link"],
                          campaign=item["campaign"], channel_names=[names.get(c, f"#{c}") for c in item["channels"]])
        try:
            post, checked.new_campaign = create_row(s, v, org, item, submit=submit,
                                                    client_request_id=f"import:{payload['b']}:{item['n']}")
            checked.when = _when(post)
            s.commit()
            checked.post_id = post.id
        except Conflict as exc:
            s.rollback()
            checked.post_id = exc.details.get("post_id") if isinstance(exc.details.get("post_id"), int) else None
            shown = f" (bài #{checked.post_id})" if checked.post_id else ""
            checked.error = f"Dòng này đã được tạo trước đó{shown}."
        except ServiceError as exc:
            s.rollback()
            checked.error = exc.message_vi
        except DBAPIError:
            s.rollback()
            checked.error = "Dữ liệu của dòng không hợp lệ (ký tự không được phép hoặc quá dài)."
        results.append(checked)
    created = [r for r in results if r.ok]
    return render(request, "bulk_result.html", v, org=org, results=results, created=len(created),
                  failed=len(results) - len(created), submitted=submit,
                  status_label=(PostStatus.pending_approval if submit else PostStatus.draft))
