"""The opinion desk: labelling collected items, the review queue, and monitors' actions.

Flagged means the item's `risk` is not `binh_thuong` (opinion-taxonomy.md). A monitor's relabel
overrides the classifier for display (`human_labels`), and is copied to `label_corrections` so the
next `loa train` learns from it. Every action is written to the append-only audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from classifiers.labels import HEADS
from common.errors import InvalidInput, InvalidState, NotFound
from db.base import utcnow
from db.models import Item, ItemNote, ItemSource, LabelCorrection, Membership, ReviewStatus, Role, User
from domain import audit
from domain.access import org_ids_with_role

DESK_ROLES = (Role.monitor, Role.admin)
# Title and text are classified together, capped: a 20,000-character article says what it is early.
CLASSIFY_CHARS = 4000


class Predictor(Protocol):
    """What the desk needs from a classifier (classifiers.model.Classifier)."""

    version: str

    def predict(self, texts: list[str], thresholds: dict[str, float] | None = None) -> list: ...


@dataclass(frozen=True)
class Labelled:
    """An item that just got its labels (what alerting looks at)."""

    id: int
    org_id: int
    cluster_id: int | None
    risk: str
    risk_score: float


def item_text(title: str | None, text: str) -> str:
    """What the classifier reads for an item."""
    body = f"{title}\n{text}" if title and title not in text else text
    return body[:CLASSIFY_CHARS]


def label_pending(session: Session, classifier: Predictor, *, limit: int = 500,
                  thresholds: dict[str, float] | None = None, now: datetime | None = None) -> list[Labelled]:
    """Classify up to ``limit`` unlabelled items in one batch; concurrent callers take disjoint rows."""
    now = now or utcnow()
    stmt = (select(Item.id, Item.org_id, Item.cluster_id, Item.title, Item.text)
            .where(Item.classified_at.is_(None)).order_by(Item.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = session.execute(stmt).all()
    if not rows:
        return []
    preds = classifier.predict([item_text(r.title, r.text) for r in rows], thresholds=thresholds)
    params, out = [], []
    for row, pred in zip(rows, preds, strict=True):
        risk = pred.labels["risk"]
        score = round(1.0 - float(pred.proba["risk"].get("binh_thuong", 0.0)), 4)
        params.append({"b_id": row.id, "b_risk": risk, "b_topic": pred.labels["topic"],
                       "b_sentiment": pred.labels["sentiment"], "b_toxicity": pred.labels["toxicity"],
                       "b_score": score, "b_proba": pred.proba,
                       "b_expl": {h: [[w, round(float(s), 4)] for w, s in terms]
                                  for h, terms in pred.explanations.items()},
                       "b_flagged": risk != "binh_thuong"})
        out.append(Labelled(row.id, row.org_id, row.cluster_id, risk, score))
    session.connection().execute(
        update(Item.__table__).where(Item.__table__.c.id == bindparam("b_id")).values(
            classified_at=now, model_version=classifier.version, risk=bindparam("b_risk"),
            topic=bindparam("b_topic"), sentiment=bindparam("b_sentiment"), toxicity=bindparam("b_toxicity"),
            risk_score=bindparam("b_score"), proba=bindparam("b_proba"), explanation=bindparam("b_expl"),
            flagged=bindparam("b_flagged")),
        params)
    return out


# --- The review queue --------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueFilter:
    """Filters of the review queue; every field is optional."""

    org_id: int | None = None
    source: ItemSource | None = None
    risk: str | None = None
    topic: str | None = None
    status: ReviewStatus | None = None
    assignee_id: int | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    cluster_id: int | None = None
    flagged_only: bool = True
    sort: str = "risk"  # "risk" (riskiest first) or "time" (newest first)


def desk_org_ids(session: Session, user: User) -> set[int]:
    """Organisations whose items the user may review (monitor or admin there or above)."""
    return org_ids_with_role(session, user, *DESK_ROLES)


def queue(session: Session, user: User, f: QueueFilter, *, limit: int = 50, offset: int = 0) -> tuple[list[Item], int]:
    """Items for the desk, filtered and sorted, plus the total count; other organisations' items never appear."""
    from sqlalchemy import func

    orgs = desk_org_ids(session, user)
    if f.org_id is not None:
        orgs &= {f.org_id}
    if not orgs:
        return [], 0
    from domain.review_queue import conditions  # the one definition of the queue's filters

    conds = conditions(f, orgs)
    order = ((Item.risk_score.desc(), Item.created_at.desc(), Item.id.desc()) if f.sort == "risk"
             else (Item.created_at.desc(), Item.id.desc()))
    total = session.scalar(select(func.count()).select_from(Item).where(*conds)) or 0
    items = list(session.scalars(select(Item).where(*conds).order_by(*order).limit(limit).offset(offset)))
    return items, total


