"""Usage headers, throttling, policy blocks and injected faults."""

from __future__ import annotations

import json
import time

import pytest
import requests

V = "v25.0"


def post(http, sb, page, message, **kw):
    return http.post(f"{sb.graph_url}/{V}/{page['id']}/feed", params={"access_token": page["page_token"]},
                     json={"message": message}, **kw)


def test_usage_headers_rise_then_throttle(sb, http):
    sb.set_config(fb_page_budget=10)
    page = sb.add_page()
    seen = []
    for i in range(10):
        r = post(http, sb, page, f"bài {i}")
        assert r.status_code == 200
        seen.append(json.loads(r.headers["X-Page-Usage"])["call_count"])
        assert "call_count" in json.loads(r.headers["X-App-Usage"])
    assert seen == sorted(seen) and seen[0] < seen[-1] == 100
    r = post(http, sb, page, "quá giới hạn")
    err = r.json()["error"]
    assert r.status_code == 400 and err["code"] == 80001 and err["is_transient"] is True
    buc = json.loads(r.headers["X-Business-Use-Case-Usage"])[page["id"]][0]
    assert buc["call_count"] == 100 and buc["estimated_time_to_regain_access"] >= 1
    assert len(sb.posts()) == 10
    sb.advance_clock(3600)
    assert post(http, sb, page, "sau một giờ").status_code == 200


def test_default_budget_allows_60_posts_a_minute(sb, http):
    page = sb.add_page()
    for i in range(60):
        assert post(http, sb, page, f"nhanh {i}").status_code == 200


def test_forced_app_throttle_and_403_switch(sb, http):
    page = sb.add_page()
    sb.set_config(fb_throttle_http_status=403)
    sb.faults(kind="throttle", scope="app", duration_s=120)
    r = post(http, sb, page, "x")
    assert r.status_code == 403 and r.json()["error"]["code"] == 4
    assert json.loads(r.headers["X-App-Usage"])["call_count"] == 100
    sb.advance_clock(121)
    assert post(http, sb, page, "x").status_code == 200


def test_forced_page_throttle_with_user_token_is_32(sb, http):
    page = sb.add_page()
    sb.faults(kind="throttle", scope="page", page_id=page["id"], duration_s=600)
    r = http.get(f"{sb.graph_url}/{V}/{page['id']}/feed", params={"access_token": page["user_token"]})
    assert r.json()["error"]["code"] == 32
    r = post(http, sb, page, "x")
    assert r.json()["error"]["code"] == 80001
    buc = json.loads(r.headers["X-Business-Use-Case-Usage"])[page["id"]][0]
    assert buc["estimated_time_to_regain_access"] == 10


def test_policy_block_368_for_a_period(sb, http):
    page = sb.add_page()
    sb.faults(kind="policy_block", page_id=page["id"], duration_s=600)
    err = post(http, sb, page, "x").json()["error"]
    assert (err["code"], err["error_subcode"]) == (368, 1390008)
    # reads still work during a block
    assert http.get(f"{sb.graph_url}/{V}/{page['id']}/feed",
                    params={"access_token": page["page_token"]}).status_code == 200
    sb.advance_clock(601)
    assert post(http, sb, page, "x").status_code == 200


def test_fail_next_burst_of_500(sb, http):
    page = sb.add_page()
    sb.faults(platform="facebook", path="*/feed", method="POST", fail_next=3, kind="fb_500_json")
    for _ in range(3):
        r = post(http, sb, page, "x")
        assert r.status_code == 500 and r.json()["error"]["code"] in (1, 2)
        assert r.json()["error"]["is_transient"] is True
    assert sb.posts() == []
    assert post(http, sb, page, "x").status_code == 200


@pytest.mark.parametrize("kind,status,ctype", [("raw_502_html", 502, "text/html"), ("raw_503_empty", 503, None)])
def test_raw_gateway_errors(sb, http, kind, status, ctype):
    page = sb.add_page()
    sb.faults(platform="facebook", fail_next=1, kind=kind)
    r = post(http, sb, page, "x")
    assert r.status_code == status
    if ctype:
        assert r.headers["content-type"].startswith(ctype)
    else:
        assert r.content == b""


def test_applied_then_hang_creates_post_but_client_times_out(sb, http):
    page = sb.add_page()
    sb.faults(platform="facebook", path="*/feed", fail_next=1, kind="applied_then_hang", hang_s=2)
    with pytest.raises(requests.Timeout):
        post(http, sb, page, "đã đăng mà không biết", timeout=(2, 0.4))
    [rec] = sb.posts()
    assert rec["message"] == "đã đăng mà không biết"
    # the publisher's check: the post is in the listing
    data = http.get(f"{sb.graph_url}/{V}/{page['id']}/published_posts",
                    params={"access_token": page["page_token"]}).json()["data"]
    assert data[0]["id"] == rec["id"]


def test_timeout_hang_does_not_apply(sb, http):
    page = sb.add_page()
    sb.faults(platform="facebook", path="*/feed", fail_next=1, kind="timeout_hang", hang_s=1)
    with pytest.raises(requests.Timeout):
        post(http, sb, page, "không tới", timeout=(2, 0.3))
    assert sb.posts() == []


def test_latency_and_seeded_error_rate(sb, http):
    page = sb.add_page()
    sb.faults(platform="facebook", latency_ms=120)
    t0 = time.perf_counter()
    http.get(f"{sb.graph_url}/{V}/{page['id']}", params={"access_token": page["page_token"]})
    assert time.perf_counter() - t0 >= 0.12
    sb.clear_faults()

    def run():
        sb.reset(seed=7)
        p = sb.add_page(page_token="tok-fixed")
        sb.faults(platform="facebook", error_rate=0.5)
        return [http.get(f"{sb.graph_url}/{V}/{p['id']}", params={"access_token": "tok-fixed"}).status_code
                for _ in range(20)]

    first, second = run(), run()
    assert first == second and 500 in first and 200 in first


def test_zalo_transient_5xx(sb, http):
    oa = sb.add_oa()
    sb.faults(platform="zalo", path="*/getoa", fail_next=2)
    url = f"{sb.zalo_openapi_url}/v2.0/oa/getoa"
    statuses = [http.get(url, headers={"access_token": oa["access_token"]}).status_code for _ in range(3)]
    assert statuses[0] >= 500 and statuses[1] >= 500 and statuses[2] == 200
    assert sb.control("GET", "/faults")["rules"][0]["hits"] == 2
    sb.clear_faults()
    assert sb.control("GET", "/faults")["rules"] == []


def test_per_page_budget(sb, http):
    small = sb.add_page("Nhỏ", call_budget=2)
    big = sb.add_page("Lớn")
    assert post(http, sb, small, "1").status_code == 200
    assert post(http, sb, small, "2").status_code == 200
    assert post(http, sb, small, "3").json()["error"]["code"] == 80001
    assert post(http, sb, big, "3").status_code == 200


def test_zalo_forced_throttle(sb, http):
    oa = sb.add_oa()
    sb.faults(kind="throttle", platform="zalo", duration_s=60)
    r = http.get(f"{sb.zalo_openapi_url}/v2.0/oa/getoa", headers={"access_token": oa["access_token"]})
    assert r.status_code == 200 and r.json()["error"] == -32 and r.headers["X-RateLimit-Remain"] == "0"
