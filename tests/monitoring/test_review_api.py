"""The review queue over HTTP: filters, sorting, actions and their audit, tenant isolation, relabels as training data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from db.base import utcnow
from db.models import AuditEntry, LabelCorrection, User
from db.session import session_scope
from domain.opinion import corrections
from domain.orgs import issue_token
from tests.factories import make_item


@pytest.fixture
def as_user(factory):
    def make(user_id: int) -> dict:
        with session_scope(factory) as s:
            return {"Authorization": f"Bearer {issue_token(s, user=s.get(User, user_id))}"}
    return make


@pytest.fixture
def items(factory, world, desk):
    """A rumour and a grievance at the sewing company, an ordinary question, one item of another union."""
    now = utcnow()
    with session_scope(factory) as s:
        ids = {
            "rumour": make_item(s, org_id=world.grassroots, text="Nghe nói BHXH sắp ngừng chi trả, rút hết đi!",
                                score=0.95, created_at=now - timedelta(hours=3)).id,
            "grievance": make_item(s, org_id=world.grassroots, text="Công ty nợ lương hai tháng chưa trả",
                                   risk="buc_xuc", topic="tien_luong", score=0.7, created_at=now - timedelta(hours=1)).id,
            "plain": make_item(s, org_id=world.grassroots, text="Cho hỏi lịch khám sức khoẻ ạ", risk="binh_thuong",
                               topic="doi_song", sentiment="trung_tinh", score=0.05).id,
            "other": make_item(s, org_id=world.other_grassroots, text="Xưởng giày cắt ca đêm không báo trước",
                               risk="buc_xuc", topic="viec_lam", score=0.8).id,
            "xss": make_item(s, org_id=world.grassroots, text="<script>alert('x')</script> tin đồn", score=0.6).id,
        }
    return ids


def test_queue_is_riskiest_first_and_only_flagged(client, as_user, desk, items):
    r = client.get("/api/items", headers=as_user(desk.province_monitor))
    assert r.status_code == 200
    got = [i["id"] for i in r.json()["items"]]
    assert got == [items["rumour"], items["other"], items["grievance"], items["xss"]]
    assert r.json()["total"] == 4
    newest = client.get("/api/items", params={"sort": "time"}, headers=as_user(desk.province_monitor)).json()
    assert newest["items"][-1]["id"] == items["rumour"]  # three hours old: last when newest first


def test_filters(client, as_user, desk, items, world):
    h = as_user(desk.province_monitor)
    assert [i["id"] for i in client.get("/api/items", params={"risk": "buc_xuc", "org_id": world.grassroots},
                                        headers=h).json()["items"]] == [items["grievance"]]
    assert [i["id"] for i in client.get("/api/items", params={"topic": "viec_lam"}, headers=h).json()["items"]] \
        == [items["other"]]
    everything = client.get("/api/items", params={"flagged_only": "false"}, headers=h).json()
    assert items["plain"] in [i["id"] for i in everything["items"]]
    bad = client.get("/api/items", params={"risk": "nguy_hiem"}, headers=h)
    assert bad.status_code == 422 and "không hợp lệ" in bad.json()["error"]["message"]


def test_grassroots_monitor_never_sees_another_union(client, as_user, desk, items):
    h = as_user(desk.other_monitor)
    listed = [i["id"] for i in client.get("/api/items", headers=h).json()["items"]]
    assert listed == [items["other"]]
    assert client.get(f"/api/items/{items['rumour']}", headers=h).status_code == 404
    # A forged action on someone else's item is refused like a missing one, and changes nothing.
    assert client.post(f"/api/items/{items['rumour']}/dismiss", json={}, headers=h).status_code == 404
    detail = client.get(f"/api/items/{items['rumour']}", headers=as_user(desk.province_monitor)).json()
    assert detail["review_status"] == "new"


def test_editor_without_monitor_role_sees_nothing(client, as_user, world, items):
    r = client.get("/api/items", headers=as_user(world.grassroots_editor))
    assert r.status_code == 200 and r.json() == {"items": [], "total": 0}


def test_actions_are_audited_and_illegal_ones_refused(client, as_user, desk, items, factory):
    h = as_user(desk.grassroots_monitor)
    r = client.post(f"/api/items/{items['rumour']}/confirm", json={"reason": "Đã đối chiếu với BHXH tỉnh"}, headers=h)
    assert r.status_code == 200 and r.json()["review_status"] == "confirmed"
    again = client.post(f"/api/items/{items['rumour']}/confirm", json={}, headers=h)
    assert again.status_code == 409 and "Không thể chuyển" in again.json()["error"]["message"]
    no_reason = client.post(f"/api/items/{items['rumour']}/escalate", json={}, headers=h)
    assert no_reason.status_code == 422
    assert client.post(f"/api/items/{items['rumour']}/escalate", json={"reason": "Lan rộng"}, headers=h).status_code == 200
    note = client.post(f"/api/items/{items['rumour']}/notes", json={"text": "Gọi điện cho BHXH huyện"}, headers=h)
    assert note.status_code == 201
    assign = client.post(f"/api/items/{items['rumour']}/assign", json={"assignee_id": desk.province_monitor}, headers=h)
    assert assign.status_code == 200 and assign.json()["assignee_id"] == desk.province_monitor
    detail = client.get(f"/api/items/{items['rumour']}", headers=h).json()
    actions = [(a["action"], a["from_state"], a["to_state"]) for a in detail["history"]]
    assert actions[:3] == [("confirm", "new", "confirmed"), ("escalate", "confirmed", "escalated"),
                           ("note", None, None)]
    assert actions[3][0] == "assign"
    assert detail["notes"][0]["text"] == "Gọi điện cho BHXH huyện"
    with session_scope(factory) as s:
        actors = set(s.scalars(select(AuditEntry.actor_id).where(AuditEntry.entity_type == "item")))
    assert actors == {desk.grassroots_monitor}


def test_cannot_assign_to_someone_outside_the_desk(client, as_user, desk, items):
    h = as_user(desk.province_monitor)
    r = client.post(f"/api/items/{items['rumour']}/assign", json={"assignee_id": desk.other_monitor}, headers=h)
    assert r.status_code == 422


def test_relabel_overrides_display_filters_and_becomes_training_data(client, as_user, desk, items, factory):
    h = as_user(desk.province_monitor)
    r = client.post(f"/api/items/{items['grievance']}/relabel",
                    json={"risk": "sai_lech", "topic": "bhxh", "reason": "Thực ra là tin đồn"}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["labels"]["risk"] == "sai_lech" and body["risk"] == "buc_xuc"  # classifier's label kept beside
    assert body["labels_vi"]["risk"] != "sai_lech"  # a Vietnamese name is shown
    listed = client.get("/api/items", params={"risk": "sai_lech"}, headers=h).json()["items"]
    assert items["grievance"] in [i["id"] for i in listed]
    assert client.post(f"/api/items/{items['grievance']}/relabel", json={"risk": "rat_xau"}, headers=h).status_code == 422
    relabel_to_plain = client.post(f"/api/items/{items['xss']}/relabel", json={"risk": "binh_thuong"}, headers=h)
    assert relabel_to_plain.json()["flagged"] is False
    with session_scope(factory) as s:
        rows = corrections(s)
        assert s.scalar(select(LabelCorrection.user_id).limit(1)) == desk.province_monitor
    assert {"text": "Công ty nợ lương hai tháng chưa trả", "risk": "sai_lech", "topic": "bhxh"} in rows


def test_bulk_action_reports_each_item(client, as_user, desk, items):
    h = as_user(desk.grassroots_monitor)
    client.post(f"/api/items/{items['xss']}/dismiss", json={}, headers=h)
    r = client.post("/api/items-bulk", json={"ids": [items["rumour"], items["xss"], items["other"]],
                                             "action": "dismiss"}, headers=h)
    assert r.status_code == 200
    assert r.json()["done"] == [items["rumour"]]
    assert set(r.json()["errors"]) == {str(items["xss"]), str(items["other"])}


def test_public_text_comes_back_as_data_never_interpreted(client, as_user, desk, items):
    r = client.get(f"/api/items/{items['xss']}", headers=as_user(desk.province_monitor))
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["text"].startswith("<script>")


def test_near_duplicates_and_spread(client, as_user, desk, world, factory):
    from db.models import Cluster

    with session_scope(factory) as s:
        cluster = Cluster(minhash=b"", size=3)
        s.add(cluster)
        s.flush()
        a = make_item(s, org_id=world.grassroots, text="Tin đồn: công đoàn thu 2% lương", cluster_id=cluster.id).id
        make_item(s, org_id=world.grassroots, text="Tin đồn: công đoàn thu 2% lương!!", cluster_id=cluster.id)
        make_item(s, org_id=world.other_grassroots, text="tin đồn công đoàn thu 2% lương", cluster_id=cluster.id)
    detail = client.get(f"/api/items/{a}", headers=as_user(desk.grassroots_monitor)).json()
    assert detail["spread"] == 3
    assert len(detail["near_duplicates"]) == 1  # the other union's copy counts in the spread but is not shown


def test_hot_topics_are_shown_only_to_desks_covering_their_whole_scope(client, as_user, desk, world, factory):
    from db.models import HotTopic

    now = utcnow()
    with session_scope(factory) as s:
        for org_id, label in ((world.province, "Tin đồn BHXH toàn tỉnh"), (world.grassroots, "Bếp ăn Công ty May")):
            s.add(HotTopic(scope=f"org:{org_id}", org_id=org_id, key=label, label=label, keywords=[], entities=[],
                           started_at=now, last_seen_at=now, item_count=10))
    province = [t["label"] for t in client.get("/api/hot-topics", headers=as_user(desk.province_monitor)).json()]
    grassroots = [t["label"] for t in client.get("/api/hot-topics", headers=as_user(desk.grassroots_monitor)).json()]
    other = client.get("/api/hot-topics", headers=as_user(desk.other_monitor)).json()
    assert sorted(province) == ["Bếp ăn Công ty May", "Tin đồn BHXH toàn tỉnh"]
    assert grassroots == ["Bếp ăn Công ty May"]  # the province's topic mixes other unions' items
    assert other == []


def test_feed_can_be_followed_again_after_removal(client, as_user, desk, world):
    h = as_user(desk.province_monitor)
    url = "https://tintuc.example.vn/rss"
    feed = client.post(f"/api/orgs/{world.province}/feeds", json={"url": url}, headers=h)
    assert feed.status_code == 201
    assert client.post(f"/api/orgs/{world.province}/feeds", json={"url": url}, headers=h).status_code == 409
    assert client.delete(f"/api/feeds/{feed.json()['id']}", headers=h).status_code == 204
    again = client.post(f"/api/orgs/{world.province}/feeds", json={"url": url, "name": "Tin tức"}, headers=h)
    assert again.status_code == 201 and again.json()["id"] == feed.json()["id"] and again.json()["enabled"]
    bad = client.post(f"/api/orgs/{world.province}/feeds", json={"url": "ftp://x"}, headers=h)
    assert bad.status_code == 422
    for internal in ("http://127.0.0.1:6379/", "http://localhost/admin", "http://169.254.169.254/latest/meta-data",
                     "http://10.0.0.5/rss"):
        r = client.post(f"/api/orgs/{world.province}/feeds", json={"url": internal}, headers=h)
        assert r.status_code == 422 and "nội bộ" in r.json()["error"]["message"], internal
    editor = client.post(f"/api/orgs/{world.province}/feeds", json={"url": url + "2"}, headers=as_user(world.editor))
    assert editor.status_code == 403
