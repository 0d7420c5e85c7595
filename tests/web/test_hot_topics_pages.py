"""Hot topics pages: list, detail with the server-drawn volume chart, tenant isolation."""

from __future__ import annotations

import re
from datetime import timedelta

from db.base import utcnow
from db.models import HotTopic, HotTopicPoint
from db.session import session_scope
from tests.web.test_review import XSS, XSS_ESCAPED, desk, items, signin  # noqa: F401


def hot_topic(factory, *, org_id, label, key, rep_ids=(), ended=False, points=6, **extra):
    now = utcnow()
    with session_scope(factory) as s:
        topic = HotTopic(scope=f"org:{org_id}" if org_id else "all", org_id=org_id, key=key, label=label,
                         keywords=extra.pop("keywords", ["ngừng chi trả", "lương hưu"]),
                         entities=extra.pop("entities", ["Công ty TNHH Giày Da Phúc Thịnh", "KCN Quang Châu",
                                                         "Bắc Giang"]),
                         representative_ids=list(rep_ids), started_at=now - timedelta(hours=2), last_seen_at=now,
                         ended_at=now - timedelta(minutes=5) if ended else None, peak_score=8.5, item_count=42)
        s.add(topic)
        s.flush()
        for n in range(points):
            s.add(HotTopicPoint(hot_topic_id=topic.id, at=now - timedelta(minutes=5 * (points - n)),
                                count=3 + n * 4, baseline=1.5, score=n))
        return topic.id


def test_list_shows_topics_of_visible_organisations_only(client, factory, world, desk, signin):
    mine = hot_topic(factory, org_id=world.grassroots, label="BHXH ngừng chi trả lương hưu", key="k1")
    old = hot_topic(factory, org_id=world.grassroots, label="Thưởng Tết", key="k2", ended=True)
    theirs = hot_topic(factory, org_id=world.other_grassroots, label="Nợ lương ở công ty giày", key="k3")
    overall = hot_topic(factory, org_id=None, label="Tin đồn toàn quốc", key="k4")
    signin(desk.grassroots_monitor)

    page = client.get("/hot-topics").text

    assert f'href="/hot-topics/{mine}"' in page and "BHXH ngừng chi trả lương hưu" in page
    assert f'href="/hot-topics/{old}"' in page and "Đã lắng xuống" in page and "Đang nóng" in page
    assert "công ty giày" not in page and f"/hot-topics/{theirs}" not in page
    assert f"/hot-topics/{overall}" not in page  # the whole system's topics: only for who sees everything
    assert "Công ty TNHH Giày Da Phúc Thịnh" in page and "Bắc Giang" in page and "42" in page
    active = client.get("/hot-topics?show=active").text
    assert f"/hot-topics/{mine}" in active and f"/hot-topics/{old}" not in active

    assert client.get(f"/hot-topics/{theirs}").status_code == 404
    assert client.get(f"/hot-topics/{overall}").status_code == 404


def test_province_sees_its_tree_and_the_whole_system(client, factory, world, desk, signin):
    theirs = hot_topic(factory, org_id=world.other_grassroots, label="Nợ lương ở công ty giày", key="k3")
    overall = hot_topic(factory, org_id=None, label="Tin đồn toàn quốc", key="k4")
    signin(desk.province_monitor)

    page = client.get("/hot-topics").text
    assert f"/hot-topics/{theirs}" in page and f"/hot-topics/{overall}" in page and "Toàn hệ thống" in page


def test_detail_has_an_accessible_svg_chart_keywords_entities_and_escaped_representatives(
        client, factory, world, desk, signin):
    rep, other_rep = items(factory, world, grassroots=[dict(text=XSS)],
                           other_grassroots=[dict(text="Mục của công ty giày")])
    topic = hot_topic(factory, org_id=world.grassroots, label="BHXH ngừng chi trả lương hưu", key="k1",
                      rep_ids=[rep, other_rep])
    signin(desk.grassroots_monitor)

    page = client.get(f"/hot-topics/{topic}")

    assert page.status_code == 200
    html = page.text
    svg = re.search(r'<svg id="volume-chart".*?</svg>', html, re.S).group(0)
    assert '<title id="chart-title">' in svg and 'role="img"' in svg
    assert len(re.findall(r'<rect class="bar"', svg)) == 6 and "<polyline" in svg
    assert re.search(r">\d\d:\d\d<", svg)  # axis labels in local time
    assert "Xem dạng bảng" in html and "<td class=\"num\">23</td>" in html  # 3 + 5 × 4, the peak
    assert "ngừng chi trả" in html and "KCN Quang Châu" in html
    places = re.search(r"<h2>Địa danh</h2>(.*?)</section>", html, re.S).group(1)
    assert "Bắc Giang" in places and "Phúc Thịnh" not in places
    assert XSS_ESCAPED in html and "<script>alert(1)" not in html
    assert f'href="/review/{rep}"' in html
    assert "Mục của công ty giày" not in html  # a representative of another union is not shown

    signin(world.grassroots_editor)  # sees the topic, but is not on the desk: no link to the review page
    html = client.get(f"/hot-topics/{topic}").text
    assert XSS_ESCAPED in html and f'href="/review/{rep}"' not in html


def test_topic_without_points_and_a_missing_topic(client, factory, world, desk, signin):
    topic = hot_topic(factory, org_id=world.grassroots, label="Mới phát hiện", key="k1", points=0)
    signin(desk.grassroots_monitor)

    assert "Chưa có số liệu theo thời gian." in client.get(f"/hot-topics/{topic}").text
    assert client.get("/hot-topics/999999").status_code == 404
