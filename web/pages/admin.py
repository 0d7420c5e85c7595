"""Administration: the organisation tree, users and roles, on-duty monitors (the audit log is in admin_audit).

An administrator of an organisation administers it and everything below it (``Scope``). Anything outside that
tree answers 404 exactly like a missing object, and a forged form changes nothing. Every change is audited under
the organisation it concerns, so that organisation's administrators see it in the audit log.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import delete, func, or_, select

from common.errors import Conflict, InvalidInput, InvalidState, NotFound, PermissionDenied, ServiceError
from db.models import AuditEntry, Membership, Organisation, OrgKind, Role, User, WebSession
from domain import accounts, audit, orgs
from domain.access import org_ids_with_role
from web import auth
from web.pages import admin_audit
from web.pages.kit import Viewer, page_router, redirect, render, viewer
from web.pages.labels import vi

router = page_router(prefix="/admin")

ROLES = [Role.admin, Role.editor, Role.approver, Role.monitor, Role.viewer]
CHILD_KINDS = [OrgKind.huyen, OrgKind.nganh, OrgKind.co_so]
EMAIL = re.compile(r"^[^@\s<>\"'(),;:\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
USERS_PER_PAGE = 30
# Generated passwords: no look-alike characters (0/O, 1/l/I), read aloud or typed from paper.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass
class Scope:
    """The organisations the viewer administers (ids) and the same as a tree: (organisation, level)."""

    ids: set[int]
    tree: list[tuple[Organisation, int]]

    def org(self, org_id: int | None) -> Organisation:
        """One administered organisation; others look missing."""
        for org, _level in self.tree:
            if org.id == org_id:
                return org
        raise NotFound("Không tìm thấy tổ chức.", org_id=org_id)


def admin_scope(v: Viewer) -> Scope:
    """What the viewer administers, or PermissionDenied (403) for a non-administrator."""
    ids = org_ids_with_role(v.session, v.user, Role.admin)
    if not ids:
        raise PermissionDenied("Trang quản trị chỉ dành cho người có vai trò Quản trị.")
    rows = list(v.session.scalars(select(Organisation).where(Organisation.id.in_(ids))))
    children: dict[int | None, list[Organisation]] = {}
    for org in rows:
        children.setdefault(org.parent_id if org.parent_id in ids else None, []).append(org)
    tree: list[tuple[Organisation, int]] = []

    def walk(parent: int | None, level: int) -> None:
        for org in sorted(children.get(parent, []), key=lambda o: o.name.lower()):
            tree.append((org, level))
            walk(org.id, level + 1)

    walk(None, 0)
    return Scope(ids=ids, tree=tree)


_int = admin_audit.parse_id  # ids from forms and query strings


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError as exc:
        raise InvalidInput("Hãy chọn một vai trò.") from exc


def _name(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{what} không được để trống.")
    if len(value) > 255 or "\x00" in value:
        raise InvalidInput(f"{what} tối đa 255 ký tự.")
    return value


def generated_password() -> str:
    """A random 14-character password in three groups, easy to read out."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _managed_user(v: Viewer, scope: Scope, user_id: int) -> User:
    """A user holding at least one role inside the scope; anyone else looks missing."""
    user = v.session.get(User, user_id)
    if user is None or not v.session.scalar(select(Membership.id).where(
            Membership.user_id == user_id, Membership.org_id.in_(scope.ids)).limit(1)):
        raise NotFound("Không tìm thấy người dùng.")
    return user


def _home_org_id(v: Viewer, scope: Scope, user_id: int) -> int | None:
    """The highest organisation in the scope where the user holds a role (files user-level audit entries)."""
    return v.session.scalar(select(Membership.org_id).join(Organisation, Organisation.id == Membership.org_id)
                            .where(Membership.user_id == user_id, Membership.org_id.in_(scope.ids))
                            .order_by(Organisation.depth, Organisation.id).limit(1))


