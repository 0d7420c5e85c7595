"""Webhook deliveries checked by a tiny local receiver: signatures, switches, redelivery."""

from __future__ import annotations

import hashlib
import hmac
import time

V = "v25.0"
APP_SECRET = "emu-fb-app-secret"


def fb_ok(req, secret=APP_SECRET) -> bool:
    want = "sha256=" + hmac.new(secret.encode(), req["raw"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(req["headers"]["X-Hub-Signature-256"], want)


def zalo_ok(req, app_id, oa_secret) -> bool:
    ts = req["json"]["timestamp"]
    mac = hashlib.sha256(app_id.encode() + req["raw"] + ts.encode() + oa_secret.encode()).hexdigest()
    return hmac.compare_digest(req["headers"]["X-ZEvent-Signature"], "mac=" + mac)


def subscribe(http, sb, page):
    r = http.post(f"{sb.graph_url}/{V}/{page['id']}/subscribed_apps",
                  params={"access_token": page["page_token"], "subscribed_fields": "feed,messages"})
    assert r.json() == {"success": True}


def test_facebook_handshake_and_comment_webhook(sb, http, receiver):
    page = sb.add_page()
    res = sb.configure_webhooks(facebook={"callback_url": receiver.url, "verify_token": receiver.verify_token})
    assert res["handshake"]["ok"] is True
    bad = sb.configure_webhooks(facebook={"callback_url": receiver.url, "verify_token": "wrong"})
    assert bad["handshake"]["ok"] is False and bad["handshake"]["status"] == 403
    sb.configure_webhooks(facebook={"callback_url": receiver.url, "verify_token": receiver.verify_token})
    r = http.post(f"{sb.graph_url}/{V}/{page['id']}/feed", params={"access_token": page["page_token"]},
                  data={"message": "chưa đăng ký webhook"})
    post_id = r.json()["id"]
    time.sleep(0.2)
    assert receiver.requests == []  # Page not subscribed yet
    subscribe(http, sb, page)
    c = sb.add_comment(post_id, "Tôi có ý kiến", from_id="777", from_name="Đoàn viên Dũng")
    [req] = receiver.wait_for(1)
    assert fb_ok(req)
    value = req["json"]["entry"][0]["changes"][0]["value"]
    assert req["json"]["object"] == "page" and req["json"]["entry"][0]["id"] == page["id"]
    assert (value["item"], value["verb"], value["comment_id"], value["post_id"]) == ("comment", "add", c["id"], post_id)
    assert value["from"] == {"id": "777", "name": "Đoàn viên Dũng"} and value["message"] == "Tôi có ý kiến"
    # the raw body keeps Vietnamese unescaped: re-serialising would break the signature
    assert "Dũng".encode() in req["raw"]
    # hiding fires a hide event; the Page's own reply arrives too (from.id = page id)
    http.post(f"{sb.graph_url}/{V}/{c['id']}", params={"access_token": page["page_token"]}, data={"is_hidden": "true"})
    http.post(f"{sb.graph_url}/{V}/{c['id']}/comments", params={"access_token": page["page_token"]},
              data={"message": "Cảm ơn bạn"})
    reqs = receiver.wait_for(3)
    verbs = [(q["json"]["entry"][0]["changes"][0]["value"]["verb"],
              q["json"]["entry"][0]["changes"][0]["value"]["from"]["id"]) for q in reqs[1:3]]
    assert sorted(verbs) == sorted([("hide", "777"), ("add", page["id"])])
    assert all(fb_ok(q) for q in reqs)


def test_facebook_emit_switches(sb, receiver):
    page = sb.add_page()
    sb.configure_webhooks(facebook={"callback_url": receiver.url, "verify_token": receiver.verify_token})
    events = [{"type": "comment", "page_id": page["id"], "message": f"m{i}", "created_time": 1_700_000_000 + i}
              for i in range(3)]
    sb.emit_webhooks("facebook", events, batch=True)
    [batch] = receiver.wait_for(1)
    assert len(batch["json"]["entry"]) == 3 and fb_ok(batch)
    sb.emit_webhooks("facebook", events, out_of_order=True)
    reqs = receiver.wait_for(4)[1:]
    times = [q["json"]["entry"][0]["changes"][0]["value"]["created_time"] for q in reqs]
    assert times == sorted(times, reverse=True)
    sb.emit_webhooks("facebook", events[:1], duplicate=True, bad_signature=True)
    dup = receiver.wait_for(6)[4:]
    assert dup[0]["raw"] == dup[1]["raw"] and not fb_ok(dup[0])
    sb.emit_webhooks("facebook", [{"type": "message", "page_id": page["id"], "sender_id": "123", "text": "alo"}])
    msg = receiver.wait_for(7)[6]["json"]["entry"][0]["messaging"][0]
    assert msg["sender"] == {"id": "123"} and msg["message"]["text"] == "alo" and msg["message"]["mid"]


def test_redeliver_until_200(sb, receiver):
    page = sb.add_page()
    sb.configure_webhooks(facebook={"callback_url": receiver.url, "verify_token": receiver.verify_token},
                          retry_schedule_s=[0.05, 0.05, 0.05, 0.05])
    receiver.statuses = [500, 503]
    ids = sb.emit_webhooks("facebook", [{"type": "comment", "page_id": page["id"], "message": "x"}],
                           redeliver_until_200=True)["delivery_ids"]
    reqs = receiver.wait_for(3)
    assert [q["status"] for q in reqs] == [500, 503, 200]
    assert reqs[0]["raw"] == reqs[2]["raw"]
    deadline = time.time() + 2
    while time.time() < deadline:
        [entry] = [d for d in sb.deliveries("facebook") if d["id"] == ids[0]]
        if entry["done"]:
            break
        time.sleep(0.02)
    assert entry["delivered"] and [a["status"] for a in entry["attempts"]] == [500, 503, 200]


def test_zalo_signature_and_follower_message(sb, receiver):
    oa = sb.add_oa()
    sb.configure_webhooks(zalo={"callback_url": receiver.url, "app_id": oa["app_id"], "oa_secret": oa["oa_secret"]})
    user = sb.add_zalo_user(oa["oa_id"], "Hà")["user_id"]
    sb.zalo_message(oa["oa_id"], user, "Xin chào OA")
    [req] = receiver.wait_for(1)
    body = req["json"]
    assert zalo_ok(req, oa["app_id"], oa["oa_secret"])
    assert body["event_name"] == "user_send_text" and body["sender"] == {"id": user}
    assert body["recipient"] == {"id": oa["oa_id"]} and body["message"]["text"] == "Xin chào OA"
    assert isinstance(body["timestamp"], str) and body["message"]["msg_id"]
    sb.emit_webhooks("zalo", [{"event_name": "follow", "oa_id": oa["oa_id"], "user_id": user},
                              {"event_name": "user_send_image", "oa_id": oa["oa_id"], "user_id": user,
                               "url": "https://example.vn/a.jpg"}], bad_signature=True)
    follow, image = receiver.wait_for(3)[1:]
    assert follow["json"]["follower"] == {"id": user} and not zalo_ok(follow, oa["app_id"], oa["oa_secret"])
    assert image["json"]["message"]["attachments"][0]["payload"]["url"] == "https://example.vn/a.jpg"
