"""The audit log viewer for administrators: newest first, filtered, only their own organisations' entries."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from common.errors import ServiceError
from db.models import AuditEntry, User
from domain.scheduling import to_utc
from web.pages.kit import Viewer, render
from web.pages.labels import TABLES

PER_PAGE = 50

ACTION_VI = {
    "create": "Tạo mới", "created": "Tạo mới", "edit": "Sửa", "rename": "Đổi tên", "submit": "Gửi duyệt",
    "approve": "Duyệt", "approve_upstream": "Nhận bài đã duyệt từ cấp trên", "reject": "Từ chối", "cancel": "Huỷ",
    "schedule": "Lên lịch", "claim": "Bắt đầu đăng", "published": "Đã đăng", "failed": "Đăng lỗi",
    "retry": "Tự thử lại", "manual_retry": "Đăng lại", "target_result": "Kết quả đăng",
    "recurrence": "Lặp định kỳ", "superseded": "Được thay bằng bản mới", "share": "Chia sẻ xuống cấp dưới",
    "adopt": "Dùng bài được chia sẻ", "connect": "Kết nối kênh", "reauthorise": "Kết nối lại kênh",
    "token_refreshed": "Làm mới mã truy cập", "needs_reauth": "Kênh cần kết nối lại", "set_status": "Đổi trạng thái",
    "disabled": "Tắt", "grant_role": "Cấp vai trò", "revoke_role": "Gỡ vai trò", "password_set": "Đặt mật khẩu",
    "deactivate": "Khoá tài khoản", "reactivate": "Mở khoá tài khoản", "duty_on": "Bắt đầu trực",
    "duty_off": "Thôi trực", "replies_rule": "Đổi quy tắc duyệt trả lời", "confirm": "Xác nhận",
    "dismiss": "Bỏ qua", "escalate": "Báo cáo lên cấp trên", "reopen": "Mở lại", "relabel": "Sửa nhãn",
    "assign": "Giao người xử lý", "note": "Ghi chú", "hide": "Ẩn bình luận", "reply": "Trả lời",
}
ENTITY_VI = {"post": "Bài đăng", "target": "Bài trên một kênh", "channel": "Kênh", "user": "Người dùng",
             "organisation": "Tổ chức", "item": "Dư luận", "campaign": "Chiến dịch", "feed": "Nguồn tin",
             "reply": "Trả lời", "event": "Sự kiện"}


STATE_TABLES = {"post": "post_status", "target": "target_status", "channel": "channel_status",
                "item": "review_status", "reply": "reply_status"}
USER_STATES = {"active": "Đang hoạt động", "inactive": "Đã khoá", **TABLES["role"]}
OTHER_STATES = {"on": "Bật", "off": "Tắt", "active": "Đang hoạt động"}


def state_vi(entity_type: str, value: str | None) -> str:
    """A state in Vietnamese for this kind of object (the raw value when unknown)."""
    if not value:
        return "—"
    table = USER_STATES if entity_type == "user" else TABLES.get(STATE_TABLES.get(entity_type, ""), OTHER_STATES)
    return table.get(value, OTHER_STATES.get(value, value))


def action_vi(slug: str) -> str:
    """The Vietnamese name of an audit action (the slug itself when there is no obvious one)."""
    return ACTION_VI.get(slug, slug)


def entity_link(entry: AuditEntry) -> str | None:
    """Where the audited object is shown, if it has a page."""
    return {"post": f"/posts/{entry.entity_id}", "item": f"/review/{entry.entity_id}",
            "user": f"/admin/users/{entry.entity_id}", "organisation": f"/admin#org-{entry.entity_id}"
            }.get(entry.entity_type)


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def parse_id(value: str | None) -> int | None:
    """A positive 32-bit id from a form or query value, else None."""
    try:
        number = int((value or "").strip())
    except ValueError:
        return None
    return number if 0 < number < 2**31 else None


def audit_page(request: Request, v: Viewer, scope, *, org: str, entity: str, actor: str,  # noqa: ANN001
               action: str, date_from: str, date_to: str, page: str) -> HTMLResponse:
    """The filtered, paginated audit log of the organisations in ``scope`` (web.pages.admin.Scope)."""
    ids = scope.ids
    org_id = parse_id(org)
    if org_id in scope.ids:
        top = scope.org(org_id)
        ids = {o.id for o, _ in scope.tree if o.path.startswith(top.path)}
    stmt = select(AuditEntry).where(AuditEntry.org_id.in_(ids))
    entity, actor, action = entity.strip()[:32], actor.strip()[:128], action.strip()[:64]
    if entity:
        stmt = stmt.where(AuditEntry.entity_type == entity)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if actor:
        stmt = stmt.where(func.lower(AuditEntry.actor_label).contains(actor.lower(), autoescape=True))
    error = None
    start, end = _day(date_from), _day(date_to)
    if (date_from.strip() and start is None) or (date_to.strip() and end is None):
        error = "Ngày lọc không đúng định dạng (ví dụ 2027-05-04)."
    try:
        if start:
            stmt = stmt.where(AuditEntry.at >= to_utc(datetime.combine(start, time())))
        if end:
            stmt = stmt.where(AuditEntry.at < to_utc(datetime.combine(end + timedelta(days=1), time())))
    except ServiceError as exc:  # a year out of range
        error = exc.message_vi
    total = v.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    current = min(max(parse_id(page) or 1, 1), pages)
    entries = list(v.session.scalars(stmt.order_by(AuditEntry.id.desc()).offset((current - 1) * PER_PAGE)
                                     .limit(PER_PAGE)))
    user_ids = {e.entity_id for e in entries if e.entity_type == "user"}
    user_names = dict(v.session.execute(select(User.id, User.full_name).where(User.id.in_(user_ids))).all()) \
        if user_ids else {}
    filters = {"org": org_id if org_id in scope.ids else "", "entity": entity, "actor": actor, "action": action,
               "date_from": date_from.strip()[:10], "date_to": date_to.strip()[:10]}
    query = urlencode({k: val for k, val in filters.items() if val})
    return render(request, "admin_audit.html", v, status_code=422 if error else 200, error=error,
                  entries=entries, total=total, page=current, pages=pages, filters=filters,
                  pager_url=f"/admin/audit?{query}&" if query else "/admin/audit?", tree=scope.tree,
                  org_names={o.id: o.name for o, _ in scope.tree}, actions=sorted(ACTION_VI.items(), key=lambda kv: kv[1]),
                  entities=ENTITY_VI, action_vi=action_vi, entity_link=entity_link, state_vi=state_vi,
                  user_names=user_names)
