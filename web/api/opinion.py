"""The opinion desk's API: the review queue, an item's detail, monitors' actions, hot topics, feeds."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, HttpUrl
from sqlalchemy import select
from sqlalchemy.orm import Session

from classifiers.labels import LABEL_NAMES_VI
from common.errors import Conflict, InvalidInput, NotFound, ServiceError
from db.models import (Alert, AlertStatus, Cluster, Feed, HotTopic, HotTopicPoint, Item, ItemSource, ReviewStatus,
                       Role, User)
from domain import access, audit, opinion
from collectors.feed_fetch import is_internal_host
from domain.scheduling import to_utc
from web.deps import WebRuntime, current_user, db, runtime
from web.errors import API_ERRORS
from web.schemas import AuditRead, Strict

router = APIRouter(prefix="/api", tags=["dư luận"], responses=API_ERRORS)


# --- Bodies ---------------------------------------------------------------------------------------

class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    source: ItemSource
    org_id: int
    channel_id: int | None
    feed_id: int | None
    external_id: str
    parent_external_id: str | None
    title: str | None
    text: str
    url: str | None
    created_at: datetime
    collected_at: datetime
    risk: str | None
    topic: str | None
    sentiment: str | None
    toxicity: str | None
    risk_score: float
    flagged: bool
    human_labels: dict | None
    review_status: ReviewStatus
    assignee_id: int | None
    cluster_id: int | None
    labels: dict = {}
    labels_vi: dict = {}


class ItemPage(BaseModel):
    items: list[ItemRead]
    total: int


class NoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    user_id: int | None
    text: str
    created_at: datetime


class ItemDetail(ItemRead):
    proba: dict | None
    explanation: dict | None
    model_version: str | None
    spread: int = 1
    near_duplicates: list[ItemRead] = []
    parent: ItemRead | None = None
    notes: list[NoteRead] = []
    history: list[AuditRead] = []


class Reason(Strict):
    reason: str | None = Field(None, max_length=2000)


class Relabel(Strict):
    risk: str | None = None
    topic: str | None = None
    sentiment: str | None = None
    reason: str | None = Field(None, max_length=2000)


class Assign(Strict):
    assignee_id: int | None


class NoteCreate(Strict):
    text: str = Field(min_length=1, max_length=5000)


class BulkAction(Strict):
    ids: list[int] = Field(min_length=1, max_length=500)
    action: Literal["confirm", "dismiss", "escalate", "reopen"]
    reason: str | None = Field(None, max_length=2000)


class BulkResult(BaseModel):
    done: list[int]
    errors: dict[int, str]


class HotTopicRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    scope: str
    org_id: int | None
    key: str
    label: str
    keywords: list
    entities: list
    started_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None
    peak_score: float
    item_count: int


class PointRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    at: datetime
    count: int
    baseline: float
    score: float


class HotTopicDetail(HotTopicRead):
    points: list[PointRead] = []
    representatives: list[ItemRead] = []


class FeedCreate(Strict):
    url: HttpUrl
    name: str = Field("", max_length=255)
    interval_s: int = Field(900, ge=60, le=86400)


class FeedRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_id: int
    url: str
    name: str
    interval_s: int
    enabled: bool
    last_fetched_at: datetime | None
    last_error: str | None


class AlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    subject: str
    org_id: int | None
    user_id: int
    title: str
    status: AlertStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def _read(item: Item) -> ItemRead:
    out = ItemRead.model_validate(item)
    out.labels = opinion.effective_labels(item)
    out.labels_vi = {h: LABEL_NAMES_VI.get(v, v) for h, v in out.labels.items() if v}
    return out


# --- The review queue ----------------------------------------------------------------------------

@router.get("/items", response_model=ItemPage)
def review_queue(
    org_id: int | None = None, source: ItemSource | None = None, risk: str | None = None, topic: str | None = None,
    status: ReviewStatus | None = None, assignee_id: int | None = None, cluster_id: int | None = None,
    date_from: datetime | None = Query(None, description="Từ thời điểm (giờ Việt Nam nếu không ghi múi giờ)"),
    date_to: datetime | None = None, flagged_only: bool = True,
    sort: Literal["risk", "time"] = "risk", limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=10**6),
    user: User = Depends(current_user), session: Session = Depends(db), rt: WebRuntime = Depends(runtime),
) -> ItemPage:
    """Flagged items riskiest (or newest) first, with filters (monitor or administrator)."""
    f = opinion.QueueFilter(
        org_id=org_id, source=source, risk=risk, topic=topic, status=status, assignee_id=assignee_id,
        cluster_id=cluster_id, flagged_only=flagged_only, sort=sort,
        date_from=to_utc(date_from, rt.timezone) if date_from else None,
        date_to=to_utc(date_to, rt.timezone) if date_to else None)
    items, total = opinion.queue(session, user, f, limit=limit, offset=offset)
    return ItemPage(items=[_read(i) for i in items], total=total)


@router.get("/items/{item_id}", response_model=ItemDetail)
def item_detail(item_id: int, user: User = Depends(current_user), session: Session = Depends(db)) -> ItemDetail:
    """One item with the classifier's explanation, its near-duplicates and spread, parent post, notes, audit."""
    item = opinion.get_item(session, user, item_id)
    out = ItemDetail.model_validate(item)
    base = _read(item)
    out.labels, out.labels_vi = base.labels, base.labels_vi
    if item.cluster_id:
        cluster = session.get(Cluster, item.cluster_id)
        out.spread = cluster.size if cluster else 1
    out.near_duplicates = [_read(i) for i in opinion.near_duplicates(session, item)]
    if item.parent_external_id:
        parent = session.scalar(select(Item).where(Item.source == ItemSource.facebook_post,
                                                   Item.external_id == item.parent_external_id,
                                                   Item.org_id == item.org_id))
        out.parent = _read(parent) if parent else None
    out.notes = [NoteRead.model_validate(n) for n in opinion.notes(session, item)]
    out.history = [AuditRead.model_validate(a) for a in audit.history(session, entity_type="item", entity_id=item.id)]
    return out


