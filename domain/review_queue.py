"""One page of the monitors' review queue, fast on millions of items.

Same filters and tenant rule as ``domain.opinion.queue`` (which the JSON API uses), with three
changes for the web page's latency goal:

- the total is counted only up to ``count_cap`` (the page says "hơn 1.000 mục"), never COUNT(*)
  over every flagged item on each page view;
- on PostgreSQL, "riskiest first" reads each (organisation, status) slice from ``ix_items_queue``
  (org_id, flagged, review_status, risk_score) in index order through a LATERAL join and merges
  the slices, instead of sorting every matching row;
- only ids are paged; the rows are then loaded by primary key.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, String, and_, column, func, or_, select, text as sql_text, true, values
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from classifiers.labels import HEADS
from common.errors import InvalidInput
from db.models import Item, ReviewStatus
from domain.opinion import QueueFilter, desk_org_ids

COUNT_CAP = 1000
# Searching inside the text has no index (a pg_trgm GIN index on items.text would give one):
# on PostgreSQL it gets this long, then the page asks to narrow the search instead of hanging.
SEARCH_TIMEOUT_MS = 1500
# Above this many (organisation, status) slices the plain query is used (a province with
# hundreds of grassroots unions and "every status" would make the merge itself the cost).
MAX_SLICES = 600


@dataclass(frozen=True)
class QueuePage:
    """Items of one page, the (capped) total, and whether a next page exists."""

    items: list[Item]
    total: int
    capped: bool
    has_next: bool


def _label_cond(head: str, value: str):  # noqa: ANN202
    if value not in HEADS[head]:
        raise InvalidInput(f"Nhãn «{value}» không hợp lệ.", field=head)
    human = Item.human_labels[head].as_string()
    # A monitor's relabel wins over the classifier's label.
    return or_(human == value, and_(or_(Item.human_labels.is_(None), human.is_(None)), getattr(Item, head) == value))


def conditions(f: QueueFilter, orgs: set[int], text: str | None = None) -> list:
    """WHERE clauses of the queue (organisation scope included)."""
    conds = [Item.org_id.in_(sorted(orgs)), Item.classified_at.is_not(None)]
    if f.flagged_only:
        conds.append(Item.flagged.is_(True))
    if f.source:
        conds.append(Item.source == f.source)
    if f.risk:
        conds.append(_label_cond("risk", f.risk))
    if f.topic:
        conds.append(_label_cond("topic", f.topic))
    if f.status:
        conds.append(Item.review_status == f.status)
    if f.assignee_id is not None:
        conds.append(Item.assignee_id == f.assignee_id)
    if f.date_from:
        conds.append(Item.created_at >= f.date_from)
    if f.date_to:
        conds.append(Item.created_at < f.date_to)
    if f.cluster_id is not None:
        conds.append(Item.cluster_id == f.cluster_id)
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append(Item.text.ilike(pattern, escape="\\"))
    return conds


def queue_page(session: Session, user, f: QueueFilter, *, page: int = 1, per_page: int = 50,  # noqa: ANN001
               text: str | None = None, count_cap: int = COUNT_CAP) -> QueuePage:
    """Items for the desk, filtered and sorted; other organisations' items never appear."""
    orgs = desk_org_ids(session, user)
    if f.org_id is not None:
        orgs &= {f.org_id}
    if not orgs:
        return QueuePage([], 0, False, False)
    pg = session.get_bind().dialect.name == "postgresql"
    if not (text and pg):
        return _page(session, f, orgs, page=page, per_page=per_page, text=text, count_cap=count_cap, pg=pg)
    session.execute(sql_text(f"SET LOCAL statement_timeout = {SEARCH_TIMEOUT_MS}"))
    try:
        result = _page(session, f, orgs, page=page, per_page=per_page, text=text, count_cap=count_cap, pg=pg)
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != "57014":  # query_canceled
            raise
        session.rollback()
        raise InvalidInput("Tìm trong nội dung mất quá lâu trên toàn bộ dữ liệu; hãy chọn khoảng ngày, tổ chức "
                           "hoặc mức rủi ro để thu hẹp rồi tìm lại.", field="q") from None
    session.execute(sql_text("SET LOCAL statement_timeout = 0"))
    return result


def _page(session: Session, f: QueueFilter, orgs: set[int], *, page: int, per_page: int, text: str | None,
          count_cap: int, pg: bool) -> QueuePage:
    offset = (max(page, 1) - 1) * per_page
    conds = conditions(f, orgs, text)
    statuses = [f.status] if f.status else list(ReviewStatus)
    if pg and f.sort == "risk" and f.flagged_only and len(orgs) * len(statuses) <= MAX_SLICES:
        ids = _riskiest_ids(session, conds, orgs, statuses, offset=offset, limit=per_page + 1)
    else:
        order = ((Item.risk_score.desc(), Item.created_at.desc(), Item.id.desc()) if f.sort == "risk"
                 else (Item.created_at.desc(), Item.id.desc()))
        ids = list(session.scalars(select(Item.id).where(*conds).order_by(*order).offset(offset)
                                   .limit(per_page + 1)))
    has_next = len(ids) > per_page
    ids = ids[:per_page]
    rows = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(ids)))} if ids else {}
    if has_next or (offset and not ids):
        counted = session.scalar(select(func.count()).select_from(
            select(Item.id).where(*conds).limit(count_cap + 1).subquery())) or 0
    else:  # the last page: the total is known without counting
        counted = offset + len(ids)
    return QueuePage([rows[i] for i in ids if i in rows], min(counted, count_cap), counted > count_cap, has_next)


def _riskiest_ids(session: Session, conds: list, orgs: set[int], statuses: list[ReviewStatus], *,
                  offset: int, limit: int) -> list[int]:
    """Merge per-(organisation, status) top slices read in ``ix_items_queue`` order."""
    want = offset + limit
    slices = values(column("o", Integer), column("s", String), name="slices").data(
        [(o, s.value) for o in sorted(orgs) for s in statuses])
    top = (select(Item.id, Item.risk_score, Item.created_at)
           .where(Item.org_id == slices.c.o, Item.flagged.is_(True), Item.review_status == slices.c.s, *conds)
           .order_by(Item.risk_score.desc(), Item.created_at.desc(), Item.id.desc()).limit(want).lateral("top"))
    stmt = (select(top.c.id).select_from(slices).join(top, true())
            .order_by(top.c.risk_score.desc(), top.c.created_at.desc(), top.c.id.desc()).offset(offset).limit(limit))
    return list(session.scalars(stmt))
