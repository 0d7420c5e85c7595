"""Web benchmark: server time of the review queue and the calendar month view on a large PostgreSQL database.

    python bench/web.py --items 1000000 --posts 50000

Seeds a fresh PostgreSQL database (dropped at the end unless --keep) with a provincial federation,
its districts and grassroots unions, two channels each, ``--posts`` posts spread over two years with
their per-channel targets, and ``--items`` collected items over the last year (about a fifth of them
flagged, most still new). Rows go in with COPY, then ANALYZE, as a database that has lived would be.

Then the real web app (create_app, in this process, over HTTP semantics with Starlette's TestClient)
is signed in as a provincial user who is editor, approver and monitor, so every query spans every
organisation: the worst case. It sends ``--requests`` requests to each page, with varied filters,
sorting, pages and months, and reads each response's ``Server-Timing`` header (time inside the app:
routing, queries and template rendering). The last line is one JSON object with
``review_queue_p95_ms`` and ``calendar_p95_ms``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.support import create_database, drop_database, log, percentile  # noqa: E402

RISKS = ["sai_lech", "kich_dong", "buc_xuc"]
TOPICS = ["tien_luong", "bhxh", "viec_lam", "an_toan_lao_dong", "doi_song", "hoat_dong_cong_doan",
          "chinh_sach_phap_luat", "khac"]
SOURCES = ["facebook_comment", "facebook_post", "zalo_message", "news_article"]
SENTIMENTS = ["tich_cuc", "trung_tinh", "tieu_cuc"]
WORDS = ("công nhân lương thưởng tăng ca bảo hiểm xã hội công đoàn nhà máy khu công nghiệp hợp đồng nghỉ phép "
         "an toàn lao động bếp ăn ký túc xá phụ cấp chuyên cần đoàn viên người lao động chế độ thai sản").split()
PASSWORD = "bench-mat-khau-2027"


def _copy(conn, table: str, columns: list[str], rows) -> int:  # noqa: ANN001
    """COPY rows (tuples) into ``table`` through psycopg's COPY protocol."""
    n = 0
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    raw.commit()
    return n


def seed(url: str, *, n_items: int, n_posts: int, districts: int, grassroots: int, rng: random.Random) -> dict:
    """Build the organisation tree with the domain functions, then bulk rows with COPY."""
    from common.crypto import CredentialCipher, generate_key
    from db.models import OrgKind, Platform, Role
    from db.session import make_engine, make_sessionmaker, session_scope
    from domain import channels, orgs
    from domain.accounts import set_password

    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    cipher = CredentialCipher.from_setting(generate_key())
    org_ids, channel_ids = [], {}
    with session_scope(factory) as s:
        province = orgs.create_org(s, name="LĐLĐ tỉnh Bench", kind=OrgKind.tinh)
        org_ids.append(province.id)
        for d in range(districts):
            district = orgs.create_org(s, name=f"LĐLĐ huyện Bench {d}", kind=OrgKind.huyen, parent_id=province.id)
            org_ids.append(district.id)
            for g in range(grassroots // districts):
                org_ids.append(orgs.create_org(s, name=f"CĐCS Công ty Bench {d}-{g}", kind=OrgKind.co_so,
                                               parent_id=district.id).id)
        s.flush()
        for i, org_id in enumerate(org_ids):
            org = s.get(type(province), org_id)
            channel_ids[org_id] = [
                channels.connect_channel(s, org=org, platform=Platform.facebook_page, external_id=f"9{i:07d}",
                                         name=f"Trang {i}", credentials={"access_token": f"t{i}"}, cipher=cipher).id,
                channels.connect_channel(s, org=org, platform=Platform.zalo_oa, external_id=f"8{i:07d}",
                                         name=f"Zalo OA {i}", credentials={"access_token": f"z{i}",
                                                                          "refresh_token": f"r{i}"},
                                         cipher=cipher, default_cover_url="http://127.0.0.1/c.png").id]
        user = orgs.create_user(s, email="bench@tinh.vn", full_name="Người đo")
        for role in (Role.editor, Role.approver, Role.monitor):
            orgs.grant_role(s, user=user, org=province, role=role)
        set_password(s, user=user, password=PASSWORD)
        user_id = user.id
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    with engine.connect() as conn:
        n = _copy(conn, "posts", ["org_id", "author_id", "text", "status", "version", "broadcast", "schedule_kind",
                                  "scheduled_at", "created_at", "updated_at"],
                  _posts(rng, n_posts, org_ids, user_id, now))
        post_rows = conn.execute(sa.text("SELECT id, org_id, scheduled_at, status FROM posts ORDER BY id")).all()
        t = _copy(conn, "post_targets", ["post_id", "channel_id", "status", "scheduled_at", "due_at", "attempts",
                                         "retry_from", "idempotency_key", "external_id", "external_url",
                                         "published_at", "last_error", "created_at", "updated_at"],
                  _targets(rng, post_rows, channel_ids, now))
        log(f"{n} posts, {t} targets in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        i = _copy(conn, "items", ["source", "external_id", "org_id", "channel_id", "text", "created_at",
                                  "collected_at", "classified_at", "model_version", "risk", "topic", "sentiment",
                                  "toxicity", "risk_score", "flagged", "review_status"],
                  _items(rng, n_items, org_ids, channel_ids, now))
        log(f"{i} items in {time.perf_counter() - started:.1f} s")
        conn.connection.dbapi_connection.autocommit = True
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return {"orgs": len(org_ids), "org_ids": org_ids, "user": "bench@tinh.vn", "now": now}


