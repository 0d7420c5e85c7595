"""Request-scoped dependencies: the database session, the signed-in user, the app's runtime."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from common.crypto import CredentialCipher
from db.models import User
from domain.orgs import user_for_token

bearer = HTTPBearer(auto_error=False, description="Mã API cá nhân: `loa user token EMAIL` tạo mã mới.")


@dataclass
class WebRuntime:
    """What the web app needs, built once by create_app."""

    factory: sessionmaker[Session]
    cipher: CredentialCipher
    clients: object  # ClientFactory: used only to check a token when a channel is connected
    media_dir: Path
    max_photo_bytes: int
    timezone: str
    settings: object = None  # common.settings.Settings (webhook secrets, salt)


def runtime(request: Request) -> WebRuntime:
    """The app's runtime."""
    return request.app.state.runtime


def db(rt: WebRuntime = Depends(runtime)) -> Iterator[Session]:
    """One session per request; handlers commit their writes explicitly."""
    session = rt.factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def current_user(creds: HTTPAuthorizationCredentials | None = Depends(bearer), session: Session = Depends(db)) -> User:
    """The user owning the bearer token, or 401."""
    if creds is None or not creds.credentials:
        raise HTTPException(401, headers={"WWW-Authenticate": "Bearer"})
    user = user_for_token(session, creds.credentials)
    if user is None:
        raise HTTPException(401, headers={"WWW-Authenticate": "Bearer"})
    return user
