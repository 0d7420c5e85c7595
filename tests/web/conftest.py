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
