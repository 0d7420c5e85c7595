"""Helpers shared by the benchmark scripts: a throw-away PostgreSQL database, logging, RSS sampling."""

from __future__ import annotations

import threading
import time
import uuid

import psutil
import sqlalchemy as sa

from db.migrate import upgrade


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def create_database(admin_url: str) -> str:
    name = f"loa_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    return url


def drop_database(admin_url: str, url: str) -> None:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    admin.dispose()


class RssSampler(threading.Thread):
    """Largest RSS seen of any one worker (its process and children), sampled every 0.5 s."""

    def __init__(self, procs: dict) -> None:
        super().__init__(daemon=True)
        self.procs, self.max_mb, self.stop_flag = procs, 0.0, False

    def run(self) -> None:
        while not self.stop_flag:
            for name, proc in list(self.procs.items()):
                if not name.startswith(("worker", "monitor")):
                    continue
                try:
                    p = psutil.Process(proc.pid)
                    rss = p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))
                    self.max_mb = max(self.max_mb, rss / 1048576)
                except psutil.Error:
                    pass
            time.sleep(0.5)


class CpuMeter(threading.Thread):
    """CPU seconds used by role during a run (workers, scheduler, sandbox, redis, postgres), sampled every 0.5 s.

    Each process's cumulative CPU time is remembered at its last sample, so a worker that is killed
    or a PostgreSQL backend that disconnects still counts (up to its last half second).
    """

    def __init__(self, roles: dict) -> None:
        super().__init__(daemon=True)
        self.roles = roles  # role name -> callable returning the pids to follow now
        self.seen: dict[tuple[str, int], float] = {}
        self.base: dict[tuple[str, int], float] = {}
        self.stop_flag = False
        self.names: dict[tuple[str, int], str] = {}
        self.machine_start = psutil.cpu_times()

    def _sample(self) -> None:
        for role, pids in self.roles.items():
            for pid in pids():
                key = (role, pid)
                try:
                    proc = psutil.Process(pid)
                    t = proc.cpu_times()
                    if key not in self.names:
                        self.names[key] = " ".join(proc.cmdline())[:90]
                except psutil.Error:
                    continue
                used = t.user + t.system
                self.base.setdefault(key, used)
                self.seen[key] = used

    def run(self) -> None:
        while not self.stop_flag:
            self._sample()
            time.sleep(0.5)

    def report(self) -> dict:
        """{role: CPU seconds} plus the machine's busy share over the run."""
        self._sample()
        out: dict[str, float] = {}
        for (role, pid), used in self.seen.items():
            out[role] = out.get(role, 0.0) + used - self.base[(role, pid)]
        end = psutil.cpu_times()
        total = sum(end) - sum(self.machine_start)
        idle = (end.idle + getattr(end, "iowait", 0)) - (self.machine_start.idle + getattr(self.machine_start, "iowait", 0))
        out = {k: round(v, 1) for k, v in out.items()}
        top = sorted(self.seen, key=lambda k: self.base[k] - self.seen[k])[:6]
        self.top = [(k[0], k[1], round(self.seen[k] - self.base[k], 1), self.names.get(k, "")) for k in top]
        out["machine_busy_share"] = round(1 - idle / total, 3) if total else 0.0
        return out


def tree_pids(pid: int) -> list[int]:
    """A process and its descendants (empty when it is gone)."""
    try:
        p = psutil.Process(pid)
        return [pid] + [c.pid for c in p.children(recursive=True)]
    except psutil.Error:
        return []


def postgres_pids(database: str) -> list[int]:
    """PostgreSQL's shared background processes plus the backends connected to ``database``.

    Backends of other databases (another suite running on the machine) are left out.
    """
    out = []
    for p in psutil.process_iter(["name", "cmdline"]):
        if not (p.info["name"] or "").startswith("postgres"):
            continue
        title = " ".join(p.info["cmdline"] or [])
        # Backends are titled "postgres: [15/main: ]USER DATABASE HOST(PORT) STATE"; background processes are not.
        parts = [w for w in title.split()[1:] if not w.endswith(":")]
        is_backend = len(parts) >= 3 and "(" in parts[2]
        if not is_backend or parts[1] == database:
            out.append(p.pid)
    return out


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]