def _posts(rng: random.Random, n: int, org_ids: list[int], user_id: int, now: datetime):
    for _ in range(n):
        at = now + timedelta(minutes=rng.randint(-540 * 24 * 60, 180 * 24 * 60))
        status = "published" if at < now else rng.choice(["scheduled", "scheduled", "pending_approval", "draft"])
        if at < now and rng.random() < 0.03:
            status = "failed"
        text = " ".join(rng.choices(WORDS, k=rng.randint(12, 60))).capitalize() + "."
        yield (rng.choice(org_ids), user_id, text, status, 1, False, "exact", at, at - timedelta(days=2),
               at - timedelta(days=1))


def _targets(rng: random.Random, posts, channel_ids: dict, now: datetime):
    for post_id, org_id, at, status in posts:
        chans = channel_ids[org_id][: rng.choice([1, 2, 2])]
        for ch in chans:
            t_status = {"published": "published", "failed": "failed", "scheduled": "scheduled"}.get(status, "pending")
            published = t_status == "published"
            yield (post_id, ch, t_status, at, at, 1 if published else 0, 0, f"{post_id}-{ch}",
                   f"{ch}_{post_id}" if published else None,
                   f"https://facebook.com/{ch}_{post_id}" if published else None,
                   at if published else None,
                   "Nền tảng từ chối: nội dung trùng lặp." if t_status == "failed" else None,
                   at - timedelta(days=1), at)


def _items(rng: random.Random, n: int, org_ids: list[int], channel_ids: dict, now: datetime):
    for k in range(n):
        created = now - timedelta(seconds=rng.randint(0, 365 * 86400))
        flagged = rng.random() < 0.2
        risk = rng.choice(RISKS) if flagged else "binh_thuong"
        score = rng.uniform(0.5, 1.0) if flagged else rng.uniform(0.0, 0.5)
        status = "new" if not flagged or rng.random() < 0.6 else rng.choice(["confirmed", "dismissed", "escalated"])
        org = rng.choice(org_ids)
        source = rng.choice(SOURCES)
        text = " ".join(rng.choices(WORDS, k=rng.randint(8, 40)))
        yield (source, f"b{k}", org, channel_ids[org][0] if source != "news_article" else None, text, created,
               created, created, "bench", risk, rng.choice(TOPICS), rng.choice(SENTIMENTS), "clean", score,
               flagged, status)


def sign_in(client) -> None:  # noqa: ANN001
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = client.post("/login", data={"email": "bench@tinh.vn", "password": PASSWORD, "csrf_token": token},
                       follow_redirects=False)
    if done.status_code != 303:
        raise SystemExit(f"sign-in failed: {done.status_code}")


def server_ms(response) -> float:  # noqa: ANN001
    match = re.search(r"dur=([0-9.]+)", response.headers.get("server-timing", ""))
    if response.status_code != 200 or not match:
        raise SystemExit(f"{response.request.url} → {response.status_code}: {response.text[:300]}")
    return float(match.group(1))


