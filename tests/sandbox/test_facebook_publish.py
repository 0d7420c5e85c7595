"""Publishing through the fake Graph host: /feed, /photos, duplicates, schedules, links."""

from __future__ import annotations

import json

from tests.sandbox.helpers import png_bytes

V = "v25.0"


def feed(http, sb, page, token=None, **body):
    return http.post(f"{sb.graph_url}/{V}/{page['id']}/feed",
                     params={"access_token": token or page["page_token"], "fields": "id,permalink_url"}, json=body)


def test_feed_post_returns_page_scoped_id_and_permalink(sb, http):
    page = sb.add_page("Công đoàn A")
    r = feed(http, sb, page, message="Xin chào đoàn viên", link="https://example.vn/tin")
    assert r.status_code == 200
    body = r.json()
    page_id, post_id = body["id"].split("_")
    assert page_id == page["id"] and post_id.isdigit()
    assert body["permalink_url"] == f"https://www.facebook.com/{page['id']}/posts/{post_id}"
    [rec] = sb.posts(page_id=page["id"])
    assert rec["message"] == "Xin chào đoàn viên" and rec["link"] == "https://example.vn/tin"
    assert rec["published"] is True and isinstance(rec["accepted_at"], float)


def test_duplicate_message_gives_506_and_creates_nothing(sb, http):
    page = sb.add_page()
    assert feed(http, sb, page, message="Thông báo họp").status_code == 200
    r = feed(http, sb, page, message="Thông báo họp")
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == 506 and err["type"] == "OAuthException" and err["fbtrace_id"]
    assert len(sb.posts(page_id=page["id"])) == 1
    # A different link makes it a different status; then the old text is no longer "in a row".
    assert feed(http, sb, page, message="Thông báo họp", link="https://example.vn/x").status_code == 200
    assert feed(http, sb, page, message="Khác").status_code == 200
    assert feed(http, sb, page, message="Thông báo họp").status_code == 200


def test_message_too_long_and_empty_post(sb, http):
    page = sb.add_page()
    assert feed(http, sb, page, message="a" * 63_206).status_code == 200
    r = feed(http, sb, page, message="b" * 63_207)
    assert r.json()["error"]["code"] == 100
    assert feed(http, sb, page).json()["error"]["code"] == 100


def test_user_token_cannot_publish(sb, http):
    page = sb.add_page()
    r = feed(http, sb, page, token=page["user_token"], message="x", published=False)
    assert r.status_code == 400 and r.json()["error"]["code"] == 200
    assert "as the page itself" in r.json()["error"]["message"]


def test_link_scrape_failure(sb, http):
    page = sb.add_page()
    r = feed(http, sb, page, message="xem", link="https://scrape-fail.example.vn/")
    assert r.json()["error"]["code"] == 1609005
    sb.set_config(fb_link_error_code=100, fb_link_error_subcode=1609005)
    r = feed(http, sb, page, message="xem", link="https://scrape-fail.example.vn/")
    assert (r.json()["error"]["code"], r.json()["error"]["error_subcode"]) == (100, 1609005)
    assert sb.posts() == []


def upload(http, sb, page, data, published="false", name="a.png", ctype="image/png"):
    return http.post(f"{sb.graph_url}/{V}/{page['id']}/photos", params={"access_token": page["page_token"]},
                     data={"published": published}, files={"source": (name, data, ctype)})


def test_photo_validation(sb, http):
    page = sb.add_page()
    r = upload(http, sb, page, b"not an image at all")
    assert r.status_code == 400
    assert (r.json()["error"]["code"], r.json()["error"]["error_subcode"]) == (100, 1366046)
    big = png_bytes() + b"\0" * (4 * 1024 * 1024)
    assert upload(http, sb, page, big).json()["error"]["error_subcode"] == 1366046
    bmp = png_bytes(fmt="BMP")
    assert upload(http, sb, page, bmp, name="a.bmp").json()["error"]["error_subcode"] == 1366046
    for fmt in ("PNG", "JPEG", "GIF"):
        assert upload(http, sb, page, png_bytes(fmt=fmt)).status_code == 200


def test_published_photo_creates_post(sb, http):
    page = sb.add_page()
    r = upload(http, sb, page, png_bytes(), published="true")
    body = r.json()
    assert body["id"] and body["post_id"].startswith(page["id"] + "_")
    [rec] = sb.posts()
    assert rec["photo_ids"] == [body["id"]] and rec["status_type"] == "added_photos"


