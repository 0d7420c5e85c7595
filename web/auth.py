"""Browser sign-in sessions: a random cookie token (only its SHA-256 is stored), idle and absolute expiry,
and a per-session CSRF token that every form and every script request must echo."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.models import User, WebSession

COOKIE = "loa_session"
# Double-submit cookie protecting the sign-in form itself (there is no session yet).
LOGIN_CSRF_COOKIE = "loa_login_csrf"
IDLE = timedelta(hours=12)
ABSOLUTE = timedelta(days=7)
TOUCH_EVERY = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, *, user: User, user_agent: str | None, now: datetime) -> str:
    """Open a session for ``user``; returns the cookie value (shown once, stored hashed)."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_digest(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                           created_at=now, last_seen_at=now, expires_at=now + IDLE,
                           user_agent=(user_agent or "")[:255] or None))
    session.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at < now))
    session.flush()
    return token


def load_session(session: Session, token: str | None, *, now: datetime) -> tuple[WebSession, User] | None:
    """The live session and its active user for a cookie value, sliding its idle expiry."""
    if not token or len(token) > 128:
        return None
    row = session.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                          .where(WebSession.token_hash == _digest(token))).first()
    if row is None:
        return None
    web_session, user = row
    if web_session.expires_at <= now or not user.is_active:
        session.delete(web_session)
        session.flush()
        return None
    if now - web_session.last_seen_at >= TOUCH_EVERY:
        web_session.last_seen_at = now
        web_session.expires_at = min(web_session.created_at + ABSOLUTE, now + IDLE)
        session.flush()
    return web_session, user


def end_session(session: Session, token: str | None) -> None:
    """Sign out this browser."""
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))


def end_all_sessions(session: Session, *, user_id: int) -> int:
    """Sign a user out everywhere (password change, deactivation)."""
    return session.execute(delete(WebSession).where(WebSession.user_id == user_id)).rowcount or 0


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of CSRF tokens."""
    return bool(expected) and bool(given) and secrets.compare_digest(str(expected), str(given))


def safe_next(url: str | None) -> str:
    """A same-site path to return to after sign-in (never another host)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url or len(url) > 500:
        return "/"
    return url
