"""One page of the monitors' review queue, fast on millions of items.

Same filters and tenant rule as ``domain.opinion.queue`` (which the JSON API uses), with three
changes for the web page's latency goal:

- the total is counted only up to ``count_cap`` (the page says "hơn 1.000 mục"), never COUNT(*)
  over every flagged item on each page view;
- "riskiest first" walks ``ix_items_flagged_risk`` (flagged, risk_score, created_at, id) in order and
  "newest first" ``ix_items_flagged_time`` (flagged, created_at, id), filtering by organisation on the way, so a provincial desk
  over hundreds of unions reads a few hundred index entries, never sorts every flagged item; a small
  desk (one union) is answered from ``ix_items_queue`` / ``ix_items_queue_time`` instead: the planner
  picks by selectivity;
- only ids are paged; the rows are then loaded by primary key.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, text as sql_text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from classifiers.labels import HEADS
from common.errors import InvalidInput
from db.models import Item
from domain.opinion import QueueFilter, desk_org_ids

COUNT_CAP = 1000
# Counting matches for the "N mục" line gets this long on PostgreSQL (and is not tried when finding
# the page itself took half of it); past it the page says "ít nhất N mục" (N = what is known from
# the pages seen) rather than keep the monitor waiting.
COUNT_BUDGET_MS = 50
# Searching inside the text uses the pg_trgm GIN index (ix_items_text_trgm, migration 0003); a
# pattern too short or too common for it to help gets this long, then the page asks to narrow the search.
SEARCH_TIMEOUT_MS = 1500


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
               text: str | None = None, count_cap: int = COUNT_CAP, desk: set[int] | None = None) -> QueuePage:
    """Items for the desk, filtered and sorted; other organisations' items never appear.

    ``desk`` is ``desk_org_ids(session, user)`` when the caller already has it.
    """
    orgs = set(desk) if desk is not None else desk_org_ids(session, user)
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
    order = ((Item.risk_score.desc(), Item.created_at.desc(), Item.id.desc()) if f.sort == "risk"
             else (Item.created_at.desc(), Item.id.desc()))
    started = time.perf_counter()
    ids = list(session.scalars(select(Item.id).where(*conds).order_by(*order).offset(offset).limit(per_page + 1)))
    page_ms = (time.perf_counter() - started) * 1000
    has_next = len(ids) > per_page
    ids = ids[:per_page]
    rows = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(ids)))} if ids else {}
    known = offset + len(ids) + (1 if has_next else 0)  # at least this many match
    if has_next or (offset and not ids):
        # Filters so selective that finding one page was slow make counting slower still: skip it.
        counted = None if pg and page_ms > COUNT_BUDGET_MS / 2 else _count(session, conds, count_cap=count_cap, pg=pg)
        if counted is None:  # over the time budget: say what is known
            return QueuePage([rows[i] for i in ids if i in rows], known, True, has_next)
    else:  # the last page: the total is known without counting
        counted = offset + len(ids)
    capped = counted > count_cap
    return QueuePage([rows[i] for i in ids if i in rows], count_cap if capped else counted, capped, has_next)


def _count(session: Session, conds: list, *, count_cap: int, pg: bool) -> int | None:
    """Matches up to ``count_cap`` + 1, or None when PostgreSQL needs longer than COUNT_BUDGET_MS."""
    stmt = select(func.count()).select_from(select(Item.id).where(*conds).limit(count_cap + 1).subquery())
    if not pg:
        return session.scalar(stmt) or 0
    savepoint = session.begin_nested()  # a cancelled statement only rolls back to here (and its SET LOCAL)
    try:
        session.execute(sql_text(f"SET LOCAL statement_timeout = {COUNT_BUDGET_MS}"))
        counted = session.scalar(stmt) or 0
    except OperationalError as exc:
        savepoint.rollback()
        if getattr(exc.orig, "sqlstate", None) != "57014":  # query_canceled
            raise
        return None
    session.execute(sql_text("SET LOCAL statement_timeout = 0"))
    savepoint.commit()
    return counted
