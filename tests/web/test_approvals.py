"""The approvals inbox: who sees what, approve/reject with audit, the diff of an edited approved post, refusals."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from db.base import utcnow
from db.models import AuditEntry, Organisation, OrgKind, Post, PostStatus, Role, ScheduleKind, User
from db.session import session_scope
from domain import orgs, posts
from domain.posts import ChannelChoice, PostDraft, Schedule
from tests.factories import make_channel, make_post, make_user
from web import auth


def _pending(s, author_id: int, org_id: int, channel_id: int, text: str) -> int:
    post = make_post(s, author_id=author_id, org_id=org_id, channel_ids=[channel_id], now=utcnow(), text=text)
    posts.submit(s, actor=s.get(User, author_id), post=post)
    return post.id


@pytest.fixture
def inbox(factory, world, cipher):
    """Pending posts at every level, plus a second district tree the district approver must never see."""
    with session_scope(factory) as s:
        west = orgs.create_org(s, name="LĐLĐ huyện Tây", kind=OrgKind.huyen, parent_id=world.province)
        west_editor = make_user(s, west, Role.editor, "bientap@tay.vn")
        west_fb = make_channel(s, cipher, west, external_id="1009")
        ids = {
            "province": _pending(s, world.editor, world.province, world.fb, "Bài của LĐLĐ tỉnh"),
            "district": _pending(s, world.district_editor, world.district, world.district_fb, "Bài của huyện Đông"),
            "grassroots": _pending(s, world.grassroots_editor, world.grassroots, world.grassroots_fb,
                                   "Bài của CĐCS May Sông Hồng"),
            "west": _pending(s, west_editor.id, west.id, west_fb.id, "Bài của huyện Tây"),
        }
    return ids


def _status(factory, post_id: int) -> PostStatus:
    with factory() as s:
        return s.get(Post, post_id).status


def _shown(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'data-post-id="(\d+)"', page)}


def test_approver_sees_own_and_lower_levels_but_not_a_sibling_tree(client, login, inbox):
    login("district_approver")
    page = client.get("/approvals")
    assert page.status_code == 200
    assert _shown(page.text) == {inbox["district"], inbox["grassroots"]}
    assert "Bài của CĐCS May Sông Hồng" in page.text and "Bài của huyện Tây" not in page.text
    assert 'href="/review/replies"' in page.text and "Phản hồi chờ duyệt" in page.text
    gid = inbox["grassroots"]
    assert re.search(rf'id="approve-{gid}"', page.text) and re.search(rf'id="reject-{gid}"', page.text)
    assert 'class="approve-form"' in page.text and 'class="reject-form"' in page.text
    login("approver")
    assert _shown(client.get("/approvals").text) == set(inbox.values())


def test_approve_from_the_inbox_schedules_the_post_with_an_audit_entry(client, login, factory, inbox):
    token = login("district_approver")
    pid = inbox["grassroots"]
    r = client.post(f"/approvals/{pid}/approve", data={"csrf_token": token, "note": "Nội dung tốt"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/approvals"
    assert _status(factory, pid) == PostStatus.scheduled
    with factory() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.entity_id == pid, AuditEntry.action == "approve"))
        assert entry.reason == "Nội dung tốt" and entry.actor_label == "duyet@huyen.vn"
    after = client.get("/approvals").text
    assert f"Đã duyệt bài #{pid}." in after and pid not in _shown(after)


def test_reject_needs_a_reason_and_then_records_it(client, login, factory, inbox):
    token = login("district_approver")
    pid = inbox["district"]
    empty = client.post(f"/approvals/{pid}/reject", data={"csrf_token": token, "reason": "   "})
    assert empty.status_code == 422
    assert "Cần ghi lý do từ chối để người viết biết cần sửa gì." in empty.text
    assert _status(factory, pid) == PostStatus.pending_approval
    r = client.post(f"/approvals/{pid}/reject", data={"csrf_token": token, "reason": "Sai số liệu đoàn viên"},
                    follow_redirects=False)
    assert r.status_code == 303
    with factory() as s:
        post = s.get(Post, pid)
        assert post.status == PostStatus.rejected and post.rejection_reason == "Sai số liệu đoàn viên"
        entry = s.scalar(select(AuditEntry).where(AuditEntry.entity_id == pid, AuditEntry.action == "reject"))
        assert entry.reason == "Sai số liệu đoàn viên" and entry.to_state == "rejected"


def test_edited_approved_post_shows_what_changed(client, login, factory, world):
    with session_scope(factory) as s:
        post = make_post(s, author_id=world.grassroots_editor, org_id=world.grassroots,
                         channel_ids=[world.grassroots_fb], now=utcnow(),
                         text="Hội nghị người lao động họp lúc 8 giờ sáng thứ Hai.")
        editor = s.get(User, world.grassroots_editor)
        posts.submit(s, actor=editor, post=post)
        posts.approve(s, actor=s.get(User, world.district_approver), post=post, now=utcnow())
        posts.update_post(s, actor=editor, post=post, now=utcnow(), draft=PostDraft(
            text="Hội nghị người lao động họp lúc 9 giờ sáng thứ Hai <b>đông đủ</b>.",
            link="https://congdoan.test/hoi-nghi", channels=[ChannelChoice(world.grassroots_fb)],
            schedule=Schedule(ScheduleKind.slot)))
        pid = post.id
    login("district_approver")
    page = client.get("/approvals").text
    assert "Đã sửa sau khi được duyệt" in page
    assert "<del>8</del>" in page and "<ins>9</ins>" in page
    assert re.search(r"<ins>[^<]*&lt;b&gt;đông đủ&lt;/b&gt;", page) and "<b>đông" not in page
    assert "https://congdoan.test/hoi-nghi" in page and "Khung giờ trống kế tiếp" in page
    # the post page shows the same diff to an approver arriving from the home page
    assert "<ins>9</ins>" in client.get(f"/posts/{pid}").text


def test_grassroots_editor_cannot_approve(client, login, factory, inbox):
    token = login("grassroots_editor")
    page = client.get("/approvals").text
    assert _shown(page) == set() and "Không có bài nào chờ duyệt" in page
    pid = inbox["grassroots"]
    r = client.post(f"/approvals/{pid}/approve", data={"csrf_token": token})
    assert r.status_code == 403 and "Cần vai trò duyệt bài" in r.text
    assert _status(factory, pid) == PostStatus.pending_approval


def test_approve_without_the_csrf_token_is_refused(client, login, factory, inbox):
    login("district_approver")
    pid = inbox["grassroots"]
    assert client.post(f"/approvals/{pid}/approve", data={}).status_code == 403
    assert client.post(f"/approvals/{pid}/approve", data={"csrf_token": "gia-mao"}).status_code == 403
    assert _status(factory, pid) == PostStatus.pending_approval


def test_forged_approval_of_another_unions_post_changes_nothing(client, login, factory, inbox):
    token = login("other_editor")
    pid = inbox["grassroots"]
    assert client.post(f"/approvals/{pid}/approve", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/approvals/{pid}/reject", data={"csrf_token": token, "reason": "x"}).status_code == 404
    assert _status(factory, pid) == PostStatus.pending_approval
    with factory() as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.entity_id == pid,
                                                 AuditEntry.action.in_(["approve", "reject"]))) is None


def test_bulk_approve_approves_each_checked_post_on_its_own(client, login, factory, inbox):
    token = login("district_approver")
    ids = [inbox["district"], inbox["grassroots"], inbox["west"]]
    r = client.post("/approvals/bulk-approve", data={"csrf_token": token, "post_ids": ids})
    assert r.status_code == 200
    assert "Đã duyệt 2 bài." in r.text and f"#{inbox['west']}" in r.text
    assert _status(factory, inbox["district"]) == PostStatus.scheduled
    assert _status(factory, inbox["grassroots"]) == PostStatus.scheduled
    assert _status(factory, inbox["west"]) == PostStatus.pending_approval


def test_post_text_in_the_inbox_is_escaped(client, login, factory, world):
    with session_scope(factory) as s:
        _pending(s, world.grassroots_editor, world.grassroots, world.grassroots_fb,
                 '<script>alert(1)</script><img src=x onerror=alert(2)>')
    login("district_approver")
    page = client.get("/approvals").text
    assert "<script>alert(1)" not in page and "<img src=x" not in page and "&lt;script&gt;" in page


def test_admin_without_approver_role_sees_but_cannot_approve(client, login, factory, inbox):
    with session_scope(factory) as s:
        district = s.get(Organisation, s.scalar(select(Organisation.id).where(Organisation.name == "LĐLĐ huyện Đông")))
        make_user(s, district, Role.admin, "quantri@huyen.vn")
        admin_id = s.scalar(select(User.id).where(User.email == "quantri@huyen.vn"))
    with session_scope(factory) as s:
        token = auth.start_session(s, user=s.get(User, admin_id), user_agent="pytest", now=utcnow())
    client.cookies.set(auth.COOKIE, token)
    page = client.get("/approvals").text
    assert inbox["grassroots"] in _shown(page) and "approve-form" not in page
    assert "chỉ người có vai trò" in page
