"""Alert emails through a real local SMTP server (aiosmtpd): recipients, de-duplication, throttling, failures."""

from __future__ import annotations

import email
import socket
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from sqlalchemy import select

from common.mail import Mailer
from db.base import utcnow
from db.models import Alert, AlertStatus, HotTopic
from db.session import session_scope
from domain import alerts
from domain.opinion import Labelled
from tests.factories import make_item


class Inbox:
    """Collects messages; addresses in ``refuse`` are rejected at RCPT time like a real server does."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for rcpts, m in self.messages if address in rcpts]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, Mailer(host="127.0.0.1", port=port, sender="loa@congdoan.test")
    finally:
        controller.stop()


def _raise_for(factory, item_id: int, org_id: int, cluster_id: int | None = None, score: float = 0.9) -> int:
    with session_scope(factory) as s:
        return alerts.raise_item_alerts(s, [Labelled(item_id, org_id, cluster_id, "sai_lech", score)],
                                        min_score=0.6, base_url="http://loa.test")


def test_high_risk_item_emails_on_duty_monitors_of_org_and_parent(factory, world, desk, smtp):
    inbox, mailer = smtp
    with session_scope(factory) as s:
        # Posted on the province's own page: the province desk (on duty) is emailed; the grassroots one is not.
        item = make_item(s, org_id=world.province, text="<b>Khẩn</b>: BHXH ngừng chi trả từ tháng sau, rút hết đi!")
        item_id = item.id
    assert _raise_for(factory, item_id, world.province) == 1
    stats = alerts.send_pending(factory, mailer, throttle_s=900)
    assert stats["emails"] == 1
    [msg] = inbox.to("theodoi@tinh.vn")
    assert "Thông tin" in msg["Subject"] or "sai" in msg["Subject"].lower()
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "BHXH ngừng chi trả" in text and f"/api/items/{item_id}" in text
    assert "&lt;b&gt;Khẩn&lt;/b&gt;" in html and "<b>Khẩn</b>" not in html  # public text is escaped
    assert inbox.to("theodoi@may.vn") == []


def test_grassroots_item_reaches_nobody_on_duty_falls_back_to_all_monitors(factory, world, desk, smtp):
    inbox, mailer = smtp
    with session_scope(factory) as s:
        item_id = make_item(s, org_id=world.grassroots, text="Công đoàn thu 2% lương để chia nhau").id
    _raise_for(factory, item_id, world.grassroots)
    alerts.send_pending(factory, mailer, throttle_s=900)
    # Nobody on duty at the grassroots union itself: all its monitors; its parent (district) has none.
    assert len(inbox.to("theodoi@may.vn")) == 1
    assert inbox.to("theodoi@giay.vn") == []


def test_one_rumour_copied_many_times_alerts_once(factory, world, desk, smtp):
    inbox, mailer = smtp
    from db.models import Cluster

    with session_scope(factory) as s:
        cluster = Cluster(minhash=b"", size=5)
        s.add(cluster)
        s.flush()
        cid = cluster.id
        ids = [make_item(s, org_id=world.province, text=f"Tin đồn lương hưu bị cắt {i}", cluster_id=cid).id
               for i in range(5)]
    for item_id in ids:
        _raise_for(factory, item_id, world.province, cluster_id=cid)
    alerts.send_pending(factory, mailer, throttle_s=900)
    alerts.send_pending(factory, mailer, throttle_s=900)
    assert len(inbox.to("theodoi@tinh.vn")) == 1


def test_throttle_groups_later_alerts_into_the_next_email(factory, world, desk, smtp):
    inbox, mailer = smtp
    now = utcnow()
    with session_scope(factory) as s:
        first = make_item(s, org_id=world.province, text="Kêu gọi đập phá xưởng").id
        second = make_item(s, org_id=world.province, text="Tin giả về quỹ công đoàn").id
        third = make_item(s, org_id=world.province, text="Tin giả về lương tối thiểu").id
    _raise_for(factory, first, world.province)
    alerts.send_pending(factory, mailer, throttle_s=900, now=now)
    _raise_for(factory, second, world.province)
    _raise_for(factory, third, world.province)
    assert alerts.send_pending(factory, mailer, throttle_s=900, now=now + timedelta(minutes=5))["waiting"] == 1
    assert len(inbox.to("theodoi@tinh.vn")) == 1
    alerts.send_pending(factory, mailer, throttle_s=900, now=now + timedelta(minutes=16))
    msgs = inbox.to("theodoi@tinh.vn")
    assert len(msgs) == 2 and "2 cảnh báo" in msgs[1]["Subject"]


def test_smtp_down_is_retried_then_reported_and_a_bad_address_blocks_nobody(factory, world, desk, smtp):
    inbox, mailer = smtp
    with session_scope(factory) as s:
        item_id = make_item(s, org_id=world.grassroots, text="Tin đồn công ty sắp đóng cửa, không trả lương").id
    _raise_for(factory, item_id, world.grassroots)
    _raise_for(factory, item_id, world.province)
    # Server unreachable: nothing is lost, it is retried later.
    down = Mailer(host="127.0.0.1", port=_free_port())
    now = utcnow()
    assert alerts.send_pending(factory, down, throttle_s=0, now=now)["emails"] == 0
    with session_scope(factory) as s:
        rows = list(s.scalars(select(Alert)))
        assert {a.status for a in rows} == {AlertStatus.pending} and all(a.attempts == 1 for a in rows)
    # Back up, but one recipient's address is refused: the other still gets the email.
    inbox.refuse.add("theodoi@may.vn")
    alerts.send_pending(factory, mailer, throttle_s=0, now=now + timedelta(hours=1))
    assert len(inbox.to("theodoi@tinh.vn")) == 1
    with session_scope(factory) as s:
        statuses = {a.user_id: a.status for a in s.scalars(select(Alert))}
        failed = alerts.failed_alerts(s, [world.grassroots])
    assert statuses[desk.grassroots_monitor] == AlertStatus.failed
    assert statuses[desk.province_monitor] == AlertStatus.sent
    assert failed and "từ chối" in failed[0].last_error


def test_new_hot_topic_alert(factory, world, desk, smtp):
    inbox, mailer = smtp
    now = utcnow()
    with session_scope(factory) as s:
        topic = HotTopic(scope=f"org:{world.province}", org_id=world.province, key="k1",
                         label="Ngộ độc thực phẩm tại KCN Quang Châu", keywords=["ngộ độc", "bếp ăn"],
                         entities=["KCN Quang Châu", "Bắc Giang"], started_at=now, last_seen_at=now, item_count=42)
        s.add(topic)
        s.flush()
        assert alerts.raise_hot_topic_alert(s, topic, base_url="http://loa.test") == 1
        assert alerts.raise_hot_topic_alert(s, topic, base_url="http://loa.test") == 0  # de-duplicated
    alerts.send_pending(factory, mailer, throttle_s=900)
    [msg] = inbox.to("theodoi@tinh.vn")
    assert "Chủ đề nóng" in msg["Subject"] and "KCN Quang Châu" in msg.get_body(("plain",)).get_content()


def test_union_without_a_desk_is_covered_by_the_nearest_one_above(factory, world, smtp):
    """No monitor at the grassroots union nor at its district: the province desk gets the alert."""
    inbox, mailer = smtp
    from db.models import Organisation, Role
    from tests.factories import make_user

    with session_scope(factory) as s:
        make_user(s, s.get(Organisation, world.province), Role.monitor, "theodoi@tinh.vn")
        item_id = make_item(s, org_id=world.grassroots, text="Kêu gọi anh em đập phá xưởng tối nay").id
    assert _raise_for(factory, item_id, world.grassroots) == 1
    alerts.send_pending(factory, mailer, throttle_s=900)
    assert len(inbox.to("theodoi@tinh.vn")) == 1
