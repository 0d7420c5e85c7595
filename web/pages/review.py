"""The monitors' review queue and an item's detail, with the monitors' actions.

Every action is a plain form POST (works without JavaScript: 303 back with a message) and, from
``review.js`` via ``loaFetch``, answers JSON ``{ok, message, status}``. Items of organisations
outside the viewer's desk answer 404 exactly like missing ones, and forged posts change nothing.
Public text (comments, messages, articles) is untrusted and always rendered escaped.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import or_, select

from classifiers.labels import HEAD_NAMES_VI, HEADS, LABEL_NAMES_VI
from common.errors import InvalidInput, NotFound, ServiceError
from db.models import (Channel, Cluster, Item, ItemSource, Membership, Organisation, Post, PostTarget, ReviewStatus,
                       User)
from domain import audit, opinion, replies
from domain.access import visible_org_ids
from domain.review_queue import COUNT_CAP, queue_page
from domain.scheduling import to_utc
from web.errors import STATUS
from web.pages.kit import Viewer, page_router, redirect, render, rt, viewer

router = page_router()
PER_PAGE = 50
ACTIONS = {"confirm": (opinion.confirm, "Đã xác nhận mục #{id}."),
           "dismiss": (opinion.dismiss, "Đã bỏ qua mục #{id}."),
           "escalate": (opinion.escalate, "Đã báo cáo cấp trên mục #{id}."),
           "reopen": (opinion.reopen, "Đã mở lại mục #{id}.")}
STATUS_CHOICES = [("new", "Mới"), ("confirmed", "Đã xác nhận"), ("escalated", "Đã báo cáo lên"),
                  ("dismissed", "Bỏ qua"), ("all", "Tất cả")]
SOURCE_CHOICES = [(s.value, s.value) for s in ItemSource]


# --- shared helpers ------------------------------------------------------------------------------

def wants_json(request: Request) -> bool:
    """Scripts (loaFetch) ask for JSON; plain forms get a redirect or a page."""
    return "application/json" in request.headers.get("accept", "")


def http_status(exc: ServiceError) -> int:
    """The status code web/errors.py gives this error."""
    return next(code for cls, code in STATUS if isinstance(exc, cls))


def safe_back(url: str | None, default: str) -> str:
    """Only return to our own review pages (never an open redirect)."""
    if url and url.startswith(("/review", "/hot-topics")) and "//" not in url and "\\" not in url:
        return url
    return default


def done(request: Request, v: Viewer, *, message: str, status: str, url: str) -> Response:
    """Success: JSON for scripts, else 303 with a one-time message."""
    if wants_json(request):
        return JSONResponse({"ok": True, "message": message, "status": status})
    return redirect(url, v, flash=message)


def failed(request: Request, v: Viewer, exc: ServiceError, *, item_id: int | None = None) -> Response:
    """A refused action: JSON for scripts, else the item page (or the error page) with the reason."""
    v.session.rollback()
    code = http_status(exc)
    if wants_json(request):
        return JSONResponse({"ok": False, "message": exc.message_vi, "status": None}, status_code=code)
    if item_id is not None and not isinstance(exc, NotFound):
        return detail_page(request, v, item_id, error=exc.message_vi, status_code=code)
    raise exc


def local_day(value: str | None, tz: str, *, end: bool = False) -> datetime | None:
    """A YYYY-MM-DD date field as a UTC instant (start of that day in Hà Nội, or of the next day)."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("Ngày không đúng định dạng (năm-tháng-ngày).", field="date") from None
    if end:
        day += timedelta(days=1)
    return to_utc(datetime(day.year, day.month, day.day), tz)


def label_vi(value: str | None) -> str:
    return LABEL_NAMES_VI.get(value, value) if value else "—"


# --- the queue -----------------------------------------------------------------------------------

