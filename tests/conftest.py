"""Shared fixtures: a fresh PostgreSQL database per run (migrated with Alembic), truncated per test.

With CI=true a missing PostgreSQL or Redis is a failure, never a skip.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from common.crypto import CredentialCipher, generate_key
from db.base import utcnow
from db.migrate import upgrade
from db.models import Base
from db.session import make_engine, make_sessionmaker, session_scope

PG_ADMIN_URL = os.environ.get("LOA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("LOA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_service(name: str, exc: Exception) -> None:
    """Fail under CI, skip on a developer machine without the server."""
    message = f"{name} is not reachable: {exc}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_url():
    """A brand-new PostgreSQL database migrated to head, dropped at the end of the run."""
    name = f"loa_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        require_service("PostgreSQL", exc)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def pg_engine(pg_url):
    engine = make_engine(pg_url, pool_size=20)
    yield engine
    engine.dispose()


def truncate_all(engine) -> None:
    """Empty every table (TRUNCATE does not fire the audit log's row triggers)."""
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
def factory(pg_engine):
    """A session factory on a clean database."""
    truncate_all(pg_engine)
    return make_sessionmaker(pg_engine)


@pytest.fixture
def session(factory):
    """A session whose work the test commits explicitly when other sessions must see it."""
    s = factory()
    yield s
    s.rollback()
    s.close()


@pytest.fixture(scope="session")
def secret_key():
    return generate_key()


@pytest.fixture(scope="session")
def cipher(secret_key):
    return CredentialCipher([secret_key])


@pytest.fixture
def sqlite_url(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'loa.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def world(factory, cipher):
    """A small union tree with users of every role and a Facebook Page and Zalo OA per organisation."""
    from tests.factories import build_world

    with session_scope(factory) as s:
        ids = build_world(s, cipher)
    return ids


@pytest.fixture
def now():
    return utcnow()


@pytest.fixture
def later(now):
    return now + timedelta(hours=2)


def _datasets_dir() -> Path:
    """LOA_DATASETS_DIR, else the settings' default (../shared/datasets or the workplace's copy)."""
    from common.settings import Settings

    return Settings(_env_file=None).datasets_dir


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The shared training/evaluation data (read in place); missing is a failure under CI=true."""
    path = _datasets_dir()
    if not (path / "vihsd" / "train.csv").is_file():
        message = f"shared datasets not found in {path} (set LOA_DATASETS_DIR)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def trained_models_dir(shared_datasets, tmp_path_factory) -> Path:
    """A models_dir whose `current` is the real model, trained once per run (≈30 s on 2 cores)."""
    from classifiers.train import train

    models = tmp_path_factory.mktemp("models")
    train(shared_datasets, models, n_jobs=2)
    return models
