"""The monitors' review queue and item page, through real HTTP requests."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from db.base import utcnow
from db.models import AuditEntry, Cluster, Item, LabelCorrection, ReviewStatus, User, WebSession
from db.session import session_scope
from tests.factories import build_desk, make_item

XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"


@pytest.fixture
def desk(factory, world):
    with session_scope(factory) as s:
        return build_desk(s, world)


@pytest.fixture
def signin(factory, client):
    """signin(user_id, c=None) → a signed-in browser session for that user; returns its CSRF token.

    The session row is made directly (web.auth.start_session): the sign-in form and its argon2
    hashing are covered by test_sign_in.py and would cost seconds here.
    """
    from web import auth

    def sign_in(user_id: int, c=None) -> str:
        c = c or client
        with session_scope(factory) as s:
            token = auth.start_session(s, user=s.get(User, user_id), user_agent="pytest", now=utcnow())
            csrf = s.scalars(select(WebSession.csrf_token).where(WebSession.user_id == user_id)
                             .order_by(WebSession.created_at.desc())).first()
        c.cookies.set(auth.COOKIE, token)
        return csrf
    return sign_in


def items(factory, world, **by_org):
    """Create items: items(factory, world, grassroots=[dict(text=..., ...)]) → ids in order."""
    ids = []
    with session_scope(factory) as s:
        for org, specs in by_org.items():
            for spec in specs:
                ids.append(make_item(s, org_id=getattr(world, org), **spec).id)
    return ids


def item_row(html: str, item_id: int) -> str:
    match = re.search(rf'<tr data-item-id="{item_id}".*?</tr>', html, re.S)
    assert match, f"row {item_id} missing"
    return match.group(0)


def json_post(c, url, token, data=None):
    return c.post(url, data=data or {}, headers={"X-CSRF-Token": token, "Accept": "application/json"})


# --- the queue -------------------------------------------------------------------------------------

def test_queue_lists_flagged_items_of_the_desk_only(client, factory, world, desk, signin):
    mine, normal, other = items(factory, world,
                                grassroots=[dict(text="Nghe nói BHXH sắp ngừng chi trả lương hưu"),
                                            dict(text="Cảm ơn công đoàn", risk="binh_thuong", score=0.1)],
                                other_grassroots=[dict(text="Tin đồn ở công ty giày")])
    signin(desk.grassroots_monitor)

    page = client.get("/review")

    assert page.status_code == 200
    assert "Hàng đợi dư luận" in page.text
    row = item_row(page.text, mine)
    assert 'class="item-text">Nghe nói BHXH sắp ngừng chi trả lương hưu<' in row
    assert "Thông tin sai lệch" in re.search(r'class="risk-label[^>]*>([^<]*)<', row).group(1)
    assert f'data-item-id="{normal}"' not in page.text  # not flagged
    assert f'data-item-id="{other}"' not in page.text and "công ty giày" not in page.text
    assert 'form id="review-filters"' in page.text and 'select name="status"' in page.text \
        and 'select name="risk"' in page.text


def test_province_monitor_sees_every_grassroots_and_can_filter_by_org(client, factory, world, desk, signin):
    a, b = items(factory, world, grassroots=[dict(text="Mục may")], other_grassroots=[dict(text="Mục giày")])
    signin(desk.province_monitor)

    assert f'data-item-id="{a}"' in client.get("/review").text
    filtered = client.get(f"/review?org={world.other_grassroots}").text
    assert f'data-item-id="{b}"' in filtered and f'data-item-id="{a}"' not in filtered


def test_filters_sort_and_paging(client, factory, world, desk, signin):
    now = utcnow()
    specs = [dict(text=f"Tin đồn số {n}", score=0.5 + n / 100, created_at=now - timedelta(minutes=n)) for n in range(55)]
    specs.append(dict(text="Kích động đình công", risk="kich_dong", topic="tien_luong", score=0.6))
    ids = items(factory, world, grassroots=specs)
    signin(desk.grassroots_monitor)

    first = client.get("/review").text
    order = [int(x) for x in re.findall(r'<tr data-item-id="(\d+)"', first)]
    assert len(order) == 50 and order[0] == ids[54]  # riskiest first (score 1.04)
    assert "56 mục" in first and 'rel="next"' in first
    second = client.get("/review?page=2").text
    assert len(re.findall(r'<tr data-item-id="', second)) == 6

    newest = [int(x) for x in re.findall(r'<tr data-item-id="(\d+)"', client.get("/review?sort=time").text)]
    assert newest[:2] == [ids[55], ids[0]]

    only = client.get("/review?risk=kich_dong").text
    assert re.findall(r'<tr data-item-id="(\d+)"', only) == [str(ids[55])]
    assert re.findall(r'<tr data-item-id="(\d+)"', client.get("/review?topic=tien_luong").text) == [str(ids[55])]
    assert re.findall(r'<tr data-item-id="(\d+)"', client.get("/review?q=%C4%91%C3%ACnh+c%C3%B4ng").text) == \
        [str(ids[55])]


def test_status_filter_defaults_to_new_and_mine_filter(client, factory, world, desk, signin):
    a, b = items(factory, world, grassroots=[dict(text="Mục A"), dict(text="Mục B")])
    with session_scope(factory) as s:
        s.get(Item, a).review_status = ReviewStatus.confirmed
        s.get(Item, b).assignee_id = desk.grassroots_monitor
    signin(desk.grassroots_monitor)

    assert f'data-item-id="{a}"' not in client.get("/review").text
    assert f'data-item-id="{a}"' in client.get("/review?status=confirmed").text
    assert f'data-item-id="{a}"' in client.get("/review?status=all").text
    mine = client.get("/review?mine=1&status=all").text
    assert f'data-item-id="{b}"' in mine and f'data-item-id="{a}"' not in mine


def test_editor_without_desk_role_sees_an_explanation(client, world, signin):
    signin(world.grassroots_editor)
    page = client.get("/review")
    assert page.status_code == 200 and "chưa được phân công theo dõi dư luận" in page.text


# --- XSS --------------------------------------------------------------------------------------------

def test_public_text_is_escaped_on_list_and_detail(client, factory, world, desk, signin):
    (item_id,) = items(factory, world, grassroots=[dict(text=XSS)])
    with session_scope(factory) as s:
        s.get(Item, item_id).title = XSS
    signin(desk.grassroots_monitor)

    for html in (client.get("/review").text, client.get(f"/review/{item_id}").text):
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert XSS_ESCAPED in html


# --- the item page ------------------------------------------------------------------------------------

def test_item_page_shows_text_labels_explanation_duplicates_parent_and_hooks(client, factory, world, desk, signin):
    with session_scope(factory) as s:
        cluster = Cluster(minhash=b"x", size=7)
        s.add(cluster)
        s.flush()
        parent = make_item(s, org_id=world.grassroots, text="Thông báo: Tháng Công nhân 2027", source="facebook_post",
                           risk="binh_thuong", external_id="1003_77")
        item = make_item(s, org_id=world.grassroots, text="BHXH sắp ngừng chi trả, rút hết đi",
                         cluster_id=cluster.id, parent_external_id="1003_77", channel_id=world.grassroots_fb)
        item.author_hash = "abcdef0123456789" * 4
        item.proba = {"risk": {"sai_lech": 0.81, "binh_thuong": 0.19}}
        item.explanation = {"risk": [["ngừng chi trả", 1.4], ["rút hết", 0.9]]}
        dup = make_item(s, org_id=world.grassroots, text="bhxh sap ngung chi tra rut het di", cluster_id=cluster.id)
        item_id, dup_id, parent_id = item.id, dup.id, parent.id
    signin(desk.grassroots_monitor)

    page = client.get(f"/review/{item_id}")

    assert page.status_code == 200
    html = page.text
    assert re.search(r'id="item-text"[^>]*>BHXH sắp ngừng chi trả, rút hết đi<', html)
    assert re.search(r'id="item-risk"[^>]*>Thông tin sai lệch<', html)
    assert "#abcdef01" in html and "abcdef0123456789abcdef" not in html  # only the hash prefix
    assert "ngừng chi trả" in html and "81%" in html  # explanation and probabilities
    assert f'href="/review/{dup_id}"' in html and ">7<" in html  # near-duplicate and spread
    assert "Thông báo: Tháng Công nhân 2027" in html  # parent post
    for hook in ('id="btn-confirm"', 'id="btn-dismiss"', 'id="btn-escalate"', 'id="relabel-form"',
                 'id="btn-relabel"', 'id="reply-form"', 'id="btn-reply"', 'id="btn-hide"', 'name="text"'):
        assert hook in html, hook
    relabel = re.search(r'<form id="relabel-form".*?</form>', html, re.S).group(0)
    for head, value in (("risk", "sai_lech"), ("topic", "bhxh"), ("sentiment", "tieu_cuc"), ("toxicity", "clean")):
        select_html = re.search(rf'<select name="{head}">.*?</select>', relabel, re.S).group(0)
        assert f'<option value="{value}" selected>' in select_html
    assert parent_id


def test_item_of_another_organisation_looks_missing(client, factory, world, desk, signin):
    (other,) = items(factory, world, other_grassroots=[dict(text="Của công ty giày")])
    signin(desk.grassroots_monitor)

    assert client.get(f"/review/{other}").status_code == 404
    assert client.get("/review/999999").status_code == 404


# --- actions ------------------------------------------------------------------------------------------

def audit_actions(factory, item_id):
    with session_scope(factory) as s:
        return [(a.action, a.to_state, a.actor_label) for a in s.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == "item", AuditEntry.entity_id == item_id)
            .order_by(AuditEntry.id))]


def test_confirm_dismiss_escalate_by_form_and_json(client, factory, world, desk, signin):
    a, b, c = items(factory, world, grassroots=[dict(text="A"), dict(text="B"), dict(text="C")])
    token = signin(desk.grassroots_monitor)

    form = client.post(f"/review/{a}/confirm", data={"csrf_token": token, "next": "/review?status=new"},
                       follow_redirects=False)
    assert form.status_code == 303 and form.headers["location"] == "/review?status=new"
    assert "Đã xác nhận mục" in client.get("/review").text  # the flash message

    res = json_post(client, f"/review/{b}/dismiss", token)
    assert res.status_code == 200 and res.json() == {"ok": True, "message": f"Đã bỏ qua mục #{b}.",
                                                     "status": "dismissed"}
    refused = json_post(client, f"/review/{c}/escalate", token)
    assert refused.status_code == 422 and "lý do" in refused.json()["message"]
    assert json_post(client, f"/review/{c}/escalate", token, {"reason": "Tin sai lan rộng"}).json()["status"] == \
        "escalated"

    with session_scope(factory) as s:
        assert [s.get(Item, i).review_status for i in (a, b, c)] == [
            ReviewStatus.confirmed, ReviewStatus.dismissed, ReviewStatus.escalated]
    assert audit_actions(factory, a) == [("confirm", "confirmed", "theodoi@may.vn")]
    assert audit_actions(factory, c) == [("escalate", "escalated", "theodoi@may.vn")]


def test_illegal_transition_shows_a_vietnamese_reason(client, factory, world, desk, signin):
    (a,) = items(factory, world, grassroots=[dict(text="A")])
    token = signin(desk.grassroots_monitor)
    json_post(client, f"/review/{a}/escalate", token, {"reason": "Nghiêm trọng"})

    page = client.post(f"/review/{a}/confirm", data={"csrf_token": token})
    assert page.status_code == 409 and "Không thể chuyển mục" in page.text


def test_relabel_changes_labels_and_keeps_a_correction(client, factory, world, desk, signin):
    (a,) = items(factory, world, grassroots=[dict(text="Công ty nợ lương hai tháng")])
    token = signin(desk.grassroots_monitor)

    res = client.post(f"/review/{a}/relabel", data={"csrf_token": token, "risk": "buc_xuc", "topic": "tien_luong",
                                                    "sentiment": "tieu_cuc", "toxicity": "clean",
                                                    "reason": "Là khiếu nại"}, follow_redirects=False)

    assert res.status_code == 303
    with session_scope(factory) as s:
        item = s.get(Item, a)
        assert item.human_labels == {"risk": "buc_xuc", "topic": "tien_luong"}
        corr = s.scalars(select(LabelCorrection).where(LabelCorrection.item_id == a)).one()
        assert corr.labels == {"risk": "buc_xuc", "topic": "tien_luong"}
    assert audit_actions(factory, a) == [("relabel", "buc_xuc", "theodoi@may.vn")]
    assert re.search(r'id="item-risk"[^>]*>Bức xúc, khiếu nại<', client.get(f"/review/{a}").text)


def test_relabel_toxicity_or_nothing_is_refused(client, factory, world, desk, signin):
    (a,) = items(factory, world, grassroots=[dict(text="A")])
    token = signin(desk.grassroots_monitor)

    assert json_post(client, f"/review/{a}/relabel", token, {"risk": "sai_lech"}).status_code == 422
    res = json_post(client, f"/review/{a}/relabel", token, {"risk": "buc_xuc", "toxicity": "hate"})
    assert res.status_code == 422 and "độc hại" in res.json()["message"]
    with session_scope(factory) as s:
        assert s.get(Item, a).human_labels is None
        assert s.scalar(select(func.count()).select_from(LabelCorrection)) == 0


def test_assign_note_and_history(client, factory, world, desk, signin):
    (a,) = items(factory, world, grassroots=[dict(text="A")])
    token = signin(desk.grassroots_monitor)

    client.post(f"/review/{a}/assign", data={"csrf_token": token, "assignee_id": str(desk.province_monitor)})
    client.post(f"/review/{a}/note", data={"csrf_token": token, "text": "Đã gọi điện cho CĐCS <b>xác minh</b>"})
    bad = client.post(f"/review/{a}/assign", data={"csrf_token": token, "assignee_id": str(world.editor)})

    assert bad.status_code == 422 and "cán bộ theo dõi" in bad.text
    page = client.get(f"/review/{a}").text
    assert "Đã gọi điện cho CĐCS &lt;b&gt;xác minh&lt;/b&gt;" in page
    assert [x[0] for x in audit_actions(factory, a)] == ["assign", "note"]
    assert "Giao việc" in page and "Ghi chú" in page


def test_bulk_actions_each_item_on_its_own(client, factory, world, desk, signin):
    a, b, other = items(factory, world, grassroots=[dict(text="A"), dict(text="B")],
                        other_grassroots=[dict(text="C")])
    token = signin(desk.grassroots_monitor)

    res = client.post("/review/bulk", data={"csrf_token": token, "action": "confirm", "ids": [a, b, other],
                                            "next": "/review"}, follow_redirects=False)

    assert res.status_code == 303
    assert "Đã xử lý 2 mục. 1 mục không thực hiện được" in client.get("/review").text
    with session_scope(factory) as s:
        assert s.get(Item, a).review_status == s.get(Item, b).review_status == ReviewStatus.confirmed
        assert s.get(Item, other).review_status == ReviewStatus.new
    res = json_post(client, "/review/bulk", token, {"action": "assign", "assignee_id": "me", "ids": [a, b]})
    assert res.json()["done"] == [a, b]


def test_csrf_is_required(client, factory, world, desk, signin):
    (a,) = items(factory, world, grassroots=[dict(text="A")])
    signin(desk.grassroots_monitor)

    assert client.post(f"/review/{a}/confirm", data={}).status_code == 403
    assert client.post(f"/review/{a}/confirm", headers={"X-CSRF-Token": "sai"}).status_code == 403
    assert client.post("/review/bulk", data={"action": "dismiss", "ids": [a]}).status_code == 403
    with session_scope(factory) as s:
        assert s.get(Item, a).review_status == ReviewStatus.new
    assert audit_actions(factory, a) == []


def test_forged_actions_on_another_organisations_item_change_nothing(client, factory, world, desk, signin):
    (other,) = items(factory, world, other_grassroots=[dict(text="Của công ty giày")])
    token = signin(desk.grassroots_monitor)

    for url, data in ((f"/review/{other}/confirm", {}), (f"/review/{other}/relabel", {"risk": "buc_xuc"}),
                      (f"/review/{other}/note", {"text": "x"}), (f"/review/{other}/assign", {"assignee_id": "me"}),
                      (f"/review/{other}/reply", {"text": "Chào bạn"}), (f"/review/{other}/hide", {})):
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 404, url
        assert json_post(client, url, token, data).status_code == 404, url
    with session_scope(factory) as s:
        item = s.get(Item, other)
        assert item.review_status == ReviewStatus.new and item.human_labels is None and item.hidden_at is None
    assert audit_actions(factory, other) == []


def test_two_monitors_at_once(client, factory, world, desk, signin):
    (a,) = items(factory, world, grassroots=[dict(text="A")])
    t1 = signin(desk.grassroots_monitor)
    other = TestClient(client.app)
    t2 = signin(desk.province_monitor, other)

    assert json_post(client, f"/review/{a}/confirm", t1).json()["ok"] is True
    second = json_post(other, f"/review/{a}/confirm", t2)
    assert second.status_code == 409 and second.json()["ok"] is False
