"""`loa run`: sandbox, API, a publishing worker and the scheduler (beat) in one terminal (honcho)."""

from __future__ import annotations

import sys

from honcho.manager import Manager

from cli.cluster import beat_command, worker_command
from common.settings import ROOT, Settings


def run_all(settings: Settings) -> int:
    """Start every process, print where to open them, stop all on Ctrl-C."""
    py = sys.executable
    (ROOT / "var").mkdir(exist_ok=True)
    manager = Manager()
    manager.add_process("sandbox", f"{py} -m sandbox --host 127.0.0.1 --port {settings.sandbox_port} --demo",
                        cwd=str(ROOT))
    manager.add_process("web", f"{py} -m uvicorn web.main:app --host 127.0.0.1 --port {settings.web_port} "
                               "--log-level warning", cwd=str(ROOT))
    manager.add_process("worker", " ".join(worker_command(concurrency=settings.worker_concurrency, loglevel="INFO")),
                        cwd=str(ROOT))
    manager.add_process("scheduler", " ".join(beat_command(ROOT / "var" / "celerybeat-schedule", loglevel="INFO")),
                        cwd=str(ROOT))
    print("\n".join([
        "",
        "Loa đang chạy (Ctrl-C để dừng):",
        f"  API và tài liệu OpenAPI : http://127.0.0.1:{settings.web_port}/docs",
        f"  Sandbox Facebook/Zalo   : http://127.0.0.1:{settings.sandbox_port}/  (xem bài đăng xuất hiện)",
        "",
    ]), flush=True)
    manager.loop()
    return manager.returncode or 0
