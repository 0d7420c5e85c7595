"""FacebookPageSource against the sandbox over HTTP: incremental posts/comments, paging, limits, errors."""

from __future__ import annotations

import json

import pytest
import requests

from collectors.facebook_comments import FacebookPageSource
from common.errors import AuthExpired, Rejected, RetryLater
from tests.collectors.conftest import V

HOUR = 3600


def publish(http, sb, page, message):
    r = http.post(f"{sb.graph_url}/{V}/{page['id']}/feed", params={"access_token": page["page_token"]},
                  data={"message": message})
    return r.json()["id"]


def page_reply(http, sb, page, comment_id, message):
    r = http.post(f"{sb.graph_url}/{V}/{comment_id}/comments", params={"access_token": page["page_token"]},
                  data={"message": message})
    return r.json()["id"]


def make_source(sb, page, http, **kwargs):
    return FacebookPageSource(page["id"], page["page_token"], base_url=sb.graph_url, api_version=V,
                              session=http, **kwargs)


def drain(src, cursor=None, *, rounds=50, between=None):
    """Fetch until the source says it has caught up; returns (all items, final cursor, batches)."""
    items, batches = [], 0
    for _ in range(rounds):
        batch = src.fetch(cursor)
        # The cursor is stored as JSON between runs: prove it survives that.
        cursor = json.loads(json.dumps(batch.cursor))
        items += batch.items
        batches += 1
        if not batch.more:
            return items, cursor, batches
        if between:
            between()
    raise AssertionError("source never caught up")


@pytest.fixture
def page(sb):
    return sb.add_page("Công đoàn Khu công nghiệp thử nghiệm")


def test_first_fetch_collects_posts_comments_and_replies(sb, http, page):
    post_id = publish(http, sb, page, "Thông báo lịch khám sức khoẻ định kỳ cho công nhân tháng này.")
    visitor = sb.control("POST", "/visitor_posts", {"page_id": page["id"], "from": {"id": "300001", "name": "Khách"},
                                                     "message": "Công ty em nợ lương hai tháng rồi ạ."})
    question = sb.add_comment(post_id, "Cho em hỏi có khám buổi tối không ạ?", from_id="200001")
    reply = sb.add_comment(post_id, "Mình cũng muốn hỏi câu này", from_id="200002", parent_id=question["id"])
    page_reply(http, sb, page, question["id"], "Có bạn nhé, từ 17 giờ.")

    batch = make_source(sb, page, http).fetch(None)

    by_id = {item.external_id: item for item in batch.items}
    assert set(by_id) == {post_id, visitor["id"], question["id"], reply["id"]}  # not the Page's own reply
    post = by_id[post_id]
    assert (post.source, post.author_ref, post.author_name) == ("facebook_post", page["id"], page["name"])
    assert post.url and post.account_ref == page["id"]
    assert by_id[visitor["id"]].author_ref == "300001" and by_id[visitor["id"]].author_name is None
    q, r = by_id[question["id"]], by_id[reply["id"]]
    assert (q.source, q.parent_external_id, q.reply_to_external_id) == ("facebook_comment", post_id, None)
    assert (r.parent_external_id, r.reply_to_external_id) == (post_id, question["id"])
    assert (q.author_ref, q.author_name) == ("200001", None)
    assert q.text == "Cho em hỏi có khám buổi tối không ạ?" and q.created_at.tzinfo is not None
    assert batch.more is False
    assert page["page_token"] not in json.dumps(batch.cursor)


def test_second_fetch_with_cursor_returns_only_new_items(sb, http, page):
    old_post = publish(http, sb, page, "Bài cũ về chế độ thai sản.")
    sb.add_comment(old_post, "Cảm ơn công đoàn đã thông tin", from_id="200010")
    src = make_source(sb, page, http)
    first = src.fetch(None)
    assert len(first.items) == 2

    sb.advance_clock(HOUR)
    new_comment = sb.add_comment(old_post, "Cho hỏi thủ tục nộp hồ sơ ở đâu?", from_id="200011")
    new_post = publish(http, sb, page, "Bài mới: hướng dẫn nộp hồ sơ thai sản.")
    new_reply = sb.add_comment(new_post, "Rất hữu ích", from_id="200012")
    second = src.fetch(first.cursor)

    assert {i.external_id for i in second.items} == {new_comment["id"], new_post, new_reply["id"]}
    sb.advance_clock(HOUR)
    assert src.fetch(second.cursor).items == []


def test_pagination_follows_next_through_empty_pages(sb, http, page):
    sb.set_config(fb_max_limit=2, fb_inject_empty_page=True)
    posts = [publish(http, sb, page, f"Bài số {i} về an toàn lao động") for i in range(5)]
    comments = [sb.add_comment(posts[0], f"Ý kiến số {i}", from_id=f"2001{i}")["id"] for i in range(5)]

    items, _, batches = drain(make_source(sb, page, http))

    ids = [i.external_id for i in items]
    assert batches == 1
    assert sorted(ids) == sorted(posts + comments)  # each exactly once, across many small pages


def test_page_budget_gives_partial_batches_that_resume_without_loss(sb, http, page):
    sb.set_config(fb_max_limit=2)
    posts = [publish(http, sb, page, f"Tin số {i} từ công đoàn") for i in range(5)]
    expected = set(posts)
    for post in posts[:3]:
        first = sb.add_comment(post, "Bình luận đầu tiên", from_id="2002")
        expected.add(first["id"])
        for i in range(4):
            expected.add(sb.add_comment(post, f"Trả lời {i}", from_id=f"2003{i}", parent_id=first["id"])["id"])

    items, cursor, batches = drain(make_source(sb, page, http, max_pages=3))

    assert batches > 3
    assert {i.external_id for i in items} == expected
    assert all(st["resume"] is None for st in cursor["posts"].values())


