from __future__ import annotations

import pytest

from db.session import session_scope
from tests.web.conftest import auth, client, settings  # noqa: F401 - the same API fixtures


@pytest.fixture
def desk(factory, world):
    """Monitors: one of the province (on duty), one per grassroots union."""
    from tests.factories import build_desk

    with session_scope(factory) as s:
        return build_desk(s, world)
