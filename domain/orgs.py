"""Organisations (the union hierarchy), users, memberships and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import Conflict, InvalidInput, NotFound
from db.base import utcnow
from db.models import ApiToken, Membership, Organisation, OrgKind, Role, User
from domain import audit

# Which kinds may sit under which: tỉnh → huyện/ngành → cơ sở (a cơ sở may also sit directly under a tỉnh).
ALLOWED_CHILDREN = {
    None: {OrgKind.tinh},
    OrgKind.tinh: {OrgKind.huyen, OrgKind.nganh, OrgKind.co_so},
    OrgKind.huyen: {OrgKind.co_so},
    OrgKind.nganh: {OrgKind.co_so},
    OrgKind.co_so: set(),
}


def create_org(session: Session, *, name: str, kind: OrgKind, parent_id: int | None = None,
               actor: User | None = None) -> Organisation:
    """Create an organisation under ``parent_id`` and compute its materialised path."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Tên tổ chức không được để trống.")
    parent = session.get(Organisation, parent_id) if parent_id is not None else None
    if parent_id is not None and parent is None:
        raise NotFound("Không tìm thấy tổ chức cấp trên.", org_id=parent_id)
    if kind not in ALLOWED_CHILDREN[parent.kind if parent else None]:
        raise InvalidInput("Cấp tổ chức không phù hợp với cấp trên (tỉnh → huyện/ngành → cơ sở).")
    org = Organisation(name=name, kind=kind, parent_id=parent_id, depth=(parent.depth + 1) if parent else 0)
    session.add(org)
    session.flush()
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    audit.record(session, entity_type="organisation", entity_id=org.id, action="create", actor=actor,
                 org_id=org.id, to_state="active", data={"name": name, "kind": kind.value, "parent_id": parent_id})
    return org


def create_user(session: Session, *, email: str, full_name: str, actor: User | None = None,
                org_id: int | None = None) -> User:
    """Create a user; e-mail addresses are unique and compared in lower case.

    ``org_id`` (the organisation the user is created for) files the audit entry under it, so that
    organisation's administrators see it in their audit log.
    """
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 255:
        raise InvalidInput("Địa chỉ email không hợp lệ.")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("Email này đã có tài khoản.", email=email)
    user = User(email=email, full_name=(full_name or email).strip())
    session.add(user)
    session.flush()
    audit.record(session, entity_type="user", entity_id=user.id, action="create", actor=actor,
                 org_id=org_id, to_state="active", data={"email": email})
    return user


def grant_role(session: Session, *, user: User, org: Organisation, role: Role, actor: User | None = None) -> Membership:
    """Give ``user`` a role in ``org`` (idempotent)."""
    existing = session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.org_id == org.id, Membership.role == role))
    if existing:
        return existing
    membership = Membership(user_id=user.id, org_id=org.id, role=role)
    session.add(membership)
    session.flush()
    audit.record(session, entity_type="user", entity_id=user.id, action="grant_role", actor=actor,
                 org_id=org.id, to_state=role.value)
    return membership


def issue_token(session: Session, *, user: User, name: str = "") -> str:
    """Create an API token for ``user``; the plain value is returned once and never stored."""
    plain = "loa_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(plain), name=name))
    session.flush()
    return plain


def hash_token(plain: str) -> str:
    """SHA-256 of a token (tokens are random, so no salt is needed)."""
    return hashlib.sha256(plain.encode()).hexdigest()


def user_for_token(session: Session, plain: str) -> User | None:
    """The active user owning an unrevoked token, else None."""
    stmt = (select(User).join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == hash_token(plain), ApiToken.revoked_at.is_(None), User.is_active.is_(True)))
    return session.scalar(stmt)


def revoke_tokens(session: Session, *, user: User) -> int:
    """Revoke every token of ``user``; returns how many."""
    tokens = list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))))
    for token in tokens:
        token.revoked_at = utcnow()
    return len(tokens)


def admins_of(session: Session, org: Organisation) -> list[User]:
    """Users who administer ``org`` directly or from an ancestor."""
    stmt = (select(User).join(Membership, Membership.user_id == User.id)
            .where(Membership.org_id.in_(org.ancestor_ids()), Membership.role == Role.admin, User.is_active.is_(True))
            .distinct())
    return list(session.scalars(stmt))
