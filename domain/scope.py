"""An organisation with everything below it, loaded once for reports (one query, ids kept in memory)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import NotFound
from db.models import Channel, Organisation, OrgKind


@dataclass(frozen=True)
class OrgNode:
    id: int
    name: str
    kind: OrgKind
    parent_id: int | None
    path: str


@dataclass
class Scope:
    """The root organisation, its whole subtree, and which direct child each organisation falls under."""

    root: OrgNode
    orgs: dict[int, OrgNode]
    children: list[OrgNode] = field(default_factory=list)
    branch_of: dict[int, int] = field(default_factory=dict)  # org id → direct child id (or the root's id)

    _channels: list | None = None

    @property
    def ids(self) -> list[int]:
        return list(self.orgs)

    def channels(self, session: Session) -> list:
        """Channels of the subtree (id, org_id, name, platform, status, created_at), loaded once per scope."""
        if self._channels is None:
            self._channels = session.connection().execute(
                select(Channel.id, Channel.org_id, Channel.name, Channel.platform, Channel.status, Channel.created_at)
                .where(Channel.org_id.in_(self.ids))).all()
        return self._channels

    def grassroots(self) -> list[OrgNode]:
        """Grassroots unions (CĐCS) of the subtree; the root itself when it is one."""
        return [o for o in self.orgs.values() if o.kind == OrgKind.co_so]


def load_scope(session: Session, org_id: int) -> Scope:
    """The organisation ``org_id`` and its subtree; NotFound (Vietnamese) when it does not exist."""
    conn = session.connection()
    root_path = conn.scalar(select(Organisation.path).where(Organisation.id == org_id))
    if root_path is None:
        raise NotFound(f"Không có tổ chức #{org_id}.", org_id=org_id)
    rows = conn.execute(select(Organisation.id, Organisation.name, Organisation.kind, Organisation.parent_id,
                               Organisation.path).where(Organisation.path.startswith(root_path))).all()
    orgs = {r.id: OrgNode(r.id, r.name, OrgKind(r.kind), r.parent_id, r.path) for r in rows}
    root = orgs[org_id]
    children = sorted((o for o in orgs.values() if o.parent_id == org_id), key=lambda o: o.name)
    depth = root.path.count("/") - 1  # '/1/' → 1 segment
    branch_of = {}
    for o in orgs.values():
        parts = o.path.strip("/").split("/")
        branch_of[o.id] = int(parts[depth]) if len(parts) > depth else org_id
    return Scope(root=root, orgs=orgs, children=children, branch_of=branch_of)