def _fully_managed(v: Viewer, scope: Scope, user_id: int) -> bool:
    """Whether every role of the user lies inside the scope (needed to lock an account or reset a password)."""
    return not v.session.scalar(select(Membership.id).where(
        Membership.user_id == user_id, Membership.org_id.not_in(scope.ids)).limit(1))


# ---------------------------------------------------------------- the overview page


def _users_page(v: Viewer, scope: Scope, *, q: str, org_id: int | None, page: int) -> dict:
    org_ids = scope.ids
    if org_id is not None and org_id in scope.ids:
        top = scope.org(org_id)
        org_ids = {o.id for o, _ in scope.tree if o.path.startswith(top.path)}
    members = select(Membership.user_id).where(Membership.org_id.in_(org_ids))
    stmt = select(User).where(User.id.in_(members))
    if q:
        needle = q.lower()
        stmt = stmt.where(or_(func.lower(User.email).contains(needle, autoescape=True),
                              func.lower(User.full_name).contains(needle, autoescape=True)))
    total = v.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // USERS_PER_PAGE))
    page = min(max(page, 1), pages)
    users = list(v.session.scalars(stmt.order_by(User.full_name, User.id)
                                   .offset((page - 1) * USERS_PER_PAGE).limit(USERS_PER_PAGE)))
    roles: dict[int, list[tuple[Role, Organisation]]] = {u.id: [] for u in users}
    for m, org in v.session.execute(select(Membership, Organisation).join(Organisation)
                                    .where(Membership.user_id.in_(roles), Membership.org_id.in_(scope.ids))
                                    .order_by(Organisation.depth, Organisation.name)):
        roles[m.user_id].append((m.role, org))
    return {"users": users, "user_roles": roles, "users_total": total, "page": page, "pages": pages}


def _overview(request: Request, v: Viewer, scope: Scope, *, status_code: int = 200, error: str | None = None,
              org_form: dict | None = None, user_form: dict | None = None, q: str = "",
              user_org: int | None = None, page: int = 1) -> HTMLResponse:
    s = v.session
    member_counts = dict(s.execute(select(Membership.org_id, func.count(func.distinct(Membership.user_id)))
                                   .where(Membership.org_id.in_(scope.ids)).group_by(Membership.org_id)).all())
    monitors = list(s.execute(
        select(Membership, User, Organisation).join(User, User.id == Membership.user_id)
        .join(Organisation, Organisation.id == Membership.org_id)
        .where(Membership.org_id.in_(scope.ids), Membership.role == Role.monitor)
        .order_by(Organisation.path, User.full_name)))
    on_duty_orgs = {m.org_id for m, _u, _o in monitors if m.on_duty}
    return render(request, "admin.html", v, status_code=status_code, error=error, tree=scope.tree,
                  member_counts=member_counts, monitors=monitors, on_duty_orgs=on_duty_orgs,
                  parents=[(o, lvl) for o, lvl in scope.tree if orgs.ALLOWED_CHILDREN[o.kind]],
                  child_kinds=CHILD_KINDS, roles=ROLES,
                  org_form=org_form or {"parent_id": _int(request.query_params.get("parent"))},
                  user_form=user_form or {}, q=q, user_org=user_org,
                  **_users_page(v, scope, q=q, org_id=user_org, page=page))


@router.get("", response_class=HTMLResponse)
def overview(request: Request, q: str = "", org: str = "", page: str = "1",
             v: Viewer = Depends(viewer)) -> HTMLResponse:
    scope = admin_scope(v)
    return _overview(request, v, scope, q=q.strip()[:100], user_org=_int(org), page=_int(page) or 1)


# ---------------------------------------------------------------- organisations


