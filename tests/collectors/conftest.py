"""One sandbox for the collector tests (reset before each test) and a plain HTTP session."""

from __future__ import annotations

import pytest
import requests

from sandbox.testing import SandboxServer

V = "v25.0"


@pytest.fixture(scope="session")
def server():
    with SandboxServer(seed=4321) as sb:
        yield sb


@pytest.fixture
def sb(server):
    server.reset()
    return server


@pytest.fixture
def http():
    """A session that never goes through a proxy (everything here is loopback)."""
    s = requests.Session()
    s.trust_env = False
    yield s
    s.close()