@router.get("/review", response_class=HTMLResponse)
def review_queue(request: Request, org: str = "", source: str = "", risk: str = "", topic: str = "",
                 status: str = "new", mine: str = "", date_from: str = "", date_to: str = "", q: str = "",
                 sort: str = "risk", page: int = 1, v: Viewer = Depends(viewer)) -> HTMLResponse:
    s, user = v.session, v.user
    desk = opinion.desk_org_ids(s, user)
    filters = {"org": org, "source": source, "risk": risk, "topic": topic, "status": status, "mine": mine,
               "date_from": date_from, "date_to": date_to, "q": q.strip()[:200], "sort": sort}
    error, result = None, None
    if desk:
        try:
            f = opinion.QueueFilter(
                org_id=int(org) if org.isdigit() else None,
                source=ItemSource(source) if source in ItemSource.__members__ else None,
                risk=risk if risk in HEADS["risk"] else None, topic=topic if topic in HEADS["topic"] else None,
                status=ReviewStatus(status) if status in ReviewStatus.__members__ else None,
                assignee_id=user.id if mine else None,
                date_from=local_day(date_from, rt(request).timezone),
                date_to=local_day(date_to, rt(request).timezone, end=True),
                sort="time" if sort == "time" else "risk")
            result = queue_page(s, user, f, page=max(1, min(page, 10_000)), per_page=PER_PAGE,
                                text=filters["q"] or None, desk=desk)
        except ServiceError as exc:
            error = exc.message_vi
    items = result.items if result else []
    # Light rows (id, name, path, depth) in tree order: a province desk lists hundreds of unions.
    orgs = {o.id: o for o in s.execute(select(Organisation.id, Organisation.name, Organisation.path,
                                              Organisation.depth).where(Organisation.id.in_(desk))
                                       .order_by(Organisation.path))} if desk else {}
    spread = _spreads(s, items)
    users = _users(s, {i.assignee_id for i in items if i.assignee_id})
    query = urlencode({k: val for k, val in filters.items() if val})
    return render(request, "review.html", v, items=items, result=result, filters=filters, orgs=orgs,
                  spread=spread, users=users, error=error, page=page, count_cap=COUNT_CAP,
                  base_url=f"/review?{query}&" if query else "/review?", back=request.url.path + (
                      f"?{request.url.query}" if request.url.query else ""),
                  labels=opinion.effective_labels, heads=HEADS, label_vi=label_vi,
                  status_choices=STATUS_CHOICES, assignees=_desk_people(s, desk), desk=desk)


def _spreads(s, items: list[Item]) -> dict[int, int]:  # noqa: ANN001
    """cluster id → spread count, for a page of items (one query)."""
    ids = {i.cluster_id for i in items if i.cluster_id}
    if not ids:
        return {}
    return dict(s.execute(select(Cluster.id, Cluster.size).where(Cluster.id.in_(ids))).all())


def _users(s, ids: set[int]) -> dict[int, User]:  # noqa: ANN001
    return {u.id: u for u in s.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


def _desk_people(s, org_ids: set[int] | list[int]) -> list[User]:  # noqa: ANN001
    """Monitors and admins holding a role in (or above) these organisations: who can be assigned."""
    if not org_ids:
        return []
    # The desk is whole subtrees: its roots' paths cover every organisation in it, and the roots'
    # ancestors are read off those paths (a few ids, however many unions the desk spans).
    paths = sorted(s.scalars(select(Organisation.path).where(Organisation.id.in_(org_ids))))
    roots: list[str] = []
    for path in paths:
        if not any(path.startswith(r) for r in roots):
            roots.append(path)
    above = {int(p) for r in roots for p in r.strip("/").split("/") if p}
    in_desk = or_(*(Organisation.path.startswith(r) for r in roots), Organisation.id.in_(above))
    return list(s.scalars(select(User).join(Membership, Membership.user_id == User.id)
                          .join(Organisation, Organisation.id == Membership.org_id)
                          .where(in_desk, Membership.role.in_(opinion.DESK_ROLES), User.is_active.is_(True))
                          .distinct().order_by(User.email)))


# --- an item -------------------------------------------------------------------------------------

@router.get("/review/{item_id:int}", response_class=HTMLResponse)
def review_item(request: Request, item_id: int, v: Viewer = Depends(viewer)) -> HTMLResponse:
    return detail_page(request, v, item_id)


def detail_page(request: Request, v: Viewer, item_id: int, *, error: str | None = None, status_code: int = 200,
                reply_text: str = "") -> HTMLResponse:
    """The item page: text, labels and explanation, near-duplicates, parent post, notes, replies, history."""
    s, user = v.session, v.user
    item = opinion.get_item(s, user, item_id)
    cluster = s.get(Cluster, item.cluster_id) if item.cluster_id else None
    dups = opinion.near_duplicates(s, item)
    org_ids = {item.org_id} | {d.org_id for d in dups}
    orgs = {o.id: o for o in s.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))}
    notes = opinion.notes(s, item)
    item_replies = replies.replies_of(s, item)
    history = audit.history(s, entity_type="item", entity_id=item.id)
    people = _users(s, {n.user_id for n in notes if n.user_id} | {r.author_id for r in item_replies if r.author_id}
                    | {r.decided_by for r in item_replies if r.decided_by} | ({item.assignee_id} - {None}))
    channel = s.get(Channel, item.channel_id) if item.channel_id else None
    return render(request, "review_item.html", v, status_code=status_code, error=error, item=item,
                  labels=opinion.effective_labels(item), heads=HEADS, head_vi=HEAD_NAMES_VI, label_vi=label_vi,
                  explanation=_explanation(item), cluster=cluster, dups=dups, orgs=orgs,
                  parent=_parent(s, user, item), notes=notes, replies=item_replies, history=history,
                  people=people, assignees=_desk_people(s, [item.org_id]), channel=channel,
                  can_reply=replies.can_reply(item), can_hide=item.source in replies.HIDEABLE and channel is not None,
                  may_approve=replies.may_approve(s, user, item.org_id), reply_text=reply_text,
                  needs_approval=orgs[item.org_id].replies_need_approval)


