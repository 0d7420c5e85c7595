"""Server plumbing: health, the human page, reset, demo data, subprocess mode."""

from __future__ import annotations

import requests

from sandbox.demo import DEMO
from sandbox.testing import SandboxServer


def test_healthz_and_page_escapes_user_text(sb, http):
    assert http.get(sb.url + "/healthz").status_code == 200
    page = sb.add_page("<script>alert(1)</script> Công đoàn")
    http.post(f"{sb.graph_url}/v25.0/{page['id']}/feed", params={"access_token": page["page_token"]},
              data={"message": "<b>đậm</b> & \"trích\""})
    html = http.get(sb.url + "/").text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;đậm&lt;/b&gt; &amp; &quot;trích&quot;" in html
    assert 'http-equiv="refresh"' in html


def test_reset_clears_world_and_clock(sb, http):
    page = sb.add_page()
    sb.advance_clock(1000)
    sb.faults(platform="facebook", latency_ms=10)
    sb.reset()
    assert sb.posts() == [] and sb.control("GET", "/pages")["data"] == []
    assert sb.control("GET", "/clock")["offset_s"] == 0
    assert sb.control("GET", "/faults")["rules"] == []
    r = http.get(f"{sb.graph_url}/v25.0/{page['id']}", params={"access_token": page["page_token"]})
    assert r.json()["error"]["code"] == 190


def test_subprocess_mode_with_demo_data():
    fb, z = DEMO["facebook"], DEMO["zalo"]
    with SandboxServer(subprocess=True, demo=True, seed=3, config={"fb_page_budget": 500}) as sb:
        s = requests.Session()
        s.trust_env = False
        first = fb["pages"][0]
        r = s.get(f"{sb.graph_url}/v25.0/{first['page_id']}/published_posts",
                  params={"access_token": first["page_token"], "fields": "id,message"})
        assert r.status_code == 200 and len(r.json()["data"]) >= 2
        accounts = s.get(f"{sb.graph_url}/v25.0/me/accounts", params={"access_token": fb["user"]["token"]}).json()
        assert {p["id"] for p in accounts["data"]} == {p["page_id"] for p in fb["pages"]}
        oa = z["oas"][0]
        info = s.get(f"{sb.zalo_openapi_url}/v2.0/oa/getoa", headers={"access_token": oa["access_token"]}).json()
        assert info["data"]["name"] == oa["name"]
        assert sb.control("GET", "/config")["fb_page_budget"] == 500
        # reset keeps the demo the server was started with
        sb.reset()
        assert len(sb.control("GET", "/pages")["data"]) == len(fb["pages"])
        assert "Liên đoàn Lao động tỉnh Demo" in s.get(sb.url + "/").text
