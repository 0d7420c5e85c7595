"""Insights readers against the sandbox over HTTP: the numbers Graph and Zalo show for a published post,
growing with the post's age; retired metrics, deleted posts, dead tokens and throttling."""

from __future__ import annotations

import pytest

from collectors.insights import FacebookInsights, PostGone, ZaloInsights
from common.errors import AuthExpired, RetryLater
from sandbox.engagement import organic
from tests.collectors.conftest import V

HOUR = 3600
ARTICLE = {"type": "normal", "title": "Bản tin Công đoàn", "author": "BCH", "description": "Tin tuần",
           "cover": {"cover_type": "photo", "photo_url": "https://example.vn/a.jpg", "status": "show"},
           "body": [{"type": "text", "content": "Nội dung bản tin"}], "status": "show"}


def publish(http, sb, page, message):
    r = http.post(f"{sb.graph_url}/{V}/{page['id']}/feed", params={"access_token": page["page_token"]},
                  data={"message": message})
    return r.json()["id"]


def fb_reader(sb, page, http):
    return FacebookInsights(page["page_token"], base_url=sb.graph_url, api_version=V, session=http)


def zalo_article(sb, http, oa) -> str:
    h = {"access_token": oa["access_token"]}
    job = http.post(f"{sb.zalo_openapi_url}/v2.0/article/create", headers=h, json=ARTICLE).json()["data"]["token"]
    for _ in range(5):  # verify answers -214 "being processed" first, then the article id
        body = http.post(f"{sb.zalo_openapi_url}/v2.0/article/verify", headers=h, json={"token": job}).json()
        if body["error"] == 0:
            return body["data"]["id"]
    raise AssertionError(body)


@pytest.fixture
def page(sb):
    return sb.add_page("Công đoàn Khu công nghiệp thử nghiệm")


def test_facebook_numbers_grow_with_the_posts_age(sb, http, page):
    post_id = publish(http, sb, page, "Mời đoàn viên tham gia giải chạy vì sức khoẻ người lao động")
    sb.add_comment(post_id, "Đăng ký ở đâu ạ?", from_id="2001")
    sb.add_comment(post_id, "Hay quá", from_id="2002")
    reader = fb_reader(sb, page, http)

    sb.advance_clock(3 * HOUR)
    early = reader.fetch(post_id)
    sb.advance_clock(20 * HOUR)
    later = reader.fetch(post_id)

    expected = organic(post_id, 23 * HOUR)
    assert (later.views, later.reach, later.reactions, later.shares) == (
        expected.views, expected.unique_views, expected.reactions, expected.shares)
    assert later.comments == 2 and early.comments == 2
    assert later.views > early.views > 0 and later.reactions >= early.reactions
    assert later.engagement == expected.reactions + 2 + expected.shares
    # The sandbox's own view of the post agrees with what Loa read.
    shown = next(p for p in sb.posts(page_id=page["id"]) if p["id"] == post_id)
    assert (shown["views"], shown["reactions"], shown["shares"]) == (later.views, later.reactions, later.shares)


def test_a_retired_metric_costs_only_that_number(sb, http, page):
    post_id = publish(http, sb, page, "Thông báo lịch khám sức khoẻ")
    sb.control("POST", "/engagement", {"post_id": post_id, "views": 1000, "reactions": 9})
    sb.set_config(fb_deprecated_metrics=["post_total_media_view_unique", "post_impressions"])
    reader = fb_reader(sb, page, http)

    first = reader.fetch(post_id)
    calls_first = reader.calls
    second = reader.fetch(post_id)

    assert (first.views, first.reach, first.reactions, first.shares) == (1000, None, 9, 0)
    assert second == first
    assert calls_first == 3 and reader.calls - calls_first == 2  # the retired metric is not asked again


def test_deleted_post_is_reported_gone(sb, http, page):
    post_id = publish(http, sb, page, "Bài sẽ bị xoá")
    http.delete(f"{sb.graph_url}/{V}/{post_id}", params={"access_token": page["page_token"]})
    with pytest.raises(PostGone):
        fb_reader(sb, page, http).fetch(post_id)


def test_revoked_page_token_raises_auth_expired(sb, http, page):
    post_id = publish(http, sb, page, "Bài bất kỳ")
    sb.revoke_token(page_id=page["id"], subcode=460)
    with pytest.raises(AuthExpired) as err:
        fb_reader(sb, page, http).fetch(post_id)
    assert err.value.refreshable is False and "đổi mật khẩu" in err.value.message_vi


def test_throttling_raises_retry_later(sb, http, page):
    post_id = publish(http, sb, page, "Bài bất kỳ")
    sb.faults(platform="facebook", kind="raw_429", fail_next=1)
    with pytest.raises(RetryLater) as err:
        fb_reader(sb, page, http).fetch(post_id)
    assert err.value.throttled and err.value.retry_after > 0


def test_zalo_article_views_and_shares(sb, http):
    oa = sb.add_oa("OA Công đoàn thử nghiệm")
    article_id = zalo_article(sb, http, oa)
    sb.advance_clock(20 * HOUR)  # (an OA access token lives 25 h)
    stats = ZaloInsights(oa["access_token"], base_url=sb.zalo_openapi_url, session=http).fetch(article_id)
    shown = next(p for p in sb.posts(platform="zalo") if p["id"] == article_id)
    assert stats.views == shown["total_view"] > 0 and stats.shares == shown["total_share"]
    # Zalo offers no reaction or comment counts for articles: unknown, not zero.
    assert stats.reactions is None and stats.comments is None and stats.engagement == stats.shares


def test_zalo_expired_token_is_refreshable_and_removed_article_gone(sb, http):
    oa = sb.add_oa("OA Công đoàn thử nghiệm")
    article_id = zalo_article(sb, http, oa)
    reader = ZaloInsights(oa["access_token"], base_url=sb.zalo_openapi_url, session=http)
    http.post(f"{sb.zalo_openapi_url}/v2.0/article/remove", headers={"access_token": oa["access_token"]},
              json={"id": article_id})
    with pytest.raises(PostGone):
        reader.fetch(article_id)
    sb.revoke_token(platform="zalo", oa_id=oa["oa_id"], code=-216)
    with pytest.raises(AuthExpired) as err:
        reader.fetch(article_id)
    assert err.value.refreshable is True


def test_zalo_rate_limit_raises_retry_later(sb, http):
    oa = sb.add_oa("OA Công đoàn thử nghiệm")
    article_id = zalo_article(sb, http, oa)
    sb.faults(platform="zalo", app_id=oa["app_id"], kind="throttle", duration_s=120)
    with pytest.raises(RetryLater) as err:
        ZaloInsights(oa["access_token"], base_url=sb.zalo_openapi_url, session=http).fetch(article_id)
    assert err.value.throttled


def test_page_insights_page_through_time_windows(sb, http, page):
    r = http.get(f"{sb.graph_url}/{V}/{page['id']}/insights",
                 params={"access_token": page["page_token"], "metric": "page_media_view", "period": "day",
                         "since": "1750000000", "until": str(1750000000 + 3 * 86400)}).json()
    assert len(r["data"][0]["values"]) == 3
    nxt = http.get(r["paging"]["next"]).json()
    assert nxt["data"][0]["values"][0]["end_time"] > r["data"][0]["values"][-1]["end_time"]
    assert "since=1750259200" in r["paging"]["next"] and "until=1750000000" in r["paging"]["previous"]
