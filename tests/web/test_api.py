"""The JSON API as a communications officer and an approver use it."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import func, select

from db.base import utcnow
from db.models import Post


def post_body(world, **over):
    body = {"org_id": world.province, "text": "Tin nhanh: Tháng Công nhân 2027 bắt đầu từ 1/5.",
            "channels": [{"channel_id": world.fb}, {"channel_id": world.zalo, "title": "Tháng Công nhân 2027"}],
            "schedule": {"kind": "exact", "at": (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT07:30")}}
    body.update(over)
    return body


def test_officer_writes_submits_and_approver_schedules(client, auth, world):
    # when an editor writes and submits a post for 07:30 tomorrow
    r = client.post("/api/posts", json=post_body(world, submit=True), headers=auth("editor"))
    assert r.status_code == 201, r.text
    post = r.json()
    assert post["status"] == "pending_approval"
    # and the approver approves it
    r = client.post(f"/api/posts/{post['id']}/approve", json={}, headers=auth("approver"))
    assert r.status_code == 200, r.text
    # then each channel shows 07:30 local time
    body = r.json()
    assert body["status"] == "scheduled"
    assert {t["scheduled_local"][:5] for t in body["targets"]} == {"07:30"}
    history = client.get(f"/api/posts/{post['id']}/audit", headers=auth("editor")).json()
    assert [h["action"] for h in history if h["to_state"] in ("pending_approval", "approved", "scheduled")][:3] == \
        ["submit", "approve", "schedule"]


def test_requests_without_a_valid_token_are_refused_in_vietnamese(client):
    r = client.get("/api/posts")
    assert r.status_code == 401
    assert "đăng nhập" in r.json()["error"]["message"]
    r = client.get("/api/posts", headers={"Authorization": "Bearer loa_gia_mao"})
    assert r.status_code == 401


def test_sibling_union_cannot_read_or_approve_anothers_post(client, auth, world):
    r = client.post("/api/posts", json=post_body(world, org_id=world.grassroots, submit=True,
                                                 channels=[{"channel_id": world.grassroots_fb}]),
                    headers=auth("grassroots_editor"))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert client.get(f"/api/posts/{pid}", headers=auth("other_editor")).status_code == 404
    assert client.post(f"/api/posts/{pid}/approve", json={}, headers=auth("other_editor")).status_code == 404
    # an ancestor sees it
    assert client.get(f"/api/posts/{pid}", headers=auth("editor")).status_code == 200
    listing = client.get("/api/posts", headers=auth("other_editor")).json()
    assert listing["total"] == 0


def test_bad_input_gets_a_vietnamese_4xx_and_stores_nothing(client, auth, world, factory):
    cases = [
        (post_body(world, text="", channels=[{"channel_id": world.fb}]), "trống"),
        (post_body(world, schedule={"kind": "exact", "at": "2020-01-01T07:30"}), "đã qua"),
        (post_body(world, schedule={"kind": "exact", "at": "2030-01-01T07:30", "timezone": "Mars/Olympus"}),
         "Múi giờ"),
        (post_body(world, channels=[{"channel_id": world.other_fb}]), "không thuộc tổ chức này"),
        (post_body(world, text="x" * 63_207, channels=[{"channel_id": world.fb}]), "63,206"),
        ({"org_id": world.province, "text": 5}, "Trường"),
        ({"org_id": "mot", "text": "a"}, "số nguyên"),
    ]
    for body, expected in cases:
        r = client.post("/api/posts", json=body, headers=auth("editor"))
        assert 400 <= r.status_code < 500, (body, r.text)
        assert expected in r.json()["error"]["message"], r.json()
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Post)) == 0


def test_duplicate_submission_with_same_idempotency_key_is_refused(client, auth, world):
    headers = {**auth("editor"), "Idempotency-Key": "form-123"}
    assert client.post("/api/posts", json=post_body(world), headers=headers).status_code == 201
    r = client.post("/api/posts", json=post_body(world), headers=headers)
    assert r.status_code == 409
    assert "trùng" in r.json()["error"]["message"]


def test_photo_upload_refuses_non_images_and_accepts_png(client, auth, world):
    r = client.post(f"/api/orgs/{world.province}/media", files={"file": ("x.png", b"<script>", "image/png")},
                    headers=auth("editor"))
    assert r.status_code == 422 and "không phải ảnh" in r.json()["error"]["message"]
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buf, "PNG")
    r = client.post(f"/api/orgs/{world.province}/media", files={"file": ("do.png", buf.getvalue(), "image/png")},
                    headers=auth("editor"))
    assert r.status_code == 201, r.text
    assert client.get(r.json()["url"]).status_code == 200


def test_photo_over_the_limit_is_refused(client, auth, world, settings):
    big = b"\xff\xd8" + b"0" * (settings.max_photo_bytes + 10)
    r = client.post(f"/api/orgs/{world.province}/media", files={"file": ("big.jpg", big, "image/jpeg")},
                    headers=auth("editor"))
    assert r.status_code == 422 and "vượt giới hạn" in r.json()["error"]["message"]


def test_upper_level_shares_down_and_grassroots_adopts_in_one_action(client, auth, world):
    r = client.post("/api/posts", json=post_body(world, submit=True), headers=auth("editor"))
    pid = r.json()["id"]
    client.post(f"/api/posts/{pid}/approve", json={}, headers=auth("approver"))
    r = client.post(f"/api/posts/{pid}/shares", json={"org_ids": [world.grassroots]}, headers=auth("editor"))
    assert r.status_code == 201, r.text
    shares = client.get("/api/shares", headers=auth("grassroots_editor")).json()
    assert [s["post_id"] for s in shares] == [pid]
    assert client.get("/api/shares", headers=auth("other_editor")).json() == []
    adopt = {"channels": [{"channel_id": world.grassroots_fb}], "schedule": {"kind": "now"}}
    r = client.post(f"/api/shares/{shares[0]['id']}/adopt", json=adopt, headers=auth("grassroots_editor"))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "scheduled" and r.json()["source_post_id"] == pid
    # adapting the wording sends it through the grassroots union's own approval
    adopt["text"] = "Công đoàn công ty May Sông Hồng hưởng ứng Tháng Công nhân."
    r = client.post(f"/api/shares/{shares[0]['id']}/adopt", json=adopt, headers=auth("grassroots_editor"))
    assert r.json()["status"] == "pending_approval"


def test_openapi_is_served(client):
    assert "/api/posts" in client.get("/openapi.json").json()["paths"]


def test_out_of_range_ids_and_nul_characters_get_4xx_not_500(client, auth, world):
    assert client.get(f"/api/posts/{2**40}", headers=auth("editor")).status_code in (404, 422)
    r = client.post("/api/posts", json=post_body(world, text="Tin\u0000độc"), headers=auth("editor"))
    assert r.status_code == 422, r.text
    r = client.post("/api/posts", json=post_body(world, campaign_id=2**40), headers=auth("editor"))
    assert 400 <= r.status_code < 500, r.text


def test_shared_post_with_photo_can_be_adopted_and_its_content_is_visible(client, auth, world):
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(buf, "PNG")
    media = client.post(f"/api/orgs/{world.province}/media", files={"file": ("a.png", buf.getvalue(), "image/png")},
                        headers=auth("editor")).json()
    r = client.post("/api/posts", json=post_body(world, submit=True, media_ids=[media["id"]],
                                                 channels=[{"channel_id": world.fb}]), headers=auth("editor"))
    pid = r.json()["id"]
    client.post(f"/api/posts/{pid}/approve", json={}, headers=auth("approver"))
    client.post(f"/api/posts/{pid}/shares", json={"org_ids": [world.grassroots]}, headers=auth("editor"))
    share = client.get("/api/shares", headers=auth("grassroots_editor")).json()[0]
    assert share["post"]["text"].startswith("Tin nhanh")
    r = client.post(f"/api/shares/{share['id']}/adopt", headers=auth("grassroots_editor"),
                    json={"channels": [{"channel_id": world.grassroots_fb}], "schedule": {"kind": "now"}})
    assert r.status_code == 201, r.text
    assert r.json()["media_ids"] == [media["id"]]
