"""FacebookPageClient: error mapping against replayed Graph responses, then the sandbox over HTTP."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import requests
from PIL import Image

from common.errors import AuthExpired, OutcomeUnknown, Rejected, RetryLater
from publishers.base import MediaFile, OutgoingPost
from publishers.facebook import FacebookPageClient
from platforms.http import appsecret_proof
from sandbox.testing import SandboxServer
from tests.publishers import closed_port_url, fake_session, json_of, misbehaving_server, query_of

PAGE = "1001"
TOKEN = "page-token-secret-123"
BASE = "https://graph.test"


def make_client(**kwargs):
    session, transport = fake_session()
    client = FacebookPageClient(PAGE, TOKEN, base_url=BASE, session=session, **kwargs)
    return client, transport


def graph_error(code, subcode=None, message="boom", **extra):
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Axyz", **extra}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def photo(tmp_path, name="a.jpg"):
    path = tmp_path / name
    path.write_bytes(b"\xff\xd8\xff" + b"0" * 100)
    return MediaFile(path=str(path), content_type="image/jpeg", size=103)


# --------------------------------------------------------------------------- publishing

def test_text_post_sends_message_and_returns_id_and_permalink():
    client, transport = make_client()
    transport.add("POST", f"/v25.0/{PAGE}/feed",
                  json_body={"id": f"{PAGE}_55", "permalink_url": "https://facebook.test/p/55"})

    result = client.publish(OutgoingPost(text="Xin chào đoàn viên"), idempotency_key="k1")

    assert result.external_id == f"{PAGE}_55"
    assert result.url == "https://facebook.test/p/55"
    call = transport.calls[0]
    assert json_of(call) == {"message": "Xin chào đoàn viên"}
    assert query_of(call) == {"fields": "id,permalink_url", "access_token": TOKEN}


def test_link_post_sends_link_and_appsecret_proof():
    client, transport = make_client(app_secret="app-secret")
    transport.add("POST", "/feed", json_body={"id": f"{PAGE}_56"})

    client.publish(OutgoingPost(text="Đọc thêm", link="https://congdoan.test/a"), idempotency_key="k")

    assert json_of(transport.calls[0]) == {"message": "Đọc thêm", "link": "https://congdoan.test/a"}
    assert query_of(transport.calls[0])["appsecret_proof"] == appsecret_proof("app-secret", TOKEN)


def test_photos_are_uploaded_unpublished_then_attached_to_one_feed_post(tmp_path):
    client, transport = make_client()
    transport.add("POST", "/photos", json_body={"id": "p1"}).add("POST", "/photos", json_body={"id": "p2"})
    transport.add("POST", "/feed", json_body={"id": f"{PAGE}_57"})

    result = client.publish(OutgoingPost(text="Ảnh hội nghị", photos=(photo(tmp_path), photo(tmp_path, "b.jpg"))),
                            idempotency_key="k")

    assert result.external_id == f"{PAGE}_57"
    upload = transport.calls[0]
    assert b'name="published"' in upload.body and b"false" in upload.body
    assert b'name="source"; filename="a.jpg"' in upload.body
    assert json_of(transport.calls[2]) == {"message": "Ảnh hội nghị",
                                           "attached_media": [{"media_fbid": "p1"}, {"media_fbid": "p2"}]}


@pytest.mark.parametrize("post, code", [
    (OutgoingPost(text="x" * 63_207), "message_too_long"),
    (OutgoingPost(text="  "), "empty_post"),
])
def test_invalid_posts_are_rejected_before_calling(post, code):
    client, transport = make_client()

    with pytest.raises(Rejected) as info:
        client.publish(post, idempotency_key="k")

    assert info.value.platform_code == code
    assert transport.calls == []


def test_more_than_ten_photos_are_rejected_before_calling(tmp_path):
    client, transport = make_client()
    photos = tuple(photo(tmp_path, f"{i}.jpg") for i in range(11))

    with pytest.raises(Rejected, match="tối đa 10 ảnh"):
        client.publish(OutgoingPost(text="nhiều ảnh", photos=photos), idempotency_key="k")
    assert transport.calls == []


# --------------------------------------------------------------------------- error mapping (A10)

BUC_3_MIN = {"X-Business-Use-Case-Usage": json.dumps(
    {PAGE: [{"type": "pages", "call_count": 100, "total_cputime": 40, "total_time": 40,
             "estimated_time_to_regain_access": 3}]})}


@pytest.mark.parametrize("status, body, headers, kind, attrs", [
    (500, graph_error(1), {}, RetryLater, {"throttled": False, "platform_code": 1}),
    (500, graph_error(2), {}, RetryLater, {"throttled": False}),
    (503, graph_error(12345), {}, RetryLater, {"throttled": False}),
    (400, graph_error(4), {}, RetryLater, {"throttled": True, "retry_after": 300.0}),
    (400, graph_error(17), {}, RetryLater, {"throttled": True}),
    (400, graph_error(32), {}, RetryLater, {"throttled": True}),
    (400, graph_error(613), {}, RetryLater, {"throttled": True}),
    (400, graph_error(341), {}, RetryLater, {"throttled": True}),
    (403, graph_error(80001), BUC_3_MIN, RetryLater, {"throttled": True, "retry_after": 180.0}),
    (400, graph_error(368), {}, RetryLater, {"throttled": True, "retry_after": 6 * 3600.0}),
    (400, graph_error(368, 1390008), {}, RetryLater, {"throttled": True, "retry_after": 3600.0}),
    (400, graph_error(102), {}, AuthExpired, {"refreshable": False}),
    (400, graph_error(10), {}, AuthExpired, {"refreshable": False}),
    (403, graph_error(200), {}, AuthExpired, {"refreshable": False}),
    (400, graph_error(299), {}, AuthExpired, {"refreshable": False}),
    (400, graph_error(100, 1366046), {}, Rejected, {"platform_code": 100}),
    (400, graph_error(100, message="(#100) Message too long"), {}, Rejected, {}),
    (400, graph_error(1609005), {}, Rejected, {}),
    (400, graph_error(9999), {}, Rejected, {}),
])
def test_graph_errors_map_to_error_kinds(status, body, headers, kind, attrs):
    client, transport = make_client()
    transport.add("POST", "/feed", status=status, json_body=body, headers=headers)

    with pytest.raises(kind) as info:
        client.publish(OutgoingPost(text="Bài"), idempotency_key="k")

    assert type(info.value) is kind
    assert info.value.platform == "facebook_page"
    for name, value in attrs.items():
        assert getattr(info.value, name) == value


@pytest.mark.parametrize("subcode, words", [
    (463, "hết hạn"), (460, "đổi mật khẩu"), (467, "đăng xuất"), (458, "gỡ ứng dụng"),
    (492, "vai trò quản trị"), (None, "không còn hợp lệ"),
])
def test_token_errors_name_the_cause_in_vietnamese(subcode, words):
    client, transport = make_client()
    transport.add("GET", f"/{PAGE}", status=400, json_body=graph_error(190, subcode))

    with pytest.raises(AuthExpired) as info:
        client.whoami()

    assert info.value.refreshable is False
    assert words in info.value.message_vi
    assert info.value.details["subcode"] == subcode


def test_duplicate_is_a_rejection_the_caller_can_recognise():
    client, transport = make_client()
    transport.add("POST", "/feed", status=400, json_body=graph_error(506, message="Duplicate status message"))

    with pytest.raises(Rejected) as info:
        client.publish(OutgoingPost(text="Bài"), idempotency_key="k")

    assert info.value.details["duplicate"] is True
    assert "trùng" in info.value.message_vi


def test_photo_too_large_explains_limits(tmp_path):
    client, transport = make_client()
    transport.add("POST", "/photos", status=400, json_body=graph_error(100, 1366046))

    with pytest.raises(Rejected, match="4 MB"):
        client.publish(OutgoingPost(text="Ảnh", photos=(photo(tmp_path),)), idempotency_key="k")


def test_error_raw_is_truncated_and_has_no_token():
    client, transport = make_client()
    transport.add("POST", "/feed", status=400,
                  json_body=graph_error(100, message=f"bad access_token={TOKEN} " + "x" * 5000))

    with pytest.raises(Rejected) as info:
        client.publish(OutgoingPost(text="Bài"), idempotency_key="k")

    assert TOKEN not in info.value.raw and len(info.value.raw) <= 2048


@pytest.mark.parametrize("status, body", [
    (502, b"<html>Bad Gateway</html>"), (503, b""), (504, b"upstream timeout"),
    (200, b"{not json"), (200, b'{"permalink_url": "https://x"}'), (200, b'["id"]'),
])
def test_unreadable_answer_to_feed_post_is_outcome_unknown(status, body):
    client, transport = make_client()
    transport.add("POST", "/feed", status=status, body=body)

    with pytest.raises(OutcomeUnknown):
        client.publish(OutgoingPost(text="Bài"), idempotency_key="k")


@pytest.mark.parametrize("status, body", [(502, b"<html>Bad Gateway</html>"), (200, b"{}"), (200, b"nope")])
def test_unreadable_answer_to_reads_and_uploads_is_retry_later(status, body, tmp_path):
    client, transport = make_client()
    transport.add("GET", f"/{PAGE}", status=status, body=body)
    transport.add("POST", "/photos", status=status, body=body)

    with pytest.raises(RetryLater):
        client.whoami()
    with pytest.raises(RetryLater):
        client.publish(OutgoingPost(text="Ảnh", photos=(photo(tmp_path),)), idempotency_key="k")


def test_gateway_429_is_throttled_with_retry_after():
    client, transport = make_client()
    transport.add("POST", "/feed", status=429, body=b"slow down", headers={"Retry-After": "42"})

    with pytest.raises(RetryLater) as info:
        client.publish(OutgoingPost(text="Bài"), idempotency_key="k")

    assert info.value.throttled and info.value.retry_after == 42.0


def test_usage_headers_are_exposed():
    client, transport = make_client()
    transport.add("GET", f"/{PAGE}", json_body={"id": PAGE, "name": "CĐ"},
                  headers={"X-App-Usage": '{"call_count": 96, "total_time": 10, "total_cputime": 5}'})

    client.whoami()

    assert client.last_usage.max_percent == 96 and client.last_usage.near_limit


# --------------------------------------------------------------------------- transport

def test_connection_refused_is_retry_later_even_for_feed_post():
    client = FacebookPageClient(PAGE, TOKEN, base_url=closed_port_url(), timeout=(1, 1))

    with pytest.raises(RetryLater) as info:
        client.publish(OutgoingPost(text="Bài"), idempotency_key="k")

    assert info.value.platform_code == "connect_error" and TOKEN not in info.value.raw


@pytest.mark.parametrize("mode", ["hang", "reset"])
def test_lost_reply_to_feed_post_is_outcome_unknown_but_reads_retry(mode):
    with misbehaving_server(mode) as url:
        client = FacebookPageClient(PAGE, TOKEN, base_url=url, timeout=(1, 0.2))
        with pytest.raises(OutcomeUnknown) as info:
            client.publish(OutgoingPost(text="Bài"), idempotency_key="k")
        with pytest.raises(RetryLater):
            client.whoami()

    assert TOKEN not in (info.value.raw or "")


# --------------------------------------------------------------------------- find_published / whoami

def test_find_published_follows_next_through_empty_pages():
    client, transport = make_client()
    since = datetime(2026, 5, 1, tzinfo=timezone.utc)
    later = "2026-05-01T10:00:00+0000"
    next1 = f"{BASE}/v25.0/{PAGE}/published_posts?access_token=OLD&after=c1&limit=2"
    next2 = f"{BASE}/v25.0/{PAGE}/published_posts?after=c2"
    transport.add("GET", "/published_posts", json_body={
        "data": [{"id": f"{PAGE}_1", "message": "khác", "created_time": later}], "paging": {"next": next1}})
    transport.add("GET", "/published_posts", json_body={"data": [], "paging": {"next": next2}})
    transport.add("GET", "/published_posts", json_body={"data": [
        {"id": f"{PAGE}_2", "message": "Bài của ta\r\n", "created_time": later,
         "permalink_url": "https://facebook.test/2"}]})

    found = client.find_published(OutgoingPost(text="Bài của ta"), idempotency_key="k", since=since)

    assert found.external_id == f"{PAGE}_2" and found.url == "https://facebook.test/2"
    assert found.accepted_at == datetime(2026, 5, 1, 10, tzinfo=timezone.utc)
    first, second = query_of(transport.calls[0]), query_of(transport.calls[1])
    assert first["fields"] == "id,message,created_time,permalink_url"
    assert first["since"] == str(int(since.timestamp()) - 120)
    assert second["access_token"] == TOKEN and second["after"] == "c1" and second["limit"] == "2"


def test_find_published_returns_none_when_absent():
    client, transport = make_client()
    transport.add("GET", "/published_posts", json_body={"data": [{"id": "1_1", "message": "khác"}]})

    assert client.find_published(OutgoingPost(text="Bài"), idempotency_key="k",
                                 since=datetime.now(timezone.utc) - timedelta(hours=1)) is None


def test_find_published_refuses_next_link_to_another_host():
    client, transport = make_client()
    transport.add("GET", "/published_posts", json_body={"data": [], "paging": {"next": "https://evil.test/x"}})

    with pytest.raises(RetryLater):
        client.find_published(OutgoingPost(text="Bài"), idempotency_key="k", since=datetime.now(timezone.utc))
    assert len(transport.calls) == 1


def test_whoami_returns_page():
    client, transport = make_client()
    transport.add("GET", f"/v25.0/{PAGE}", json_body={"id": PAGE, "name": "Công đoàn Huế"})

    info = client.whoami()

    assert (info.external_id, info.name) == (PAGE, "Công đoàn Huế")
    assert query_of(transport.calls[0])["fields"] == "id,name"


# --------------------------------------------------------------------------- against the sandbox (HTTP)

@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer() as server:
        yield server


@pytest.fixture
def page(sandbox):
    sandbox.reset()
    return sandbox.add_page("Công đoàn thử nghiệm")


def sandbox_client(sandbox, page, *, timeout=(2, 5), **kwargs):
    session = requests.Session()
    session.trust_env = False  # loopback only, never through a proxy
    return FacebookPageClient(page["id"], page["page_token"], base_url=sandbox.graph_url, session=session,
                              timeout=timeout, **kwargs)


def jpeg(tmp_path, name, color):
    path = tmp_path / name
    Image.new("RGB", (32, 24), color).save(path, "JPEG")
    return MediaFile(path=str(path), content_type="image/jpeg", size=path.stat().st_size)


def test_sandbox_text_and_link_posts_appear(sandbox, page):
    client = sandbox_client(sandbox, page)

    text = client.publish(OutgoingPost(text="Thông báo Đại hội Công đoàn"), idempotency_key="k1")
    link = client.publish(OutgoingPost(text="Đọc thêm", link="https://congdoan.test/bai-1"), idempotency_key="k2")

    posts = {p["id"]: p for p in sandbox.posts(page_id=page["id"])}
    assert posts[text.external_id]["message"] == "Thông báo Đại hội Công đoàn"
    assert text.url == posts[text.external_id]["permalink_url"]
    assert posts[link.external_id]["link"] == "https://congdoan.test/bai-1"
    assert client.whoami().name == "Công đoàn thử nghiệm"


def test_sandbox_multi_photo_post_attaches_every_photo(sandbox, page, tmp_path):
    client = sandbox_client(sandbox, page, app_secret="emu-fb-app-secret")
    photos = tuple(jpeg(tmp_path, f"{i}.jpg", c) for i, c in enumerate(["red", "green", "blue"]))

    result = client.publish(OutgoingPost(text="Ảnh hội thao", photos=photos), idempotency_key="k")

    [post] = sandbox.posts(page_id=page["id"])
    assert post["id"] == result.external_id and len(post["photo_ids"]) == 3


def test_sandbox_bad_photo_is_rejected(sandbox, page, tmp_path):
    client = sandbox_client(sandbox, page)

    with pytest.raises(Rejected, match="4 MB"):
        client.publish(OutgoingPost(text="Ảnh", photos=(photo(tmp_path),)), idempotency_key="k")
    assert sandbox.posts(page_id=page["id"]) == []


def test_sandbox_duplicate_is_rejected_as_duplicate(sandbox, page):
    client = sandbox_client(sandbox, page)
    client.publish(OutgoingPost(text="Bài trùng"), idempotency_key="k1")

    with pytest.raises(Rejected) as info:
        client.publish(OutgoingPost(text="Bài trùng"), idempotency_key="k2")

    assert info.value.details["duplicate"] is True and info.value.platform_code == 506
    assert len(sandbox.posts(page_id=page["id"])) == 1


def test_sandbox_link_that_cannot_be_scraped_is_rejected(sandbox, page):
    client = sandbox_client(sandbox, page)

    with pytest.raises(Rejected, match="liên kết"):
        client.publish(OutgoingPost(text="Link hỏng", link="https://scrape-fail.test/x"), idempotency_key="k")


def test_sandbox_500_burst_is_retry_later_and_nothing_is_posted(sandbox, page):
    client = sandbox_client(sandbox, page)
    sandbox.faults(platform="facebook", path="*/feed", method="POST", fail_next=2)

    for _ in range(2):
        with pytest.raises(RetryLater) as info:
            client.publish(OutgoingPost(text="Sau sự cố"), idempotency_key="k")
        assert info.value.platform_code in (1, 2) and not info.value.throttled
    assert sandbox.posts(page_id=page["id"]) == []
    client.publish(OutgoingPost(text="Sau sự cố"), idempotency_key="k")
    assert len(sandbox.posts(page_id=page["id"])) == 1


def test_sandbox_raw_502_on_feed_is_outcome_unknown(sandbox, page):
    client = sandbox_client(sandbox, page)
    sandbox.faults(platform="facebook", path="*/feed", method="POST", fail_next=1, kind="raw_502_html")

    with pytest.raises(OutcomeUnknown):
        client.publish(OutgoingPost(text="Qua proxy"), idempotency_key="k")


def test_sandbox_applied_then_hang_is_outcome_unknown_and_find_published_settles_it(sandbox, page):
    client = sandbox_client(sandbox, page, timeout=(2, 0.3))
    since = datetime.now(timezone.utc)
    sandbox.faults(platform="facebook", path="*/feed", method="POST", fail_next=1, kind="applied_then_hang",
                   hang_s=2)
    post = OutgoingPost(text="Bài có thể đã lên")

    with pytest.raises(OutcomeUnknown):
        client.publish(post, idempotency_key="k")
    found = client.find_published(post, idempotency_key="k", since=since)

    [created] = sandbox.posts(page_id=page["id"])
    assert found.external_id == created["id"] and found.url == created["permalink_url"]
    assert client.find_published(OutgoingPost(text="Bài khác"), idempotency_key="k2", since=since) is None


def test_sandbox_find_published_walks_empty_pages(sandbox, page):
    client = sandbox_client(sandbox, page)
    since = datetime.now(timezone.utc)
    first = client.publish(OutgoingPost(text="Bài cũ nhất"), idempotency_key="k0")
    for i in range(3):
        client.publish(OutgoingPost(text=f"Bài mới {i}"), idempotency_key=f"k{i + 1}")
    sandbox.set_config(fb_default_limit=1, fb_inject_empty_page=True)

    found = client.find_published(OutgoingPost(text="Bài cũ nhất"), idempotency_key="k0", since=since)

    assert found.external_id == first.external_id


def test_sandbox_expired_token_is_auth_expired(sandbox, page):
    client = sandbox_client(sandbox, page)
    sandbox.revoke_token(page_id=page["id"], subcode=463)

    with pytest.raises(AuthExpired) as info:
        client.publish(OutgoingPost(text="Bài"), idempotency_key="k")

    assert info.value.refreshable is False and info.value.details["subcode"] == 463
    assert "hết hạn" in info.value.message_vi


def test_sandbox_missing_permission_is_auth_expired(sandbox):
    sandbox.reset()
    page = sandbox.add_page("Trang thiếu quyền", scopes=["pages_show_list", "pages_read_engagement"])
    client = sandbox_client(sandbox, page)

    with pytest.raises(AuthExpired) as info:
        client.publish(OutgoingPost(text="Bài"), idempotency_key="k")

    assert info.value.details["missing_permission"] is True


def test_sandbox_throttled_page_is_retry_later_with_regain_time(sandbox, page):
    client = sandbox_client(sandbox, page)
    client.whoami()
    sandbox.faults(kind="throttle", scope="page", page_id=page["id"], duration_s=600)

    with pytest.raises(RetryLater) as info:
        client.publish(OutgoingPost(text="Bài"), idempotency_key="k")

    assert info.value.throttled and info.value.platform_code == 80001
    assert info.value.retry_after == 600
    assert client.last_usage.near_limit


def test_sandbox_policy_block_is_a_long_throttle(sandbox, page):
    client = sandbox_client(sandbox, page)
    sandbox.faults(kind="policy_block", page_id=page["id"], duration_s=3600)

    with pytest.raises(RetryLater) as info:
        client.publish(OutgoingPost(text="Bài"), idempotency_key="k")

    assert info.value.throttled and info.value.platform_code == 368 and info.value.retry_after == 3600


def test_platform_sessions_still_follow_the_environment_proxy(monkeypatch):
    # the pooled session reads proxy settings once per host instead of on every request
    from platforms import http

    http._proxies_for.cache_clear()
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.congdoan.vn:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    seen = {}

    class Recorder(requests.Session):
        def request(self, method, url, **kwargs):  # noqa: ANN001, ANN003, ANN201
            seen[url] = kwargs.get("proxies")
            raise requests.ConnectionError("stop here")

    session = Recorder()
    session.trust_env = False
    for url in ("https://graph.facebook.com/v25.0/me", "http://127.0.0.1:8081/graph/me"):
        with pytest.raises(Exception):
            http.send(session, "GET", url, platform="facebook_page", creates=False, timeout=(1, 1))
    http._proxies_for.cache_clear()
    assert seen["https://graph.facebook.com/v25.0/me"]["https"] == "http://proxy.congdoan.vn:3128"
    assert "https" not in seen["http://127.0.0.1:8081/graph/me"]
    assert http.pooled_session().trust_env is False
