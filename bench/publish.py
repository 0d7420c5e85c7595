"""Publishing benchmark: N targets spread over a minute on M channels, through real workers.

    python bench/publish.py --posts 10000 --channels 200 --workers 2 --chaos

Runs against PostgreSQL (a fresh database on --pg-url), a private redis-server (so --chaos can
crash and restart it) and the sandbox in its own process (50 ms latency, 2 % transient errors by
default). With --chaos one worker is SIGKILLed mid-run (and restarted, as a supervisor would)
and Redis is crashed and restarted once. Lateness = the time the sandbox accepted a post minus
its scheduled time; a retried target counts its retry. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from cli.cluster import RedisServer, beat_command, kill, spawn, worker_command  # noqa: E402
from common.crypto import CredentialCipher, generate_key  # noqa: E402
from db.session import make_engine  # noqa: E402
from sandbox.testing import SandboxServer  # noqa: E402
from bench.support import (CpuMeter, RssSampler, create_database, drop_database, log, percentile, postgres_pids,
                           tree_pids)  # noqa: E402

SEED_CHUNK = 2000


def seed(url: str, cipher: CredentialCipher, pages: list[dict], *, posts: int, start: datetime,
         spread_s: float) -> dict[int, tuple[str, datetime]]:
    """Insert approved, scheduled posts directly (this measures publishing, not composing)."""
    engine = make_engine(url)
    md = sa.MetaData()
    md.reflect(engine)
    t = md.tables
    now = datetime.now(UTC)
    expected: dict[int, tuple[str, datetime]] = {}
    with engine.begin() as conn:
        org_id = conn.execute(t["organisations"].insert().values(
            name="LĐLĐ tỉnh Đo hiệu năng", kind="tinh", path="", depth=0, created_at=now)
            .returning(t["organisations"].c.id)).scalar_one()
        conn.execute(t["organisations"].update().values(path=f"/{org_id}/"))
        user_id = conn.execute(t["users"].insert().values(email="bench@loa.vn", full_name="Bench", is_active=True,
                                                          created_at=now).returning(t["users"].c.id)).scalar_one()
        channel_ids = []
        for page in pages:
            channel_ids.append(conn.execute(t["channels"].insert().values(
                org_id=org_id, platform="facebook_page", external_id=page["page_id"], name=page["name"],
                status="active", credentials_enc=cipher.encrypt({"access_token": page["page_token"]}),
                credentials_version=1, slots=[], created_at=now, updated_at=now)
                .returning(t["channels"].c.id)).scalar_one())
    for lo in range(0, posts, SEED_CHUNK):
        hi = min(posts, lo + SEED_CHUNK)
        with engine.begin() as conn:
            rows = [dict(org_id=org_id, author_id=user_id, text=f"Bản tin đo hiệu năng số {i}: lịch sinh hoạt "
                                                                   f"công đoàn tuần này.", status="scheduled",
                         version=1, approved_version=1, approved_by_id=user_id, approved_at=now,
                         schedule_kind="exact", broadcast=False, created_at=now, updated_at=now)
                    for i in range(lo, hi)]
            post_ids = conn.execute(t["posts"].insert().returning(t["posts"].c.id, sort_by_parameter_order=True),
                                    rows).scalars().all()
            channels_rows, target_rows = [], []
            for i, post_id in zip(range(lo, hi), post_ids, strict=True):
                channel_id = channel_ids[i % len(channel_ids)]
                at = start + timedelta(seconds=spread_s * i / posts)
                channels_rows.append(dict(post_id=post_id, channel_id=channel_id))
                target_rows.append(dict(post_id=post_id, channel_id=channel_id, status="scheduled", scheduled_at=at,
                                        due_at=at, attempts=0, idempotency_key=uuid.uuid4().hex, created_at=now,
                                        updated_at=now))
                expected[post_id] = (rows[i - lo]["text"], at)
            conn.execute(t["post_channels"].insert(), channels_rows)
            conn.execute(t["post_targets"].insert(), target_rows)
    # Planner statistics, as a database that has lived would have them (autovacuum analyzes tables in
    # production; without statistics PostgreSQL plans the claim as if the tables were empty).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return expected


def statuses(url: str) -> Counter:
    engine = make_engine(url)
    with engine.connect() as conn:
        counts = Counter({r[0]: r[1] for r in conn.execute(sa.text("SELECT status, count(*) FROM post_targets GROUP BY status"))})
    engine.dispose()
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=10000)
    ap.add_argument("--channels", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=16, help="threads per worker")
    ap.add_argument("--chaos", action="store_true")
    ap.add_argument("--spread-s", type=float, default=60.0)
    ap.add_argument("--lead-s", type=float, default=20.0, help="seconds between seeding and the first due time")
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--error-rate", type=float, default=0.02)
    ap.add_argument("--timeout-s", type=float, default=300.0, help="give up this long after the last due time")
    ap.add_argument("--pg-url", default=os.environ.get("LOA_BENCH_PG_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument("--loglevel", default="WARNING", help="Celery log level of workers and scheduler (logs in var/bench)")
    args = ap.parse_args()

    workdir = ROOT / "var" / "bench" / time.strftime("%Y%m%d-%H%M%S")
    workdir.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    cipher = CredentialCipher([key])
    db_url = create_database(args.pg_url)
    redis = RedisServer(workdir=workdir).start()
    log(f"database {db_url.rsplit('/', 1)[1]}, redis :{redis.port}, logs in {workdir}")
    sandbox = SandboxServer(subprocess=True, latency_ms=args.latency_ms, error_rate=args.error_rate, seed=7).start()
    sandbox.set_config(fb_app_budget=10_000_000)
    pages = [sandbox.add_page(f"Trang đo hiệu năng {i}", call_budget=1_000_000) for i in range(args.channels)]
    start = datetime.now(UTC) + timedelta(seconds=args.lead_s)
    expected = seed(db_url, cipher, pages, posts=args.posts, start=start, spread_s=args.spread_s)
    log(f"seeded {len(expected)} targets on {args.channels} channels, due from {start:%H:%M:%S} over "
        f"{args.spread_s:.0f} s")

    env = {"LOA_DATABASE_URL": db_url, "LOA_BROKER_URL": redis.url, "LOA_SECRET_KEYS": key,
           "LOA_FACEBOOK_GRAPH_URL": sandbox.graph_url, "LOA_WORKER_CONCURRENCY": str(args.concurrency),
           "LOA_MEDIA_DIR": str(workdir / "media")}
    procs: dict = {}

    def start_worker(name: str) -> None:
        procs[name] = spawn(worker_command(concurrency=args.concurrency, name=name, loglevel=args.loglevel), env=env,
                            log=workdir / f"{name}.log")

    for n in range(args.workers):
        start_worker(f"worker{n + 1}")
    procs["beat"] = spawn(beat_command(workdir / "beat-schedule", loglevel=args.loglevel), env=env, log=workdir / "beat.log")
    sampler = RssSampler(procs)
    sampler.start()
    cpu = CpuMeter({
        "workers": lambda: [pid for name, proc in list(procs.items()) if name.startswith("worker")
                            for pid in tree_pids(proc.pid)],
        "scheduler": lambda: tree_pids(procs["beat"].pid) if "beat" in procs else [],
        "sandbox": lambda: tree_pids(sandbox._proc.pid) if sandbox._proc else [],
        "redis": lambda: [redis.proc.pid] if redis.proc else [],
        "postgres": lambda: postgres_pids(db_url.rsplit("/", 1)[1]),
    })
    cpu.start()

    def at(offset_s: float) -> None:
        time.sleep(max(0.0, (start + timedelta(seconds=offset_s) - datetime.now(UTC)).total_seconds()))

    try:
        if args.chaos:
            at(args.spread_s / 3)
            log("chaos: SIGKILL worker1")
            kill(procs.pop("worker1"), signal.SIGKILL)
            time.sleep(2)
            log("chaos: worker1 restarted")
            start_worker("worker1")
            at(args.spread_s * 2 / 3)
            log("chaos: crashing and restarting Redis")
            redis.restart(down_s=1.0)
        at(args.spread_s)
        deadline = time.monotonic() + args.timeout_s
        while time.monotonic() < deadline:
            counts = statuses(db_url)
            if counts.get("published", 0) + counts.get("failed", 0) >= args.posts:
                break
            log(f"waiting: {dict(counts)}")
            time.sleep(3)
        counts = statuses(db_url)
        log(f"final target states: {dict(counts)}")
    finally:
        sampler.stop_flag = cpu.stop_flag = True
        cpu_s = cpu.report()
        log(f"busiest processes (role, pid, CPU s, command): {cpu.top}")
        for name in list(procs):
            kill(procs.pop(name), signal.SIGTERM)
        accepted = sandbox.posts(platform="facebook")
        sandbox.stop()
        redis.stop()

    by_text: dict[str, list[float]] = defaultdict(list)
    for post in accepted:
        by_text[post.get("message") or ""].append(post["accepted_at"])
    lateness, published, duplicates = [], 0, 0
    for text, due in expected.values():
        times = by_text.get(text, [])
        if times:
            published += 1
            duplicates += len(times) - 1
            lateness.append(min(times) - due.timestamp())
    result = {
        "posts": args.posts, "published": published, "duplicates": duplicates, "lost": args.posts - published,
        "p50_lateness_s": round(percentile(lateness, 0.50), 3), "p99_lateness_s": round(percentile(lateness, 0.99), 3),
        "max_lateness_s": round(max(lateness), 3) if lateness else None,
        "max_worker_rss_mb": round(sampler.max_mb, 1), "failed_targets": counts.get("failed", 0),
        "workers": args.workers, "concurrency": args.concurrency, "chaos": args.chaos,
        "latency_ms": args.latency_ms, "error_rate": args.error_rate,
        # CPU seconds by role over the run, and per published post (the machine's real limit).
        "cpu_s": cpu_s, "cpu_ms_per_post": round(1000 * sum(v for k, v in cpu_s.items() if k != "machine_busy_share")
                                                 / max(published, 1), 2),
    }
    if not args.keep_db:
        drop_database(args.pg_url, db_url)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
