"""Writing the append-only audit log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditEntry, User

SYSTEM = "hệ thống"


def record(
    session: Session,
    *,
    entity_type: str,
    entity_id: int,
    action: str,
    actor: User | None = None,
    org_id: int | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    data: dict | None = None,
) -> AuditEntry:
    """Append one audit entry (who, what, from → to, why)."""
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_label=actor.email if actor else SYSTEM,
        org_id=org_id,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        from_state=str(from_state) if from_state is not None else None,
        to_state=str(to_state) if to_state is not None else None,
        reason=reason,
        data=data,
    )
    session.add(entry)
    return entry


def history(session: Session, *, entity_type: str, entity_id: int) -> list[AuditEntry]:
    """Entries for one object, oldest first."""
    stmt = (select(AuditEntry).where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
            .order_by(AuditEntry.id))
    return list(session.scalars(stmt))
