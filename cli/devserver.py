"""`loa run`: sandbox, API, a publishing worker and the scheduler (beat) in one terminal (honcho)."""

from __future__ import annotations

import sys

from honcho.manager import Manager

from cli.cluster import beat_command, monitor_worker_command, worker_command
from cli.demo import DEMO_PASSWORD
from common.settings import ROOT, Settings


def run_all(settings: Settings) -> int:
    """Start every process, print where to open them, stop all on Ctrl-C."""
    py = sys.executable
    (ROOT / "var").mkdir(exist_ok=True)
    manager = Manager()
    manager.add_process("sandbox", f"{py} -m sandbox --host 127.0.0.1 --port {settings.sandbox_port} --demo "
                                   f"--webhooks-to http://127.0.0.1:{settings.web_port}",
                        cwd=str(ROOT))
    manager.add_process("web", f"{py} -m uvicorn web.main:app --host 127.0.0.1 --port {settings.web_port} "
                               "--log-level warning", cwd=str(ROOT))
    manager.add_process("worker", " ".join(worker_command(concurrency=settings.worker_concurrency, loglevel="INFO")),
                        cwd=str(ROOT))
    # One monitoring process on SQLite: its row locks are database-wide, and two classifiers would
    # take the same rows (PostgreSQL deployments run several, with SKIP LOCKED).
    monitors = 1 if settings.database_url.startswith("sqlite") else 2
    manager.add_process("monitor", " ".join(monitor_worker_command(concurrency=monitors, loglevel="INFO")),
                        cwd=str(ROOT))
    manager.add_process("mailbox", f"{py} -m cli.main mailbox --port {settings.smtp_port}", cwd=str(ROOT))
    manager.add_process("scheduler", " ".join(beat_command(ROOT / "var" / "celerybeat-schedule", loglevel="INFO")),
                        cwd=str(ROOT))
    print("\n".join([
        "",
        "Loa đang chạy (Ctrl-C để dừng):",
        f"  Ứng dụng web (đăng nhập): http://127.0.0.1:{settings.web_port}/  (người dùng mẫu: mật khẩu {DEMO_PASSWORD})",
        f"  API và tài liệu OpenAPI : http://127.0.0.1:{settings.web_port}/docs",
        f"  Sandbox Facebook/Zalo   : http://127.0.0.1:{settings.sandbox_port}/  (xem bài đăng xuất hiện)",
        f"  Hàng đợi dư luận        : http://127.0.0.1:{settings.web_port}/review  (theodoi@demo.loa.vn)",
        "  Thư cảnh báo            : var/mail/*.eml",
        *_digest_lines(settings),
        "",
    ]), flush=True)
    manager.loop()
    return manager.returncode or 0


def _digest_lines(settings: Settings) -> list[str]:
    """How to preview this week's digest of the demo province (issue 5), when the demo exists."""
    try:
        from cli.demo_reporting import demo_preview_hint
        from db.session import make_engine, make_sessionmaker

        hint = demo_preview_hint(make_sessionmaker(make_engine(settings.database_url)))
    except Exception:  # noqa: BLE001 - a missing or old database must not stop `loa run`
        return []
    if hint is None:
        return []
    return ["  Thư tổng hợp tuần       : var/mail/*.eml (thứ Hai 07:00); xem trước thư tuần này:",
            f"      .venv/bin/{hint}"]
