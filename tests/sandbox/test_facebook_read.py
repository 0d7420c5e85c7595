"""Reading through the fake Graph host: pagination, comments, moderation, insights, accounts."""

from __future__ import annotations

V = "v25.0"


def g(http, sb, path, token, **params):
    return http.get(f"{sb.graph_url}/{V}/{path}", params={"access_token": token, **params})


def make_posts(http, sb, page, n):
    ids = []
    for i in range(n):
        r = http.post(f"{sb.graph_url}/{V}/{page['id']}/feed", params={"access_token": page["page_token"]},
                      data={"message": f"Bài số {i}"})
        ids.append(r.json()["id"])
    return ids


def walk(http, first):
    """Follow paging.next until it is absent; returns the pages."""
    pages, body = [], first.json()
    while True:
        pages.append(body)
        nxt = body.get("paging", {}).get("next")
        if not nxt:
            return pages
        body = http.get(nxt).json()


def test_pagination_to_the_end(sb, http):
    page = sb.add_page()
    ids = make_posts(http, sb, page, 7)
    pages = walk(http, g(http, sb, f"{page['id']}/published_posts", page["page_token"], limit=3,
                         fields="id,message"))
    assert [len(p["data"]) for p in pages] == [3, 3, 1]
    seen = [d["id"] for p in pages for d in p["data"]]
    assert seen == list(reversed(ids))  # newest first, nothing twice, nothing missing
    assert "next" not in pages[-1]["paging"] and "previous" in pages[-1]["paging"]
    # cursors are opaque, and a previous link leads back
    back = http.get(pages[1]["paging"]["previous"]).json()
    assert [d["id"] for d in back["data"]] == seen[:3]
    assert g(http, sb, f"{page['id']}/feed", page["page_token"], after="garbage").json()["error"]["code"] == 100


def test_empty_page_with_next_is_possible(sb, http):
    page = sb.add_page()
    make_posts(http, sb, page, 4)
    sb.set_config(fb_inject_empty_page=True)
    pages = walk(http, g(http, sb, f"{page['id']}/feed", page["page_token"], limit=2))
    sizes = [len(p["data"]) for p in pages]
    assert 0 in sizes and sum(sizes) == 4
    assert "next" in pages[sizes.index(0)]["paging"]


def test_since_until_filter(sb, http):
    page = sb.add_page()
    make_posts(http, sb, page, 2)
    now = sb.control("GET", "/clock")["now"]
    sb.advance_clock(7200)
    make_posts(http, sb, page, 1)
    r = g(http, sb, f"{page['id']}/published_posts", page["page_token"], since=int(now + 3600))
    assert [d["message"] for d in r.json()["data"]] == ["Bài số 0"]
    r = g(http, sb, f"{page['id']}/published_posts", page["page_token"], until=int(now + 3600))
    assert len(r.json()["data"]) == 2


def test_visitor_posts_only_in_feed(sb, http):
    page = sb.add_page()
    make_posts(http, sb, page, 1)
    sb.control("POST", "/visitor_posts", {"page_id": page["id"], "message": "Khách hỏi",
                                          "from": {"id": "42", "name": "Khách"}})
    feed = g(http, sb, f"{page['id']}/feed", page["page_token"]).json()["data"]
    own = g(http, sb, f"{page['id']}/published_posts", page["page_token"]).json()["data"]
    assert len(feed) == 2 and len(own) == 1


def test_comments_reply_hide_delete(sb, http):
    page = sb.add_page()
    [post_id] = make_posts(http, sb, page, 1)
    tok = page["page_token"]
    c1 = sb.add_comment(post_id, "Câu hỏi 1", from_id="301", from_name="An")["id"]
    c2 = sb.add_comment(post_id, "Câu hỏi 2", from_id="302", from_name="Bình")["id"]
    r = http.post(f"{sb.graph_url}/{V}/{c1}/comments", params={"access_token": tok}, data={"message": "Trả lời"})
    reply = r.json()["id"]
    fields = "id,message,from{id,name},parent{id},is_hidden,can_hide,comment_count"
    top = g(http, sb, f"{post_id}/comments", tok, fields=fields, summary="true").json()
    assert [c["id"] for c in top["data"]] == [c1, c2]
    assert top["summary"]["total_count"] == 2 and top["data"][0]["comment_count"] == 1
    assert top["data"][0]["from"] == {"id": "301", "name": "An"}
    stream = g(http, sb, f"{post_id}/comments", tok, filter="stream", order="reverse_chronological",
               fields=fields).json()["data"]
    assert [c["id"] for c in stream] == [reply, c2, c1]
    assert stream[0]["parent"] == {"id": c1} and stream[0]["can_hide"] is False
    replies = g(http, sb, f"{c1}/comments", tok).json()["data"]
    assert [c["id"] for c in replies] == [reply]
    # hide: still listed with is_hidden true
    assert http.post(f"{sb.graph_url}/{V}/{c2}", params={"access_token": tok},
                     data={"is_hidden": "true"}).json() == {"success": True}
    listed = {c["id"]: c for c in g(http, sb, f"{post_id}/comments", tok, fields=fields).json()["data"]}
    assert listed[c2]["is_hidden"] is True
    # the Page's own comment cannot be hidden
    assert http.post(f"{sb.graph_url}/{V}/{reply}", params={"access_token": tok},
                     data={"is_hidden": "true"}).json()["error"]["code"] == 100
    assert http.delete(f"{sb.graph_url}/{V}/{c2}", params={"access_token": tok}).json() == {"success": True}
    assert [c["id"] for c in g(http, sb, f"{post_id}/comments", tok).json()["data"]] == [c1]
    assert g(http, sb, c2, tok).json()["error"]["code"] == 100