def _explanation(item: Item) -> list[dict]:
    """Per head: the label, its probability, the probabilities of the others, and the words that drove it."""
    out = []
    proba, expl = item.proba or {}, item.explanation or {}
    labels = opinion.effective_labels(item)
    for head in HEADS:
        probs = proba.get(head) or {}
        ranked = sorted(((k, float(p)) for k, p in probs.items() if isinstance(p, (int, float))),
                        key=lambda kv: -kv[1])
        words = [(str(w), float(sc)) for w, sc in (expl.get(head) or []) if isinstance(sc, (int, float))][:12]
        top = max((abs(sc) for _, sc in words), default=1.0) or 1.0
        out.append({"head": head, "name": HEAD_NAMES_VI[head], "label": labels.get(head),
                    "model_label": getattr(item, head), "human": (item.human_labels or {}).get(head),
                    "proba": ranked, "words": [(w, sc, round(abs(sc) / top * 100)) for w, sc in words]})
    return out


def _parent(s, user: User, item: Item) -> dict | None:  # noqa: ANN001
    """The post the comment was under: a collected post, or one of our own published posts."""
    if not item.parent_external_id:
        return None
    collected = s.scalar(select(Item).where(Item.source == ItemSource.facebook_post,
                                            Item.external_id == item.parent_external_id,
                                            Item.org_id == item.org_id))
    if collected is not None:
        return {"text": collected.text, "title": collected.title, "url": collected.url, "at": collected.created_at,
                "item_id": collected.id, "ours": False}
    row = s.execute(select(Post, PostTarget).join(PostTarget, PostTarget.post_id == Post.id)
                    .where(PostTarget.external_id == item.parent_external_id).limit(1)).first()
    if row is not None and row[0].org_id in visible_org_ids(s, user):
        post, target = row
        return {"text": post.text, "title": post.title, "url": target.external_url, "at": target.published_at,
                "post_id": post.id, "ours": True}
    return {"text": None, "external_id": item.parent_external_id}


# --- actions -------------------------------------------------------------------------------------

def _act(request: Request, v: Viewer, item_id: int, fn, message: str, url: str) -> Response:  # noqa: ANN001
    try:
        item = fn()
        v.session.commit()
    except ServiceError as exc:
        return failed(request, v, exc, item_id=item_id)
    return done(request, v, message=message.format(id=item_id), status=item.review_status.value, url=url)


