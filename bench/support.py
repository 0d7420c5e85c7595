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


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]
