"""`loa demo` (run by `make run`) gives the demo province a digest worth previewing, and stays idempotent."""

from __future__ import annotations

from pydantic import SecretStr
from sqlalchemy import func, select

from cli.demo import seed
from common.crypto import generate_key
from common.settings import Settings
from db.base import utcnow
from db.models import DigestRecipient, PlanTarget, PostMetric
from db.session import make_engine, make_sessionmaker, session_scope
from domain.digest import build_digest
from domain.periods import Week


def test_demo_seeds_a_meaningful_digest_once(sqlite_url, tmp_path):
    settings = Settings(database_url=sqlite_url, secret_keys=SecretStr(generate_key()), media_dir=tmp_path / "media",
                        _env_file=None)
    lines = list(seed(settings))
    assert any("loa digest --org 1 --week" in line and "--preview" in line for line in lines)
    again = list(seed(settings))
    assert any("(0 tuần vừa thêm)" in line for line in again)

    factory = make_sessionmaker(make_engine(sqlite_url))
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).select_from(PlanTarget)) == 6
        assert s.scalar(select(DigestRecipient.email)) == "lanhdao@demo.loa.vn"
        assert s.scalar(select(func.count()).select_from(PostMetric)) > 10
        digest = build_digest(s, 1, Week.containing(utcnow()).shift(-1))
    d = digest.data
    assert d.posts_week > 0 and d.flagged_week > 0 and len(d.targets) == 6 and len(digest.images) == 2
    assert "LĐLĐ tỉnh Demo" in digest.subject