@router.post("/orgs")
def create_org(request: Request, parent_id: str = Form(""), name: str = Form(""), kind: str = Form(""),
               v: Viewer = Depends(viewer)) -> Response:
    scope = admin_scope(v)
    form = {"parent_id": _int(parent_id), "name": name, "kind": kind}
    try:
        parent = scope.org(_int(parent_id))
        try:
            org_kind = OrgKind(kind)
        except ValueError as exc:
            raise InvalidInput("Hãy chọn cấp của tổ chức mới.") from exc
        org = orgs.create_org(v.session, name=_name(name, "Tên tổ chức"), kind=org_kind, parent_id=parent.id,
                              actor=v.user)
    except ServiceError as exc:
        v.session.rollback()
        return _overview(request, v, scope, status_code=404 if isinstance(exc, NotFound) else 422,
                         error=exc.message_vi, org_form=form)
    v.session.commit()
    return redirect(f"/admin#org-{org.id}", v, flash=f"Đã tạo tổ chức “{org.name}”.")


@router.post("/orgs/{org_id}/rename")
def rename_org(org_id: int, name: str = Form(""), v: Viewer = Depends(viewer)) -> Response:
    org = admin_scope(v).org(org_id)
    new = _name(name, "Tên tổ chức")
    if new != org.name:
        audit.record(v.session, entity_type="organisation", entity_id=org.id, action="rename", actor=v.user,
                     org_id=org.id, data={"from": org.name, "to": new})
        org.name = new
        v.session.commit()
    return redirect(f"/admin#org-{org.id}", v, flash=f"Đã đổi tên thành “{new}”.")


@router.post("/orgs/{org_id}/replies")
def set_replies_rule(org_id: int, need_approval: str = Form(""), v: Viewer = Depends(viewer)) -> Response:
    org = admin_scope(v).org(org_id)
    on = need_approval == "1"
    if org.replies_need_approval != on:
        audit.record(v.session, entity_type="organisation", entity_id=org.id, action="replies_rule", actor=v.user,
                     org_id=org.id, from_state="on" if org.replies_need_approval else "off",
                     to_state="on" if on else "off")
        org.replies_need_approval = on
        v.session.commit()
    message = "phải được duyệt trước khi gửi" if on else "được gửi ngay, không cần duyệt"
    return redirect(f"/admin#org-{org.id}", v, flash=f"{org.name}: trả lời bình luận/tin nhắn {message}.")


# ---------------------------------------------------------------- users and roles


def _user_page(request: Request, v: Viewer, scope: Scope, user: User, *, status_code: int = 200,
               error: str | None = None, new_password: str | None = None) -> HTMLResponse:
    s = v.session
    memberships = list(s.execute(select(Membership, Organisation).join(Organisation)
                                 .where(Membership.user_id == user.id, Membership.org_id.in_(scope.ids))
                                 .order_by(Organisation.depth, Organisation.name)))
    history = list(s.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "user", AuditEntry.entity_id == user.id,
        AuditEntry.org_id.in_(scope.ids)).order_by(AuditEntry.id.desc()).limit(20)))
    return render(request, "admin_user.html", v, status_code=status_code, error=error, member=user,
                  memberships=memberships, fully_managed=_fully_managed(v, scope, user.id),
                  is_self=user.id == v.user.id, tree=scope.tree, roles=ROLES, history=history,
                  new_password=new_password, action_vi=admin_audit.action_vi, state_vi=admin_audit.state_vi,
                  org_names={o.id: o.name for o, _ in scope.tree})


