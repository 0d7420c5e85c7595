"""Digest benchmark: build (gather, draw, render; no sending) the weekly digest of every organisation.

    python bench/digest.py --orgs 500 --weeks 52

A fresh PostgreSQL database is seeded (in a child process, so its memory is not counted) with a
union tree of ``--orgs`` organisations (provinces → districts/sectors → grassroots unions) and
``--weeks`` weeks of history ending last week: channels, posts published on them (some failed)
with insights readings and their history, opinion items classified and reviewed, hot topics, the
plan's targets for the year, digest recipients. Then every organisation's digest of the last
week is built from the database exactly as the beat task would before sending: aggregate queries
(rolled up over each subtree), two matplotlib charts, Jinja2 HTML + text. The clock covers every
digest, the first (cold) one included. ``max_rss_mb`` is the peak resident memory of the process
that builds the digests. The database is dropped afterwards. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import resource
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support import create_database, drop_database, log  # noqa: E402
from domain.periods import Week  # noqa: E402

PROVINCE_SIZE = 100  # organisations per province: 1 province, 9 districts/sectors, 90 grassroots unions
RISKS = ("binh_thuong",) * 7 + ("buc_xuc",) * 2 + ("sai_lech", "kich_dong")
TEXTS = ["Công ty chậm đóng bảo hiểm xã hội cho công nhân mấy tháng nay", "Xưởng may nợ tiền tăng ca tháng trước",
         "Nghe nói BHXH sắp ngừng chi trả lương hưu, rút hết đi kẻo mất", "Cảm ơn công đoàn đã hỗ trợ anh em",
         "Cho hỏi thủ tục nhận quà Tết ở đâu ạ", "Anh em nghỉ hết ngày mai cho bọn nó biết tay",
         "Bếp ăn ca đêm cơm nguội, phản ánh mãi không sửa", "Lịch khám sức khoẻ định kỳ đợt này là khi nào ạ"]
POSTS = ["LĐLĐ trao quà cho đoàn viên có hoàn cảnh khó khăn", "Hướng dẫn tra cứu quá trình đóng bảo hiểm xã hội",
         "Tư vấn pháp luật miễn phí cho công nhân", "Hội thao công nhân viên chức lao động",
         "Đối thoại với doanh nghiệp về tiền lương, thưởng", "Bản tin Công đoàn tuần này",
         "Chuyến xe mùa xuân đưa công nhân về quê đón Tết", "Sinh hoạt chuyên đề về Bộ luật Lao động"]


# --- Seeding (child process) -----------------------------------------------------------------------

class Copier:
    """Rows for one table, streamed into PostgreSQL with COPY when closed (one COPY at a time per connection)."""

    def __init__(self, conn, table: str, columns: list[str]) -> None:  # noqa: ANN001
        self.conn, self.table, self.columns = conn, table, columns
        self.rows: list[tuple] = []

    def row(self, *values: object) -> None:
        self.rows.append(values)

    def close(self) -> int:
        with self.conn.cursor() as cur, cur.copy(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN") as cp:
            for r in self.rows:
                cp.write_row(r)
        n, self.rows = len(self.rows), []
        return n


def seed(url: str, n_orgs: int, n_weeks: int, now: datetime, seed_value: int) -> dict:
    """Fill the database; returns row counts."""
    import psycopg

    rng = random.Random(seed_value)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    last = Week.containing(now).shift(-1)
    first = last.shift(-(n_weeks - 1))
    t0, t_end = first.start_utc, last.end_utc
    span = (t_end - t0).total_seconds()
    counts: dict[str, int] = {}
    with psycopg.connect(dsn, autocommit=False) as conn:
        orgs = []  # (id, parent, kind, path, depth)
        for i in range(1, n_orgs + 1):
            local = (i - 1) % PROVINCE_SIZE
            province = i - local
            if local == 0:
                orgs.append((i, None, "tinh", f"/{i}/", 0))
            elif local <= 9:
                orgs.append((i, province, "huyen" if local <= 6 else "nganh", f"/{province}/{i}/", 1))
            else:
                district = province + 1 + (local - 10) % 9
                orgs.append((i, district, "co_so", f"/{province}/{district}/{i}/", 2))
        c = Copier(conn, "organisations", ["id", "name", "kind", "parent_id", "path", "depth", "created_at"])
        names = {"tinh": "LĐLĐ tỉnh", "huyen": "LĐLĐ huyện", "nganh": "Công đoàn ngành", "co_so": "CĐCS Công ty"}
        for oid, parent, kind, path, depth in orgs:
            c.row(oid, f"{names[kind]} Số {oid}", kind, parent, path, depth, t0)
        counts["organisations"] = c.close()

        c = Copier(conn, "users", ["id", "email", "full_name", "is_active", "created_at"])
        provinces = [o for o in orgs if o[2] == "tinh"]
        for oid, *_ in provinces:
            c.row(oid, f"bientap{oid}@bench.loa.vn", f"Biên tập {oid}", True, t0)
        c.close()

        channels = []  # (id, org_id, platform, rate per week)
        cid = 0
        for oid, _parent, kind, _path, _ in orgs:
            plan = {"tinh": [("facebook_page", 3.0), ("zalo_oa", 2.0)], "huyen": [("facebook_page", 2.0)],
                    "nganh": [("facebook_page", 2.0)]}.get(kind)
            if plan is None:  # three grassroots unions in four have a Fanpage, one in five also a Zalo OA
                plan = ([("facebook_page", 1.2)] if rng.random() < 0.75 else []) + \
                       ([("zalo_oa", 0.8)] if rng.random() < 0.2 else [])
            for platform, rate in plan:
                cid += 1
                channels.append((cid, oid, platform, rate))
        c = Copier(conn, "channels", ["id", "org_id", "platform", "external_id", "name", "status", "credentials_enc",
                                      "credentials_version", "slots", "created_at", "updated_at"])
        for ch_id, oid, platform, _ in channels:
            status = "active" if rng.random() < 0.95 else "needs_reauth"
            c.row(ch_id, oid, platform, f"{ch_id:015d}", f"Kênh {ch_id}", status, "x", 1, "[]", t0, t0)
        counts["channels"] = c.close()

        camps = {}
        c = Copier(conn, "campaigns", ["id", "org_id", "name", "description", "created_at"])
        for k, (oid, *_rest) in enumerate(provinces):
            for j, name in enumerate(("Tháng Công nhân", "Tết Sum vầy", "An toàn vệ sinh lao động")):
                camps.setdefault(oid, []).append(k * 3 + j + 1)
                c.row(k * 3 + j + 1, oid, f"{name} {last.year}", "", t0)
        c.close()

        province_of = {o[0]: int(o[3].strip("/").split("/")[0]) for o in orgs}
        posts = Copier(conn, "posts", ["id", "org_id", "author_id", "campaign_id", "text", "status", "version",
                                       "broadcast", "created_at", "updated_at"])
        targets = Copier(conn, "post_targets", ["id", "post_id", "channel_id", "status", "scheduled_at", "due_at",
                                                "attempts", "retry_from", "idempotency_key", "external_id",
                                                "published_at", "last_error", "created_at", "updated_at"])
        metric_rows = []
        pid = tid = 0
        for ch_id, oid, platform, rate in channels:
            n = int(rate * n_weeks * rng.uniform(0.6, 1.3))
            prov = province_of[oid]
            for _ in range(n):
                pid += 1
                tid += 1
                at = t0 + timedelta(seconds=rng.uniform(0, span))
                failed = rng.random() < 0.02
                camp = rng.choice(camps[prov]) if rng.random() < 0.3 else None
                text = f"{rng.choice(POSTS)} ({pid})"
                posts.row(pid, oid, prov, camp, text, "failed" if failed else "published", 1, False, at, at)
                if failed:
                    targets.row(tid, pid, ch_id, "failed", at, at, 3, 0, uuid.uuid4().hex, None, None,
                                "Facebook từ chối vì nội dung trùng với bài vừa đăng trên Trang.", at, at)
                    continue
                targets.row(tid, pid, ch_id, "published", at, at, 1, 0, uuid.uuid4().hex, f"{ch_id}_{tid}", at,
                            None, at, at)
                metric_rows.append((tid, pid, ch_id, oid, platform, at))
        counts["posts"], counts["post_targets"] = posts.close(), targets.close()

        metrics = Copier(conn, "post_metrics", ["target_id", "post_id", "channel_id", "org_id", "platform",
                                                "published_at", "views", "reach", "reactions", "comments", "shares",
                                                "engagement", "fetched_at", "next_fetch_at", "fetches"])
        snaps = Copier(conn, "post_metric_snapshots", ["target_id", "fetched_at", "views", "reach", "reactions",
                                                       "comments", "shares"])
        for tid, pid, ch_id, oid, platform, at in metric_rows:
            ceiling = rng.randint(100, 8000)
            fb = platform == "facebook_page"
            readings = [1, 6, 24, 72, 168, 720]  # hours after publishing (the reading schedule, thinned)
            last_values = None
            for h in readings:
                when = at + timedelta(hours=h)
                if when > now:
                    break
                views = int(ceiling * (1 - 0.5 ** (h / 12)))
                last_values = (views, int(views * 0.7) if fb else None, int(views * 0.05) if fb else None,
                               int(views * 0.01) if fb else None, int(views * 0.006), when)
                snaps.row(tid, when, *last_values[:5])
            if last_values is None:
                continue
            v, reach, reactions, comments, shares, when = last_values
            engagement = (reactions or 0) + (comments or 0) + shares
            done = now - at > timedelta(days=30)
            metrics.row(tid, pid, ch_id, oid, platform, at, v, reach, reactions, comments, shares, engagement, when,
                        None if done else now + timedelta(hours=6), len(readings))
        counts["post_metrics"], counts["post_metric_snapshots"] = metrics.close(), snaps.close()

        items = Copier(conn, "items", ["source", "external_id", "org_id", "text", "created_at", "collected_at",
                                       "classified_at", "model_version", "risk", "topic", "sentiment", "toxicity",
                                       "risk_score", "flagged", "review_status", "reviewed_at"])
        weights = {"tinh": 40, "huyen": 8, "nganh": 8, "co_so": 2}  # items a week
        n_items = 0
        for oid, _parent, kind, _path, _ in orgs:
            for _ in range(int(weights[kind] * n_weeks * rng.uniform(0.5, 1.5))):
                n_items += 1
                at = t0 + timedelta(seconds=rng.uniform(0, span))
                risk = rng.choice(RISKS)
                flagged = risk != "binh_thuong"
                status, reviewed = "new", None
                if flagged and rng.random() < 0.85:
                    reviewed = at + timedelta(hours=rng.choice([1, 2, 4, 8, 20, 30, 72]))
                    status = ("dismissed" if rng.random() < 0.6
                              else "escalated" if risk == "kich_dong" else "confirmed")
                    if reviewed > now:
                        status, reviewed = "new", None
                items.row("facebook_comment", f"b{n_items}", oid, rng.choice(TEXTS), at, at, at, "bench", risk,
                          "tien_luong", "tieu_cuc", "clean", 0.9 if flagged else 0.1, flagged, status, reviewed)
        counts["items"] = items.close()

        topics = Copier(conn, "hot_topics", ["scope", "org_id", "key", "label", "keywords", "entities",
                                             "representative_ids", "started_at", "last_seen_at", "ended_at",
                                             "peak_score", "item_count"])
        for oid, _parent, kind, _path, _ in orgs:
            if kind == "co_so":
                continue
            for w in range(n_weeks):
                for k in range(2 if kind == "tinh" else rng.randint(0, 1)):
                    start = first.shift(w).start_utc + timedelta(hours=rng.uniform(0, 140))
                    topics.row(f"org:{oid}", oid, f"t{oid}-{w}-{k}", f"Chủ đề nóng {k + 1} tuần {w + 1} ({oid})",
                               json.dumps(["nợ lương", "bảo hiểm", "tăng ca"], ensure_ascii=False),
                               json.dumps(["KCN Bench"], ensure_ascii=False), "[]", start,
                               start + timedelta(hours=20), start + timedelta(hours=26), rng.uniform(3, 9),
                               rng.randint(8, 60))
        counts["hot_topics"] = topics.close()

        year = last.sunday.year
        tg = Copier(conn, "plan_targets", ["org_id", "kind", "title", "period_start", "period_end", "threshold",
                                           "comparison", "params", "manual_value", "created_at", "updated_at"])
        for oid, _parent, kind, _path, _ in orgs:
            plan = [("posts_per_channel_week", "Mỗi kênh đăng ít nhất 2 bài/tuần", 2, "{}", None),
                    ("published_posts", "Đăng ít nhất 100 bài trong năm", 100, "{}", None)]
            if kind != "co_so":
                plan += [("cdcs_channel_pct", "100% CĐCS có Fanpage hoặc Zalo", 100, "{}", None),
                         ("flagged_handled_pct", "Xử lý thông tin sai lệch trong 24 giờ", 90, '{"hours": 24}', None),
                         ("digital_products_pct", "50% sản phẩm truyền thông trên nền tảng số", 50,
                          '{"subtree": true}', 400.0)]
            for k, title, threshold, params, manual in plan:
                tg.row(oid, k, title, date(year, 1, 1), date(year, 12, 31), threshold, ">=", params, manual, t0, t0)
        counts["plan_targets"] = tg.close()

        st = Copier(conn, "digest_settings", ["org_id", "enabled", "weekday", "hour", "updated_at"])
        rc = Copier(conn, "digest_recipients", ["org_id", "email", "name", "created_at"])
        for oid, *_ in orgs:
            st.row(oid, True, 0, 7, t0)
        st.close()
        for oid, *_ in orgs:
            for who in ("chutich", "phochutich"):
                rc.row(oid, f"{who}.{oid}@bench.loa.vn", who, t0)
        rc.close()
        for table, column in (("organisations", "id"), ("users", "id"), ("channels", "id"), ("campaigns", "id"),
                              ("posts", "id"), ("post_targets", "id")):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), (SELECT max({column}) "
                         f"FROM {table}))")
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ANALYZE")  # as autovacuum would on a database that has been running
    return counts


def _seed_child(url: str, n_orgs: int, n_weeks: int, now: datetime, seed_value: int, out: mp.Queue) -> None:
    out.put(seed(url, n_orgs, n_weeks, now, seed_value))


# --- Building -------------------------------------------------------------------------------------

def build_all(url: str, org_ids: list[int], week: Week, now: datetime) -> dict:
    """Build every digest in this process; per-digest timings and sizes."""
    from db.session import make_engine, make_sessionmaker
    from domain.digest.data import gather
    from domain.digest.render import render

    # As the workers' runtime engine: no ping before each checkout (scheduler/runtime.py).
    engine = make_engine(url, pool_size=2, pre_ping=False)
    factory = make_sessionmaker(engine)
    gather_ms, render_ms, total_ms, html_kb, images = [], [], [], [], 0
    started = time.perf_counter()
    for org_id in org_ids:
        t0 = time.perf_counter()
        with factory() as session:
            data = gather(session, org_id, week, now=now)
        t1 = time.perf_counter()
        digest = render(data)
        t2 = time.perf_counter()
        gather_ms.append((t1 - t0) * 1000)
        render_ms.append((t2 - t1) * 1000)
        total_ms.append((t2 - t0) * 1000)
        html_kb.append((len(digest.html) + sum(len(i.data) for i in digest.images)) / 1024)
        images += len(digest.images)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"seconds": seconds, "gather_ms": gather_ms, "render_ms": render_ms, "total_ms": total_ms,
            "html_kb": html_kb, "images": images,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _build_child(url: str, org_ids: list[int], week: Week, now: datetime, out: mp.Queue) -> None:
    out.put(build_all(url, org_ids, week, now))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 1) if ordered else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orgs", type=int, default=500)
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--workers", type=int, default=1, help="processes building digests side by side")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pg-url", default=os.environ.get("LOA_BENCH_PG_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--keep-db", action="store_true")
    args = ap.parse_args()

    now = datetime.now(UTC)
    week = Week.containing(now).shift(-1)  # what Monday's beat sends: last week's digest
    url = create_database(args.pg_url)
    ctx = mp.get_context("spawn")
    try:
        log(f"seeding {args.orgs} organisations × {args.weeks} weeks into {url.rsplit('/', 1)[1]}")
        t = time.perf_counter()
        q = ctx.Queue()
        child = ctx.Process(target=_seed_child, args=(url, args.orgs, args.weeks, now, args.seed, q))
        child.start()
        rows = q.get()
        child.join()
        seed_s = time.perf_counter() - t
        log(f"seeded in {seed_s:.1f} s: {rows}")

        org_ids = list(range(1, args.orgs + 1))
        random.Random(args.seed).shuffle(org_ids)  # provinces, districts and grassroots unions interleaved
        log(f"building {len(org_ids)} digests of {week.label} with {args.workers} process(es)")
        q = ctx.Queue()
        parts = [org_ids[i::args.workers] for i in range(args.workers)]
        procs = [ctx.Process(target=_build_child, args=(url, part, week, now, q)) for part in parts]
        t = time.perf_counter()
        for p in procs:
            p.start()
        results = [q.get() for _ in procs]
        for p in procs:
            p.join()
        wall = time.perf_counter() - t  # includes each process's start-up and imports
        build_s = max(r["seconds"] for r in results)
    finally:
        if not args.keep_db:
            drop_database(args.pg_url, url)
    total = [x for r in results for x in r["total_ms"]]
    gather_ms = [x for r in results for x in r["gather_ms"]]
    render_ms = [x for r in results for x in r["render_ms"]]
    out = {
        "orgs": args.orgs, "weeks": args.weeks, "week": week.label, "workers": args.workers,
        "digests": len(total), "build_s": round(build_s, 2), "wall_s_incl_startup": round(wall, 2),
        "digests_per_s": round(len(total) / build_s, 1),
        "max_rss_mb": round(max(r["max_rss_mb"] for r in results), 1),
        "ms_p50": _pct(total, 0.5), "ms_p95": _pct(total, 0.95), "ms_max": _pct(total, 1.0),
        "gather_ms_p50": _pct(gather_ms, 0.5), "gather_ms_p95": _pct(gather_ms, 0.95),
        "render_ms_p50": _pct(render_ms, 0.5), "render_ms_p95": _pct(render_ms, 0.95),
        "first_digest_ms": round(results[0]["total_ms"][0], 1),
        "charts": sum(r["images"] for r in results),
        "email_kb_mean": round(statistics.mean(x for r in results for x in r["html_kb"]), 1),
        "seed_s": round(seed_s, 1), "rows": rows,
    }
    print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