def test_multi_photo_attached_media_and_single_use(sb, http):
    page = sb.add_page()
    ids = [upload(http, sb, page, png_bytes(fmt=f)).json()["id"] for f in ("PNG", "JPEG", "PNG")]
    assert sb.posts() == []  # unpublished photos are not posts
    r = feed(http, sb, page, message="Ba ảnh", attached_media=[{"media_fbid": i} for i in ids[:2]])
    assert r.status_code == 200, r.text
    # JSON-string form of attached_media, as form-encoded clients send it
    r2 = http.post(f"{sb.graph_url}/{V}/{page['id']}/feed", params={"access_token": page["page_token"]},
                   data={"message": "Một ảnh", "attached_media": json.dumps([{"media_fbid": ids[2]}])})
    assert r2.status_code == 200, r2.text
    posts = {p["message"]: p for p in sb.posts()}
    assert posts["Ba ảnh"]["photo_ids"] == ids[:2] and posts["Một ảnh"]["photo_ids"] == [ids[2]]
    # each unpublished photo can be used once
    r3 = feed(http, sb, page, message="Lần nữa", attached_media=json.dumps([{"media_fbid": ids[0]}]))
    assert r3.json()["error"]["error_subcode"] == 1366051
    r4 = feed(http, sb, page, message="Sai id", attached_media=[{"media_fbid": "999"}])
    assert r4.json()["error"]["code"] == 100
    got = http.get(f"{sb.graph_url}/{V}/{posts['Ba ảnh']['id']}",
                   params={"access_token": page["page_token"], "fields": "attachments,full_picture"}).json()
    sub = got["attachments"]["data"][0]["subattachments"]["data"]
    assert [a["target"]["id"] for a in sub] == ids[:2]
    assert http.get(got["full_picture"]).content[:4] == b"\x89PNG"


def test_scheduled_post_window_and_visibility(sb, http):
    page = sb.add_page()
    now = sb.control("GET", "/clock")["now"]
    too_soon = feed(http, sb, page, message="sớm", published=False, scheduled_publish_time=int(now + 60))
    assert too_soon.json()["error"]["code"] == 100
    too_late = feed(http, sb, page, message="muộn", published=False, scheduled_publish_time=int(now + 80 * 86400))
    assert too_late.json()["error"]["code"] == 100
    r = feed(http, sb, page, message="Hẹn giờ", published="false", scheduled_publish_time=str(int(now + 3600)))
    assert r.status_code == 200
    listing = lambda: http.get(f"{sb.graph_url}/{V}/{page['id']}/published_posts",
                               params={"access_token": page["page_token"]}).json()["data"]
    assert listing() == []
    sched = http.get(f"{sb.graph_url}/{V}/{page['id']}/scheduled_posts",
                     params={"access_token": page["page_token"]}).json()["data"]
    assert [p["id"] for p in sched] == [r.json()["id"]]
    sb.advance_clock(3601)
    assert [p["id"] for p in listing()] == [r.json()["id"]]
    assert sb.posts()[0]["published"] is True


def test_video_status_moves_to_ready(sb, http):
    page = sb.add_page()
    r = http.post(f"{sb.graph_url}/{V}/{page['id']}/videos", params={"access_token": page["page_token"]},
                  data={"file_url": "https://example.vn/v.mp4", "description": "clip"})
    vid = r.json()["id"]
    assert "_" not in vid
    status = lambda: http.get(f"{sb.graph_url}/{V}/{vid}", params={"access_token": page["page_token"],
                                                                  "fields": "status"}).json()["status"]
    assert status()["video_status"] == "processing"
    assert status()["video_status"] == "ready"


def test_unknown_node_and_bad_token(sb, http):
    page = sb.add_page()
    r = http.get(f"{sb.graph_url}/{V}/123456", params={"access_token": page["page_token"]})
    assert r.json()["error"]["code"] == 100 and r.json()["error"]["error_subcode"] == 33
    r = http.get(f"{sb.graph_url}/{V}/{page['id']}", params={"access_token": "nope"})
    assert r.json()["error"]["code"] == 190
    r = http.get(f"{sb.graph_url}/{V}/{page['id']}", params={"fields": "id,name"},
                 headers={"Authorization": f"Bearer {page['page_token']}"})
    assert r.json() == {"id": page["id"], "name": page["name"]}


def test_attached_media_as_repeated_form_fields(sb, http):
    page = sb.add_page()
    ids = [upload(http, sb, page, png_bytes()).json()["id"] for _ in range(2)]
    r = http.post(f"{sb.graph_url}/{V}/{page['id']}/feed", params={"access_token": page["page_token"]},
                  data={"message": "hai ảnh", "attached_media[0]": json.dumps({"media_fbid": ids[0]}),
                        "attached_media[1]": json.dumps({"media_fbid": ids[1]})})
    assert r.status_code == 200, r.text
    assert sb.posts()[0]["photo_ids"] == ids