@router.post("/users")
def create_user(request: Request, email: str = Form(""), full_name: str = Form(""), org_id: str = Form(""),
                role: str = Form(""), password: str = Form(""), v: Viewer = Depends(viewer)) -> Response:
    scope = admin_scope(v)
    form = {"email": email, "full_name": full_name, "org_id": _int(org_id), "role": role}
    s = v.session
    try:
        org = scope.org(_int(org_id))
        chosen = _role(role)
        address = email.strip().lower()
        if len(address) > 255 or not EMAIL.match(address):
            raise InvalidInput("Địa chỉ email không hợp lệ (ví dụ: nguyenvana@congdoan.vn).")
        existing = s.scalar(select(User).where(User.email == address))
        if existing is not None:
            orgs.grant_role(s, user=existing, org=org, role=chosen, actor=v.user)
            s.commit()
            note = " Mật khẩu của họ giữ nguyên." if password else ""
            return redirect(f"/admin/users/{existing.id}", v, flash=f"Email này đã có tài khoản: đã thêm vai trò "
                            f"{vi(chosen, 'role')} tại {org.name}.{note}")
        generated = None if password else generated_password()
        user = orgs.create_user(s, email=address, full_name=_name(full_name, "Họ và tên"), actor=v.user,
                                org_id=org.id)
        accounts.set_password(s, user=user, password=password or generated, actor=v.user, org_id=org.id)
        orgs.grant_role(s, user=user, org=org, role=chosen, actor=v.user)
    except ServiceError as exc:
        s.rollback()
        status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 422
        return _overview(request, v, scope, status_code=status, error=exc.message_vi, user_form=form)
    s.commit()
    if generated is None:
        return redirect(f"/admin/users/{user.id}", v, flash=f"Đã tạo tài khoản {user.email}.")
    return _user_page(request, v, scope, user, new_password=generated)


@router.get("/users/{user_id}", response_class=HTMLResponse)
def user_detail(request: Request, user_id: int, v: Viewer = Depends(viewer)) -> HTMLResponse:
    scope = admin_scope(v)
    return _user_page(request, v, scope, _managed_user(v, scope, user_id))


@router.post("/users/{user_id}/roles")
def grant(request: Request, user_id: int, org_id: str = Form(""), role: str = Form(""),
          v: Viewer = Depends(viewer)) -> Response:
    scope = admin_scope(v)
    user = _managed_user(v, scope, user_id)
    org = scope.org(_int(org_id))
    try:
        chosen = _role(role)
    except InvalidInput as exc:
        return _user_page(request, v, scope, user, status_code=422, error=exc.message_vi)
    orgs.grant_role(v.session, user=user, org=org, role=chosen, actor=v.user)
    v.session.commit()
    return redirect(f"/admin/users/{user.id}", v, flash=f"Đã cấp vai trò {vi(chosen, 'role')} tại {org.name}.")


@router.post("/users/{user_id}/roles/{membership_id}/revoke")
def revoke(request: Request, user_id: int, membership_id: int, v: Viewer = Depends(viewer)) -> Response:
    scope = admin_scope(v)
    user = _managed_user(v, scope, user_id)
    s = v.session
    m = s.get(Membership, membership_id)
    if m is None or m.user_id != user.id or m.org_id not in scope.ids:
        raise NotFound("Không tìm thấy vai trò này.")
    error = None
    if user.id == v.user.id and m.role == Role.admin and (s.scalar(select(func.count()).select_from(Membership).where(
            Membership.user_id == user.id, Membership.role == Role.admin)) or 0) <= 1:
        error = "Bạn không thể gỡ vai trò quản trị cuối cùng của chính mình (sẽ mất quyền quản trị)."
    elif (s.scalar(select(func.count()).select_from(Membership).where(Membership.user_id == user.id)) or 0) <= 1:
        error = "Đây là vai trò cuối cùng của người này. Nếu họ không còn làm việc, hãy khoá tài khoản."
    if error:
        return _user_page(request, v, scope, user, status_code=409, error=error)
    org_name, role = m.org.name, m.role
    audit.record(s, entity_type="user", entity_id=user.id, action="revoke_role", actor=v.user, org_id=m.org_id,
                 from_state=role.value)
    s.delete(m)
    s.commit()
    return redirect(f"/admin/users/{user.id}", v, flash=f"Đã gỡ vai trò {vi(role, 'role')} tại {org_name}.")


def _require_full_control(v: Viewer, scope: Scope, user: User) -> None:
    if not _fully_managed(v, scope, user.id):
        raise PermissionDenied("Người này còn giữ vai trò ở tổ chức ngoài phạm vi quản trị của bạn; "
                               "hãy nhờ quản trị viên cấp trên.")


