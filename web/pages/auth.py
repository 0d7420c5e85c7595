"""Sign-in and sign-out."""

from __future__ import annotations

import secrets

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from common.errors import ServiceError
from db.base import utcnow
from domain import accounts
from web import auth
from web.deps import db
from web.pages.kit import Viewer, redirect, render, rt, templates, viewer
from fastapi import APIRouter

# Not a page_router(): there is no session yet, so the sign-in form uses a double-submit cookie instead.
router = APIRouter(include_in_schema=False)


def _secure(request: Request) -> bool:
    setting = rt(request).settings.cookie_secure if rt(request).settings else None
    return request.url.scheme == "https" if setting is None else bool(setting)


def _login_page(request: Request, *, next_url: str, email: str = "", error: str | None = None,
                status_code: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", None, status_code=status_code, csrf_token=token,
                      next_url=auth.safe_next(next_url), email=email, error=error)
    response.set_cookie(auth.LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request),
                        path="/login", max_age=3600)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002
    return _login_page(request, next_url=next)


@router.post("/login")
def login(request: Request, email: str = Form(""), password: str = Form(""), csrf_token: str = Form(""),
          next: str = Form("/"), session: Session = Depends(db)) -> Response:  # noqa: A002
    if not auth.tokens_match(request.cookies.get(auth.LOGIN_CSRF_COOKIE), csrf_token):
        return _login_page(request, next_url=next, email=email, status_code=403,
                           error="Phiên đăng nhập đã hết hạn. Vui lòng nhập lại.")
    ip = request.client.host if request.client else "?"
    try:
        user = accounts.authenticate(session, email=email, password=password, ip=ip, now=utcnow())
    except ServiceError as exc:
        session.commit()  # the failure counts towards the throttle
        return _login_page(request, next_url=next, email=email, error=exc.message_vi,
                           status_code=429 if exc.code == "throttled" else 401)
    token = auth.start_session(session, user=user, user_agent=request.headers.get("user-agent"), now=utcnow())
    session.commit()
    response = RedirectResponse(auth.safe_next(next), status_code=303)
    response.set_cookie(auth.COOKIE, token, httponly=True, samesite="lax", secure=_secure(request),
                        max_age=int(auth.ABSOLUTE.total_seconds()), path="/")
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, session: Session = Depends(db)) -> Response:
    token = request.cookies.get(auth.COOKIE)
    loaded = auth.load_session(session, token, now=utcnow())
    form = await request.form()
    if loaded is not None and not auth.tokens_match(loaded[0].csrf_token, form.get("csrf_token")):
        return RedirectResponse("/", status_code=303)  # a forged cross-site sign-out changes nothing
    auth.end_session(session, token)
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.COOKIE, path="/")
    return response


__all__ = ["router", "Viewer", "viewer", "redirect", "templates"]
