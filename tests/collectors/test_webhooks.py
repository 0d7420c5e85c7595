"""Webhook signatures, handshake and parsing: unit cases, then real deliveries from the sandbox."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

from collectors import webhooks as hooks

APP_SECRET = "fb-app-secret-for-tests"
ZALO_APP_ID = "3100000000000000009"
ZALO_SECRET = "zalo-oa-secret-key"
PAGE = "110000000000777"


def fb_sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def zalo_sign(body: bytes, timestamp: str, secret: str = ZALO_SECRET, app_id: str = ZALO_APP_ID) -> str:
    return "mac=" + hashlib.sha256(app_id.encode() + body + timestamp.encode() + secret.encode()).hexdigest()


def encode(payload) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def feed_change(**value):
    return {"field": "feed", "value": value}


# --- Facebook: signature and handshake --------------------------------------------------------

def test_facebook_signature_good_and_bad():
    body = encode({"object": "page", "entry": [{"message": "Chào công đoàn"}]})

    assert hooks.verify_facebook_signature(APP_SECRET, body, fb_sign(body))
    assert hooks.verify_facebook_signature(APP_SECRET, body, fb_sign(body).upper().replace("SHA256", "sha256"))
    assert not hooks.verify_facebook_signature(APP_SECRET, body, fb_sign(body, "other-secret"))
    assert not hooks.verify_facebook_signature(APP_SECRET, body + b" ", fb_sign(body))  # raw bytes, not JSON
    assert not hooks.verify_facebook_signature(APP_SECRET, body, None)
    assert not hooks.verify_facebook_signature(APP_SECRET, body, "sha256=zz")
    assert not hooks.verify_facebook_signature(APP_SECRET, body, "garbage")
    sha1 = "sha1=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha1).hexdigest()
    assert not hooks.verify_facebook_signature(APP_SECRET, body, sha1)  # legacy header not accepted
    assert not hooks.verify_facebook_signature("", body, fb_sign(body, ""))


def test_facebook_handshake():
    ok = {"hub.mode": "subscribe", "hub.verify_token": "vt-bi-mat", "hub.challenge": "1158201444"}

    assert hooks.facebook_handshake(ok, "vt-bi-mat") == "1158201444"
    assert hooks.facebook_handshake({**ok, "hub.verify_token": "sai"}, "vt-bi-mat") is None
    assert hooks.facebook_handshake({**ok, "hub.mode": "unsubscribe"}, "vt-bi-mat") is None
    assert hooks.facebook_handshake({k: v for k, v in ok.items() if k != "hub.challenge"}, "vt-bi-mat") is None
    assert hooks.facebook_handshake({**ok, "hub.verify_token": ""}, "") is None  # unconfigured: never


# --- Facebook: parsing --------------------------------------------------------------------------

def test_facebook_batch_keeps_comments_replies_and_posts_and_skips_the_rest():
    post = f"{PAGE}_900"
    payload = {"object": "page", "entry": [
        {"id": PAGE, "time": 1718000000, "changes": [
            feed_change(item="comment", verb="add", post_id=post, comment_id="900_1", parent_id=post,
                        **{"from": {"id": "200100", "name": "Nguyễn Văn A"}}, message="Lương tháng này chậm quá",
                        created_time=1718000000, post={"permalink_url": "https://www.facebook.com/p/900"}),
            feed_change(item="comment", verb="add", post_id=post, comment_id="900_2", parent_id="900_1",
                        **{"from": {"id": "200101"}}, message="Chỗ tôi cũng vậy", created_time=1718000060),
            feed_change(item="comment", verb="edited", post_id=post, comment_id="900_1", parent_id=post,
                        **{"from": {"id": "200100"}}, message="Lương tháng này chậm quá (đã sửa)"),
            feed_change(item="comment", verb="remove", post_id=post, comment_id="900_3"),
            feed_change(item="reaction", verb="add", post_id=post, reaction_type="like"),
            feed_change(item="comment", verb="add", post_id=post, comment_id="900_4", parent_id="900_1",
                        **{"from": {"id": PAGE, "name": "Trang"}}, message="Công đoàn đang làm việc với công ty"),
            feed_change(item="status", verb="add", post_id=f"{PAGE}_901", **{"from": {"id": PAGE, "name": "Trang"}},
                        message="Thông báo họp ban chấp hành", created_time=1718000100),
            {"field": "mention", "value": {"item": "comment", "verb": "add", "comment_id": "x", "message": "m"}},
        ]},
        "not an entry",
        {"id": PAGE, "changes": [None, {"field": "feed", "value": "oops"},
                                 feed_change(item="comment", verb="add", post_id=post, message="không có id")]},
        {"id": PAGE, "messaging": [{"sender": {"id": "1"}, "message": {"mid": "m1", "text": "Messenger"}}]},
    ]}

    items = hooks.parse_facebook_webhook(encode(payload))

    assert [(i.source, i.external_id) for i in items] == [
        ("facebook_comment", "900_1"), ("facebook_comment", "900_2"), ("facebook_comment", "900_1"),
        ("facebook_post", f"{PAGE}_901")]
    top, reply, edited, page_post = items
    assert (top.parent_external_id, top.reply_to_external_id, top.author_ref, top.author_name) == (
        post, None, "200100", None)
    assert top.url == "https://www.facebook.com/p/900?comment_id=1" and top.account_ref == PAGE
    assert top.created_at.timestamp() == 1718000000
    assert (reply.parent_external_id, reply.reply_to_external_id) == (post, "900_1")
    assert edited.text.endswith("(đã sửa)") and edited.created_at.timestamp() == 1718000000  # entry time
    assert (page_post.author_ref, page_post.author_name) == (PAGE, "Trang")


def test_facebook_other_objects_are_ignored_and_garbage_is_a_value_error():
    assert hooks.parse_facebook_webhook(encode({"object": "instagram", "entry": []})) == []
    assert hooks.parse_facebook_webhook(b"[]") == []
    with pytest.raises(ValueError):
        hooks.parse_facebook_webhook(b"{not json")
    with pytest.raises(ValueError):
        hooks.parse_facebook_webhook(b"\xff\xfe\x00")
    with pytest.raises(ValueError):
        hooks.parse_facebook_webhook(b" " * (hooks.MAX_BODY_BYTES + 1))


# --- Zalo ---------------------------------------------------------------------------------------

def zalo_event(event="user_send_text", **extra):
    body = {"app_id": ZALO_APP_ID, "user_id_by_app": "9100", "event_name": event,
            "sender": {"id": "5100000000000000321"}, "recipient": {"id": "4100000000000000001"},
            "message": {"msg_id": "a1b2c3", "text": "Cho hỏi lịch tiếp đoàn viên"}, "timestamp": "1718000000000"}
    body.update(extra)
    return body


def test_zalo_signature_good_and_bad():
    body = encode(zalo_event())
    header = zalo_sign(body, "1718000000000")

    assert hooks.verify_zalo_signature(ZALO_APP_ID, ZALO_SECRET, body, header)
    assert hooks.verify_zalo_signature(app_id=ZALO_APP_ID, secret=ZALO_SECRET, body=body,
                                       timestamp="1718000000000", header=header)
    assert not hooks.verify_zalo_signature(ZALO_APP_ID, ZALO_SECRET, body, header, timestamp="1718000000001")
    assert not hooks.verify_zalo_signature(ZALO_APP_ID, "wrong-secret", body, header)
    assert not hooks.verify_zalo_signature("3100000000000000000", ZALO_SECRET, body, header)
    assert not hooks.verify_zalo_signature(ZALO_APP_ID, ZALO_SECRET, body.replace("hỏi".encode(), b"hoi"),
                                           header)
    assert not hooks.verify_zalo_signature(ZALO_APP_ID, ZALO_SECRET, body, header.replace("mac=", "sha256="))
    assert not hooks.verify_zalo_signature(ZALO_APP_ID, ZALO_SECRET, body, None)
    assert not hooks.verify_zalo_signature(ZALO_APP_ID, ZALO_SECRET, b"not json", zalo_sign(b"not json", ""))
    # Optional replay window on the body's timestamp.
    assert hooks.verify_zalo_signature(ZALO_APP_ID, ZALO_SECRET, body, header, max_age_s=300, now=1718000100)
    assert not hooks.verify_zalo_signature(ZALO_APP_ID, ZALO_SECRET, body, header, max_age_s=300, now=1718090000)


def test_zalo_user_messages_are_items_and_other_events_are_not():
    [item] = hooks.parse_zalo_webhook(encode(zalo_event()))

    assert (item.source, item.external_id, item.text) == ("zalo_message", "a1b2c3", "Cho hỏi lịch tiếp đoàn viên")
    assert (item.author_ref, item.account_ref) == ("5100000000000000321", "4100000000000000001")
    assert item.created_at.timestamp() == 1718000000
    oa_sent = zalo_event("oa_send_text", sender={"id": "4100000000000000001"}, recipient={"id": "51"})
    assert hooks.parse_zalo_webhook(encode(oa_sent)) == []
    assert hooks.parse_zalo_webhook(encode({"event_name": "follow", "oa_id": "41", "follower": {"id": "51"}})) == []
    image_only = zalo_event("user_send_image", message={"msg_id": "m2", "attachments": [{"type": "image"}]})
    assert hooks.parse_zalo_webhook(encode(image_only)) == []
    assert hooks.parse_zalo_webhook(b"42") == []
    with pytest.raises(ValueError):
        hooks.parse_zalo_webhook(b"<xml/>")


def test_zalo_oa_id_of_each_kind_of_event():
    assert hooks.zalo_oa_id(zalo_event()) == "4100000000000000001"
    assert hooks.zalo_oa_id(zalo_event("oa_send_text", sender={"id": "41"}, recipient={"id": "51"})) == "41"
    assert hooks.zalo_oa_id({"event_name": "follow", "oa_id": "42", "follower": {"id": "51"}}) == "42"
    assert hooks.zalo_oa_id({"event_name": "user_seen_message"}) is None


# --- real deliveries from the sandbox ---------------------------------------------------------------

class HookReceiver:
    """What the web layer does: verify the raw body first (403, nothing stored), then parse."""

    def __init__(self, *, app_secret, verify_token, zalo_app_id, zalo_secret):
        self.items, self.statuses = [], []
        self.cond = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                challenge = hooks.facebook_handshake(dict(parse_qsl(urlsplit(self.path).query)), verify_token)
                self.answer(200 if challenge else 403, (challenge or "").encode())

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path.endswith("/facebook"):
                    ok = hooks.verify_facebook_signature(app_secret, raw, self.headers.get("X-Hub-Signature-256"))
                    parse = hooks.parse_facebook_webhook
                else:
                    ok = hooks.verify_zalo_signature(zalo_app_id, zalo_secret, raw,
                                                     self.headers.get("X-ZEvent-Signature"))
                    parse = hooks.parse_zalo_webhook
                status = 200 if ok else 403
                with outer.cond:
                    if ok:
                        outer.items += parse(raw)
                    outer.statuses.append(status)
                    outer.cond.notify_all()
                self.answer(status, b"")

            def answer(self, status, body):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def wait(self, deliveries: int) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.statuses) >= deliveries, 5.0)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def wired(sb):
    page = sb.add_page("Trang nhận webhook", subscribed_fields=["feed"])
    oa = sb.add_oa("OA nhận webhook")
    receiver = HookReceiver(app_secret=sb.set_config()["fb_app_secret"], verify_token="vt-thu-nghiem",
                            zalo_app_id=oa["app_id"], zalo_secret=oa["oa_secret"])
    answer = sb.configure_webhooks(
        facebook={"callback_url": receiver.url + "/facebook", "verify_token": "vt-thu-nghiem"},
        zalo={"callback_url": receiver.url + "/zalo", "app_id": oa["app_id"], "oa_secret": oa["oa_secret"]},
        redeliver=False)
    assert answer["handshake"]["ok"] is True  # the sandbox performed the GET verification
    yield sb, page, oa, receiver
    receiver.close()


def test_sandbox_deliveries_are_verified_and_parsed(wired, http):
    sb, page, oa, receiver = wired
    post = http.post(f"{sb.graph_url}/v25.0/{page['id']}/feed", params={"access_token": page["page_token"]},
                     data={"message": "Lấy ý kiến về ca làm đêm"}).json()["id"]
    comment = sb.add_comment(post, "Ca đêm nên có thêm phụ cấp", from_id="200555")
    message = sb.zalo_message(oa["oa_id"], "5100000000000000555", "Tôi muốn phản ánh về ca đêm")
    receiver.wait(3)

    assert receiver.statuses == [200, 200, 200]
    got = {(i.source, i.external_id): i for i in receiver.items}
    assert set(got) == {("facebook_post", post), ("facebook_comment", comment["id"]),
                        ("zalo_message", message["message_id"])}
    assert got[("facebook_comment", comment["id"])].account_ref == page["id"]
    assert got[("zalo_message", message["message_id"])].account_ref == oa["oa_id"]


@pytest.mark.parametrize("platform", ["facebook", "zalo"])
def test_bad_signature_gets_403_and_stores_nothing(wired, platform):
    sb, page, oa, receiver = wired
    event = ({"type": "comment", "page_id": page["id"], "message": "Tin giả mạo"} if platform == "facebook"
             else {"oa_id": oa["oa_id"], "user_id": "5100000000000000556", "text": "Tin giả mạo"})

    sb.emit_webhooks(platform, [event], bad_signature=True, redeliver_until_200=False)
    receiver.wait(1)

    assert receiver.statuses == [403] and receiver.items == []
