"""Who may do what: roles held in an organisation apply to it and to every descendant."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import NotFound, PermissionDenied
from db.models import Membership, Organisation, Role, User

ROLE_LABELS = {
    Role.admin: "quản trị",
    Role.editor: "biên tập",
    Role.approver: "duyệt bài",
    Role.monitor: "theo dõi dư luận",
    Role.viewer: "xem",
}


def roles_in(session: Session, user: User, org: Organisation) -> set[Role]:
    """Roles ``user`` holds in ``org`` directly or through an ancestor."""
    stmt = select(Membership.role).where(Membership.user_id == user.id, Membership.org_id.in_(org.ancestor_ids()))
    return set(session.scalars(stmt))


def visible_org_ids(session: Session, user: User) -> set[int]:
    """Ids of every organisation where the user holds any role (their own and all below)."""
    paths = list(session.scalars(
        select(Organisation.path).join(Membership, Membership.org_id == Organisation.id)
        .where(Membership.user_id == user.id)))
    if not paths:
        return set()
    ids: set[int] = set()
    for path in set(paths):
        ids.update(session.scalars(select(Organisation.id).where(Organisation.path.startswith(path))))
    return ids


def get_visible_org(session: Session, user: User, org_id: int) -> Organisation:
    """Load an organisation the user may see; others look exactly like missing ones."""
    org = session.get(Organisation, org_id)
    if org is None or not roles_in(session, user, org):
        raise NotFound("Không tìm thấy tổ chức.", org_id=org_id)
    return org


def require_role(session: Session, user: User, org: Organisation, *roles: Role) -> set[Role]:
    """Raise PermissionDenied unless the user holds one of ``roles`` here or above."""
    held = roles_in(session, user, org)
    if not held:
        raise NotFound("Không tìm thấy tổ chức.", org_id=org.id)
    if not held.intersection(roles):
        names = ", ".join(ROLE_LABELS[r] for r in roles)
        raise PermissionDenied(f"Cần vai trò {names} tại {org.name} hoặc cấp trên.", org_id=org.id)
    return held


def org_ids_with_role(session: Session, user: User, *roles: Role) -> set[int]:
    """Organisations where the user holds one of ``roles``, directly or through an ancestor."""
    paths = set(session.scalars(
        select(Organisation.path).join(Membership, Membership.org_id == Organisation.id)
        .where(Membership.user_id == user.id, Membership.role.in_(roles))))
    ids: set[int] = set()
    for path in paths:
        ids.update(session.scalars(select(Organisation.id).where(Organisation.path.startswith(path))))
    return ids