def test_comment_pagination(sb, http):
    page = sb.add_page()
    [post_id] = make_posts(http, sb, page, 1)
    for i in range(5):
        sb.add_comment(post_id, f"bình luận {i}")
    first = g(http, sb, f"{post_id}/comments", page["page_token"], limit=2)
    pages = walk(http, first)
    assert [c["message"] for p in pages for c in p["data"]] == [f"bình luận {i}" for i in range(5)]


def test_commenter_hidden_from_other_tokens(sb, http):
    page, other = sb.add_page(), sb.add_page("Trang khác")
    [post_id] = make_posts(http, sb, page, 1)
    sb.add_comment(post_id, "xin chào", from_id="55", from_name="Cường")
    data = g(http, sb, f"{post_id}/comments", other["page_token"], fields="id,message,from").json()["data"]
    assert "from" not in data[0]


def test_insights_valid_and_deprecated(sb, http):
    page = sb.add_page()
    [post_id] = make_posts(http, sb, page, 1)
    sb.control("POST", "/engagement", {"post_id": post_id, "views": 1000, "reactions": 9})
    tok = page["page_token"]
    r = g(http, sb, f"{post_id}/insights", tok, metric="post_media_view,post_total_media_view_unique").json()
    assert [(m["name"], m["period"]) for m in r["data"]] == [("post_media_view", "lifetime"),
                                                             ("post_total_media_view_unique", "lifetime")]
    assert r["data"][0]["values"] == [{"value": 1000}]
    bad = g(http, sb, f"{post_id}/insights", tok, metric="post_media_view,post_impressions").json()
    assert bad["error"]["code"] == 100
    assert g(http, sb, f"{page['id']}/insights", tok).json()["error"]["code"] == 3001
    day = g(http, sb, f"{page['id']}/insights", tok, metric="page_media_view", period="day").json()
    assert day["data"][0]["values"][0]["end_time"].endswith("+0000")
    fields = g(http, sb, post_id, tok, fields="reactions.summary(total_count).limit(0),"
                                              "comments.summary(true).limit(0),shares").json()
    assert fields["reactions"]["summary"]["total_count"] == 9 and "shares" not in fields


def test_accounts_oauth_and_debug_token(sb, http):
    page = sb.add_page("Trang của tôi")
    user_tok = page["user_token"]
    me = g(http, sb, "me", user_tok).json()
    assert me["id"] == page["user_id"]
    accounts = g(http, sb, "me/accounts", user_tok).json()["data"]
    assert accounts[0]["id"] == page["id"] and accounts[0]["access_token"] == page["page_token"]
    assert g(http, sb, "me", page["page_token"], fields="id,name").json() == {"id": page["id"],
                                                                             "name": "Trang của tôi"}
    cfg = sb.control("GET", "/config")
    app = {"client_id": cfg["fb_app_id"], "client_secret": cfg["fb_app_secret"]}
    code = sb.control("POST", "/fb/codes", {"user_token": user_tok})["code"]
    short = http.get(f"{sb.graph_url}/{V}/oauth/access_token", params={**app, "code": code,
                                                                      "redirect_uri": "https://x/cb"}).json()
    assert short["token_type"] == "bearer" and short["expires_in"] == 7200
    again = http.get(f"{sb.graph_url}/{V}/oauth/access_token", params={**app, "code": code}).json()
    assert again["error"]["code"] == 100
    exchange = {**app, "grant_type": "fb_exchange_token", "fb_exchange_token": short["access_token"]}
    long = http.get(f"{sb.graph_url}/{V}/oauth/access_token", params=exchange).json()
    assert long["expires_in"] == 5_184_000
    app_token = f"{cfg['fb_app_id']}|{cfg['fb_app_secret']}"
    dbg = g(http, sb, "debug_token", app_token, input_token=page["page_token"]).json()["data"]
    assert dbg["is_valid"] is True and dbg["type"] == "PAGE" and dbg["expires_at"] == 0
    sb.advance_clock(7201)
    assert g(http, sb, "me", short["access_token"]).json()["error"]["error_subcode"] == 463
    dbg = g(http, sb, "debug_token", app_token, input_token=short["access_token"]).json()["data"]
    assert dbg["is_valid"] is False


def test_revoked_page_token(sb, http):
    page = sb.add_page()
    sb.revoke_token(page_id=page["id"], subcode=460)
    err = g(http, sb, page["id"], page["page_token"]).json()["error"]
    assert (err["code"], err["error_subcode"], err["type"]) == (190, 460, "OAuthException")
    sb.control("POST", "/tokens/restore")
    assert g(http, sb, page["id"], page["page_token"]).status_code == 200


def test_missing_permission(sb, http):
    page = sb.add_page(scopes=["pages_read_engagement"])
    r = http.post(f"{sb.graph_url}/{V}/{page['id']}/feed", params={"access_token": page["page_token"]},
                  data={"message": "x"})
    assert r.json()["error"]["code"] == 200
