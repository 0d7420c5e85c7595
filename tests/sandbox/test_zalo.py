"""Fake Zalo OA: tokens, articles, broadcast, messages, listings, rate limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading

from tests.sandbox.helpers import png_bytes


def api(http, sb, method, path, token, *, data=None, body=None, headers=None, **kw):
    h = {"access_token": token} if token else {}
    h.update(headers or {})
    params = {"data": json.dumps(data)} if data is not None else kw.pop("params", None)
    r = http.request(method, f"{sb.zalo_openapi_url}/{path}", headers=h, json=body, params=params, **kw)
    assert r.status_code == 200, r.text
    return r.json()


def refresh(http, sb, oa, refresh_token):
    r = http.post(f"{sb.zalo_oauth_url}/v4/oa/access_token", headers={"secret_key": oa["secret"]},
                  data={"app_id": oa["app_id"], "grant_type": "refresh_token", "refresh_token": refresh_token})
    assert r.status_code == 200
    return r.json()


def test_token_header_required_and_expiry(sb, http):
    oa = sb.add_oa("OA Công đoàn")
    assert api(http, sb, "GET", "v2.0/oa/getoa", None)["error"] == -216
    assert api(http, sb, "GET", "v2.0/oa/getoa", "wrong")["error"] == -216
    # token in the query string is not accepted (B2)
    r = http.get(f"{sb.zalo_openapi_url}/v2.0/oa/getoa", params={"access_token": oa["access_token"]})
    assert r.json()["error"] == -216
    ok = api(http, sb, "GET", "v2.0/oa/getoa", oa["access_token"])
    assert ok["error"] == 0 and ok["data"]["oa_id"] == oa["oa_id"] and ok["data"]["name"] == "OA Công đoàn"
    sb.advance_clock(89_990)
    assert api(http, sb, "GET", "v2.0/oa/getoa", oa["access_token"])["error"] == 0
    sb.advance_clock(20)
    assert api(http, sb, "GET", "v2.0/oa/getoa", oa["access_token"])["error"] == -220


def test_refresh_is_single_use(sb, http):
    oa = sb.add_oa()
    new = refresh(http, sb, oa, oa["refresh_token"])
    assert set(new) == {"access_token", "refresh_token", "expires_in"} and new["expires_in"] == "90000"
    assert new["refresh_token"] != oa["refresh_token"]
    assert api(http, sb, "GET", "v2.0/oa/getoa", new["access_token"])["error"] == 0
    reuse = refresh(http, sb, oa, oa["refresh_token"])
    assert reuse["error"] < 0 and "access_token" not in reuse
    bad_secret = http.post(f"{sb.zalo_oauth_url}/v4/oa/access_token", headers={"secret_key": "nope"},
                           data={"app_id": oa["app_id"], "grant_type": "refresh_token",
                                 "refresh_token": new["refresh_token"]}).json()
    assert bad_secret["error"] < 0
    assert "access_token" in refresh(http, sb, oa, new["refresh_token"])


def test_concurrent_refresh_only_one_wins(sb, http):
    oa = sb.add_oa()
    results, barrier = [], threading.Barrier(8)

    def worker():
        import requests
        s = requests.Session()
        s.trust_env = False
        barrier.wait()
        results.append(refresh(s, sb, oa, oa["refresh_token"]))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if "access_token" in r]
    assert len(results) == 8 and len(winners) == 1


def test_refresh_token_expires_after_three_months(sb, http):
    oa = sb.add_oa()
    sb.advance_clock(91 * 86400)
    assert refresh(http, sb, oa, oa["refresh_token"])["error"] < 0


def test_code_exchange_with_pkce(sb, http):
    oa = sb.add_oa()
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    # via the consent page: it redirects with code, oa_id and state
    r = http.get(f"{sb.zalo_oauth_url}/v4/oa/permission/grant",
                 params={"app_id": oa["app_id"], "redirect_uri": "https://loa.example/cb", "oa_id": oa["oa_id"],
                         "code_challenge": challenge, "state": "s1"}, allow_redirects=False)
    assert r.status_code == 302 and "state=s1" in r.headers["location"]
    code = r.headers["location"].split("code=")[1].split("&")[0]
    form = {"app_id": oa["app_id"], "grant_type": "authorization_code", "code": code}
    url, hdr = f"{sb.zalo_oauth_url}/v4/oa/access_token", {"secret_key": oa["secret"]}
    assert http.post(url, headers=hdr, data={**form, "code_verifier": "wrong"}).json()["error"] < 0
    ok = http.post(url, headers=hdr, data={**form, "code_verifier": verifier}).json()
    assert ok["expires_in"] == "90000"
    assert http.post(url, headers=hdr, data={**form, "code_verifier": verifier}).json()["error"] < 0


ARTICLE = {"type": "normal", "title": "Thông báo", "author": "BCH", "description": "Mô tả ngắn",
           "cover": {"cover_type": "photo", "photo_url": "https://example.vn/a.jpg", "status": "show"},
           "body": [{"type": "text", "content": "Nội dung"}], "status": "show"}


def create_article(http, sb, token, **over):
    return api(http, sb, "POST", "v2.0/article/create", token, body={**ARTICLE, **over})


def verify_article(http, sb, token, job):
    first = api(http, sb, "POST", "v2.0/article/verify", token, body={"token": job})
    assert first["error"] == -214
    return api(http, sb, "POST", "v2.0/article/verify", token, body={"token": job})["data"]["id"]


def test_article_cycle(sb, http):
    oa = sb.add_oa()
    tok = oa["access_token"]
    created = create_article(http, sb, tok)
    assert created["error"] == 0 and "token" in created["data"]
    assert api(http, sb, "GET", "v2.0/article/getslice", tok, params={"offset": 0, "limit": 10})["data"]["total"] == 0
    article_id = verify_article(http, sb, tok, created["data"]["token"])
    sl = api(http, sb, "GET", "v2.0/article/getslice", tok, params={"offset": 0, "limit": 10})["data"]
    assert sl["total"] == 1 and sl["medias"][0]["id"] == article_id
    assert {"title", "status", "create_date", "total_view", "total_share"} <= set(sl["medias"][0])
    detail = api(http, sb, "GET", "v2.0/article/getdetail", tok, params={"id": article_id})["data"]
    assert detail["link"].startswith("https://") and detail["title"] == "Thông báo"
    [rec] = sb.posts(platform="zalo")
    assert rec["id"] == article_id and rec["title"] == "Thông báo" and rec["published"] is True
    upd = api(http, sb, "POST", "v2.0/article/update", tok, body={"id": article_id, "title": "Mới"})
    assert "token" in upd["data"]
    assert api(http, sb, "POST", "v2.0/article/remove", tok, body={"id": article_id})["error"] == 0
    assert api(http, sb, "GET", "v2.0/article/getdetail", tok, params={"id": article_id})["error"] == -201


def slice_ids(http, sb, tok):
    data = api(http, sb, "GET", "v2.0/article/getslice", tok, params={"offset": 0, "limit": 10})["data"]
    assert data["total"] == len(data["medias"])
    return [m["id"] for m in data["medias"]]


def test_article_processes_on_the_clock_without_verify(sb, http):
    sb.set_config(zalo_article_processing_s=30, zalo_article_verify_polls=2)
    oa = sb.add_oa()
    tok = oa["access_token"]
    old_job = create_article(http, sb, tok, title="Cũ")["data"]["token"]
    create_article(http, sb, tok, title="Mới")
    old, new = (rec["id"] for rec in sb.posts(platform="zalo"))
    assert slice_ids(http, sb, tok) == []
    assert api(http, sb, "GET", "v2.0/article/getdetail", tok, params={"id": old})["error"] == -214
    assert [r["processed"] for r in sb.posts(platform="zalo")] == [False, False]

    sb.advance_clock(29)
    assert slice_ids(http, sb, tok) == []
    sb.advance_clock(1)  # nobody polled verify: Zalo finished processing on its own

    assert slice_ids(http, sb, tok) == [new, old]  # newest first
    detail = api(http, sb, "GET", "v2.0/article/getdetail", tok, params={"id": old})
    assert detail["error"] == 0 and detail["data"]["title"] == "Cũ"
    assert [(r["processed"], r["published"]) for r in sb.posts(platform="zalo")] == [(True, True)] * 2
    # verify is per token and clock-independent: still -214 for the configured polls, then the id.
    answers = [api(http, sb, "POST", "v2.0/article/verify", tok, body={"token": old_job}) for _ in range(3)]
    assert [a["error"] for a in answers] == [-214, -214, 0] and answers[2]["data"]["id"] == old


def test_article_default_processing_time_is_one_second(sb, http):
    tok = sb.add_oa()["access_token"]
    create_article(http, sb, tok)
    [rec] = sb.posts(platform="zalo")
    sb.advance_clock(1.0)
    assert slice_ids(http, sb, tok) == [rec["id"]]


def test_verify_cycles_minus_214_then_id_and_processes_early(sb, http):
    sb.set_config(zalo_article_processing_s=3600, zalo_article_verify_polls=2)
    tok = sb.add_oa()["access_token"]
    job = create_article(http, sb, tok, title="Được kiểm tra")["data"]["token"]
    create_article(http, sb, tok, title="Không ai kiểm tra")
    verified, unpolled = (rec["id"] for rec in sb.posts(platform="zalo"))
    answers = [api(http, sb, "POST", "v2.0/article/verify", tok, body={"token": job}) for _ in range(4)]
    assert [a["error"] for a in answers] == [-214, -214, 0, 0]
    assert answers[2]["data"]["id"] == answers[3]["data"]["id"] == verified
    assert slice_ids(http, sb, tok) == [verified]  # verify finished it before the processing time
    assert api(http, sb, "GET", "v2.0/article/getdetail", tok, params={"id": unpolled})["error"] == -214
    sb.advance_clock(3600)
    assert slice_ids(http, sb, tok) == [unpolled, verified]


def test_processing_time_none_means_only_verify_processes(sb, http):
    sb.set_config(zalo_article_processing_s=None)
    tok = sb.add_oa()["access_token"]
    job = create_article(http, sb, tok)["data"]["token"]
    sb.advance_clock(3600)
    assert slice_ids(http, sb, tok) == []
    article_id = verify_article(http, sb, tok, job)
    assert slice_ids(http, sb, tok) == [article_id]


def test_article_validation(sb, http):
    tok = sb.add_oa()["access_token"]
    assert create_article(http, sb, tok, title="t" * 151)["error"] == -201
    assert create_article(http, sb, tok, author="a" * 51)["error"] == -201
    assert create_article(http, sb, tok, description="d" * 301)["error"] == -201
    r = create_article(http, sb, tok, cover=None)
    assert r["error"] == -201 and "cover" in r["message"]
    assert create_article(http, sb, tok, title="t" * 150)["error"] == 0


def test_broadcast_only_articles(sb, http):
    tok = sb.add_oa()["access_token"]
    text = api(http, sb, "POST", "v2.0/oa/message", tok,
               body={"recipient": {"target": {"gender": "0"}}, "message": {"text": "Xin chào"}})
    assert text["error"] == -201
    cs_v2 = api(http, sb, "POST", "v2.0/oa/message", tok,
                body={"recipient": {"user_id": "1"}, "message": {"text": "Xin chào"}})
    assert cs_v2["error"] == -240
    hidden = verify_article(http, sb, tok, create_article(http, sb, tok, status="hide")["data"]["token"])
    shown = verify_article(http, sb, tok, create_article(http, sb, tok, title="Khác")["data"]["token"])

    def bc(article_id):
        att = {"type": "template", "payload": {"template_type": "media", "elements": [
            {"media_type": "article", "attachment_id": article_id}]}}
        return api(http, sb, "POST", "v2.0/oa/message", tok,
                   body={"recipient": {"target": {"cities": "4"}}, "message": {"attachment": att}})

    assert bc(hidden)["error"] == -201
    ok = bc(shown)
    assert ok["error"] == 0 and ok["data"]["message_id"]
    assert len(sb.control("GET", "/zalo/broadcasts")["data"]) == 1


def test_cs_message_rules(sb, http):
    oa = sb.add_oa()
    tok = oa["access_token"]
    fresh = sb.add_zalo_user(oa["oa_id"], "Bình", last_interaction_ago_s=3600)["user_id"]
    stale = sb.add_zalo_user(oa["oa_id"], "Cường", last_interaction_ago_s=8 * 86400)["user_id"]
    send = lambda uid, text: api(http, sb, "POST", "v3.0/oa/message/cs", tok,
                                 body={"recipient": {"user_id": uid}, "message": {"text": text}})
    ok = send(fresh, "x" * 2000)
    assert ok["error"] == 0 and ok["data"]["message_id"] and ok["data"]["user_id"] == fresh
    assert send(fresh, "x" * 2001)["error"] == -201
    assert send(stale, "chào")["error"] == -230
    sb.zalo_message(oa["oa_id"], stale, "Tôi muốn hỏi")  # a new interaction reopens the window
    assert send(stale, "chào")["error"] == 0
    sb.advance_clock(7 * 86400 + 60)
    assert send(fresh, "muộn quá")["error"] == -220  # a week later the access token is long expired too
    tok = sb.control("POST", "/zalo/tokens", {"oa_id": oa["oa_id"]})["access_token"]
    assert send(fresh, "muộn quá")["error"] == -230


def test_chats_followers_and_profile(sb, http):
    oa = sb.add_oa()
    tok = oa["access_token"]
    uids = [sb.add_zalo_user(oa["oa_id"], f"Người {i}")["user_id"] for i in range(12)]
    for i, uid in enumerate(uids):
        sb.zalo_message(oa["oa_id"], uid, f"tin {i}")
    for i in range(3):
        sb.zalo_message(oa["oa_id"], uids[0], f"thêm {i}")
    recent = api(http, sb, "GET", "v2.0/oa/listrecentchat", tok, data={"offset": 0, "count": 50})["data"]
    assert len(recent) == 10 and recent[0]["message"] == "thêm 2" and recent[0]["src"] == 1
    rest = api(http, sb, "GET", "v2.0/oa/listrecentchat", tok, data={"offset": 10, "count": 10})["data"]
    assert len(rest) == 2
    conv = api(http, sb, "GET", "v2.0/oa/conversation", tok, data={"user_id": uids[0], "offset": 0, "count": 2})
    assert [m["message"] for m in conv["data"]] == ["thêm 2", "thêm 1"]
    sb.set_config(zalo_count_over_limit="error")
    assert api(http, sb, "GET", "v2.0/oa/listrecentchat", tok, data={"offset": 0, "count": 11})["error"] == -201
    page1 = api(http, sb, "GET", "v3.0/oa/user/getlist", tok, data={"offset": 0, "count": 5})["data"]
    assert page1["total"] == 12 and page1["count"] == 5 and len(page1["users"]) == 5
    assert api(http, sb, "GET", "v3.0/oa/user/getlist", tok, data={"offset": 0, "count": 51})["error"] == -201
    prof = api(http, sb, "GET", "v3.0/oa/user/detail", tok, data={"user_id": uids[3]})["data"]
    assert prof["display_name"] == "Người 3" and prof["user_is_follower"] is True


def test_rate_limit_headers_and_minus_32(sb, http):
    sb.set_config(zalo_rate_limit_per_min=3)
    tok = sb.add_oa()["access_token"]
    remains = []
    for _ in range(3):
        r = http.get(f"{sb.zalo_openapi_url}/v2.0/oa/getoa", headers={"access_token": tok})
        assert r.json()["error"] == 0
        remains.append(int(r.headers["X-RateLimit-Remain"]))
        assert r.headers["X-RateLimit-Limit"] == "3"
    assert remains == [2, 1, 0]
    r = http.get(f"{sb.zalo_openapi_url}/v2.0/oa/getoa", headers={"access_token": tok})
    assert r.status_code == 200 and r.json()["error"] == -32
    sb.advance_clock(60)
    assert http.get(f"{sb.zalo_openapi_url}/v2.0/oa/getoa", headers={"access_token": tok}).json()["error"] == 0


def test_appsecret_proof(sb, http):
    oa = sb.add_oa()
    tok = oa["access_token"]
    sb.set_config(zalo_require_appsecret_proof=True)
    assert api(http, sb, "GET", "v2.0/oa/getoa", tok)["error"] == -242
    assert api(http, sb, "GET", "v2.0/oa/getoa", tok, headers={"appsecret_proof": "bad"})["error"] == -242
    proof = hmac.new(oa["secret"].encode(), tok.encode(), hashlib.sha256).hexdigest()
    assert api(http, sb, "GET", "v2.0/oa/getoa", tok, headers={"appsecret_proof": proof})["error"] == 0


def test_revoked_token_and_uploads(sb, http):
    oa = sb.add_oa()
    tok = oa["access_token"]
    r = http.post(f"{sb.zalo_openapi_url}/v2.0/oa/upload/image", headers={"access_token": tok},
                  files={"file": ("a.png", png_bytes(), "image/png")})
    assert r.json()["error"] == 0 and r.json()["data"]["attachment_id"]
    r = http.post(f"{sb.zalo_openapi_url}/v2.0/oa/upload/image", headers={"access_token": tok},
                  files={"file": ("a.png", b"x" * (1024 * 1024 + 1), "image/png")})
    assert r.json()["error"] == -201
    sb.revoke_token(platform="zalo", oa_id=oa["oa_id"], code=-216)
    assert api(http, sb, "GET", "v2.0/oa/getoa", tok)["error"] == -216