def test_high_usage_stops_early_and_resumes_after_the_window(sb, http):
    page = sb.add_page("Trang ngân sách nhỏ", call_budget=10)
    posts = [publish(http, sb, page, f"Thông báo {i}") for i in range(3)]
    expected = set(posts)
    for post in posts:
        expected |= {sb.add_comment(post, f"Góp ý {j}", from_id=f"2004{j}")["id"] for j in range(3)}
    sb.set_config(fb_max_limit=1)
    src = make_source(sb, page, http)

    first = src.fetch(None)
    assert first.more is True and first.retry_after == 300
    # The publishing calls above used 3 of the 10 calls: usage reached 90 % after 6 reads.
    items, _, _ = drain(src, first.cursor, between=lambda: sb.advance_clock(HOUR + 60))

    assert {i.external_id for i in first.items + items} == expected


def test_throttled_before_any_progress_raises_retry_later(sb, http, page):
    publish(http, sb, page, "Bài viết bất kỳ")
    sb.faults(kind="throttle", scope="page", page_id=page["id"], duration_s=600)

    with pytest.raises(RetryLater) as err:
        make_source(sb, page, http).fetch(None)

    assert err.value.throttled is True and err.value.retry_after == 600


@pytest.mark.parametrize("rule,throttled", [({"fail_next": 1}, False),
                                            ({"kind": "raw_502_html", "fail_next": 1}, False),
                                            ({"kind": "raw_429", "fail_next": 1}, True)])
def test_transient_errors_raise_retry_later(sb, http, page, rule, throttled):
    sb.faults(platform="facebook", **rule)

    with pytest.raises(RetryLater) as err:
        make_source(sb, page, http).fetch(None)

    assert err.value.throttled is throttled
    assert page["page_token"] not in (err.value.raw or "") + err.value.message_vi


def test_error_after_progress_returns_partial_batch_and_resumes(sb, http, page):
    post = publish(http, sb, page, "Bài có bình luận")
    comment = sb.add_comment(post, "Bình luận bị chậm", from_id="2005")
    sb.faults(platform="facebook", path="*/comments", fail_next=1)
    src = make_source(sb, page, http)

    first = src.fetch(None)
    second = src.fetch(first.cursor)

    assert [i.external_id for i in first.items] == [post] and first.more and first.retry_after == 30
    assert [i.external_id for i in second.items] == [comment["id"]] and not second.more


def test_revoked_token_raises_auth_expired(sb, http, page):
    sb.revoke_token(page_id=page["id"], subcode=460)

    with pytest.raises(AuthExpired) as err:
        make_source(sb, page, http).fetch(None)

    assert err.value.refreshable is False and err.value.details["subcode"] == 460


def test_deleted_post_is_dropped_and_stale_paging_cursor_restarts(sb, http, page):
    kept = publish(http, sb, page, "Bài còn lại")
    gone = publish(http, sb, page, "Bài sẽ bị xoá")
    src = make_source(sb, page, http)
    cursor = src.fetch(None).cursor
    http.delete(f"{sb.graph_url}/{V}/{gone}", params={"access_token": page["page_token"]})
    comment = sb.add_comment(kept, "Bình luận mới", from_id="2006")
    cursor["posts"][kept]["resume"] = {"after": "not-a-cursor", "top": None}

    batch = src.fetch(cursor)

    assert comment["id"] in {i.external_id for i in batch.items}
    assert gone not in batch.cursor["posts"] and batch.cursor["posts"][kept]["resume"] is None


def test_unreadable_cursor_starts_over_from_the_lookback_window(sb, http, page):
    post = publish(http, sb, page, "Bài trong cửa sổ bảy ngày")

    batch = make_source(sb, page, http).fetch({"v": 99, "posts": "garbage"})

    assert [i.external_id for i in batch.items] == [post]


def test_appsecret_proof_is_sent_when_the_app_secret_is_known(sb, http, page):
    post = publish(http, sb, page, "Bài kiểm tra appsecret_proof")
    secret = sb.set_config()["fb_app_secret"]
    sb.set_config(fb_require_appsecret_proof=True)

    batch = make_source(sb, page, http, app_secret=secret).fetch(None)

    assert [i.external_id for i in batch.items] == [post]
    with pytest.raises(Rejected):  # without the proof Graph refuses the call
        make_source(sb, page, http).fetch(None)


def test_paging_link_to_another_host_is_refused(sb, http, page):
    publish(http, sb, page, "Bài một")
    publish(http, sb, page, "Bài hai")
    sb.set_config(fb_max_limit=1)
    session = requests.Session()
    session.trust_env = False
    session.hooks["response"].append(_rewrite_next_host)
    hosts = []
    session.hooks["response"].append(lambda resp, *a, **k: hosts.append(resp.url.split("/")[2]))

    batch = make_source(sb, page, session).fetch(None)

    # The first page is kept; the rest waits for a later fetch (treated as an unreadable answer).
    assert len(batch.items) == 1 and batch.more is True
    assert set(hosts) == {sb.graph_url.split("/")[2]}


def _rewrite_next_host(resp, *args, **kwargs):
    """Pretend Graph answered a `next` link on another host (our token must not follow it)."""
    body = resp.json()
    if isinstance(body, dict) and body.get("paging", {}).get("next"):
        body["paging"]["next"] = "https://evil.example/v25.0/x?after=y"
        resp._content = json.dumps(body).encode()
    return resp
