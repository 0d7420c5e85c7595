"""ZaloMessagesSource against the sandbox over HTTP: follower messages, offset paging, limits, errors."""

from __future__ import annotations

import json

import pytest
import requests

from collectors.zalo_messages import ZaloMessagesSource
from common.errors import AuthExpired, RetryLater


@pytest.fixture
def oa(sb):
    return sb.add_oa("OA Công đoàn thử nghiệm")


def make_source(sb, oa, http, **kwargs):
    return ZaloMessagesSource(oa["oa_id"], oa["access_token"], base_url=sb.zalo_openapi_url, session=http, **kwargs)


def oa_reply(sb, http, oa, user_id, text):
    r = http.post(f"{sb.zalo_openapi_url}/v3.0/oa/message/cs", headers={"access_token": oa["access_token"]},
                  json={"recipient": {"user_id": user_id}, "message": {"text": text}})
    assert r.json()["error"] == 0


def write(sb, oa, user_id, text):
    return sb.zalo_message(oa["oa_id"], user_id, text)["message_id"]


def drain(src, cursor=None, *, rounds=50, between=None):
    items = []
    for _ in range(rounds):
        batch = src.fetch(cursor)
        cursor = json.loads(json.dumps(batch.cursor))
        items += batch.items
        if not batch.more:
            return items, cursor
        if between:
            between()
    raise AssertionError("source never caught up")


def test_collects_follower_messages_across_pages_but_not_the_oas_own(sb, http, oa):
    expected = {}
    for n in range(12):  # 12 chats: two pages of listrecentchat
        uid = f"51000000000000{n:05d}"
        expected[write(sb, oa, uid, f"Tôi là đoàn viên số {n}, cho hỏi về chế độ ốm đau")] = uid
    chatty = "5100000000000000099"
    for i in range(13):  # one conversation over two pages
        expected[write(sb, oa, chatty, f"Tin nhắn thứ {i} về tiền lương làm thêm giờ")] = chatty
    oa_reply(sb, http, oa, chatty, "Công đoàn đã nhận được câu hỏi của bạn.")

    batch = make_source(sb, oa, http).fetch(None)

    got = {item.external_id: item for item in batch.items}
    assert {k: v.author_ref for k, v in got.items()} == expected  # the OA's reply is not collected
    item = next(iter(got.values()))
    assert (item.source, item.account_ref, item.author_name) == ("zalo_message", oa["oa_id"], None)
    assert item.created_at.tzinfo is not None and batch.more is False
    assert oa["access_token"] not in json.dumps(batch.cursor)


def test_second_fetch_with_cursor_returns_only_new_messages(sb, http, oa):
    write(sb, oa, "5100000000000000001", "Câu hỏi đầu tiên về bảo hiểm")
    write(sb, oa, "5100000000000000002", "Câu hỏi về nghỉ phép năm")
    src = make_source(sb, oa, http)
    first = src.fetch(None)
    assert len(first.items) == 2

    new_ids = {write(sb, oa, "5100000000000000001", "Bổ sung thêm thông tin ạ"),
               write(sb, oa, "5100000000000000003", "Tôi mới quan tâm OA, xin chào")}
    second = src.fetch(first.cursor)

    assert {i.external_id for i in second.items} == new_ids
    assert src.fetch(second.cursor).items == []


class WritesDuringWalk(requests.Session):
    """Makes a follower far down the list write again while the collector reads page 2."""

    def __init__(self, on_second_page):
        super().__init__()
        self.trust_env = False
        self._hook, self._fired = on_second_page, False

    def request(self, method, url, *args, **kwargs):
        data = (kwargs.get("params") or {}).get("data", "")
        if "listrecentchat" in url and '"offset":10' in data and not self._fired:
            self._fired = True
            self._hook()
        return super().request(method, url, *args, **kwargs)


def test_follower_who_writes_during_the_walk_is_not_missed(sb, oa):
    expected = set()
    for n in range(25):
        expected.add(write(sb, oa, f"52000000000000{n:05d}", f"Phản ánh số {n} về bữa ăn ca"))
    # The first writer sits at offset 24; writing again moves them to offset 0, behind the walk.
    late = "5200000000000000000"
    session = WritesDuringWalk(lambda: expected.add(write(sb, oa, late, "Nhắn thêm: bữa ăn ca quá ít")))

    items, _ = drain(make_source(sb, oa, session))

    assert {i.external_id for i in items} == expected
    session.close()


def test_page_budget_gives_partial_batches_that_resume_without_loss(sb, http, oa):
    expected = set()
    for n in range(15):
        for i in range(3):
            expected.add(write(sb, oa, f"53000000000000{n:05d}", f"Ý kiến {i} của người số {n}"))

    items, cursor = drain(make_source(sb, oa, http, max_pages=4))

    assert sorted(i.external_id for i in items) == sorted(expected)
    assert cursor["pass"] is None


def test_nearly_spent_rate_budget_stops_early_then_resumes(sb, http, oa):
    sb.set_config(zalo_rate_limit_per_min=8)
    expected = {write(sb, oa, f"54000000000000{n:05d}", f"Đề nghị số {n} về nhà trọ") for n in range(12)}
    src = make_source(sb, oa, http)

    first = src.fetch(None)
    items, _ = drain(src, first.cursor, between=lambda: sb.advance_clock(61))

    assert first.more is True and first.retry_after == 60
    assert {i.external_id for i in first.items + items} == expected


def test_expired_token_raises_refreshable_auth_expired(sb, http, oa):
    sb.revoke_token(platform="zalo", oa_id=oa["oa_id"], code=-220)

    with pytest.raises(AuthExpired) as err:
        make_source(sb, oa, http).fetch(None)

    assert err.value.refreshable is True and err.value.platform_code == -220


@pytest.mark.parametrize("rule,throttled", [({"kind": "throttle", "duration_s": 120}, True),
                                            ({"fail_next": 1}, False)])
def test_rate_limit_and_gateway_errors_raise_retry_later(sb, http, oa, rule, throttled):
    write(sb, oa, "5500000000000000001", "Xin chào")
    sb.faults(platform="zalo", app_id=oa["app_id"], **rule) if "kind" in rule else sb.faults(platform="zalo",
                                                                                              **rule)

    with pytest.raises(RetryLater) as err:
        make_source(sb, oa, http).fetch(None)

    assert err.value.throttled is throttled