def review_urls(rng: random.Random, n: int, org_ids: list[int]) -> list[str]:
    urls = []
    for _ in range(n):
        params = {"sort": rng.choice(["risk", "time"]), "page": rng.choice([1, 1, 1, 2, 3, 5])}
        if rng.random() < 0.7:
            params["status"] = "new"
        if rng.random() < 0.4:
            params["risk"] = rng.choice(RISKS)
        if rng.random() < 0.3:
            params["source"] = rng.choice(SOURCES)
        if rng.random() < 0.3:
            params["topic"] = rng.choice(TOPICS)
        if rng.random() < 0.25:
            params["org"] = rng.choice(org_ids)
        urls.append("/review?" + "&".join(f"{k}={v}" for k, v in params.items()))
    return urls


def calendar_urls(rng: random.Random, n: int, org_ids: list[int], now: datetime) -> list[str]:
    urls = []
    for _ in range(n):
        month = (now.date().replace(day=1) + timedelta(days=31 * rng.randint(-17, 5))).replace(day=1)
        url = f"/calendar?view=month&date={month.isoformat()}"
        if rng.random() < 0.25:
            url += f"&org={rng.choice(org_ids)}"
        urls.append(url)
    return urls


def measure(client, urls: list[str], warmup: int = 5) -> dict:  # noqa: ANN001
    for url in urls[:warmup]:
        client.get(url)
    server, wall = [], []
    for url in urls:
        started = time.perf_counter()
        response = client.get(url)
        wall.append((time.perf_counter() - started) * 1000)
        server.append(server_ms(response))
    return {"p50_ms": round(percentile(server, 0.5), 1), "p95_ms": round(percentile(server, 0.95), 1),
            "max_ms": round(max(server), 1), "wall_p95_ms": round(percentile(wall, 0.95), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--posts", type=int, default=50_000)
    ap.add_argument("--districts", type=int, default=10)
    ap.add_argument("--grassroots", type=int, default=500)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pg", default=os.environ.get("LOA_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--keep", action="store_true", help="keep the seeded database (its URL is printed)")
    ap.add_argument("--url", help="reuse an already seeded database instead of seeding")
    args = ap.parse_args()
    rng = random.Random(args.seed)

    url = args.url or create_database(args.pg)
    try:
        if args.url:
            with sa.create_engine(url).connect() as conn:
                org_ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM organisations ORDER BY id"))]
            now = datetime.now(UTC)
        else:
            log(f"seeding {url}")
            seeded = seed(url, n_items=args.items, n_posts=args.posts, districts=args.districts,
                          grassroots=args.grassroots, rng=rng)
            org_ids, now = seeded["org_ids"], seeded["now"]
        from fastapi.testclient import TestClient
        from pydantic import SecretStr

        from common.crypto import generate_key
        from common.settings import Settings
        from publishers.fake import FakeClientFactory
        from web.app import create_app

        settings = Settings(database_url=url, secret_keys=SecretStr(generate_key()), media_dir=ROOT / "var" / "bench-media",
                            _env_file=None)
        app = create_app(settings, clients=FakeClientFactory())
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
        with TestClient(app) as client:
            sign_in(client)
            log(f"{args.requests} review-queue requests")
            review = measure(client, review_urls(rng, args.requests, org_ids))
            log(f"review queue: {review}")
            log(f"{args.requests} calendar month requests")
            calendar = measure(client, calendar_urls(rng, args.requests, org_ids, now))
            log(f"calendar: {calendar}")
        result = {"items": args.items, "posts": args.posts, "orgs": len(org_ids), "requests": args.requests,
                  "review_queue_p95_ms": review["p95_ms"], "review_queue_p50_ms": review["p50_ms"],
                  "review_queue_max_ms": review["max_ms"], "calendar_p95_ms": calendar["p95_ms"],
                  "calendar_p50_ms": calendar["p50_ms"], "calendar_max_ms": calendar["max_ms"],
                  "review_queue_wall_p95_ms": review["wall_p95_ms"], "calendar_wall_p95_ms": calendar["wall_p95_ms"],
                  "max_rss_mb": round(psutil.Process().memory_info().rss / 1048576, 1)}
    finally:
        if args.keep or args.url:
            log(f"database kept: {url}")
        else:
            drop_database(args.pg, url)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
