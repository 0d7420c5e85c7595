"""ZaloOAClient and ZaloAuthClient: error mapping against replayed responses, then the sandbox over HTTP."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest
import requests

from common.errors import AuthExpired, OutcomeUnknown, Rejected, RetryLater
from publishers.base import MediaFile, OutgoingPost
from platforms.http import appsecret_proof
from publishers.zalo import ZaloAuthClient, ZaloOAClient
from sandbox.testing import SandboxServer
from tests.publishers import closed_port_url, fake_session, json_of, misbehaving_server, query_of

OA = "4400"
TOKEN = "zalo-access-token-123"
API = "https://openapi.test"
OAUTH = "https://oauth.test"
COVER = "https://loa.test/media/cover.jpg"


def make_client(**kwargs):
    session, transport = fake_session()
    client = ZaloOAClient(OA, TOKEN, openapi_url=API, session=session, author="LĐLĐ tỉnh", **kwargs)
    client._sleep = lambda seconds: None
    return client, transport


def ok(data=None):
    return {"error": 0, "message": "Success", "data": data or {}}


def err(code, message="failed"):
    return {"error": code, "message": message}


def article_post(**kwargs):
    values = {"text": "Hội nghị công đoàn 2026\n\nĐoạn một.\n\nĐoạn hai.", "cover_url": COVER}
    values.update(kwargs)
    return OutgoingPost(**values)


def script_publish(transport, *, processing=2, verify_data=None):
    transport.add("POST", "/v2.0/article/create", json_body=ok({"token": "tok-1"}))
    transport.add("POST", "/v2.0/article/verify", json_body=err(-214, "Article is being processed"), times=processing)
    transport.add("POST", "/v2.0/article/verify", json_body=ok(verify_data or {"id": "art-9"}))
    transport.add("GET", "/v2.0/article/getdetail", json_body=ok({"id": "art-9", "link": "https://zalo.test/a/9"}))


# --------------------------------------------------------------------------- publishing

def test_publish_creates_article_polls_verify_and_reads_link():
    client, transport = make_client()
    script_publish(transport)

    result = client.publish(article_post(), idempotency_key="k")

    assert (result.external_id, result.url) == ("art-9", "https://zalo.test/a/9")
    create = transport.calls[0]
    assert create.headers["access_token"] == TOKEN
    body = json_of(create)
    assert body["type"] == "normal" and body["title"] == "Hội nghị công đoàn 2026"
    assert body["author"] == "LĐLĐ tỉnh" and body["status"] == "show" and body["comment"] == "show"
    assert body["cover"] == {"cover_type": "photo", "photo_url": COVER, "status": "show"}
    assert [b["content"] for b in body["body"]] == ["Hội nghị công đoàn 2026", "Đoạn một.", "Đoạn hai."]
    assert len(body["description"]) <= 300
    assert [json_of(c) for c in transport.calls[1:4]] == [{"token": "tok-1"}] * 3
    assert query_of(transport.calls[4]) == {"id": "art-9"}


def test_photos_become_cover_and_image_blocks():
    client, transport = make_client()
    script_publish(transport, processing=0, verify_data={"article_id": "art-9"})
    photos = tuple(MediaFile(path=f"/m/{i}.jpg", content_type="image/jpeg", size=10,
                             url=f"https://loa.test/m/{i}.jpg") for i in range(2))

    result = client.publish(OutgoingPost(text="Ảnh", title="Tiêu đề riêng", photos=photos), idempotency_key="k")

    body = json_of(transport.calls[0])
    assert result.external_id == "art-9"
    assert body["title"] == "Tiêu đề riêng"
    assert body["cover"]["photo_url"] == "https://loa.test/m/0.jpg"
    assert body["body"][1:] == [{"type": "image", "url": f"https://loa.test/m/{i}.jpg", "caption": ""}
                                for i in range(2)]


def test_long_first_line_is_clipped_to_150_chars():
    client, transport = make_client()
    script_publish(transport, processing=0)

    client.publish(article_post(text="chữ " * 100), idempotency_key="k")

    assert len(json_of(transport.calls[0])["title"]) <= 150


@pytest.mark.parametrize("post, words", [
    (OutgoingPost(text="Không có ảnh"), "ảnh bìa"),
    (OutgoingPost(text="Ảnh", photos=(MediaFile(path="/m/a.jpg", content_type="image/jpeg", size=1),)), "URL"),
    (article_post(title="t" * 151), "150"),
])
def test_articles_zalo_would_refuse_are_rejected_before_calling(post, words):
    client, transport = make_client()

    with pytest.raises(Rejected, match=words):
        client.publish(post, idempotency_key="k")
    assert transport.calls == []


def test_verify_that_never_finishes_is_outcome_unknown_with_token():
    client, transport = make_client(verify_attempts=3)
    transport.add("POST", "/article/create", json_body=ok({"token": "tok-1"}))
    transport.add("POST", "/article/verify", json_body=err(-214), times=3)

    with pytest.raises(OutcomeUnknown) as info:
        client.publish(article_post(), idempotency_key="k")

    assert info.value.details["token"] == "tok-1"


def test_expired_token_after_create_is_outcome_unknown_not_auth_expired():
    client, transport = make_client()
    transport.add("POST", "/article/create", json_body=ok({"token": "tok-1"}))
    transport.add("POST", "/article/verify", json_body=err(-220))

    with pytest.raises(OutcomeUnknown) as info:
        client.publish(article_post(), idempotency_key="k")

    assert info.value.platform_code == -220 and info.value.details["token"] == "tok-1"


def test_broadcast_after_publish_returns_message_id():
    client, transport = make_client()
    script_publish(transport, processing=0)
    transport.add("POST", "/v2.0/oa/message", json_body=ok({"message_id": "m-1"}))

    result = client.publish(article_post(broadcast=True), idempotency_key="k")

    assert result.extra["broadcast_message_id"] == "m-1"
    broadcast = next(c for c in transport.calls if c.url.endswith("/v2.0/oa/message"))
    element = json_of(broadcast)["message"]["attachment"]["payload"]["elements"][0]
    assert element == {"media_type": "article", "attachment_id": "art-9"}


def test_failed_broadcast_does_not_fail_the_published_article():
    client, transport = make_client()
    script_publish(transport, processing=0)
    transport.add("POST", "/v2.0/oa/message", status=504, body=b"gateway timeout")

    result = client.publish(article_post(broadcast=True), idempotency_key="k")

    assert result.external_id == "art-9"
    assert result.extra["broadcast_status"] == "unknown"


# --------------------------------------------------------------------------- error mapping (B8)

@pytest.mark.parametrize("code, kind, attrs", [
    (-216, AuthExpired, {"refreshable": True}),
    (-220, AuthExpired, {"refreshable": True}),
    (-32, RetryLater, {"throttled": True, "retry_after": 60.0}),
    (-211, RetryLater, {"throttled": True, "retry_after": 6 * 3600.0}),
    (-204, Rejected, {}), (-205, Rejected, {}), (-209, Rejected, {}), (-221, Rejected, {}),
    (-223, Rejected, {}), (-224, Rejected, {}), (-242, Rejected, {}),
    (-230, Rejected, {}), (-232, Rejected, {}), (-213, Rejected, {}), (-217, Rejected, {}),
    (-218, Rejected, {}), (-227, Rejected, {}),
])
def test_zalo_errors_map_to_error_kinds(code, kind, attrs):
    client, transport = make_client()
    transport.add("POST", "/v3.0/oa/message/cs", json_body=err(code))

    with pytest.raises(kind) as info:
        client.send_text("u1", "Chào bạn")

    assert type(info.value) is kind
    assert (info.value.platform, info.value.platform_code) == ("zalo_oa", code)
    for name, value in attrs.items():
        assert getattr(info.value, name) == value


def test_invalid_field_is_named_in_the_reason():
    client, transport = make_client()
    transport.add("POST", "/article/create", json_body=err(-201, "title is invalid"))

    with pytest.raises(Rejected, match="“title” không hợp lệ"):
        client.publish(article_post(), idempotency_key="k")


def test_unknown_negative_code_is_rejected_with_the_raw_message():
    client, transport = make_client()
    transport.add("GET", "/v2.0/oa/getoa", json_body=err(-999, "Something odd"))

    with pytest.raises(Rejected, match="Something odd"):
        client.whoami()


def test_rate_limit_uses_retry_after_header_and_records_budget():
    client, transport = make_client()
    transport.add("GET", "/getoa", json_body=err(-32), headers={"Retry-After": "12", "X-RateLimit-Limit": "4000",
                                                                "X-RateLimit-Remain": "0"})

    with pytest.raises(RetryLater) as info:
        client.whoami()

    assert info.value.retry_after == 12.0 and client.last_rate_limit == (4000, 0)


@pytest.mark.parametrize("status, body", [(502, b"<html>bad gateway</html>"), (200, b"{oops"), (200, b"{}")])
def test_unreadable_answer_to_create_is_outcome_unknown_and_to_reads_retry_later(status, body):
    client, transport = make_client()
    transport.add("POST", "/article/create", status=status, body=body)
    transport.add("GET", "/getoa", status=status, body=body)

    with pytest.raises(OutcomeUnknown):
        client.publish(article_post(), idempotency_key="k")
    with pytest.raises(RetryLater):
        client.whoami()


def test_lost_reply_to_create_is_outcome_unknown_and_refused_connection_retry_later():
    with misbehaving_server("hang") as url:
        client = ZaloOAClient(OA, TOKEN, openapi_url=url, timeout=(1, 0.2))
        with pytest.raises(OutcomeUnknown):
            client.publish(article_post(), idempotency_key="k")
    client = ZaloOAClient(OA, TOKEN, openapi_url=closed_port_url(), timeout=(1, 1))
    with pytest.raises(RetryLater):
        client.publish(article_post(), idempotency_key="k")


# --------------------------------------------------------------------------- other calls

def test_whoami_sends_appsecret_proof_and_reads_oa():
    client, transport = make_client(app_secret="zsecret")
    transport.add("GET", "/v2.0/oa/getoa", json_body=ok({"oa_id": OA, "name": "Công đoàn Huế"}))

    info = client.whoami()

    assert (info.external_id, info.name) == (OA, "Công đoàn Huế")
    assert transport.calls[0].headers["appsecret_proof"] == appsecret_proof("zsecret", TOKEN)


def test_get_params_travel_as_one_json_data_param():
    client, transport = make_client()
    transport.add("GET", "/v2.0/oa/listrecentchat", json_body=ok([]))

    client._call("GET", "/v2.0/oa/listrecentchat", params={"offset": 0, "count": 10})

    assert json.loads(query_of(transport.calls[0])["data"]) == {"offset": 0, "count": 10}


def test_send_text_returns_message_id_and_checks_length():
    client, transport = make_client()
    transport.add("POST", "/v3.0/oa/message/cs", json_body=ok({"message_id": "mid-1", "user_id": "u1"}))

    assert client.send_text("u1", "Cảm ơn bạn đã góp ý") == "mid-1"
    assert json_of(transport.calls[0]) == {"recipient": {"user_id": "u1"}, "message": {"text": "Cảm ơn bạn đã góp ý"}}
    with pytest.raises(Rejected, match="2000"):
        client.send_text("u1", "a" * 2001)
    assert len(transport.calls) == 1


def test_find_published_matches_title_and_stops_at_older_articles():
    client, transport = make_client()
    since = datetime.now(timezone.utc) - timedelta(minutes=5)
    fresh = int(datetime.now(timezone.utc).timestamp() * 1000)
    old = int((since - timedelta(days=1)).timestamp() * 1000)
    page1 = [{"id": f"a{i}", "title": f"Khác {i}", "create_date": fresh} for i in range(10)]
    transport.add("GET", "/article/getslice", json_body=ok({"medias": page1, "total": 30}))
    transport.add("GET", "/article/getslice", json_body=ok({"medias": [
        {"id": "a10", "title": "Hội nghị công đoàn 2026", "create_date": fresh}], "total": 30}))
    transport.add("GET", "/article/getdetail", json_body=ok({"link": "https://zalo.test/a10"}))

    found = client.find_published(article_post(broadcast=True), idempotency_key="k", since=since)

    assert (found.external_id, found.url) == ("a10", "https://zalo.test/a10")
    assert found.extra == {"broadcast_status": "unknown"}
    assert query_of(transport.calls[1]) == {"offset": "10", "limit": "10", "type": "normal"}

    transport.add("GET", "/article/getslice", json_body=ok({"medias": [
        {"id": "z", "title": "Hội nghị công đoàn 2026", "create_date": old}], "total": 1}))
    assert client.find_published(article_post(), idempotency_key="k", since=since) is None


# --------------------------------------------------------------------------- ZaloAuthClient

def make_auth():
    session, transport = fake_session()
    return ZaloAuthClient("app-1", "app-secret-xyz", oauth_url=OAUTH, session=session), transport


def test_refresh_posts_form_with_secret_header_and_parses_string_expiry():
    auth, transport = make_auth()
    transport.add("POST", "/v4/oa/access_token",
                  json_body={"access_token": "new-a", "refresh_token": "new-r", "expires_in": "90000"})

    pair = auth.refresh("old-r")

    assert (pair.access_token, pair.refresh_token, pair.expires_in) == ("new-a", "new-r", 90000)
    call = transport.calls[0]
    assert call.headers["secret_key"] == "app-secret-xyz"
    assert parse_qs(call.body) == {"app_id": ["app-1"], "grant_type": ["refresh_token"], "refresh_token": ["old-r"]}


def test_exchange_code_sends_pkce_verifier():
    auth, transport = make_auth()
    transport.add("POST", "/v4/oa/access_token", json_body={"access_token": "a", "refresh_token": "r",
                                                            "expires_in": 90000})

    auth.exchange_code("code-1", "verifier-1")

    assert parse_qs(transport.calls[0].body)["code_verifier"] == ["verifier-1"]


def test_refresh_failure_needs_admin_consent():
    auth, transport = make_auth()
    transport.add("POST", "/access_token", json_body={"error": -14014, "error_name": "Invalid refresh token",
                                                      "error_description": "refresh_token is invalid"})

    with pytest.raises(AuthExpired) as info:
        auth.refresh("old-r")

    assert info.value.refreshable is False and "cần quản trị viên OA cấp quyền lại" in info.value.message_vi


@pytest.mark.parametrize("status, body", [(502, b"<html>"), (500, b"{}"), (200, b'{"access_token": "a"}')])
def test_refresh_server_trouble_is_retry_later(status, body):
    auth, transport = make_auth()
    transport.add("POST", "/access_token", status=status, body=body)

    with pytest.raises(RetryLater) as info:
        auth.refresh("old-r")
    assert "old-r" not in (info.value.raw or "")


def test_refresh_network_failure_is_retry_later():
    auth = ZaloAuthClient("app-1", "s", oauth_url=closed_port_url(), timeout=(1, 1))

    with pytest.raises(RetryLater):
        auth.refresh("old-r")


# --------------------------------------------------------------------------- against the sandbox (HTTP)

@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer() as server:
        yield server


@pytest.fixture
def oa(sandbox):
    sandbox.reset()
    return sandbox.add_oa("Công đoàn Huế")


def loopback_session():
    session = requests.Session()
    session.trust_env = False  # loopback only, never through a proxy
    return session


def sandbox_client(sandbox, oa, *, token=None, timeout=(2, 5), **kwargs):
    client = ZaloOAClient(oa["oa_id"], token or oa["access_token"], openapi_url=sandbox.zalo_openapi_url,
                          session=loopback_session(), timeout=timeout, author="LĐLĐ tỉnh",
                          verify_backoff=0.01, **kwargs)
    return client


def sandbox_auth(sandbox, oa):
    return ZaloAuthClient(oa["app_id"], oa["secret"], oauth_url=sandbox.zalo_oauth_url, session=loopback_session())


def test_sandbox_article_goes_through_verify_and_broadcast(sandbox, oa):
    sandbox.set_config(zalo_article_verify_polls=3, zalo_verify_id_field="article_id")
    client = sandbox_client(sandbox, oa, app_secret=oa["secret"])

    result = client.publish(article_post(broadcast=True), idempotency_key="k")

    [article] = sandbox.posts(platform="zalo")
    assert article["id"] == result.external_id and article["published"] is True
    assert article["title"] == "Hội nghị công đoàn 2026" and article["cover_url"] == COVER
    assert result.url == article["link"]
    [sent] = sandbox.control("GET", "/zalo/broadcasts", params={"oa_id": oa["oa_id"]})["data"]
    assert sent["article_id"] == result.external_id
    assert result.extra["broadcast_message_id"] == sent["message_id"]


def test_sandbox_verify_that_outlasts_the_polls_is_outcome_unknown(sandbox, oa):
    sandbox.set_config(zalo_article_verify_polls=10)
    client = sandbox_client(sandbox, oa, verify_attempts=3)

    with pytest.raises(OutcomeUnknown) as info:
        client.publish(article_post(), idempotency_key="k")

    assert info.value.details["token"]
    assert len(sandbox.posts(platform="zalo")) == 1


def test_sandbox_lost_verify_reply_is_polled_again_without_a_second_article(sandbox, oa):
    client = sandbox_client(sandbox, oa, timeout=(2, 0.3))
    sandbox.faults(platform="zalo", path="*/article/verify", fail_next=1, kind="applied_then_hang", hang_s=2)

    result = client.publish(article_post(), idempotency_key="k")

    assert [a["id"] for a in sandbox.posts(platform="zalo")] == [result.external_id]


def test_sandbox_applied_then_hang_on_create_is_outcome_unknown(sandbox, oa):
    client = sandbox_client(sandbox, oa, timeout=(2, 0.3))
    sandbox.faults(platform="zalo", path="*/article/create", fail_next=1, kind="applied_then_hang", hang_s=2)

    with pytest.raises(OutcomeUnknown):
        client.publish(article_post(), idempotency_key="k")
    assert len(sandbox.posts(platform="zalo")) == 1


def test_sandbox_lost_create_reply_is_found_once_zalo_has_processed_it(sandbox, oa):
    # Zalo processes the article whether or not anyone polls verify: the article we never got a
    # token for must still turn up in find_published, or Loa would create it a second time.
    sandbox.set_config(zalo_article_processing_s=5)
    client = sandbox_client(sandbox, oa, timeout=(2, 0.3))
    sandbox.faults(platform="zalo", path="*/article/create", fail_next=1, kind="applied_then_hang", hang_s=2)
    since = datetime.now(timezone.utc)

    with pytest.raises(OutcomeUnknown):
        client.publish(article_post(), idempotency_key="k")
    [created] = sandbox.posts(platform="zalo")
    assert client.find_published(article_post(), idempotency_key="k", since=since) is None  # still processing
    sandbox.advance_clock(5)

    found = client.find_published(article_post(), idempotency_key="k", since=since)
    assert found is not None and found.external_id == created["id"] and found.url == created["link"]
    assert len(sandbox.posts(platform="zalo")) == 1


def test_sandbox_5xx_is_outcome_unknown_on_create_and_retry_later_on_reads(sandbox, oa):
    client = sandbox_client(sandbox, oa)
    sandbox.faults(platform="zalo", path="*/article/create", fail_next=1, kind="raw_502_html")
    sandbox.faults(platform="zalo", path="*/oa/getoa", fail_next=1, kind="raw_503_empty")

    with pytest.raises(OutcomeUnknown):
        client.publish(article_post(), idempotency_key="k")
    with pytest.raises(RetryLater):
        client.whoami()
    assert client.whoami().name == "Công đoàn Huế"


def test_sandbox_find_published_finds_the_article_by_title(sandbox, oa):
    client = sandbox_client(sandbox, oa)
    since = datetime.now(timezone.utc)
    first = client.publish(article_post(title="Bài thứ nhất"), idempotency_key="k1")
    client.publish(article_post(title="Bài thứ hai"), idempotency_key="k2")

    found = client.find_published(article_post(title="Bài thứ nhất"), idempotency_key="k1", since=since)

    assert found.external_id == first.external_id and found.url == first.url
    assert client.find_published(article_post(title="Chưa đăng"), idempotency_key="k3", since=since) is None


def test_sandbox_expired_token_refreshes_once_and_old_refresh_token_dies(sandbox, oa):
    client = sandbox_client(sandbox, oa)
    sandbox.advance_clock(90_001)

    with pytest.raises(AuthExpired) as info:
        client.whoami()
    assert info.value.refreshable is True and info.value.platform_code == -220

    auth = sandbox_auth(sandbox, oa)
    pair = auth.refresh(oa["refresh_token"])
    assert pair.expires_in == 90_000 and pair.refresh_token != oa["refresh_token"]
    assert sandbox_client(sandbox, oa, token=pair.access_token).whoami().external_id == oa["oa_id"]
    with pytest.raises(AuthExpired) as reuse:
        auth.refresh(oa["refresh_token"])
    assert reuse.value.refreshable is False and "cấp quyền lại" in reuse.value.message_vi


def test_sandbox_revoked_token_is_refreshable(sandbox, oa):
    client = sandbox_client(sandbox, oa)
    sandbox.revoke_token(platform="zalo", oa_id=oa["oa_id"], code=-216)

    with pytest.raises(AuthExpired) as info:
        client.publish(article_post(), idempotency_key="k")

    assert info.value.refreshable is True and sandbox.posts(platform="zalo") == []


def test_sandbox_exchange_code_gives_a_working_pair(sandbox, oa):
    code = sandbox.control("POST", "/zalo/codes", {"oa_id": oa["oa_id"]})["code"]

    pair = sandbox_auth(sandbox, oa).exchange_code(code, "verifier-not-checked-without-challenge")

    assert sandbox_client(sandbox, oa, token=pair.access_token).whoami().external_id == oa["oa_id"]


def test_sandbox_throttle_is_retry_later(sandbox, oa):
    client = sandbox_client(sandbox, oa)
    sandbox.faults(kind="throttle", platform="zalo", app_id=oa["app_id"], duration_s=60)

    with pytest.raises(RetryLater) as info:
        client.whoami()

    assert info.value.throttled and info.value.platform_code == -32 and info.value.retry_after == 60
    assert client.last_rate_limit == (4000, 0)


def test_sandbox_cs_reply_window_and_field_errors(sandbox, oa):
    client = sandbox_client(sandbox, oa)
    recent = sandbox.add_zalo_user(oa["oa_id"], "Đoàn viên A", last_interaction_ago_s=3600)
    silent = sandbox.add_zalo_user(oa["oa_id"], "Đoàn viên B", last_interaction_ago_s=8 * 86_400)

    assert client.send_text(recent["user_id"], "Cảm ơn anh đã phản ánh")
    with pytest.raises(Rejected, match="7 ngày"):
        client.send_text(silent["user_id"], "Chào anh")
    with pytest.raises(Rejected, match="“recipient.user_id”"):
        client.send_text("999", "Chào")
