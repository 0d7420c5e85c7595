"""Hot topics: the list of active and recent topics, and one topic with its volume chart.

Only topics of organisations the viewer can see are listed (a topic of the whole system, scope
"all", only for people who see every organisation). Representative items are public text: shown
escaped, linked to the review page when the viewer works on that organisation's desk.
The chart is an inline SVG drawn on the server (no script), with a table for screen readers.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, or_, select

from common.errors import NotFound
from db.base import utcnow
from db.models import HotTopic, HotTopicPoint, Item, Organisation
from domain import opinion
from domain.access import visible_org_ids
from domain.scheduling import to_local
from domain.trends.entities import ADMIN_HEADS, PROVINCES
from web.pages.kit import Viewer, page_router, render, viewer
from web.pages.review import label_vi

router = page_router()
RECENT_DAYS = 14
LIST_LIMIT = 100
CHART_W, CHART_H, PAD_L, PAD_R, PAD_T, PAD_B = 720, 240, 44, 12, 14, 40
_PLACE_PREFIXES = tuple(" ".join(h) for h in ADMIN_HEADS) + ("tp.", "tp ")
_PROVINCES = {p.casefold() for p in PROVINCES}


def _scope(session, user):  # noqa: ANN001, ANN202
    """WHERE clause for the topics the user may see."""
    visible = visible_org_ids(session, user)
    everything = visible and len(visible) >= (session.scalar(select(func.count()).select_from(Organisation)) or 0)
    cond = HotTopic.org_id.in_(visible) if visible else HotTopic.id.is_(None)
    return or_(cond, HotTopic.org_id.is_(None)) if everything else cond


@router.get("/hot-topics", response_class=HTMLResponse)
def hot_topics(request: Request, show: str = "", v: Viewer = Depends(viewer)) -> HTMLResponse:
    s = v.session
    since = utcnow() - timedelta(days=RECENT_DAYS)
    stmt = select(HotTopic).where(_scope(s, v.user))
    if show == "active":
        stmt = stmt.where(HotTopic.ended_at.is_(None))
    else:
        stmt = stmt.where(or_(HotTopic.ended_at.is_(None), HotTopic.last_seen_at >= since))
    topics = list(s.scalars(stmt.order_by(HotTopic.ended_at.is_not(None), HotTopic.last_seen_at.desc())
                            .limit(LIST_LIMIT)))
    orgs = _org_names(s, {t.org_id for t in topics if t.org_id})
    return render(request, "hot_topics.html", v, topics=topics, orgs=orgs, show=show, split=split_entities,
                  recent_days=RECENT_DAYS)


@router.get("/hot-topics/{topic_id:int}", response_class=HTMLResponse)
def hot_topic(request: Request, topic_id: int, v: Viewer = Depends(viewer)) -> HTMLResponse:
    s, user = v.session, v.user
    topic = s.scalar(select(HotTopic).where(HotTopic.id == topic_id, _scope(s, user)))
    if topic is None:
        raise NotFound("Không tìm thấy điểm nóng này.", topic_id=topic_id)
    points = list(s.scalars(select(HotTopicPoint).where(HotTopicPoint.hot_topic_id == topic.id)
                            .order_by(HotTopicPoint.at)))
    rep_ids = [int(i) for i in topic.representative_ids or [] if str(i).isdigit()][:20]
    visible = visible_org_ids(s, user)
    reps = list(s.scalars(select(Item).where(Item.id.in_(rep_ids), Item.org_id.in_(visible)))) if rep_ids else []
    reps.sort(key=lambda i: rep_ids.index(i.id))
    desk = opinion.desk_org_ids(s, user)
    orgs = _org_names(s, {topic.org_id} | {i.org_id for i in reps} - {None})
    return render(request, "hot_topic.html", v, topic=topic, points=points, chart=chart(points), reps=reps,
                  desk=desk, orgs=orgs, entities=split_entities(topic.entities), labels=opinion.effective_labels,
                  label_vi=label_vi)


def _org_names(s, ids: set) -> dict[int, str]:  # noqa: ANN001
    ids = {i for i in ids if i}
    return dict(s.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all()) \
        if ids else {}


def split_entities(entities: list | None) -> dict[str, list[str]]:
    """Names mentioned, split into organisations (companies, industrial parks…) and places."""
    out: dict[str, list[str]] = {"orgs": [], "places": []}
    for name in entities or []:
        if not isinstance(name, str) or not name.strip():
            continue
        folded = name.casefold()
        is_place = folded in _PROVINCES or folded.startswith(_PLACE_PREFIXES)
        out["places" if is_place else "orgs"].append(name)
    return out


def chart(points: list[HotTopicPoint]) -> dict | None:
    """Geometry of the volume chart: bars of item counts and a line of the baseline, with Hà Nội times."""
    if not points:
        return None
    inner_w, inner_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B
    top = max(max(p.count for p in points), max(p.baseline for p in points), 1)
    step = inner_w / len(points)
    bar_w = max(1.0, step * 0.7)

    def y(value: float) -> float:
        return round(PAD_T + inner_h - (value / top) * inner_h, 1)

    bars, line = [], []
    for n, p in enumerate(points):
        x = PAD_L + n * step
        local = to_local(p.at)
        bars.append({"x": round(x + (step - bar_w) / 2, 1), "y": y(p.count), "w": round(bar_w, 1),
                     "h": round(PAD_T + inner_h - y(p.count), 1), "count": p.count,
                     "label": local.strftime("%H:%M %d/%m"), "baseline": round(p.baseline, 1)})
        line.append(f"{round(x + step / 2, 1)},{y(p.baseline)}")
    every = max(1, len(points) // 6)
    ticks = [{"x": round(PAD_L + n * step + step / 2, 1), "time": to_local(p.at).strftime("%H:%M"),
              "day": to_local(p.at).strftime("%d/%m")} for n, p in enumerate(points) if n % every == 0]
    y_ticks = [{"y": y(v), "value": v} for v in sorted({0, round(top / 2), round(top)})]
    peak = max(points, key=lambda p: p.count)
    return {"w": CHART_W, "h": CHART_H, "left": PAD_L, "right": CHART_W - PAD_R, "bottom": PAD_T + inner_h,
            "top": PAD_T, "bars": bars, "line": " ".join(line), "ticks": ticks, "y_ticks": y_ticks,
            "peak": peak.count, "peak_at": to_local(peak.at).strftime("%H:%M %d/%m/%Y"),
            "first": to_local(points[0].at).strftime("%H:%M %d/%m/%Y"),
            "last": to_local(points[-1].at).strftime("%H:%M %d/%m/%Y")}
