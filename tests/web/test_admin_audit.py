"""The administrators' audit log viewer: filters, pagination, Vietnamese names and tenant isolation."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert

from db.models import AuditEntry, Organisation, Role
from db.session import session_scope
from tests.factories import make_user

UTC = timezone.utc


@pytest.fixture
def log(factory, world):
    """A handful of audit entries across the tree at known times (UTC)."""
    rows = [
        # (at, org, actor, entity, id, action, to_state, reason)
        (datetime(2027, 4, 28, 1, 0, tzinfo=UTC), world.province, "bientap@tinh.vn", "post", 11, "submit",
         "pending_approval", None),
        (datetime(2027, 4, 28, 2, 0, tzinfo=UTC), world.province, "duyet@tinh.vn", "post", 11, "approve",
         "approved", "Đồng ý đăng <b>ngay</b>"),
        (datetime(2027, 4, 30, 3, 0, tzinfo=UTC), world.district, "duyet@huyen.vn", "post", 12, "reject",
         "rejected", "<script>alert(1)</script>"),
        (datetime(2027, 5, 2, 4, 0, tzinfo=UTC), world.grassroots, "theodoi@may.vn", "item", 7, "relabel", None, None),
        (datetime(2027, 5, 3, 5, 0, tzinfo=UTC), world.other_grassroots, "bientap@giay.vn", "post", 13,
         "mystery_step", None, None),
        (datetime(2027, 5, 3, 6, 0, tzinfo=UTC), None, "hệ thống", "user", 1, "create", None, None),
    ]
    with session_scope(factory) as s:
        s.execute(insert(AuditEntry), [
            {"at": at, "org_id": org, "actor_label": actor, "entity_type": et, "entity_id": eid, "action": action,
             "to_state": to, "reason": reason} for at, org, actor, et, eid, action, to, reason in rows])
        world.district_admin = make_user(s, s.get(Organisation, world.district), Role.admin, "quantri@huyen.vn").id
        world.grassroots_admin = make_user(s, s.get(Organisation, world.grassroots), Role.admin, "quantri@may.vn").id
    return rows


def shown(html: str) -> list[str]:
    """The action cells of the audit table, in page order."""
    table = html.split('id="audit-log"', 1)[1]
    return re.findall(r'class="action" data-action="([^"]+)"', table)


def with_prefix(actions: list[str], prefix: set[str]) -> list[str]:
    return [a for a in actions if a in prefix]


SEEDED = {"submit", "approve", "reject", "relabel", "mystery_step"}


def test_province_admin_sees_the_whole_tree_newest_first_in_vietnamese(client, login, world, log):
    login("admin")
    page = client.get("/admin/audit")
    assert page.status_code == 200 and 'id="audit-log"' in page.text
    assert with_prefix(shown(page.text), SEEDED) == ["mystery_step", "relabel", "reject", "approve", "submit"]
    assert ">Duyệt<" in page.text and ">Từ chối<" in page.text and ">Sửa nhãn<" in page.text
    assert ">mystery_step<" in page.text  # no obvious Vietnamese name: the slug
    assert "— → Đã duyệt" in page.text and "— → Chờ duyệt" in page.text  # states in Vietnamese too
    assert '<a href="/posts/11">#11</a>' in page.text and '<a href="/review/7">#7</a>' in page.text
    # reasons are public text: escaped
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
    assert "<b>ngay</b>" not in page.text


def test_entries_without_an_organisation_are_not_shown(client, login, world, log):
    login("admin")
    page = client.get("/admin/audit?entity=user&actor=hệ thống").text
    assert 'data-action="create"' not in page.split('id="audit-log"', 1)[1]


def test_filters(client, login, world, log):
    login("admin")
    assert with_prefix(shown(client.get(f"/admin/audit?org={world.district}").text), SEEDED) == \
        ["mystery_step", "relabel", "reject"]
    assert shown(client.get("/admin/audit?entity=item").text) == ["relabel"]
    assert shown(client.get("/admin/audit?action=approve").text) == ["approve"]
    assert shown(client.get("/admin/audit?actor=DUYET@").text) == ["reject", "approve"]
    # local dates (UTC+7): 28/04 local covers 01:00 and 02:00 UTC on the 28th
    assert shown(client.get("/admin/audit?date_from=2027-04-28&date_to=2027-04-28").text) == ["approve", "submit"]
    assert shown(client.get("/admin/audit?date_from=2027-04-30&date_to=2027-05-02&entity=post").text) == ["reject"]
    # combined, and the filters stay filled in
    page = client.get(f"/admin/audit?org={world.province}&entity=post&actor=duyet&action=reject").text
    assert shown(page) == ["reject"] and 'value="duyet"' in page


def test_bad_date_is_explained(client, login, world, log):
    login("admin")
    page = client.get("/admin/audit?date_from=30/04/2027")
    assert page.status_code == 422 and "Ngày lọc không đúng định dạng" in page.text
    page = client.get("/admin/audit?date_from=1900-01-01")
    assert page.status_code == 422


def test_district_admin_sees_only_the_district_tree(client, login, world, log):
    login("district_admin")
    page = client.get("/admin/audit").text
    assert with_prefix(shown(page), SEEDED) == ["mystery_step", "relabel", "reject"]
    assert "duyet@tinh.vn" not in page and "bientap@tinh.vn" not in page
    # asking for the province explicitly shows nothing more
    assert with_prefix(shown(client.get(f"/admin/audit?org={world.province}").text), SEEDED) == \
        ["mystery_step", "relabel", "reject"]


def test_grassroots_admin_does_not_see_the_sibling_union(client, login, world, log):
    login("grassroots_admin")
    page = client.get("/admin/audit").text
    assert with_prefix(shown(page), SEEDED) == ["relabel"]
    assert "bientap@giay.vn" not in page
    assert with_prefix(shown(client.get(f"/admin/audit?org={world.other_grassroots}").text), SEEDED) == ["relabel"]


def test_non_admin_cannot_read_the_log(client, login, world, log):
    login("approver")
    assert client.get("/admin/audit").status_code == 403


def test_pagination(client, login, world, factory):
    base = datetime(2027, 1, 1, tzinfo=UTC)
    with session_scope(factory) as s:
        s.execute(insert(AuditEntry), [
            {"at": base + timedelta(minutes=i), "org_id": world.province, "actor_label": "bientap@tinh.vn",
             "entity_type": "campaign", "entity_id": i, "action": "create"} for i in range(1, 61)])
    login("admin")
    first = client.get("/admin/audit?entity=campaign").text
    assert "60 mục" in first and "Trang 1 / 2" in first
    assert 'href="/admin/audit?entity=campaign&amp;page=2"' in first
    second = client.get("/admin/audit?entity=campaign&page=2").text
    ids = re.findall(r'<a href="/admin/audit[^"]*"|#(\d+)\s*</td>', second)
    assert len(shown(second)) == 10
    assert [int(i) for i in ids if i] == list(range(10, 0, -1))
