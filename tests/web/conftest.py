from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from common.settings import Settings
from db.models import User
from db.session import session_scope
from domain.orgs import issue_token
from publishers.fake import FakeClientFactory


@pytest.fixture
def settings(pg_url, secret_key, tmp_path):
    return Settings(database_url=pg_url, secret_keys=SecretStr(secret_key), media_dir=tmp_path / "media",
                    _env_file=None)


@pytest.fixture
def client(settings, world):
    from web.app import create_app

    with TestClient(create_app(settings, clients=FakeClientFactory())) as c:
        yield c


@pytest.fixture
def auth(factory, world):
    """auth('editor') → headers with a fresh API token of that world user."""
    def make(who: str) -> dict:
        with session_scope(factory) as s:
            token = issue_token(s, user=s.get(User, getattr(world, who)))
        return {"Authorization": f"Bearer {token}"}
    return make


PASSWORD = "mat-khau-thu-nghiem-1"


@pytest.fixture
def login(factory, world, client):
    """login('editor') → signs the world user in on ``client`` and returns the page CSRF token.

    It opens the session directly (argon2 makes a password round trip cost ~0.3 s a test); the sign-in
    form itself is tested in test_sign_in.py. Pass ``c`` to sign a second person in on another client.
    """
    from db.base import utcnow
    from web import auth

    def sign_in(who: str, c=None) -> str:
        with session_scope(factory) as s:
            token = auth.start_session(s, user=s.get(User, getattr(world, who)), user_agent="pytest", now=utcnow())
            csrf = auth.load_session(s, token, now=utcnow())[0].csrf_token
        (c or client).cookies.set(auth.COOKIE, token)
        return csrf
    return sign_in
