"""Ingest benchmark: items through signed webhooks → de-dup → classify → PostgreSQL, with 2 workers.

    python bench/ingest.py --items 100000

A fresh PostgreSQL database, a private redis-server, the web app (uvicorn) receiving Facebook
feed webhooks signed with the app secret, and N opinion-monitoring Celery workers (one process
each) classifying in batches, driven by the beat process as in production. The web app runs
--web-workers uvicorn processes (2 by default), as a production deployment would. The generated stream
is comments written from our own templates: some are near-duplicate copies of a few rumours, and
a share of deliveries are sent twice (as Facebook redelivers). The clock runs from the first
delivery until every unique item is stored and classified. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.support import RssSampler, create_database, drop_database, log  # noqa: E402
from cli.cluster import RedisServer, beat_command, free_port, kill, monitor_worker_command, spawn  # noqa: E402
from common.crypto import CredentialCipher, generate_key  # noqa: E402
from common.settings import get_settings  # noqa: E402
from db.session import make_engine  # noqa: E402

APP_SECRET = "bench-fb-app-secret"
PAGES = 20
PER_DELIVERY = 50

SUBJECTS = ["Công ty", "Xưởng may", "Nhà máy", "Phân xưởng 3", "Tổ sản xuất", "Ca đêm", "Bộ phận đóng gói"]
COMPLAINTS = ["chưa trả lương tháng {m}", "nợ tiền tăng ca {n} giờ", "chưa đóng bảo hiểm xã hội cho anh em",
              "cắt phụ cấp chuyên cần mà không báo trước", "bắt làm thêm chủ nhật liên tục",
              "cho nghỉ việc {n} người không lý do", "bếp ăn có cơm thiu hôm thứ {d}"]
CHATTER = ["Cảm ơn công đoàn đã hỗ trợ anh em công nhân dịp Tết", "Cho hỏi thủ tục nhận quà Tết ở đâu ạ",
           "Giải chạy năm nay vui quá, mong năm sau tổ chức tiếp", "Lịch khám sức khoẻ định kỳ đợt {m} là khi nào ạ",
           "Hôm nay nắng nóng quá anh em nhớ uống đủ nước", "Chúc mừng các bạn đạt giải thi tay nghề đợt {m}",
           "Mong công đoàn mở thêm lớp tiếng Anh buổi tối", "Chuyến xe mùa xuân đăng ký ở phòng nào vậy mọi người"]
RUMOURS = ["Nghe nói từ tháng sau BHXH ngừng chi trả lương hưu, anh em rút hết tiền đi kẻo mất",
           "Công đoàn thu 2% lương của công nhân để chia nhau, đừng ai đóng đoàn phí nữa",
           "Tin nóng: nhà máy sắp đóng cửa, chủ đã bỏ trốn về nước, lương tháng này mất trắng",
           "Anh em nghỉ hết ngày mai, kéo ra chặn đường cho bọn nó biết tay"]
DECORATIONS = ["", "!!!", " mọi người ơi", " share gấp", "...", " thật không vậy", " 😡"]


def comment_text(rng: random.Random) -> str:
    """One comment from our own templates: chatter, a complaint, or a copy of a rumour."""
    roll = rng.random()
    fill = {"m": rng.randint(1, 12), "n": rng.randint(5, 300), "d": rng.randint(2, 7)}
    if roll < 0.08:
        return rng.choice(RUMOURS) + rng.choice(DECORATIONS)
    if roll < 0.45:
        return f"{rng.choice(SUBJECTS)} {rng.choice(COMPLAINTS).format(**fill)}{rng.choice(DECORATIONS)}"
    return rng.choice(CHATTER).format(**fill) + rng.choice(DECORATIONS)


def deliveries(n_items: int, pages: list[str], rng: random.Random, dup_share: float) -> tuple[list[bytes], int]:
    """Signed-ready webhook bodies carrying ``n_items`` unique comments; some bodies are sent twice."""
    now = int(time.time())
    bodies: list[bytes] = []
    for lo in range(0, n_items, PER_DELIVERY):
        page = pages[(lo // PER_DELIVERY) % len(pages)]
        changes = [{"field": "feed", "value": {
            "item": "comment", "verb": "add", "post_id": f"{page}_{i % 97}", "comment_id": f"{i % 97}_{i}",
            "parent_id": f"{page}_{i % 97}", "from": {"id": str(10**9 + rng.randint(0, 50_000)), "name": "x"},
            "message": comment_text(rng), "created_time": now}} for i in range(lo, min(n_items, lo + PER_DELIVERY))]
        bodies.append(json.dumps({"object": "page", "entry": [{"id": page, "time": now, "changes": changes}]},
                                 ensure_ascii=False).encode())
    resent = [b for b in bodies if rng.random() < dup_share]
    all_bodies = bodies + resent
    rng.shuffle(all_bodies)
    return all_bodies, sum(len(json.loads(b)["entry"][0]["changes"]) for b in resent)


def seed_channels(url: str, cipher: CredentialCipher) -> list[str]:
    engine = make_engine(url)
    md = sa.MetaData()
    md.reflect(engine)
    t, now = md.tables, datetime.now(UTC)
    pages = [str(120000000000000 + i) for i in range(PAGES)]
    with engine.begin() as conn:
        org_id = conn.execute(t["organisations"].insert().values(
            name="LĐLĐ tỉnh Đo hiệu năng", kind="tinh", path="", depth=0, created_at=now)
            .returning(t["organisations"].c.id)).scalar_one()
        conn.execute(t["organisations"].update().values(path=f"/{org_id}/"))
        # Collection off: this measures the webhook path (a collector would hit the same ingest).
        conn.execute(t["channels"].insert(), [dict(
            org_id=org_id, platform="facebook_page", external_id=p, name=f"Trang {p}", status="disabled",
            credentials_enc=cipher.encrypt({"access_token": "x"}), credentials_version=1, slots=[],
            created_at=now, updated_at=now) for p in pages])
    engine.dispose()
    return pages


def counts(url: str) -> dict:
    engine = make_engine(url)
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT count(*), count(classified_at), count(DISTINCT (source, external_id)), "
            "count(DISTINCT cluster_id), count(*) FILTER (WHERE flagged) FROM items")).one()
    engine.dispose()
    return {"stored": row[0], "classified": row[1], "distinct": row[2], "clusters": row[3], "flagged": row[4]}


def _tree_rss_mb(pid: int) -> float:
    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 1048576


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--senders", type=int, default=4, help="concurrent webhook deliveries")
    ap.add_argument("--web-workers", type=int, default=2, help="uvicorn worker processes receiving webhooks")
    ap.add_argument("--dup-share", type=float, default=0.1, help="share of deliveries sent twice")
    ap.add_argument("--timeout-s", type=float, default=900.0)
    ap.add_argument("--pg-url", default=os.environ.get("LOA_BENCH_PG_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--keep-db", action="store_true")
    args = ap.parse_args()

    settings = get_settings()
    from classifiers.service import ensure_model

    log("classifier: loading (training first if no model exists)")
    ensure_model(settings.datasets_dir, settings.models_dir)
    workdir = ROOT / "var" / "bench" / time.strftime("ingest-%Y%m%d-%H%M%S")
    workdir.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    db_url = create_database(args.pg_url)
    pages = seed_channels(db_url, CredentialCipher([key]))
    redis = RedisServer(workdir=workdir).start()
    port = free_port()
    env = {"LOA_DATABASE_URL": db_url, "LOA_BROKER_URL": redis.url, "LOA_SECRET_KEYS": key,
           "LOA_FACEBOOK_APP_SECRET": APP_SECRET, "LOA_MODELS_DIR": str(settings.models_dir),
           "LOA_MEDIA_DIR": str(workdir / "media"), "LOA_SMTP_HOST": "", "LOA_CLASSIFY_INTERVAL_S": "2",
           "LOA_HOT_TOPICS_INTERVAL_S": "3600"}
    procs: dict = {}
    procs["web"] = spawn([sys.executable, "-m", "uvicorn", "web.main:app", "--host", "127.0.0.1", "--port", str(port),
                          "--workers", str(args.web_workers), "--log-level", "warning"], env=env, log=workdir / "web.log")
    for n in range(args.workers):
        procs[f"monitor{n + 1}"] = spawn(monitor_worker_command(concurrency=1, name=f"monitor{n + 1}"), env=env,
                                         log=workdir / f"monitor{n + 1}.log")
    procs["beat"] = spawn(beat_command(workdir / "beat-schedule"), env=env, log=workdir / "beat.log")
    sampler = RssSampler(procs)
    sampler.start()

    rng = random.Random(20261121)
    bodies, resent_items = deliveries(args.items, pages, rng, args.dup_share)
    log(f"{len(bodies)} deliveries ({args.items} unique comments, {resent_items} redelivered) to :{port}")
    http = requests.Session()
    http.trust_env = False
    for _ in range(100):
        try:
            http.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
            break
        except requests.RequestException:
            time.sleep(0.2)

    def send(body: bytes) -> int:
        sig = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        r = http.post(f"http://127.0.0.1:{port}/webhooks/facebook", data=body, timeout=60,
                      headers={"X-Hub-Signature-256": sig, "Content-Type": "application/json"})
        r.raise_for_status()
        return r.json()["stored"]

    result: dict = {}
    try:
        started = time.monotonic()
        with ThreadPoolExecutor(args.senders) as pool:
            stored_by_webhooks = sum(pool.map(send, bodies))
        ingest_s = time.monotonic() - started
        log(f"all deliveries accepted in {ingest_s:.1f} s ({stored_by_webhooks} new items)")
        deadline = time.monotonic() + args.timeout_s
        while True:
            c = counts(db_url)
            if c["classified"] >= c["stored"] >= args.items or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        c = counts(db_url)
        log(f"stored {c['stored']}, classified {c['classified']} in {elapsed:.1f} s; {c['clusters']} clusters, "
            f"{c['flagged']} flagged")
        result = {"items": args.items, "deliveries": len(bodies), "redelivered_items": resent_items,
                  "stored": c["stored"], "duplicates_stored": c["stored"] - c["distinct"],
                  "classified": c["classified"], "flagged": c["flagged"], "clusters": c["clusters"],
                  "elapsed_s": round(elapsed, 1), "items_per_s": round(c["classified"] / elapsed, 1),
                  "webhook_items_per_s": round(args.items / ingest_s, 1), "workers": args.workers,
                  "web_workers": args.web_workers,
                  "max_worker_rss_mb": round(sampler.max_mb, 1),
                  "web_rss_mb": round(_tree_rss_mb(procs["web"].pid), 1)}
    finally:
        sampler.stop_flag = True
        for proc in procs.values():
            kill(proc)
        redis.stop()
        if not args.keep_db:
            drop_database(args.pg_url, db_url)
    print(json.dumps(result), flush=True)
    return 0 if result and result["stored"] == args.items and result["duplicates_stored"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