def _act(action: str, session: Session, user: User, item_id: int, reason: str | None) -> Item:
    fn = {"confirm": opinion.confirm, "dismiss": opinion.dismiss, "escalate": opinion.escalate,
          "reopen": opinion.reopen}[action]
    return fn(session, user, item_id, reason)


@router.post("/items-bulk", response_model=BulkResult)
def bulk_action(body: BulkAction, user: User = Depends(current_user), session: Session = Depends(db)) -> BulkResult:
    """The same action on many items; each succeeds or fails on its own."""
    done, errors = [], {}
    for item_id in dict.fromkeys(body.ids):
        try:
            with session.begin_nested():
                _act(body.action, session, user, item_id, body.reason)
            done.append(item_id)
        except ServiceError as exc:  # not found, wrong state…: reported per item, the others go on
            errors[item_id] = exc.message_vi
    session.commit()
    return BulkResult(done=done, errors=errors)


@router.post("/items/{item_id}/relabel", response_model=ItemRead)
def relabel(item_id: int, body: Relabel, user: User = Depends(current_user), session: Session = Depends(db)) -> ItemRead:
    """Correct the labels; the correction is kept as training data for `loa train`."""
    labels = {h: v for h, v in (("risk", body.risk), ("topic", body.topic), ("sentiment", body.sentiment)) if v}
    item = opinion.relabel(session, user, item_id, labels, body.reason)
    session.commit()
    return _read(item)


@router.post("/items/{item_id}/assign", response_model=ItemRead)
def assign(item_id: int, body: Assign, user: User = Depends(current_user), session: Session = Depends(db)) -> ItemRead:
    """Assign the item to a monitor (or unassign with null)."""
    item = opinion.assign(session, user, item_id, body.assignee_id)
    session.commit()
    return _read(item)


@router.post("/items/{item_id}/notes", response_model=NoteRead, status_code=201)
def add_note(item_id: int, body: NoteCreate, user: User = Depends(current_user), session: Session = Depends(db)):
    """Add a note to an item."""
    note = opinion.add_note(session, user, item_id, body.text)
    session.commit()
    return note


# Declared after relabel/assign/notes: the first route whose path matches wins.
@router.post("/items/{item_id}/{action}", response_model=ItemRead)
def review_action(item_id: int, action: Literal["confirm", "dismiss", "escalate", "reopen"],
                  body: Reason | None = None, user: User = Depends(current_user),
                  session: Session = Depends(db)) -> ItemRead:
    """Confirm, dismiss, escalate (reason required) or reopen an item."""
    item = _act(action, session, user, item_id, body.reason if body else None)
    session.commit()
    return _read(item)


# --- Hot topics ----------------------------------------------------------------------------------

def _visible_topic_filter(session: Session, user: User):  # noqa: ANN202
    """Hot topics of scopes the user's desk covers entirely (a scope is an organisation and its tree)."""
    return HotTopic.org_id.in_(opinion.desk_org_ids(session, user))


@router.get("/hot-topics", response_model=list[HotTopicRead])
def hot_topics(active: bool = True, org_id: int | None = None, limit: int = Query(50, ge=1, le=200),
               user: User = Depends(current_user), session: Session = Depends(db)) -> list:
    """Hot topics the user's desk can see, most recent first."""
    stmt = select(HotTopic).where(_visible_topic_filter(session, user))
    if active:
        stmt = stmt.where(HotTopic.ended_at.is_(None))
    if org_id is not None:
        stmt = stmt.where(HotTopic.org_id == org_id)
    return list(session.scalars(stmt.order_by(HotTopic.last_seen_at.desc()).limit(limit)))


