"""Administration pages: organisation tree, users and roles, on-duty monitors — through real HTTP requests."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from db.models import AuditEntry, Membership, Organisation, OrgKind, Role, User, WebSession
from db.session import session_scope
from domain import orgs
from tests.factories import build_desk, make_user
from tests.web.conftest import PASSWORD

XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'


@pytest.fixture
def district_admin(factory, world):
    """An administrator of the district (not of the province), reachable as login('district_admin')."""
    with session_scope(factory) as s:
        world.district_admin = make_user(s, s.get(Organisation, world.district), Role.admin, "quantri@huyen.vn").id
    return world.district_admin


def sign_in_as(client: TestClient, email: str, password: str) -> TestClient:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    client.post("/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False)
    return client


def count(factory, model, *where) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def audit_actions(factory, **where) -> list[tuple[str, int | None]]:
    with factory() as s:
        stmt = select(AuditEntry.action, AuditEntry.org_id).filter_by(**where).order_by(AuditEntry.id)
        return [tuple(r) for r in s.execute(stmt)]


# ---------------------------------------------------------------- access


def test_non_admin_is_refused_and_changes_nothing(client, login, world, factory):
    token = login("editor")
    assert client.get("/admin").status_code == 403
    assert "Quản trị" in client.get("/admin").text
    before = count(factory, Organisation)
    r = client.post("/admin/orgs", data={"csrf_token": token, "parent_id": world.province, "name": "X", "kind": "huyen"})
    assert r.status_code == 403
    assert count(factory, Organisation) == before
    assert 'href="/admin"' not in client.get("/").text


def test_anonymous_visitor_is_sent_to_sign_in(client, world):
    r = client.get("/admin/audit", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_admin_sees_tree_with_vietnamese_kinds_and_hooks(client, login, world):
    login("admin")
    page = client.get("/admin")
    assert page.status_code == 200
    for org_id in (world.province, world.district, world.grassroots, world.other_grassroots):
        assert f'data-org-id="{org_id}"' in page.text
    assert "LĐLĐ tỉnh/thành phố" in page.text and "Công đoàn cơ sở" in page.text
    assert 'id="create-org"' in page.text and 'id="create-user"' in page.text
    for name in ("email", "full_name", "org_id", "role", "password"):
        assert f'name="{name}"' in page.text
    assert f'data-user-id="{world.district_editor}"' in page.text


# ---------------------------------------------------------------- organisations


def test_admin_creates_a_grassroots_union_under_the_district(client, login, world, factory):
    token = login("admin")
    r = client.post("/admin/orgs", data={"csrf_token": token, "parent_id": world.district,
                                         "name": "CĐCS Công ty Điện tử Hải Hà", "kind": "co_so"})
    assert r.status_code == 200 and "Đã tạo tổ chức" in r.text and "CĐCS Công ty Điện tử Hải Hà" in r.text
    with factory() as s:
        org = s.scalar(select(Organisation).where(Organisation.name == "CĐCS Công ty Điện tử Hải Hà"))
        assert org.parent_id == world.district and org.kind == OrgKind.co_so
        assert org.path == f"/{world.province}/{world.district}/{org.id}/"
    assert audit_actions(factory, entity_type="organisation", entity_id=org.id) == [("create", org.id)]


def test_wrong_kind_is_refused_in_vietnamese_and_form_is_kept(client, login, world, factory):
    token = login("admin")
    before = count(factory, Organisation)
    r = client.post("/admin/orgs", data={"csrf_token": token, "parent_id": world.grassroots,
                                         "name": "Tổ công đoàn Phân xưởng 2", "kind": "co_so"})
    assert r.status_code == 422
    assert "Cấp tổ chức không phù hợp" in r.text and 'value="Tổ công đoàn Phân xưởng 2"' in r.text
    r = client.post("/admin/orgs", data={"csrf_token": token, "parent_id": world.province, "name": "  ",
                                         "kind": "huyen"})
    assert r.status_code == 422 and "không được để trống" in r.text
    assert count(factory, Organisation) == before


def test_rename_and_replies_rule_are_audited(client, login, world, factory):
    token = login("admin")
    r = client.post(f"/admin/orgs/{world.district}/rename", data={"csrf_token": token, "name": "LĐLĐ huyện Đông Anh"})
    assert r.status_code == 200 and "LĐLĐ huyện Đông Anh" in r.text
    r = client.post(f"/admin/orgs/{world.district}/replies", data={"csrf_token": token, "need_approval": "0"})
    assert "không cần duyệt" in r.text
    with factory() as s:
        org = s.get(Organisation, world.district)
        assert org.name == "LĐLĐ huyện Đông Anh" and org.replies_need_approval is False
    assert audit_actions(factory, entity_type="organisation", entity_id=world.district)[-2:] == \
        [("rename", world.district), ("replies_rule", world.district)]


def test_org_name_with_markup_is_escaped(client, login, world):
    token = login("admin")
    client.post("/admin/orgs", data={"csrf_token": token, "parent_id": world.district, "name": XSS, "kind": "co_so"})
    for url in ("/admin", "/admin/audit"):
        page = client.get(url).text
        assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# ---------------------------------------------------------------- tenant isolation


def test_district_admin_sees_only_the_district_tree(client, login, world, district_admin):
    login("district_admin")
    page = client.get("/admin").text
    assert f'data-org-id="{world.district}"' in page and f'data-org-id="{world.grassroots}"' in page
    assert f'data-org-id="{world.province}"' not in page and "LĐLĐ tỉnh Thử Nghiệm" not in page
    assert f'data-user-id="{world.district_editor}"' in page
    assert f'data-user-id="{world.editor}"' not in page  # a province editor is not theirs
    assert client.get(f"/admin/users/{world.editor}").status_code == 404
    assert client.get(f"/admin/users/{world.grassroots_editor}").status_code == 200


def test_district_admin_cannot_touch_the_province(client, login, world, district_admin, factory):
    token = login("district_admin")
    before = count(factory, Organisation)
    r = client.post("/admin/orgs", data={"csrf_token": token, "parent_id": world.province, "name": "LĐLĐ huyện Tây",
                                         "kind": "huyen"})
    assert r.status_code == 404 and count(factory, Organisation) == before
    assert client.post(f"/admin/orgs/{world.province}/rename",
                       data={"csrf_token": token, "name": "Chiếm quyền"}).status_code == 404
    assert client.post(f"/admin/orgs/{world.province}/replies",
                       data={"csrf_token": token, "need_approval": "0"}).status_code == 404
    with factory() as s:
        province = s.get(Organisation, world.province)
        assert province.name == "LĐLĐ tỉnh Thử Nghiệm" and province.replies_need_approval is True


def test_sibling_district_admin_sees_nothing_of_the_other_district(client, login, world, factory):
    with session_scope(factory) as s:
        west = orgs.create_org(s, name="LĐLĐ huyện Tây", kind=OrgKind.huyen, parent_id=world.province)
        world.west_admin = make_user(s, west, Role.admin, "quantri@tay.vn").id
    login("west_admin")
    page = client.get("/admin").text
    assert "LĐLĐ huyện Tây" in page and "LĐLĐ huyện Đông" not in page and "CĐCS Công ty May" not in page
    assert client.get(f"/admin/users/{world.district_editor}").status_code == 404
    audit = client.get("/admin/audit").text
    assert "bientap@huyen.vn" not in audit and "LĐLĐ huyện Đông" not in audit


def test_forged_grant_into_another_tree_is_refused_and_changes_nothing(client, login, world, district_admin, factory):
    token = login("district_admin")
    before = count(factory, Membership)
    # a role for their own editor, but in the province (outside their tree)
    r = client.post(f"/admin/users/{world.district_editor}/roles",
                    data={"csrf_token": token, "org_id": world.province, "role": "admin"})
    assert r.status_code == 404
    # a role in their tree for a user who is not theirs
    r = client.post(f"/admin/users/{world.editor}/roles",
                    data={"csrf_token": token, "org_id": world.district, "role": "admin"})
    assert r.status_code == 404
    # creating a user straight into the province
    r = client.post("/admin/users", data={"csrf_token": token, "email": "gia@mao.vn", "full_name": "Giả Mạo",
                                          "org_id": world.province, "role": "admin", "password": PASSWORD})
    assert r.status_code == 404
    # revoking a province membership
    with factory() as s:
        mid = s.scalar(select(Membership.id).where(Membership.user_id == world.admin))
    assert client.post(f"/admin/users/{world.admin}/roles/{mid}/revoke", data={"csrf_token": token}).status_code == 404
    assert count(factory, Membership) == before
    assert count(factory, User, User.email == "gia@mao.vn") == 0


def test_district_admin_cannot_lock_a_user_who_also_works_for_the_province(client, login, world, district_admin,
                                                                          factory):
    with session_scope(factory) as s:
        orgs.grant_role(s, user=s.get(User, world.editor), org=s.get(Organisation, world.district), role=Role.editor)
    token = login("district_admin")
    assert client.get(f"/admin/users/{world.editor}").status_code == 200
    r = client.post(f"/admin/users/{world.editor}/active", data={"csrf_token": token, "active": "0"})
    assert r.status_code == 403 and "ngoài phạm vi quản trị" in r.text
    r = client.post(f"/admin/users/{world.editor}/password", data={"csrf_token": token, "password": "mat-khau-moi-123"})
    assert r.status_code == 403
    with factory() as s:
        assert s.get(User, world.editor).is_active is True


# ---------------------------------------------------------------- users and roles


def test_admin_creates_a_user_with_a_password_who_can_sign_in(client, login, world, factory):
    token = login("admin")
    r = client.post("/admin/users", data={"csrf_token": token, "email": " Nguyen.Van.An@CongDoan.vn ",
                                          "full_name": "Nguyễn Văn An", "org_id": world.grassroots,
                                          "role": "editor", "password": "mat-khau-rieng-2027"})
    assert r.status_code == 200 and "Đã tạo tài khoản nguyen.van.an@congdoan.vn" in r.text
    with factory() as s:
        user = s.scalar(select(User).where(User.email == "nguyen.van.an@congdoan.vn"))
        assert [(m.org_id, m.role) for m in user.memberships] == [(world.grassroots, Role.editor)]
    assert audit_actions(factory, entity_type="user", entity_id=user.id) == \
        [("create", world.grassroots), ("password_set", world.grassroots), ("grant_role", world.grassroots)]
    other = sign_in_as(TestClient(client.app), "nguyen.van.an@congdoan.vn", "mat-khau-rieng-2027")
    assert "Nguyễn Văn An" in other.get("/").text


def test_generated_password_is_shown_once_and_works(client, login, world, factory):
    token = login("admin")
    r = client.post("/admin/users", data={"csrf_token": token, "email": "theodoi.moi@tinh.vn",
                                          "full_name": "Trần Thị Bình", "org_id": world.province,
                                          "role": "monitor", "password": ""})
    assert r.status_code == 200 and 'id="new-password"' in r.text
    password = re.search(r"<code>([^<]+)</code>", r.text).group(1)
    assert len(password) >= 12
    with factory() as s:
        user_id = s.scalar(select(User.id).where(User.email == "theodoi.moi@tinh.vn"))
        stored = s.get(User, user_id).password_hash
        assert password not in stored
        assert not s.scalar(select(func.count()).select_from(WebSession).where(WebSession.flash.contains(password)))
    assert password not in client.get(f"/admin/users/{user_id}").text  # shown once only
    other = sign_in_as(TestClient(client.app), "theodoi.moi@tinh.vn", password)
    assert "Trần Thị Bình" in other.get("/").text


def test_invalid_email_is_refused_and_nothing_stored(client, login, world, factory):
    token = login("admin")
    before = count(factory, User)
    for email in ["khong-phai-email", "a@b", "a b@c.vn", "x@<script>.vn"]:
        r = client.post("/admin/users", data={"csrf_token": token, "email": email, "full_name": "Lê Văn C",
                                              "org_id": world.province, "role": "editor", "password": ""})
        assert r.status_code == 422 and "Địa chỉ email không hợp lệ" in r.text, email
        assert 'value="Lê Văn C"' in r.text
    assert count(factory, User) == before


def test_short_password_is_refused_and_nothing_stored(client, login, world, factory):
    token = login("admin")
    before = count(factory, User)
    r = client.post("/admin/users", data={"csrf_token": token, "email": "ngan@tinh.vn", "full_name": "Ngắn",
                                          "org_id": world.province, "role": "editor", "password": "123"})
    assert r.status_code == 422 and "ít nhất 10 ký tự" in r.text
    assert count(factory, User) == before


def test_existing_email_only_gets_the_new_role(client, login, world, factory):
    token = login("admin")
    r = client.post("/admin/users", data={"csrf_token": token, "email": "bientap@may.vn", "full_name": "X",
                                          "org_id": world.grassroots, "role": "monitor", "password": "mat-khau-khac-99"})
    assert r.status_code == 200 and "đã có tài khoản" in r.text
    with factory() as s:
        user = s.get(User, world.grassroots_editor)
        assert {m.role for m in user.memberships} == {Role.editor, Role.monitor} and user.password_hash is None


def test_grant_and_revoke_a_role(client, login, world, factory):
    token = login("admin")
    r = client.post(f"/admin/users/{world.district_editor}/roles",
                    data={"csrf_token": token, "org_id": world.grassroots, "role": "approver"})
    assert r.status_code == 200 and "Đã cấp vai trò Duyệt bài" in r.text
    with factory() as s:
        mid = s.scalar(select(Membership.id).where(Membership.user_id == world.district_editor,
                                                   Membership.role == Role.approver))
    r = client.post(f"/admin/users/{world.district_editor}/roles/{mid}/revoke", data={"csrf_token": token})
    assert r.status_code == 200 and "Đã gỡ vai trò" in r.text
    assert count(factory, Membership, Membership.id == mid) == 0
    assert audit_actions(factory, entity_type="user", entity_id=world.district_editor)[-2:] == \
        [("grant_role", world.grassroots), ("revoke_role", world.grassroots)]


def test_cannot_remove_own_last_admin_role_nor_a_last_role(client, login, world, factory):
    token = login("admin")
    with factory() as s:
        own = s.scalar(select(Membership.id).where(Membership.user_id == world.admin))
        last = s.scalar(select(Membership.id).where(Membership.user_id == world.district_editor))
    r = client.post(f"/admin/users/{world.admin}/roles/{own}/revoke", data={"csrf_token": token})
    assert r.status_code == 409 and "vai trò quản trị cuối cùng" in r.text
    r = client.post(f"/admin/users/{world.district_editor}/roles/{last}/revoke", data={"csrf_token": token})
    assert r.status_code == 409 and "khoá tài khoản" in r.text
    assert count(factory, Membership, Membership.id.in_([own, last])) == 2


def test_deactivation_ends_sessions_and_reactivation_restores(client, login, world, factory):
    from db.session import session_scope
    from domain.accounts import set_password

    with session_scope(factory) as s:
        set_password(s, user=s.get(User, world.district_editor), password=PASSWORD)
    editor = TestClient(client.app)
    login("district_editor", editor)
    assert editor.get("/", follow_redirects=False).status_code == 200
    token = login("admin")
    r = client.post(f"/admin/users/{world.district_editor}/active", data={"csrf_token": token, "active": "0"})
    assert r.status_code == 200 and "Đã khoá tài khoản" in r.text
    assert editor.get("/", follow_redirects=False).status_code == 303
    assert count(factory, WebSession, WebSession.user_id == world.district_editor) == 0
    assert sign_in_as(TestClient(client.app), "bientap@huyen.vn", PASSWORD).get(
        "/", follow_redirects=False).status_code == 303
    client.post(f"/admin/users/{world.district_editor}/active", data={"csrf_token": token, "active": "1"})
    assert sign_in_as(TestClient(client.app), "bientap@huyen.vn", PASSWORD).get(
        "/", follow_redirects=False).status_code == 200
    assert [a for a, _ in audit_actions(factory, entity_type="user", entity_id=world.district_editor)][-2:] == \
        ["deactivate", "reactivate"]


def test_admin_cannot_lock_themselves(client, login, world, factory):
    token = login("admin")
    r = client.post(f"/admin/users/{world.admin}/active", data={"csrf_token": token, "active": "0"})
    assert r.status_code == 409
    with factory() as s:
        assert s.get(User, world.admin).is_active is True


def test_password_reset_generates_a_new_one_and_signs_out(client, login, world, factory):
    editor = TestClient(client.app)
    login("grassroots_editor", editor)
    token = login("admin")
    r = client.post(f"/admin/users/{world.grassroots_editor}/password", data={"csrf_token": token, "password": ""})
    assert r.status_code == 200
    password = re.search(r"<code>([^<]+)</code>", r.text).group(1)
    assert editor.get("/", follow_redirects=False).status_code == 303
    assert sign_in_as(TestClient(client.app), "bientap@may.vn", PASSWORD).get(
        "/", follow_redirects=False).status_code == 303
    assert sign_in_as(TestClient(client.app), "bientap@may.vn", password).get(
        "/", follow_redirects=False).status_code == 200
    assert ("password_set", world.grassroots) in audit_actions(factory, entity_type="user",
                                                               entity_id=world.grassroots_editor)


# ---------------------------------------------------------------- on-duty monitors


def test_duty_toggle(client, login, world, factory):
    with session_scope(factory) as s:
        desk = build_desk(s, world)
        mid = s.scalar(select(Membership.id).where(Membership.user_id == desk.grassroots_monitor))
    token = login("admin")
    page = client.get("/admin").text
    assert page.count('class="duty-toggle') == 3 and "● Đang trực" in page
    r = client.post(f"/admin/duty/{mid}", data={"csrf_token": token, "on": "1"})
    assert r.status_code == 200 and "sẽ nhận thư cảnh báo" in r.text
    with factory() as s:
        assert s.get(Membership, mid).on_duty is True
    client.post(f"/admin/duty/{mid}", data={"csrf_token": token, "on": "0"})
    with factory() as s:
        assert s.get(Membership, mid).on_duty is False
    assert [a for a, _ in audit_actions(factory, entity_type="user", entity_id=desk.grassroots_monitor)][-2:] == \
        ["duty_on", "duty_off"]


def test_district_admin_cannot_toggle_a_province_monitor(client, login, world, district_admin, factory):
    with session_scope(factory) as s:
        desk = build_desk(s, world)
        mid = s.scalar(select(Membership.id).where(Membership.user_id == desk.province_monitor))
    token = login("district_admin")
    assert client.post(f"/admin/duty/{mid}", data={"csrf_token": token, "on": "0"}).status_code == 404
    with factory() as s:
        assert s.get(Membership, mid).on_duty is True


# ---------------------------------------------------------------- CSRF


def test_posts_without_the_csrf_token_are_refused(client, login, world, factory):
    login("admin")
    before = (count(factory, Organisation), count(factory, User), count(factory, AuditEntry))
    data = {"parent_id": world.district, "name": "CĐCS Không Token", "kind": "co_so", "email": "khong@token.vn",
            "full_name": "K", "org_id": world.province, "role": "admin", "on": "1", "active": "0"}
    for path in ["/admin/orgs", "/admin/users", "/admin/duty/1", f"/admin/users/{world.editor}/active",
                 f"/admin/users/{world.editor}/roles", f"/admin/orgs/{world.district}/rename"]:
        assert client.post(path, data=data).status_code == 403, path
        assert client.post(path, data={**data, "csrf_token": "gia-mao"}).status_code == 403, path
    assert (count(factory, Organisation), count(factory, User), count(factory, AuditEntry)) == before


def test_every_form_carries_the_session_csrf_token(client, login, world):
    """What a browser submits is the token printed in the form (macros imported without context included)."""
    meta = login("admin")
    for url in ("/admin", f"/admin/users/{world.editor}", "/admin/audit"):
        tokens = re.findall(r'name="csrf_token" value="([^"]*)"', client.get(url).text)
        assert tokens and set(tokens) == {meta}, url
    page = client.get("/admin").text
    form = page.split('id="create-org"', 1)[1]
    token = re.search(r'name="csrf_token" value="([^"]*)"', form).group(1)
    r = client.post("/admin/orgs", data={"csrf_token": token, "parent_id": world.province, "kind": "nganh",
                                         "name": "Công đoàn ngành Giáo dục"})
    assert r.status_code == 200 and "Đã tạo tổ chức" in r.text
