"""Writing the append-only audit log."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from db.base import utcnow
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
) -> None:
    """Append one audit entry (who, what, from → to, why); a plain INSERT, no ORM object."""
    # Core on the session's connection: the ORM's bulk-insert path costs several times more CPU.
    session.connection().execute(insert(AuditEntry).values(
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
    ))


def entry(*, entity_type: str, entity_id: int, action: str, org_id: int | None = None,
          from_state: str | None = None, to_state: str | None = None, reason: str | None = None,
          data: dict | None = None) -> dict:
    """One system audit row as a dict, for ``record_many``."""
    return {"actor_id": None, "actor_label": SYSTEM, "org_id": org_id, "entity_type": entity_type,
            "entity_id": entity_id, "action": action, "from_state": from_state, "to_state": to_state,
            "reason": reason, "data": data, "at": utcnow()}


def record_many(session: Session, entries: list[dict]) -> None:
    """Append several system audit rows in one round trip."""
    if entries:
        session.connection().execute(insert(AuditEntry), entries)


def history(session: Session, *, entity_type: str, entity_id: int) -> list[AuditEntry]:
    """Entries for one object, oldest first."""
    stmt = (select(AuditEntry).where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
            .order_by(AuditEntry.id))
    return list(session.scalars(stmt))