@router.post("/users/{user_id}/active")
def set_active(request: Request, user_id: int, active: str = Form(""), v: Viewer = Depends(viewer)) -> Response:
    scope = admin_scope(v)
    user = _managed_user(v, scope, user_id)
    on = active == "1"
    try:
        if user.id == v.user.id:
            raise InvalidState("Bạn không thể tự khoá tài khoản của chính mình.")
        _require_full_control(v, scope, user)
    except ServiceError as exc:
        return _user_page(request, v, scope, user, status_code=403 if isinstance(exc, PermissionDenied) else 409,
                          error=exc.message_vi)
    if user.is_active != on:
        audit.record(v.session, entity_type="user", entity_id=user.id, action="reactivate" if on else "deactivate",
                     actor=v.user, org_id=_home_org_id(v, scope, user.id),
                     from_state="inactive" if on else "active", to_state="active" if on else "inactive")
        user.is_active = on
        if not on:
            auth.end_all_sessions(v.session, user_id=user.id)
        v.session.commit()
    message = "Đã mở khoá tài khoản." if on else "Đã khoá tài khoản; mọi phiên đăng nhập của họ đã kết thúc."
    return redirect(f"/admin/users/{user.id}", v, flash=message)


@router.post("/users/{user_id}/password")
def reset_password(request: Request, user_id: int, password: str = Form(""),
                   v: Viewer = Depends(viewer)) -> Response:
    scope = admin_scope(v)
    user = _managed_user(v, scope, user_id)
    generated = None if password else generated_password()
    try:
        _require_full_control(v, scope, user)
        accounts.set_password(v.session, user=user, password=password or generated, actor=v.user,
                              org_id=_home_org_id(v, scope, user.id))
    except ServiceError as exc:
        v.session.rollback()
        return _user_page(request, v, scope, user, status_code=403 if isinstance(exc, PermissionDenied) else 422,
                          error=exc.message_vi)
    if user.id == v.user.id:  # keep this browser signed in, end the others
        v.session.execute(delete(WebSession).where(WebSession.user_id == user.id,
                                                   WebSession.id != v.web_session.id))
    else:
        auth.end_all_sessions(v.session, user_id=user.id)
    v.session.commit()
    if generated is None:
        return redirect(f"/admin/users/{user.id}", v, flash="Đã đặt mật khẩu mới; các phiên đăng nhập cũ đã kết thúc.")
    return _user_page(request, v, scope, user, new_password=generated)


# ---------------------------------------------------------------- audit log


@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, org: str = "", entity: str = "", actor: str = "", action: str = "",
              date_from: str = "", date_to: str = "", page: str = "1", v: Viewer = Depends(viewer)) -> HTMLResponse:
    return admin_audit.audit_page(request, v, admin_scope(v), org=org, entity=entity, actor=actor, action=action,
                                  date_from=date_from, date_to=date_to, page=page)


# ---------------------------------------------------------------- on-duty monitors


@router.post("/duty/{membership_id}")
def set_duty(membership_id: int, on: str = Form(""), v: Viewer = Depends(viewer)) -> Response:
    scope = admin_scope(v)
    m = v.session.get(Membership, membership_id)
    if m is None or m.role != Role.monitor or m.org_id not in scope.ids:
        raise NotFound("Không tìm thấy cán bộ theo dõi này.")
    want = on == "1"
    if m.on_duty != want:
        audit.record(v.session, entity_type="user", entity_id=m.user_id, action="duty_on" if want else "duty_off",
                     actor=v.user, org_id=m.org_id)
        m.on_duty = want
        v.session.commit()
    who = m.user.full_name or m.user.email
    message = f"{who} đang trực tại {m.org.name}: sẽ nhận thư cảnh báo." if want else \
        f"{who} đã thôi trực tại {m.org.name}."
    return redirect(f"/admin#duty-{m.id}", v, flash=message)
