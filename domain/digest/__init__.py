"""The weekly leadership digest: figures (``data``), charts and bodies (``render``), sending (``send``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from domain.digest.data import DigestData, gather
from domain.digest.render import RenderedDigest, preview_html, render
from domain.periods import Week


def build_digest(session: Session, org_id: int, week: Week, *, now: datetime | None = None,
                 base_url: str = "") -> RenderedDigest:
    """Gather, draw and render one organisation's digest for one week (nothing is sent or stored)."""
    return render(gather(session, org_id, week, now=now), base_url=base_url)


__all__ = ["DigestData", "RenderedDigest", "Week", "build_digest", "gather", "preview_html", "render"]
