"""One emulator for the whole sandbox test session; every test starts from a reset world."""

from __future__ import annotations

import pytest
import requests

from sandbox.testing import SandboxServer
from tests.sandbox.helpers import Receiver


@pytest.fixture(scope="session")
def server():
    with SandboxServer(seed=1234) as sb:
        yield sb


@pytest.fixture
def sb(server):
    server.reset()
    return server


@pytest.fixture
def http():
    s = requests.Session()
    s.trust_env = False
    yield s
    s.close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()
