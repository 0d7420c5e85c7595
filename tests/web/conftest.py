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
    """login('editor') → signs the world user in on ``client`` (cookie jar) and returns the page CSRF token.

    Each call replaces the client's session; use separate TestClients for two people at once.
    """
    import re

    from domain.accounts import set_password

    def sign_in(who: str, c=None) -> str:
        c = c or client
        with session_scope(factory) as s:
            user = s.get(User, getattr(world, who))
            if not user.password_hash:
                set_password(s, user=user, password=PASSWORD)
            email = user.email
        form = c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        done = c.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "/"},
                      follow_redirects=False)
        assert done.status_code == 303, done.text
        home = c.get("/")
        return re.search(r'<meta name="csrf-token" content="([^"]+)">', home.text).group(1)
    return sign_in
