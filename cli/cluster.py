"""Starting Celery workers, beat and a private redis-server as child processes (dev runner, tests, bench)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from common.settings import ROOT


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_command(*, concurrency: int, name: str = "worker", loglevel: str = "WARNING",
                   queues: str = "loa.publish") -> list[str]:
    """A publishing worker: a thread pool (publishing waits on the network) on the publish queue."""
    return [sys.executable, "-m", "celery", "-A", "scheduler.celery_app", "worker", "-Q", queues,
            "--pool", "threads", "--concurrency", str(concurrency), "--hostname", f"{name}@%h",
            "--loglevel", loglevel, "--without-gossip", "--without-mingle", "--without-heartbeat"]


def monitor_worker_command(*, concurrency: int, name: str = "monitor", loglevel: str = "WARNING") -> list[str]:
    """An opinion-monitoring worker: processes (classification is CPU-bound) on the monitor queue."""
    return [sys.executable, "-m", "celery", "-A", "scheduler.celery_app", "worker", "-Q", "loa.monitor",
            "--pool", "prefork", "--concurrency", str(concurrency), "--hostname", f"{name}@%h",
            "--loglevel", loglevel, "--without-gossip", "--without-mingle", "--without-heartbeat"]


def beat_command(schedule_file: Path, *, loglevel: str = "WARNING") -> list[str]:
    """The one scheduler process: beat plus a small worker for the control queue (dispatch, recovery).

    Dispatch ticks get their own consumer so a publish backlog can never delay (and expire) them.
    """
    return [sys.executable, "-m", "celery", "-A", "scheduler.celery_app", "worker", "--beat", "-Q", "loa.control",
            "--pool", "threads", "--concurrency", "2", "--hostname", "scheduler@%h", "--loglevel", loglevel,
            "-s", str(schedule_file), "--without-gossip", "--without-mingle", "--without-heartbeat"]


def spawn(cmd: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start a child in its own process group, output to ``log``."""
    handle = open(log, "ab")  # noqa: SIM115 - closed with the process by the OS
    return subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)


def kill(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    """Signal a child's whole process group and wait for it."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        pass


class RedisServer:
    """A private redis-server on its own port, restartable (keeps nothing on disk, like a crash)."""

    def __init__(self, port: int | None = None, workdir: Path | None = None) -> None:
        self.port = port or free_port()
        self.workdir = workdir or Path("/tmp")
        self.proc: subprocess.Popen | None = None
        self.binary = shutil.which("redis-server")

    @property
    def url(self) -> str:
        """redis:// URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start it and wait until it answers PING."""
        if not self.binary:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        """Kill it at once (SIGKILL: queued messages are lost, as in a crash)."""
        if self.proc is not None:
            kill(self.proc, signal.SIGKILL)
            self.proc = None

    def restart(self, down_s: float = 1.0) -> None:
        """Crash it, stay down ``down_s`` seconds, start it again on the same port."""
        self.stop()
        time.sleep(down_s)
        self.start()
