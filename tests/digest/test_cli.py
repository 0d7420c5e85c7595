"""`loa digest`, `loa report`, `loa target` on a SQLite database, as an operator types them: previews and
exports work; a malformed week, an unknown organisation or a reversed period fail in Vietnamese, non-zero,
with nothing stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from common.crypto import CredentialCipher, generate_key
from common.settings import get_settings
from db.migrate import upgrade
from db.models import DigestRecipient, PlanTarget
from db.session import make_engine, make_sessionmaker, session_scope
from tests.digest.seed import seed_week
from tests.factories import build_world


@pytest.fixture(scope="module")
def seeded_sqlite(tmp_path_factory):
    """One migrated, seeded SQLite database for the module (tests only add rows they count relatively)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'loa.sqlite3'}"
    upgrade(url)
    factory = make_sessionmaker(make_engine(url))
    with session_scope(factory) as s:
        seeded = seed_week(s, build_world(s, CredentialCipher([generate_key()])))
    return url, factory, seeded


@pytest.fixture
def cli(seeded_sqlite, monkeypatch, tmp_path):
    url, factory, seeded = seeded_sqlite
    monkeypatch.setenv("LOA_DATABASE_URL", url)
    monkeypatch.setenv("LOA_REPORTS_DIR", str(tmp_path / "reports"))
    get_settings.cache_clear()
    from cli.main import app

    runner = CliRunner()
    yield (lambda *args: runner.invoke(app, [str(a) for a in args])), seeded, factory
    get_settings.cache_clear()


def _count(factory, model) -> int:
    with session_scope(factory) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_preview_writes_the_digest_with_its_charts_inlined(cli, tmp_path):
    run, seeded, _ = cli
    out = tmp_path / "xem-truoc.html"
    result = run("digest", "--org", seeded.province, "--week", "2026-W40", "--preview", out, "--text",
                 tmp_path / "thu.txt")
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "cid:" not in html
    assert "Bài đã đăng: 7 (tuần trước 2)" in (tmp_path / "thu.txt").read_text(encoding="utf-8")
    assert "7 lượt đăng, 6 mục cần chú ý, 3 phản ánh còn mở" in result.output and "2 biểu đồ" in result.output


@pytest.mark.parametrize("args,message", [
    (["--week", "2026-18"], "không đúng định dạng"),
    (["--week", "2026-W60"], "Năm 2026 không có tuần 60"),
    (["--org", "999", "--week", "2026-W40"], "Không có tổ chức #999"),
])
def test_digest_bad_input_fails_in_vietnamese(cli, tmp_path, args, message):
    run, seeded, _ = cli
    out = tmp_path / "x.html"
    argv = ["digest", *(["--org", seeded.province] if "--org" not in args else []), *args, "--preview", out]
    result = run(*argv)
    assert result.exit_code == 2 and message in result.output and not out.exists()


def test_report_exports_and_refuses_a_reversed_period(cli, tmp_path):
    run, seeded, _ = cli
    bad = run("report", "--org", seeded.province, "--from", "2026-12-31", "--to", "2026-07-01", "--format", "xlsx")
    assert bad.exit_code == 2 and "Ngày bắt đầu 31/12/2026 ở sau ngày kết thúc 01/07/2026" in bad.output
    assert not (tmp_path / "reports").exists()
    assert run("report", "--org", 999, "--from", "2026-07-01", "--to", "2026-12-31").exit_code == 2
    assert "không hợp lệ" in run("report", "--org", seeded.province, "--from", "1/7", "--to", "2026-12-31").output
    for fmt in ("xlsx", "pdf"):
        ok = run("report", "--org", seeded.province, "--from", "2026-07-01", "--to", "2026-12-31", "--format", fmt)
        assert ok.exit_code == 0, ok.output
        assert (tmp_path / "reports" / f"bao-cao-{seeded.province}-20260701-20261231.{fmt}").stat().st_size > 3000


def test_targets_and_recipients_from_the_command_line(cli):
    run, seeded, factory = cli
    before = _count(factory, PlanTarget)
    assert run("target", "add", "--org", seeded.province, "--kind", "so_bai", "--period", "2026",
               "--threshold", 5).exit_code == 2
    assert run("target", "add", "--org", seeded.province, "--kind", "published_posts", "--period", "2026-H3",
               "--threshold", 5).exit_code == 2
    assert _count(factory, PlanTarget) == before
    ok = run("target", "add", "--org", seeded.province, "--kind", "published_posts", "--period", "2026-H2",
             "--threshold", 8, "--subtree", "--title", "Đăng ít nhất 8 bài trong 6 tháng cuối năm", "--plan",
             "27/KH-LĐLĐ")
    assert ok.exit_code == 0 and _count(factory, PlanTarget) == before + 1
    listing = run("target", "list", "--org", seeded.province, "--at", "2026-10-04")
    assert "[Đạt] Đăng ít nhất 8 bài trong 6 tháng cuối năm — chỉ tiêu ≥ 8 bài, đạt 9 bài" in listing.output

    recipients = _count(factory, DigestRecipient)
    refused = run("digest", "settings", "--org", seeded.province, "--add", "bithu@tinh.vn", "--add", "sai-dia-chi")
    assert refused.exit_code == 2 and "không hợp lệ" in refused.output
    assert _count(factory, DigestRecipient) == recipients
    ok = run("digest", "settings", "--org", seeded.province, "--add", "bithu@tinh.vn", "--weekday", 0, "--hour", 6)
    assert ok.exit_code == 0 and "gửi thứ Hai lúc 06:00" in ok.output and "bithu@tinh.vn" in ok.output
    assert "Không có thư tổng hợp nào bị lỗi." in run("digest", "failures").output
