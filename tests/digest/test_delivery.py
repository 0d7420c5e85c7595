"""Sending digests reliably: once per recipient per week (repeated and concurrent runs on PostgreSQL),
SMTP failures retried then reported, a refused address not blocking the others, a crashed send not
re-sent blindly, and the per-organisation local day and hour."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from common.errors import InvalidInput
from common.mail import Mailer
from db.models import DigestDelivery, DigestRecipient, DigestSettings, DigestStatus, Notification, Role
from db.session import session_scope
from domain.digest import build_digest
from domain.digest import send as ds
from domain.periods import Week
from tests.digest.conftest import free_port
from tests.digest.seed import NOW, WEEK
from tests.factories import make_user


def _send(factory, mailer, org_id, *, now=NOW, max_attempts=5):
    return ds.send_digest(factory, mailer, org_id, WEEK, now=now, max_attempts=max_attempts,
                          build=lambda s: build_digest(s, org_id, WEEK, now=now))


def _deliveries(factory) -> dict[str, DigestDelivery]:
    with session_scope(factory) as s:
        return {d.email: d for d in s.scalars(select(DigestDelivery))}


def test_repeated_runs_send_each_recipient_once(factory, seeded, smtp):
    inbox, mailer = smtp
    assert _send(factory, mailer, seeded.province)["sent"] == 2
    # Beat fires again, a worker restarts and redelivers the task: nothing more goes out.
    assert _send(factory, mailer, seeded.province) == {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    assert _send(factory, mailer, seeded.province, now=NOW + timedelta(days=2))["sent"] == 0
    assert len(inbox.messages) == 2
    rows = _deliveries(factory)
    assert {e: (d.status, d.attempts) for e, d in rows.items()} == {
        "lanhdao@tinh.vn": (DigestStatus.sent, 1), "chutich@tinh.vn": (DigestStatus.sent, 1)}
    assert all(d.message_id and d.sent_at for d in rows.values())


def test_concurrent_workers_send_each_recipient_once(factory, seeded, smtp):
    inbox, mailer = smtp
    with session_scope(factory) as s:
        for i in range(6):
            s.add(DigestRecipient(org_id=seeded.province, email=f"uyvien{i}@tinh.vn"))
    barrier = threading.Barrier(4)
    results, errors = [], []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(_send(factory, mailer, seeded.province))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sum(r["sent"] for r in results) == 8
    recipients = sorted(r for rcpts, _ in inbox.messages for r in rcpts)
    assert len(recipients) == 8 and len(set(recipients)) == 8


def test_smtp_down_is_retried_with_backoff_then_sent(factory, seeded, smtp):
    inbox, mailer = smtp
    down = Mailer(host="127.0.0.1", port=free_port(), sender="loa@congdoan.test", timeout=2)
    assert _send(factory, down, seeded.province) == {"sent": 0, "retry": 2, "failed": 0, "skipped": 0}
    row = _deliveries(factory)["lanhdao@tinh.vn"]
    assert row.status == DigestStatus.pending and row.attempts == 1
    assert row.next_try_at == NOW + timedelta(minutes=2) and "gửi thư thất bại" in row.last_error
    # Not due again before the backoff has passed: nothing is tried, even with the server back.
    with session_scope(factory) as s:
        assert ds.due_digests(s, now=NOW + timedelta(minutes=1)) == []
        assert ds.due_digests(s, now=NOW + timedelta(minutes=3)) == [(seeded.province, WEEK.label)]
    assert _send(factory, mailer, seeded.province, now=NOW + timedelta(minutes=1))["sent"] == 0
    assert _send(factory, mailer, seeded.province, now=NOW + timedelta(minutes=3))["sent"] == 2
    [msg] = inbox.to("lanhdao@tinh.vn")
    rows = _deliveries(factory)
    assert rows["lanhdao@tinh.vn"].attempts == 2 and msg["Message-ID"] == rows["lanhdao@tinh.vn"].message_id


def test_smtp_failures_end_failed_reported_to_admins_and_named_in_next_digest(factory, seeded, world, smtp):
    inbox, mailer = smtp
    down = Mailer(host="127.0.0.1", port=free_port(), sender="loa@congdoan.test", timeout=2)
    now = NOW
    for _ in range(3):
        _send(factory, down, seeded.province, now=now, max_attempts=3)
        now += timedelta(hours=1)
    rows = _deliveries(factory)
    assert {(d.status, d.attempts) for d in rows.values()} == {(DigestStatus.failed, 3)}
    with session_scope(factory) as s:
        assert {d.email for d in ds.problems(s, org_id=seeded.province)} == set(seeded.recipients)
        notes = list(s.scalars(select(Notification).where(Notification.kind == "digest_failed")))
        assert {n.user_id for n in notes} == {world.admin}  # the province's admin, one note per recipient
        assert len(notes) == 2 and "không gửi được tới lanhdao@tinh.vn" in notes[0].message + notes[1].message
        # The next week's digest tells the leaders who did not receive the last one.
        nxt = build_digest(s, seeded.province, WEEK.shift(1), now=NOW + timedelta(days=7))
    assert "Thư tổng hợp chưa đến được một số người nhận" in nxt.text
    assert "lanhdao@tinh.vn (2026-W40): không gửi được" in nxt.text
    assert inbox.messages == []


def test_refused_address_does_not_block_the_others(factory, seeded, smtp):
    inbox, mailer = smtp
    with session_scope(factory) as s:
        s.add(DigestRecipient(org_id=seeded.province, email="nghi.huu@tinh.vn"))
    inbox.refuse.add("nghi.huu@tinh.vn")
    assert _send(factory, mailer, seeded.province) == {"sent": 2, "retry": 0, "failed": 1, "skipped": 0}
    rows = _deliveries(factory)
    assert rows["nghi.huu@tinh.vn"].status == DigestStatus.failed
    assert "từ chối địa chỉ" in rows["nghi.huu@tinh.vn"].last_error
    assert {r for rcpts, _ in inbox.messages for r in rcpts} == set(seeded.recipients)
    # A refusal is final: later runs do not hammer the address.
    assert _send(factory, mailer, seeded.province, now=NOW + timedelta(hours=1))["failed"] == 0


def test_send_crashed_mid_smtp_becomes_uncertain_and_is_not_resent_blindly(factory, seeded, smtp):
    inbox, mailer = smtp
    with session_scope(factory) as s:
        # A worker claimed this copy and died during the SMTP exchange.
        claim = ds.claim(s, seeded.province, WEEK, "lanhdao@tinh.vn", now=NOW, lease=timedelta(minutes=5))
        assert claim.attempt == 1
    assert _send(factory, mailer, seeded.province)["skipped"] == 0  # not owed: held by the dead worker
    with session_scope(factory) as s:
        assert ds.recover_stale(s, now=NOW + timedelta(minutes=4)) == 0  # lease still running
        assert ds.recover_stale(s, now=NOW + timedelta(minutes=6)) == 1
    assert _deliveries(factory)["lanhdao@tinh.vn"].status == DigestStatus.uncertain
    _send(factory, mailer, seeded.province, now=NOW + timedelta(minutes=7))
    assert inbox.to("lanhdao@tinh.vn") == [] and len(inbox.to("chutich@tinh.vn")) == 1
    # An operator decides to send it again: same Message-ID, so a copy that did arrive is de-duplicated.
    with session_scope(factory) as s:
        ds.resend(s, seeded.province, WEEK, "lanhdao@tinh.vn")
    assert _send(factory, mailer, seeded.province, now=NOW + timedelta(minutes=8))["sent"] == 1
    [msg] = inbox.to("lanhdao@tinh.vn")
    assert msg["Message-ID"] == ds.message_id(seeded.province, WEEK, "lanhdao@tinh.vn", "congdoan.test")
    assert _deliveries(factory)["lanhdao@tinh.vn"].attempts == 2


def test_due_at_each_organisations_local_day_and_hour(factory, seeded, world):
    monday_0659 = datetime(2026, 10, 4, 23, 59, tzinfo=UTC)  # Monday 06:59 in Hà Nội
    with session_scope(factory) as s:
        s.add(DigestSettings(org_id=world.district, weekday=2, hour=9))  # Wednesdays 09:00
        s.add(DigestRecipient(org_id=world.district, email="lanhdao@huyen.vn"))
        s.add(DigestSettings(org_id=world.grassroots, weekday=0, hour=7, enabled=False))
        s.add(DigestRecipient(org_id=world.grassroots, email="chutich@may.vn"))
    with session_scope(factory) as s:
        assert ds.due_digests(s, now=monday_0659) == []
        assert ds.due_digests(s, now=monday_0659 + timedelta(minutes=2)) == [(seeded.province, "2026-W40")]
        wednesday_0900 = datetime(2026, 10, 7, 2, 0, tzinfo=UTC)
        assert ds.due_digests(s, now=wednesday_0900) == [(seeded.province, "2026-W40"),
                                                         (world.district, "2026-W40")]
        # Sunday night: still week 41, the digest of week 40 is still owed; Monday: week 41's turn.
        assert ds.due_digests(s, now=datetime(2026, 10, 11, 16, 59, tzinfo=UTC))[0] == (seeded.province, "2026-W40")
        assert ds.due_digests(s, now=datetime(2026, 10, 12, 0, 1, tzinfo=UTC))[0] == (seeded.province, "2026-W41")


def test_settings_are_validated_before_anything_is_stored(factory, world):
    with session_scope(factory) as s:
        with pytest.raises(InvalidInput, match="không hợp lệ"):
            ds.configure(s, world.province, add=["lanhdao@tinh.vn", "khong-phai-email"])
        with pytest.raises(InvalidInput, match="Giờ gửi"):
            ds.configure(s, world.province, add=["lanhdao@tinh.vn"], hour=24)
        assert s.scalar(select(func.count()).select_from(DigestRecipient)) == 0
        assert s.get(DigestSettings, world.province) is None
        ds.configure(s, world.province, add=["LanhDao@Tinh.vn", "lanhdao@tinh.vn"], weekday=4, hour=16)
        assert ds.describe_settings(s, world.province) == (
            "Thư tổng hợp tuần đang bật: gửi thứ Sáu lúc 16:00 (giờ Việt Nam) tới lanhdao@tinh.vn.")


def test_failure_notes_go_to_admins_above_too(factory, seeded, world, smtp):
    inbox, _ = smtp
    with session_scope(factory) as s:
        from db.models import Organisation

        district_admin = make_user(s, s.get(Organisation, world.district), Role.admin, "quantri@huyen.vn").id
        s.add(DigestSettings(org_id=world.district, weekday=0, hour=7))
        s.add(DigestRecipient(org_id=world.district, email="vang@huyen.vn"))
    inbox.refuse.add("vang@huyen.vn")
    mailer = Mailer(host="127.0.0.1", port=smtp[1].port, sender="loa@congdoan.test")
    ds.send_digest(factory, mailer, world.district, WEEK, now=NOW,
                   build=lambda s: build_digest(s, world.district, WEEK, now=NOW))
    with session_scope(factory) as s:
        users = set(s.scalars(select(Notification.user_id).where(Notification.kind == "digest_failed")))
    assert users == {district_admin, world.admin}


def test_week_labels_sort_as_weeks():
    assert Week(2026, 9).label < Week(2026, 10).label < Week(2027, 1).label