def get_item(session: Session, user: User, item_id: int) -> Item:
    """An item the user may review; anything else looks missing."""
    item = session.get(Item, item_id)
    if item is None or item.org_id not in desk_org_ids(session, user):
        raise NotFound("Không tìm thấy mục này.", item_id=item_id)
    return item


def effective_labels(item: Item) -> dict[str, str | None]:
    """The labels shown for an item: the classifier's, overridden by a monitor's relabel."""
    labels = {"risk": item.risk, "topic": item.topic, "sentiment": item.sentiment, "toxicity": item.toxicity}
    labels.update(item.human_labels or {})
    return labels


def _check_label(head: str, label: str) -> None:
    if head not in HEADS or label not in HEADS[head]:
        allowed = ", ".join(HEADS.get(head, ()))
        raise InvalidInput(f"Nhãn «{label}» không hợp lệ cho «{head}» (hợp lệ: {allowed}).", field=head)


# --- Monitors' actions (each audited) ------------------------------------------------------------

def _locked(session: Session, user: User, item_id: int) -> Item:
    item = get_item(session, user, item_id)
    session.refresh(item, with_for_update=True)
    return item


def _set_status(session: Session, user: User, item_id: int, to: ReviewStatus, action: str,
                reason: str | None, allowed_from: Sequence[ReviewStatus]) -> Item:
    item = _locked(session, user, item_id)
    before = item.review_status
    if before not in allowed_from:
        raise InvalidState(f"Không thể chuyển mục từ «{STATUS_VI[before]}» sang «{STATUS_VI[to]}».",
                           item_id=item_id)
    item.review_status = to
    item.reviewed_by, item.reviewed_at = user.id, utcnow()
    audit.record(session, entity_type="item", entity_id=item.id, action=action, actor=user, org_id=item.org_id,
                 from_state=before, to_state=to, reason=reason)
    return item


STATUS_VI = {ReviewStatus.new: "mới", ReviewStatus.confirmed: "đã xác nhận", ReviewStatus.dismissed: "đã bỏ qua",
             ReviewStatus.escalated: "đã báo cáo cấp trên"}


def confirm(session: Session, user: User, item_id: int, reason: str | None = None) -> Item:
    """A monitor agrees the item needs action."""
    return _set_status(session, user, item_id, ReviewStatus.confirmed, "confirm", reason,
                       (ReviewStatus.new, ReviewStatus.dismissed))


def dismiss(session: Session, user: User, item_id: int, reason: str | None = None) -> Item:
    """A monitor decides the item needs no action."""
    return _set_status(session, user, item_id, ReviewStatus.dismissed, "dismiss", reason,
                       (ReviewStatus.new, ReviewStatus.confirmed))


def escalate(session: Session, user: User, item_id: int, reason: str | None = None) -> Item:
    """Send the item up to the parent organisation's desk / leadership."""
    if not reason or not reason.strip():
        raise InvalidInput("Cần ghi lý do khi báo cáo cấp trên.", field="reason")
    return _set_status(session, user, item_id, ReviewStatus.escalated, "escalate", reason,
                       (ReviewStatus.new, ReviewStatus.confirmed))


def reopen(session: Session, user: User, item_id: int, reason: str | None = None) -> Item:
    """Put a decided item back in the queue."""
    return _set_status(session, user, item_id, ReviewStatus.new, "reopen", reason,
                       (ReviewStatus.confirmed, ReviewStatus.dismissed, ReviewStatus.escalated))