@router.get("/hot-topics/{topic_id}", response_model=HotTopicDetail)
def hot_topic_detail(topic_id: int, user: User = Depends(current_user), session: Session = Depends(db)) -> HotTopicDetail:
    """A hot topic with its volume over time and representative items."""
    topic = session.scalar(select(HotTopic).where(HotTopic.id == topic_id, _visible_topic_filter(session, user)))
    if topic is None:
        raise NotFound("Không tìm thấy chủ đề nóng.", topic_id=topic_id)
    out = HotTopicDetail.model_validate(topic)
    out.points = [PointRead.model_validate(p) for p in session.scalars(
        select(HotTopicPoint).where(HotTopicPoint.hot_topic_id == topic.id).order_by(HotTopicPoint.at))]
    orgs = opinion.desk_org_ids(session, user)
    reps = session.scalars(select(Item).where(Item.id.in_([int(i) for i in topic.representative_ids]),
                                              Item.org_id.in_(orgs)))
    out.representatives = [_read(i) for i in reps]
    return out


# --- Feeds and alerts ----------------------------------------------------------------------------

@router.get("/orgs/{org_id}/feeds", response_model=list[FeedRead])
def list_feeds(org_id: int, user: User = Depends(current_user), session: Session = Depends(db)) -> list:
    """Feeds an organisation follows, with their last error."""
    org = access.get_visible_org(session, user, org_id)
    return list(session.scalars(select(Feed).where(Feed.org_id == org.id).order_by(Feed.id)))


@router.post("/orgs/{org_id}/feeds", response_model=FeedRead, status_code=201)
def add_feed(org_id: int, body: FeedCreate, user: User = Depends(current_user), session: Session = Depends(db),
             rt: WebRuntime = Depends(runtime)) -> Feed:
    """Follow an RSS/Atom feed (monitor or administrator)."""
    org = access.get_visible_org(session, user, org_id)
    access.require_role(session, user, org, Role.monitor, Role.admin)
    url = str(body.url)
    if len(url) > 2048:
        raise InvalidInput("Địa chỉ nguồn tin quá dài (tối đa 2.048 ký tự).", field="url")
    if not rt.settings.feeds_allow_private and is_internal_host(body.url.host or ""):
        raise InvalidInput("Nguồn tin trỏ tới địa chỉ nội bộ (localhost, mạng riêng): không được phép.", field="url")
    feed = session.scalar(select(Feed).where(Feed.org_id == org.id, Feed.url == url))
    if feed is not None and feed.enabled:
        raise Conflict("Tổ chức đã theo dõi nguồn tin này.")
    if feed is None:
        feed = Feed(org_id=org.id, url=url)
        session.add(feed)
    # Following a feed again after removing it re-enables the same row (its items stay linked).
    feed.name, feed.interval_s, feed.enabled, feed.next_fetch_at = (body.name or url)[:255], body.interval_s, True, None
    session.flush()
    audit.record(session, entity_type="feed", entity_id=feed.id, action="created", actor=user, org_id=org.id,
                 to_state="enabled", data={"url": url})
    session.commit()
    return feed


@router.delete("/feeds/{feed_id}", status_code=204)
def remove_feed(feed_id: int, user: User = Depends(current_user), session: Session = Depends(db)) -> None:
    """Stop following a feed (its items stay)."""
    feed = session.get(Feed, feed_id)
    if feed is None:
        raise NotFound("Không tìm thấy nguồn tin.", feed_id=feed_id)
    org = access.get_visible_org(session, user, feed.org_id)
    access.require_role(session, user, org, Role.monitor, Role.admin)
    feed.enabled = False
    audit.record(session, entity_type="feed", entity_id=feed.id, action="disabled", actor=user, org_id=org.id,
                 from_state="enabled", to_state="disabled")
    session.commit()


@router.get("/alerts", response_model=list[AlertRead])
def list_alerts(status: AlertStatus | None = None, limit: int = Query(100, ge=1, le=500),
                user: User = Depends(current_user), session: Session = Depends(db)) -> list:
    """Alert emails of the user's desks (e.g. status=failed: ones that could not be delivered)."""
    stmt = select(Alert).where(Alert.org_id.in_(opinion.desk_org_ids(session, user)))
    if status:
        stmt = stmt.where(Alert.status == status)
    return list(session.scalars(stmt.order_by(Alert.id.desc()).limit(limit)))
