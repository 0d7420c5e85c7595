"""Property-based fuzzing of the JSON API from its own OpenAPI schema (schemathesis).

Every operation is called with generated valid and invalid input, signed in as a real user of the test world
(bearer token). Whatever comes in, the API must never answer 5xx, must only answer status codes the schema
declares, and every response must match its declared schema (error bodies included). Generation is
deterministic (fixed seed, ``derandomize``) so a failure in CI reproduces locally, and bounded so the whole
run stays well under a minute (``LOA_FUZZ_EXAMPLES=200`` digs deeper locally).

The webhook endpoints are included: without a valid platform signature they must answer a declared 403 and
store nothing. Connecting a channel reaches the FakeClientFactory, never a real platform.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select

from db.models import Item, User
from db.session import session_scope
from domain.orgs import issue_token
from tests.factories import build_desk, make_item, make_scheduled_post

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CONFIG = {
    "seed": 20270501,
    "phases": {"stateful": {"enabled": False}},
    "generation": {"deterministic": True},
}


@pytest.fixture(scope="module")
def fuzz_app(pg_url, pg_engine, secret_key, cipher, tmp_path_factory):
    """One app and one world for the whole module (operations may change it; that is part of fuzzing).

    Module-scoped for speed: building the world per operation would cost more than the fuzzing itself.
    """
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from common.settings import Settings
    from db.base import utcnow
    from db.session import make_sessionmaker
    from publishers.fake import FakeClientFactory
    from tests.conftest import truncate_all
    from tests.factories import build_world
    from web.app import create_app

    truncate_all(pg_engine)
    with session_scope(make_sessionmaker(pg_engine)) as s:
        world = build_world(s, cipher)
        build_desk(s, world)
        make_scheduled_post(s, world, now=utcnow())
        make_item(s, org_id=world.province, text="Nghe nói BHXH sắp ngừng chi trả lương hưu")
        token = issue_token(s, user=s.get(User, world.admin))
    settings = Settings(database_url=pg_url, secret_keys=SecretStr(secret_key),
                        media_dir=tmp_path_factory.mktemp("fuzz") / "media", _env_file=None)
    app = create_app(settings, clients=FakeClientFactory())
    with TestClient(app):
        yield app, token
    app.state.runtime.factory.kw["bind"].dispose()  # give its connections back before the next module


def _schema_app():
    """An app built only to serve its OpenAPI document at collection time (no database is touched).

    ``schemathesis.pytest.from_fixture`` would build it from the test fixtures instead, but its lazy loader
    does not work with pytest 9; each call below is sent to the test's own app (``app=client.app``).
    """
    from pydantic import SecretStr

    from common.crypto import generate_key
    from common.settings import Settings
    from publishers.fake import FakeClientFactory
    from web.app import create_app

    settings = Settings(database_url="postgresql+psycopg://schema-only@127.0.0.1:1/none",
                        secret_keys=SecretStr(generate_key()), media_dir=Path(tempfile.mkdtemp()) / "media",
                        _env_file=None)
    return create_app(settings, clients=FakeClientFactory())


schema = schemathesis.openapi.from_asgi("/openapi.json", _schema_app(), config=schemathesis.Config.from_dict(CONFIG))


def _existing(value: object) -> object:
    """Fold two thirds of generated ids onto the few that exist (1–5), so the success paths run too."""
    if isinstance(value, bool) or not isinstance(value, int) or value % 3 == 0:
        return value
    return abs(value) % 5 + 1


def _fold_ids(data: object) -> object:
    if isinstance(data, dict):
        return {k: (_existing(v) if k.endswith("_id") else
                    [_existing(x) for x in v] if k.endswith("_ids") and isinstance(v, list) else _fold_ids(v))
                for k, v in data.items()}
    if isinstance(data, list):
        return [_fold_ids(x) for x in data]
    return data


@schema.hook("map_path_parameters")
def _real_path_ids(_context, path_parameters):  # noqa: ANN001, ANN202
    return _fold_ids(path_parameters)


@schema.hook("map_query")
def _real_query_ids(_context, query):  # noqa: ANN001, ANN202
    return _fold_ids(query)


@schema.hook("map_body")
def _real_body_ids(_context, body):  # noqa: ANN001, ANN202
    return _fold_ids(body)


@schema.parametrize()
@settings(max_examples=int(os.environ.get("LOA_FUZZ_EXAMPLES", "6")), deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_matches_its_schema(case, fuzz_app):
    app, token = fuzz_app
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


def test_unsigned_webhooks_store_nothing(client, factory, world):
    before = _items(factory)
    assert client.post("/webhooks/facebook", content=b'{"entry": []}').status_code == 403
    assert client.post("/webhooks/zalo", content=b'{"event_name": "user_send_text"}').status_code == 403
    assert _items(factory) == before


def _items(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(Item))