def relabel(session: Session, user: User, item_id: int, labels: dict[str, str], reason: str | None = None) -> Item:
    """Correct the classifier's labels; the correction becomes training data."""
    if not labels:
        raise InvalidInput("Cần ít nhất một nhãn mới.", field="labels")
    for head, label in labels.items():
        if head == "toxicity" or head not in HEADS:
            raise InvalidInput(f"Không sửa được nhãn «{head}» (chỉ risk, topic, sentiment).", field=head)
        _check_label(head, label)
    item = _locked(session, user, item_id)
    before = effective_labels(item)
    merged = dict(item.human_labels or {})
    merged.update(labels)
    item.human_labels = merged
    item.flagged = merged.get("risk", item.risk) != "binh_thuong"
    item.reviewed_by, item.reviewed_at = user.id, utcnow()
    session.add(LabelCorrection(item_id=item.id, user_id=user.id, text=item_text(item.title, item.text),
                                labels=dict(labels)))
    changes = {h: {"from": before.get(h), "to": v} for h, v in labels.items()}
    # The audit's from/to columns are short slugs: the risk change when there is one; all heads in data.
    head = "risk" if "risk" in labels else next(iter(labels))
    audit.record(session, entity_type="item", entity_id=item.id, action="relabel", actor=user, org_id=item.org_id,
                 reason=reason, data=changes, from_state=before.get(head), to_state=labels[head])
    return item


def assign(session: Session, user: User, item_id: int, assignee_id: int | None) -> Item:
    """Give the item to a monitor of its organisation (or above), or unassign it."""
    item = _locked(session, user, item_id)
    if assignee_id is not None:
        assignee = session.get(User, assignee_id)
        if assignee is None or not assignee.is_active or item.org_id not in desk_org_ids(session, assignee):
            raise InvalidInput("Người được giao phải là cán bộ theo dõi dư luận của tổ chức này hoặc cấp trên.",
                               field="assignee_id")
    before = item.assignee_id
    item.assignee_id = assignee_id
    audit.record(session, entity_type="item", entity_id=item.id, action="assign", actor=user, org_id=item.org_id,
                 from_state=str(before) if before else None, to_state=str(assignee_id) if assignee_id else None)
    return item


def add_note(session: Session, user: User, item_id: int, text: str) -> ItemNote:
    """Attach a note to an item."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("Ghi chú không được để trống.", field="text")
    if len(text) > 5000:
        raise InvalidInput("Ghi chú quá dài (tối đa 5.000 ký tự).", field="text")
    item = _locked(session, user, item_id)
    note = ItemNote(item_id=item.id, user_id=user.id, text=text)
    session.add(note)
    session.flush()
    audit.record(session, entity_type="item", entity_id=item.id, action="note", actor=user, org_id=item.org_id,
                 reason=text[:500], data={"note_id": note.id})
    return note


def notes(session: Session, item: Item) -> list[ItemNote]:
    """Notes of an item, oldest first."""
    return list(session.scalars(select(ItemNote).where(ItemNote.item_id == item.id).order_by(ItemNote.id)))


def near_duplicates(session: Session, item: Item, *, limit: int = 20) -> list[Item]:
    """Other items of the same near-duplicate cluster that the same desk may see."""
    if item.cluster_id is None:
        return []
    return list(session.scalars(select(Item).where(Item.cluster_id == item.cluster_id, Item.id != item.id,
                                                   Item.org_id == item.org_id)
                                .order_by(Item.created_at).limit(limit)))


def corrections(session: Session) -> list[dict]:
    """Every monitor correction as training rows for `loa train` (later ones win per text)."""
    latest: dict[str, dict] = {}
    for c in session.scalars(select(LabelCorrection).order_by(LabelCorrection.id)):
        latest.setdefault(c.text, {"text": c.text}).update(c.labels)
    return list(latest.values())


def on_duty_monitors(session: Session, org_ids: Sequence[int]) -> list[User]:
    """Monitors on duty in these organisations; all their monitors when nobody is marked on duty."""
    base = (select(User).join(Membership, Membership.user_id == User.id)
            .where(Membership.org_id.in_(org_ids), Membership.role == Role.monitor, User.is_active.is_(True)))
    on_duty = list(session.scalars(base.where(Membership.on_duty.is_(True)).distinct()))
    return on_duty or list(session.scalars(base.distinct()))
