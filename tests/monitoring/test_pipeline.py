"""The opinion pipeline end to end, with the real pieces: sandbox comments and a news feed are collected,
stored, classified by the trained model, shown in the review queue; a burst becomes a hot topic and an
alert email through a real SMTP server.

The scheduler's plain functions are called directly (the Celery tasks are one-line wrappers around
them); the worker/broker path itself is covered by tests/scheduler.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from pydantic import SecretStr
from sqlalchemy import select

from common.settings import Settings
from db.base import utcnow
from db.models import Alert, Feed, HotTopic, Item, Organisation, Platform
from db.session import session_scope
from domain import channels as channel_service
from sandbox.testing import SandboxServer
from scheduler import monitoring
from scheduler.runtime import Runtime
from tests.monitoring.test_alerts import Inbox, _free_port

RUMOUR = "Nghe nói từ tháng sau BHXH ngừng chi trả lương hưu, anh em rút hết tiền ra đi kẻo mất trắng"
THANKS = "Cảm ơn công đoàn đã tổ chức chuyến xe đưa anh em công nhân về quê ăn Tết"


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(seed=99) as sb:
        yield sb


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def rt(pg_url, secret_key, trained_models_dir, sandbox, smtp, tmp_path):
    settings = Settings(database_url=pg_url, secret_keys=SecretStr(secret_key), media_dir=tmp_path / "media",
                        models_dir=trained_models_dir, facebook_graph_url=sandbox.graph_url,
                        zalo_openapi_url=sandbox.zalo_openapi_url, smtp_host="127.0.0.1", smtp_port=smtp[1],
                        alert_min_risk_score=0.5, feeds_allow_private=True, _env_file=None)
    return Runtime(settings)


def _publish(sandbox, page: dict, message: str) -> str:
    r = requests.post(f"{sandbox.graph_url}/v25.0/{page['page_id']}/feed",
                      data={"message": message, "access_token": page["page_token"]}, timeout=10)
    r.raise_for_status()
    return r.json()["id"]


def test_comments_and_news_reach_the_review_queue_classified(rt, factory, world, desk, sandbox, smtp):
    page = sandbox.add_page("Công đoàn KCN thử nghiệm")
    with session_scope(factory) as s:
        channel = channel_service.connect_channel(
            s, org=s.get(Organisation, world.province), platform=Platform.facebook_page,
            external_id=page["page_id"], name=page["name"], credentials={"access_token": page["page_token"]},
            cipher=rt.cipher, slots=[])
        channel_id = channel.id
        s.add(Feed(org_id=world.province, url=f"{sandbox.url}/feeds/tin-tuc.xml", name="Tin tức", interval_s=60))
    post_id = _publish(sandbox, page, "Thông báo: công đoàn tổ chức chuyến xe mùa xuân cho công nhân.")
    sandbox.add_comment(post_id, RUMOUR, from_id="200000000000111")
    sandbox.add_comment(post_id, THANKS, from_id="200000000000112")
    sandbox.control("POST", "/feed", {"title": "Công ty nợ lương, hàng trăm công nhân ngừng việc tập thể",
                                      "summary": "Sáng nay khoảng 300 công nhân ngừng việc vì chưa được trả lương "
                                                 "tháng trước; công đoàn đang làm việc với doanh nghiệp."})

    channels, feeds = monitoring.claim_due_collections(rt)
    assert channel_id in channels and feeds
    assert monitoring.claim_due_collections(rt) == ([], [])  # claimed: a second beat sends nothing
    assert monitoring.collect_channel(channel_id, rt)["new"] == 3  # the page post and two comments
    assert monitoring.collect_feed(feeds[0], rt)["new"] >= 1
    assert monitoring.collect_channel(channel_id, rt)["new"] == 0  # incremental: nothing new
    assert monitoring.classify_pending(rt) >= 4

    with session_scope(factory) as s:
        items = {i.text: i for i in s.scalars(select(Item))}
        assert all(i.classified_at is not None and i.model_version for i in items.values())
        rumour, thanks = items[RUMOUR], items[THANKS]
        assert rumour.flagged and rumour.risk != "binh_thuong" and rumour.risk_score > thanks.risk_score
        assert not thanks.flagged
        assert rumour.explanation["risk"]  # the words that drove it
        assert rumour.parent_external_id == post_id and rumour.author_hash
        news = [i for i in items.values() if i.source == "news_article"]
        assert news and all(n.url for n in news)

    from fastapi.testclient import TestClient

    from domain.orgs import issue_token
    from web.app import create_app

    with session_scope(factory) as s:
        from db.models import User

        token = issue_token(s, user=s.get(User, desk.province_monitor))
    with TestClient(create_app(rt.settings)) as client:
        queue = client.get("/api/items", headers={"Authorization": f"Bearer {token}"}).json()
    assert queue["items"][0]["text"] == RUMOUR


def test_a_burst_becomes_a_hot_topic_and_an_alert_email(rt, factory, world, desk, smtp):
    """Quiet days of ordinary talk, then a rumour about a food-poisoning incident spreads in minutes."""
    from collectors.base import make_item
    from collectors.ingest import Origin, store

    now = utcnow()
    background = ["Lịch khám sức khoẻ định kỳ tháng này ở đâu ạ", "Cảm ơn công đoàn đã tặng quà cho con công nhân",
                  "Giải bóng đá công nhân năm nay khi nào đăng ký", "Chuyến xe mùa xuân còn vé không mọi người",
                  "Mong công đoàn mở thêm lớp học tiếng Anh buổi tối", "Tiền thưởng Tết năm nay công ty báo chưa"]
    rows = []
    for k in range(6 * 24 * 2):  # two days, one item every 10 minutes
        at = now - timedelta(days=2) + timedelta(minutes=10 * k)
        rows.append(make_item("facebook_comment", f"bg{k}", f"{background[k % len(background)]} ({k})", at))
    burst = ["Công nhân Công ty TNHH Điện tử Quang Minh ở KCN Quang Châu bị ngộ độc thực phẩm sau bữa trưa",
             "Nghe nói hàng chục người ở Công ty TNHH Điện tử Quang Minh ngộ độc thực phẩm, đang đi viện",
             "KCN Quang Châu trưa nay xe cấp cứu chở công nhân ngộ độc thực phẩm liên tục",
             "Ngộ độc thực phẩm ở Công ty TNHH Điện tử Quang Minh, bếp ăn có vấn đề từ lâu rồi",
             "Em làm ở KCN Quang Châu, cả tổ em ngộ độc thực phẩm sau bữa trưa nay"]
    for k in range(40):  # the burst: 40 comments over the last 20 minutes
        at = now - timedelta(minutes=20) + timedelta(seconds=30 * k)
        rows.append(make_item("facebook_comment", f"burst{k}", f"{burst[k % len(burst)]} (#{k})", at))
    with session_scope(factory) as s:
        store(s, rows, Origin(org_id=world.province, channel_id=world.fb), salt="t", now=now - timedelta(minutes=1))
    monitoring.classify_pending(rt)
    stats = monitoring.detect_hot_topics(rt, now=now)
    assert stats["new"] >= 1
    with session_scope(factory) as s:
        topics = list(s.scalars(select(HotTopic).where(HotTopic.ended_at.is_(None))))
        burst = [t for t in topics if "ngộ độc" in " ".join(t.keywords + [t.label]).lower()]
        assert burst, [t.label for t in topics]
        assert any("Quang Châu" in e or "Quang Minh" in e for e in burst[0].entities), (burst[0].label, burst[0].entities)
        assert s.scalar(select(Alert).where(Alert.hot_topic_id == burst[0].id)) is not None
    monitoring.send_alerts(rt)
    inbox, _ = smtp
    bodies = [m.get_body(("plain",)).get_content() for m in inbox.to("theodoi@tinh.vn")]
    assert any("Chủ đề nóng mới" in b and "Quang" in b for b in bodies), bodies
    # The next pass keeps tracking the same topic instead of alerting again.
    again = monitoring.detect_hot_topics(rt, now=now + timedelta(minutes=5))
    assert again["new"] == 0
