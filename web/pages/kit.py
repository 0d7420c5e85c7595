"""What every server-rendered page shares: templates, the signed-in viewer, CSRF, flash messages, redirects.

Pages are plain FastAPI routes returning HTML. A page router is built with ``page_router()`` so that every
unsafe request (POST/PUT/PATCH/DELETE) on it must carry the session's CSRF token, either as the form field
``csrf_token`` or as the ``X-CSRF-Token`` header (scripts read it from ``<meta name="csrf-token">``).
Handlers take ``viewer: Viewer = Depends(viewer)``; an anonymous visitor is sent to the sign-in page.
Errors a person can fix are shown on the page (``ServiceError.message_vi``), never as a stack trace.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.base import utcnow
from db.models import Membership, Organisation, Role, User, WebSession
from domain.scheduling import to_local
from web import auth
from web.deps import WebRuntime, db, runtime
from web.pages.labels import WEEKDAYS_VI, vi

HERE = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class LoginRequired(Exception):
    """No valid session: the app handler redirects to the sign-in page (or answers 401 to scripts)."""

    def __init__(self, next_url: str = "/") -> None:
        self.next_url = next_url


class CsrfFailed(Exception):
    """An unsafe request without the session's CSRF token: answered 403, nothing is changed."""


def _fmt_dt(value: datetime | None, fmt: str = "%H:%M %d/%m/%Y") -> str:
    return to_local(value).strftime(fmt) if value else "—"


def _fmt_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


templates.env.filters["dt"] = _fmt_dt
templates.env.filters["d"] = _fmt_date
templates.env.filters["vi"] = vi
templates.env.globals["WEEKDAYS_VI"] = WEEKDAYS_VI

# Macros of a template imported without ``with context`` ({% import "_macros.html" as m %}) cannot see the
# render's variables: m.csrf() printed an empty token and every such form was refused by a real browser.
# The token of the page being rendered is therefore also a global that reads it from this ContextVar.
_rendering_csrf: ContextVar[str] = ContextVar("rendering_csrf", default="")


class _RenderingCsrf:
    """``{{ csrf_token }}`` where the render's own variable is out of reach (imported macros)."""

    def __str__(self) -> str:
        return _rendering_csrf.get()


templates.env.globals["csrf_token"] = _RenderingCsrf()


@dataclass
class Viewer:
    """The signed-in user of this request, with their roles per organisation."""

    user: User
    web_session: WebSession
    session: Session
    memberships: list[tuple[Role, Organisation]] = field(default_factory=list)

    @property
    def csrf_token(self) -> str:
        return self.web_session.csrf_token

    @property
    def roles(self) -> set[Role]:
        """Every role the user holds anywhere (for the navigation)."""
        return {role for role, _org in self.memberships}

    def has(self, *roles: Role) -> bool:
        """Whether the user holds any of ``roles`` somewhere."""
        return bool(self.roles & set(roles))

    def flash(self, message: str) -> None:
        """Show ``message`` once on the next page."""
        self.web_session.flash = message[:500]


def viewer(request: Request, session: Session = Depends(db)) -> Viewer:
    """The signed-in viewer, or LoginRequired."""
    loaded = auth.load_session(session, request.cookies.get(auth.COOKIE), now=utcnow())
    if loaded is None:
        session.commit()  # an expired session row is deleted
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target if request.method == "GET" else "/")
    web_session, user = loaded
    memberships = list(session.execute(
        select(Membership.role, Organisation).join(Organisation, Organisation.id == Membership.org_id)
        .where(Membership.user_id == user.id).order_by(Organisation.path)))
    session.commit()
    request.state.csrf_token = web_session.csrf_token
    return Viewer(user=user, web_session=web_session, session=session, memberships=memberships)


async def csrf_protect(request: Request, session: Session = Depends(db)) -> None:
    """Refuse unsafe requests that do not echo the session's CSRF token."""
    if request.method not in UNSAFE:
        return
    given = request.headers.get("x-csrf-token")
    if not given and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        given = (await request.form()).get("csrf_token")
    loaded = auth.load_session(session, request.cookies.get(auth.COOKIE), now=utcnow())
    if loaded is None:
        raise LoginRequired("/")
    if not auth.tokens_match(loaded[0].csrf_token, given if isinstance(given, str) else None):
        raise CsrfFailed()


def page_router(**kwargs: object) -> APIRouter:
    """A router for HTML pages: hidden from the OpenAPI schema and CSRF-protected."""
    return APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)], **kwargs)


def render(request: Request, template: str, viewer: Viewer | None = None, *, status_code: int = 200,
           **context: object) -> HTMLResponse:
    """Render ``template`` with the viewer, its CSRF token, the navigation and a pending flash message."""
    flash = None
    if viewer is not None and viewer.web_session.flash:
        flash, viewer.web_session.flash = viewer.web_session.flash, None
        viewer.session.commit()
    csrf_token = viewer.csrf_token if viewer else str(context.pop("csrf_token", ""))
    reset = _rendering_csrf.set(csrf_token)
    try:  # Starlette renders the template right here, inside the response's constructor
        return templates.TemplateResponse(request, template, {
            "viewer": viewer, "csrf_token": csrf_token, "flash": flash, "Role": Role, "path": request.url.path,
            **context}, status_code=status_code)
    finally:
        _rendering_csrf.reset(reset)


def redirect(url: str, viewer: Viewer | None = None, flash: str | None = None) -> RedirectResponse:
    """303 See Other to ``url`` (after a form), optionally with a one-time message."""
    if viewer is not None and flash:
        viewer.flash(flash)
        viewer.session.commit()
    return RedirectResponse(url, status_code=303)


def login_url(next_url: str) -> str:
    """The sign-in page, returning to ``next_url`` afterwards."""
    return "/login" if next_url in ("", "/") else f"/login?next={quote(next_url, safe='')}"


def rt(request: Request) -> WebRuntime:
    """The app's runtime (settings, cipher, platform clients)."""
    return runtime(request)