@router.post("/review/{item_id:int}/relabel")
def relabel(request: Request, item_id: int, risk: str = Form(""), topic: str = Form(""), sentiment: str = Form(""),
            toxicity: str = Form(""), reason: str = Form(""), next: str = Form(""),  # noqa: A002
            v: Viewer = Depends(viewer)) -> Response:
    def run() -> Item:
        item = opinion.get_item(v.session, v.user, item_id)
        current = opinion.effective_labels(item)
        wanted = {"risk": risk, "topic": topic, "sentiment": sentiment, "toxicity": toxicity}
        changes = {h: val for h, val in wanted.items() if val and val != current.get(h)}
        if "toxicity" in changes:
            raise InvalidInput("Mức độc hại do mô hình tự chấm và không sửa tay được; chưa có nhãn nào được lưu.",
                               field="toxicity")
        if not changes:
            raise InvalidInput("Chưa đổi nhãn nào: hãy chọn nhãn mới khác nhãn hiện tại.", field="risk")
        return opinion.relabel(v.session, v.user, item_id, changes, reason.strip()[:2000] or None)

    return _act(request, v, item_id, run, "Đã sửa nhãn mục #{id}; bản sửa được lưu để huấn luyện lại mô hình.",
                safe_back(next, f"/review/{item_id}"))


@router.post("/review/{item_id:int}/assign")
def assign(request: Request, item_id: int, assignee_id: str = Form(""), next: str = Form(""),  # noqa: A002
           v: Viewer = Depends(viewer)) -> Response:
    def run() -> Item:
        target = int(assignee_id) if assignee_id.isdigit() else None
        if assignee_id == "me":
            target = v.user.id
        return opinion.assign(v.session, v.user, item_id, target)

    return _act(request, v, item_id, run, "Đã cập nhật người phụ trách mục #{id}.",
                safe_back(next, f"/review/{item_id}"))


@router.post("/review/{item_id:int}/note")
def add_note(request: Request, item_id: int, text: str = Form(""), v: Viewer = Depends(viewer)) -> Response:
    def run() -> Item:
        opinion.add_note(v.session, v.user, item_id, text)
        return opinion.get_item(v.session, v.user, item_id)

    return _act(request, v, item_id, run, "Đã thêm ghi chú vào mục #{id}.", f"/review/{item_id}#notes")


def _status_route(action: str):  # noqa: ANN202
    fn, message = ACTIONS[action]

    def handler(request: Request, item_id: int, reason: str = Form(""), next: str = Form(""),  # noqa: A002
                v: Viewer = Depends(viewer)) -> Response:
        return _act(request, v, item_id, lambda: fn(v.session, v.user, item_id, reason.strip()[:2000] or None),
                    message, safe_back(next, f"/review/{item_id}"))

    handler.__name__ = f"review_{action}"
    return handler


for _action in ACTIONS:  # confirm, dismiss, escalate (reason required), reopen
    router.add_api_route(f"/review/{{item_id:int}}/{_action}", _status_route(_action), methods=["POST"])


@router.post("/review/bulk")
async def bulk(request: Request, v: Viewer = Depends(viewer)) -> Response:
    form = await request.form()
    ids = list(dict.fromkeys(int(x) for x in form.getlist("ids") if str(x).isdigit()))[:500]
    action = str(form.get("action") or "")
    reason = str(form.get("reason") or "").strip()[:2000] or None
    back = safe_back(str(form.get("next") or ""), "/review")
    return _bulk(request, v, ids, action, reason, str(form.get("assignee_id") or ""), back)


def _bulk(request: Request, v: Viewer, ids: list[int], action: str, reason: str | None, assignee: str,
          back: str) -> Response:
    s, user = v.session, v.user
    if not ids:
        return failed(request, v, InvalidInput("Chưa chọn mục nào."))
    if action == "assign":
        target = user.id if assignee == "me" else (int(assignee) if assignee.isdigit() else None)
        fn = lambda i: opinion.assign(s, user, i, target)  # noqa: E731
    elif action in ACTIONS:
        fn = lambda i: ACTIONS[action][0](s, user, i, reason)  # noqa: E731
    else:
        return failed(request, v, InvalidInput("Thao tác không hợp lệ."))
    ok, errors = [], {}
    for item_id in ids:
        try:
            with s.begin_nested():
                fn(item_id)
            ok.append(item_id)
        except ServiceError as exc:  # each item succeeds or fails on its own
            errors[item_id] = exc.message_vi
    s.commit()
    message = f"Đã xử lý {len(ok)} mục."
    if errors:
        first = next(iter(errors.values()))
        message += f" {len(errors)} mục không thực hiện được (ví dụ: {first})"
    if wants_json(request):
        return JSONResponse({"ok": not errors, "message": message, "status": action, "done": ok,
                             "errors": {str(k): e for k, e in errors.items()}})
    return redirect(back, v, flash=message)
