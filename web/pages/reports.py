"""Reports: the organisation's plan targets (chỉ tiêu) measured to date, and the 6-month / annual report
exported as Excel or PDF (the same files `loa report` writes)."""

from __future__ import annotations

from datetime import date

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from common.errors import InvalidInput, ServiceError
from db.base import utcnow
from db.models import Organisation
from domain.access import visible_org_ids
from domain.periods import Period, parse_date
from domain.reports import MEDIA_TYPES, export
from domain.scheduling import to_local
from domain.targets import MET, NOT_MET, measure_all
from web.pages.kit import Viewer, page_router, render, viewer

router = page_router()
STATUS_CLASS = {MET: "published", NOT_MET: "failed"}


def _presets(today: date) -> list[tuple[str, date, date]]:
    """The periods a federation reports on: this and last half-year, this and last year."""
    y = today.year
    half = [(f"6 tháng đầu năm {y}", date(y, 1, 1), date(y, 6, 30)),
            (f"6 tháng cuối năm {y}", date(y, 7, 1), date(y, 12, 31))]
    return [*half, (f"Cả năm {y}", date(y, 1, 1), date(y, 12, 31)),
            (f"6 tháng cuối năm {y - 1}", date(y - 1, 7, 1), date(y - 1, 12, 31)),
            (f"Cả năm {y - 1}", date(y - 1, 1, 1), date(y - 1, 12, 31))]


def _orgs(v: Viewer) -> list[Organisation]:
    ids = visible_org_ids(v.session, v.user)
    if not ids:
        return []
    return list(v.session.scalars(select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.path)))


def _period(start: str, end: str) -> Period:
    period = Period(parse_date(start, field="from"), parse_date(end, field="to"))
    if period.days > 2 * 366:
        raise InvalidInput("Kỳ báo cáo dài tối đa 2 năm.")
    return period


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, org: int | None = None, v: Viewer = Depends(viewer)) -> HTMLResponse:
    orgs = _orgs(v)
    today = to_local(utcnow()).date()
    chosen = next((o for o in orgs if o.id == org), orgs[0] if orgs else None)
    results, error = [], None
    if chosen is not None:
        try:
            results = measure_all(v.session, chosen.id, as_of=today)
        except ServiceError as exc:
            error = exc.message_vi
    return render(request, "reports.html", v, orgs=orgs, chosen=chosen, results=results, error=error,
                  presets=_presets(today), status_class=STATUS_CLASS)


@router.get("/reports/download")
async def download(request: Request, org: int, start: str, end: str, format: str = "xlsx",  # noqa: A002
                   v: Viewer = Depends(viewer)) -> Response:
    if format not in MEDIA_TYPES:
        raise InvalidInput("Định dạng phải là xlsx hoặc pdf.")
    if org not in visible_org_ids(v.session, v.user):
        from common.errors import NotFound

        raise NotFound("Không tìm thấy tổ chức này.")
    period = _period(start, end)
    # Charts and the workbook take a moment: off the event loop.
    content, name, media_type = await run_in_threadpool(export, v.session, org, period, format)
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
