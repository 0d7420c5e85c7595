"""Webhook endpoints: signatures checked on the raw body, bad ones refused with nothing stored."""

from __future__ import annotations

import json
import time

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from common.settings import Settings
from db.models import Item
from db.session import session_scope
from sandbox.webhooks import fb_signature_headers, zalo_mac

FB_SECRET = "fb-app-secret-test"
ZALO_APP, OA_SECRET = "3100000000000000001", "oa-secret-test"


@pytest.fixture
def settings(pg_url, secret_key, tmp_path):
    return Settings(database_url=pg_url, secret_keys=SecretStr(secret_key), media_dir=tmp_path / "media",
                    facebook_app_secret=SecretStr(FB_SECRET), facebook_verify_token=SecretStr("verify-me"),
                    zalo_app_id=ZALO_APP, zalo_oa_secret_key=SecretStr(OA_SECRET), _env_file=None)


def _fb_comment(page_id: str, comment_id: str, message: str) -> bytes:
    return json.dumps({"object": "page", "entry": [{"id": page_id, "time": int(time.time()), "changes": [{
        "field": "feed", "value": {"item": "comment", "verb": "add", "post_id": f"{page_id}_77",
                                   "comment_id": f"77_{comment_id}", "parent_id": f"{page_id}_77",
                                   "from": {"id": "555", "name": "Công nhân"}, "message": message,
                                   "created_time": int(time.time())}}]}]}, ensure_ascii=False).encode()


def _count(factory) -> int:
    with session_scope(factory) as s:
        return s.scalar(select(func.count()).select_from(Item))


def test_facebook_handshake(client):
    ok = client.get("/webhooks/facebook", params={"hub.mode": "subscribe", "hub.verify_token": "verify-me",
                                                  "hub.challenge": "12345"})
    assert ok.status_code == 200 and ok.text == "12345"
    bad = client.get("/webhooks/facebook", params={"hub.mode": "subscribe", "hub.verify_token": "nope",
                                                   "hub.challenge": "12345"})
    assert bad.status_code == 403


def test_signed_facebook_comment_is_stored_once(client, factory, world):
    body = _fb_comment("1001", "9001", "Công ty nợ lương 2 tháng rồi mà không ai giải quyết")
    headers = {**fb_signature_headers(body, FB_SECRET), "content-type": "application/json"}
    r = client.post("/webhooks/facebook", content=body, headers=headers)
    assert r.status_code == 200 and r.json() == {"stored": 1}
    assert client.post("/webhooks/facebook", content=body, headers=headers).json() == {"stored": 0}  # redelivery
    with session_scope(factory) as s:
        item = s.scalar(select(Item))
        assert (item.channel_id, item.org_id, item.source) == (world.fb, world.province, "facebook_comment")
        assert item.classified_at is None  # waits for the batch classifier


@pytest.mark.parametrize("headers", [
    {},
    {"X-Hub-Signature-256": "sha256=" + "0" * 64},
    {"X-Hub-Signature-256": "garbage"},
])
def test_bad_facebook_signature_is_403_and_stores_nothing(client, factory, world, headers):
    body = _fb_comment("1001", "9002", "Tin giả")
    r = client.post("/webhooks/facebook", content=body, headers=headers)
    assert r.status_code == 403 and "Chữ ký" in r.json()["error"]["message"]
    assert _count(factory) == 0


def test_signature_over_another_body_is_refused(client, factory, world):
    signed = _fb_comment("1001", "9003", "Nội dung gốc")
    tampered = _fb_comment("1001", "9003", "Nội dung đã bị sửa trên đường đi")
    r = client.post("/webhooks/facebook", content=tampered, headers=fb_signature_headers(signed, FB_SECRET))
    assert r.status_code == 403 and _count(factory) == 0


def test_signed_but_malformed_body_is_400(client, factory, world):
    body = b"{not json"
    assert client.post("/webhooks/facebook", content=body, headers=fb_signature_headers(body, FB_SECRET)).status_code == 400


def test_oversized_webhook_is_refused(client, factory, world):
    body = b"x" * 1_100_000
    assert client.post("/webhooks/facebook", content=body, headers=fb_signature_headers(body, FB_SECRET)).status_code == 413


def test_unknown_page_is_accepted_but_stored_nowhere(client, factory, world):
    body = _fb_comment("999999", "9004", "Bình luận ở trang không thuộc Loa")
    assert client.post("/webhooks/facebook", content=body, headers=fb_signature_headers(body, FB_SECRET)).json() \
        == {"stored": 0}


def _zalo_event(oa_id: str, text: str, msg_id: str) -> bytes:
    return json.dumps({"app_id": ZALO_APP, "event_name": "user_send_text", "timestamp": str(int(time.time() * 1000)),
                       "sender": {"id": "8800"}, "recipient": {"id": oa_id},
                       "message": {"msg_id": msg_id, "text": text}}, ensure_ascii=False).encode()


def test_zalo_message_with_good_and_bad_mac(client, factory, world):
    body = _zalo_event("2001", "Cho em hỏi bao giờ công ty đóng bù BHXH ạ", "m1")
    ts = json.loads(body)["timestamp"]
    good = {"X-ZEvent-Signature": "mac=" + zalo_mac(body, ZALO_APP, ts, OA_SECRET)}
    bad = {"X-ZEvent-Signature": "mac=" + zalo_mac(body, ZALO_APP, ts, OA_SECRET + "x")}
    assert client.post("/webhooks/zalo", content=body, headers=bad).status_code == 403
    assert _count(factory) == 0
    assert client.post("/webhooks/zalo", content=b"[]", headers=good).status_code == 403
    r = client.post("/webhooks/zalo", content=body, headers=good)
    assert r.status_code == 200 and r.json() == {"stored": 1}
    with session_scope(factory) as s:
        item = s.scalar(select(Item))
        assert (item.source, item.channel_id) == ("zalo_message", world.zalo)
