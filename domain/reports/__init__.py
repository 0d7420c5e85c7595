"""The 6-month and annual communication reports: figures (``data``), Excel (``xlsx``) and PDF (``pdf``)."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

from sqlalchemy.orm import Session

from domain.periods import Period
from domain.reports.data import ReportData, gather_report
from domain.reports.pdf import write_pdf
from domain.reports.xlsx import write_xlsx

MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


def export(session: Session, org_id: int, period: Period, fmt: str, *,
           now: datetime | None = None) -> tuple[bytes, str, str]:
    """(content, file name, media type) of one report: what a download route (web app) sends back."""
    if fmt not in MEDIA_TYPES:
        raise ValueError(fmt)
    data = gather_report(session, org_id, period, now=now)
    buf = BytesIO()
    (write_xlsx if fmt == "xlsx" else write_pdf)(data, buf)
    name = f"bao-cao-{org_id}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{fmt}"
    return buf.getvalue(), name, MEDIA_TYPES[fmt]


__all__ = ["MEDIA_TYPES", "ReportData", "export", "gather_report", "write_pdf", "write_xlsx"]
