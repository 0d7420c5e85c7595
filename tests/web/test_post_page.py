"""The post page: content, per-channel results and retry, the audit timeline, actions by role, isolation."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from db.base import utcnow
from db.models import AuditEntry, Organisation, Post, PostShare, PostStatus, PostTarget, TargetStatus, User
from db.session import session_scope
from domain import posts
from tests.factories import make_post, make_scheduled_post

XSS = '<script>alert(1)</script><img src=x onerror=alert(2)>'


def _pending(factory, world, *, who="grassroots_editor", org="grassroots", channel="grassroots_fb",
             text="Mời đoàn viên tham gia Tháng Công nhân.") -> int:
    with session_scope(factory) as s:
        post = make_post(s, author_id=getattr(world, who), org_id=getattr(world, org),
                         channel_ids=[getattr(world, channel)], now=utcnow(), text=text)
        posts.submit(s, actor=s.get(User, getattr(world, who)), post=post)
        return post.id


def _published_and_failed(factory, world) -> tuple[int, int, int]:
    """A province post whose Facebook target went out and whose Zalo target failed."""
    with session_scope(factory) as s:
        post = make_scheduled_post(s, world, now=utcnow(), channel_ids=[world.fb, world.zalo])
        ok, bad = sorted(post.targets, key=lambda t: t.channel_id != world.fb)
        ok.external_id, ok.external_url, ok.published_at, ok.attempts = "1001_9", "https://fb.test/1001_9", utcnow(), 1
        posts.set_target_status(s, ok, TargetStatus.published, action="published")
        bad.last_error, bad.attempts = "Zalo từ chối ảnh: ảnh vượt quá 1 MB.", 1
        posts.set_target_status(s, bad, TargetStatus.failed, action="failed", reason=bad.last_error)
        posts.sync_status(s, post)
        return post.id, ok.id, bad.id


def _status(factory, post_id: int) -> PostStatus:
    with factory() as s:
        return s.get(Post, post_id).status


def test_post_page_shows_per_channel_results_and_the_timeline(client, login, factory, world):
    post_id, ok_id, bad_id = _published_and_failed(factory, world)
    login("editor")
    page = client.get(f"/posts/{post_id}")
    assert page.status_code == 200
    text = page.text
    assert re.search(r'id="post-status"[^>]*>Lỗi<', text)
    assert f'data-target-id="{ok_id}" data-channel-id="{world.fb}"' in text
    assert f'data-target-id="{bad_id}" data-channel-id="{world.zalo}"' in text
    assert 'class="published-link" href="https://fb.test/1001_9"' in text
    assert "Zalo từ chối ảnh: ảnh vượt quá 1 MB." in text
    assert text.count('class="retry-btn"') == 1  # only the failed channel
    for words in ("Lịch sử", "Tạo bài", "Gửi duyệt", "Duyệt bài", "Đăng lỗi", "bientap", "Đăng ngay khi được duyệt"):
        assert words in text, words


def test_retry_puts_a_failed_channel_back_in_the_queue(client, login, factory, world):
    post_id, _ok, bad_id = _published_and_failed(factory, world)
    token = login("editor")
    r = client.post(f"/posts/{post_id}/targets/{bad_id}/retry", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/posts/{post_id}"
    with factory() as s:
        target = s.get(PostTarget, bad_id)
        assert target.status == TargetStatus.scheduled
        assert s.get(Post, post_id).status == PostStatus.scheduled
        assert s.scalar(select(AuditEntry).where(AuditEntry.entity_type == "target", AuditEntry.entity_id == bad_id,
                                                 AuditEntry.action == "manual_retry")) is not None
    assert "Đã xếp kênh vào hàng đăng lại" in client.get(f"/posts/{post_id}").text
    # retrying again (no longer failed) is refused in Vietnamese, nothing changes
    again = client.post(f"/posts/{post_id}/targets/{bad_id}/retry", data={"csrf_token": token})
    assert again.status_code == 409 and "Chỉ thử lại được kênh đang ở trạng thái đăng lỗi." in again.text


def test_another_organisations_post_is_not_found_but_an_ancestor_sees_it(client, login, factory, world):
    post_id = _pending(factory, world)
    login("other_editor")
    assert client.get(f"/posts/{post_id}").status_code == 404
    assert client.get(f"/posts/{post_id}/status.json").status_code == 404
    assert client.get("/posts/999999").status_code == 404
    login("approver")
    assert client.get(f"/posts/{post_id}").status_code == 200


def test_forged_actions_on_another_organisations_post_change_nothing(client, login, factory, world):
    post_id, _ok, bad_id = _published_and_failed(factory, world)
    token = login("other_editor")
    for url in (f"/posts/{post_id}/cancel", f"/posts/{post_id}/targets/{bad_id}/retry", f"/posts/{post_id}/approve"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    with factory() as s:
        assert s.get(PostTarget, bad_id).status == TargetStatus.failed
        assert s.get(Post, post_id).status == PostStatus.failed


def test_post_text_is_escaped(client, login, factory, world):
    post_id = _pending(factory, world, text=f"Tin nhanh {XSS}")
    login("grassroots_editor")
    text = client.get(f"/posts/{post_id}").text
    assert XSS not in text and "<img src=x" not in text
    assert html.escape(XSS, quote=False) in text or "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_approver_approves_from_the_post_page_and_reject_needs_a_reason(client, login, factory, world):
    post_id = _pending(factory, world)
    token = login("district_approver")
    page = client.get(f"/posts/{post_id}").text
    assert 'id="btn-approve"' in page and 'id="btn-reject"' in page and 'name="reason"' in page
    empty = client.post(f"/posts/{post_id}/reject", data={"csrf_token": token, "reason": "  "})
    assert empty.status_code == 422 and "Cần ghi lý do từ chối" in empty.text
    assert _status(factory, post_id) == PostStatus.pending_approval
    r = client.post(f"/posts/{post_id}/approve", data={"csrf_token": token, "note": "Được"}, follow_redirects=False)
    assert r.status_code == 303
    assert _status(factory, post_id) == PostStatus.scheduled
    assert "Đã duyệt bài" in client.get(f"/posts/{post_id}").text


def test_editor_sees_no_approve_button_and_cannot_approve(client, login, factory, world):
    post_id = _pending(factory, world)
    token = login("grassroots_editor")
    page = client.get(f"/posts/{post_id}").text
    assert 'id="btn-approve"' not in page and 'href="/posts/%d/edit"' % post_id in page
    r = client.post(f"/posts/{post_id}/approve", data={"csrf_token": token})
    assert r.status_code == 403 and "Cần vai trò duyệt bài" in r.text
    assert _status(factory, post_id) == PostStatus.pending_approval


def test_submit_and_cancel_with_a_reason(client, login, factory, world):
    with session_scope(factory) as s:
        post_id = make_post(s, author_id=world.grassroots_editor, org_id=world.grassroots,
                            channel_ids=[world.grassroots_fb], now=utcnow()).id
    token = login("grassroots_editor")
    assert 'id="btn-submit"' in client.get(f"/posts/{post_id}").text
    client.post(f"/posts/{post_id}/submit", data={"csrf_token": token})
    assert _status(factory, post_id) == PostStatus.pending_approval
    client.post(f"/posts/{post_id}/cancel", data={"csrf_token": token, "reason": "Trùng nội dung với bài khác"})
    assert _status(factory, post_id) == PostStatus.cancelled
    with factory() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.entity_id == post_id, AuditEntry.action == "cancel"))
        assert entry.reason == "Trùng nội dung với bài khác"
    assert "Trùng nội dung với bài khác" in client.get(f"/posts/{post_id}").text


def test_actions_without_the_csrf_token_are_refused(client, login, factory, world):
    post_id = _pending(factory, world)
    login("district_approver")
    assert client.post(f"/posts/{post_id}/approve", data={}).status_code == 403
    assert _status(factory, post_id) == PostStatus.pending_approval


def test_upper_level_shares_an_approved_post_down(client, login, factory, world):
    with session_scope(factory) as s:
        post_id = make_scheduled_post(s, world, now=utcnow()).id
    token = login("editor")
    page = client.get(f"/posts/{post_id}").text
    assert "Chia sẻ xuống cấp dưới" in page and "CĐCS Công ty May Sông Hồng" in page
    r = client.post(f"/posts/{post_id}/share", data={"csrf_token": token, "org_ids": [world.grassroots],
                                                     "note": "Đề nghị đăng trước 8 giờ"}, follow_redirects=False)
    assert r.status_code == 303
    with factory() as s:
        share = s.scalar(select(PostShare).where(PostShare.post_id == post_id))
        assert share.to_org_id == world.grassroots and share.note == "Đề nghị đăng trước 8 giờ"
    assert "Chia sẻ xuống cấp dưới" in client.get(f"/posts/{post_id}").text
    # a sub-organisation that is not below the post's organisation is refused
    with factory() as s:
        s.add(Organisation(name="Ngoài cây", kind="tinh", path="/999/", depth=0))
        s.commit()
        outsider = s.scalar(select(Organisation.id).where(Organisation.name == "Ngoài cây"))
    bad = client.post(f"/posts/{post_id}/share", data={"csrf_token": token, "org_ids": [outsider]})
    assert bad.status_code == 422 and "không phải cấp dưới" in bad.text


def test_status_json_reports_live_status(client, login, factory, world):
    with session_scope(factory) as s:
        post_id = make_scheduled_post(s, world, now=utcnow()).id
    login("editor")
    page = client.get(f"/posts/{post_id}").text
    assert 'data-poll="5"' in page  # due now: the page keeps checking
    data = client.get(f"/posts/{post_id}/status.json", headers={"Accept": "application/json"}).json()
    assert data["status"] == "scheduled" and data["targets"][0]["status"] == "scheduled" and data["poll"] == 5


def test_second_person_sees_the_same_post_in_their_own_session(client, login, factory, world):
    post_id = _pending(factory, world)
    login("grassroots_editor")
    other = TestClient(client.app)
    login("district_approver", other)
    assert 'id="btn-approve"' in other.get(f"/posts/{post_id}").text
    assert 'id="btn-approve"' not in client.get(f"/posts/{post_id}").text


def test_an_approved_post_without_a_time_is_scheduled_from_its_page(client, login, factory, world):
    with session_scope(factory) as s:
        editor = s.get(User, world.editor)
        post = posts.create_post(s, actor=editor, org=s.get(Organisation, world.province), now=utcnow(),
                                 draft=posts.PostDraft(text="Chúc mừng ngày Thành lập Công đoàn Việt Nam 28/7.",
                                                       channels=[posts.ChannelChoice(world.fb)]))
        posts.submit(s, actor=editor, post=post)
        posts.approve(s, actor=s.get(User, world.approver), post=post, now=utcnow())
        post_id = post.id
    token = login("editor")
    assert "Lên lịch cho bài đã duyệt" in client.get(f"/posts/{post_id}").text
    past = client.post(f"/posts/{post_id}/schedule", data={"csrf_token": token, "when": "exact",
                                                           "at": "2021-07-28T08:00"})
    assert past.status_code == 422 and "đã qua" in past.text and 'value="2021-07-28T08:00"' in past.text
    assert _status(factory, post_id) == PostStatus.approved
    client.post(f"/posts/{post_id}/schedule", data={"csrf_token": token, "when": "slot"})
    assert _status(factory, post_id) == PostStatus.scheduled
    assert "Khung giờ trống kế tiếp" in client.get(f"/posts/{post_id}").text


def test_a_channel_with_an_unknown_outcome_asks_to_check_the_platform_first(client, login, factory, world):
    post_id, _ok, bad_id = _published_and_failed(factory, world)
    with session_scope(factory) as s:
        target = s.get(PostTarget, bad_id)
        target.last_error = "Không rõ nền tảng đã nhận bài hay chưa."
        posts.set_target_status(s, target, TargetStatus.unknown, action="failed")
    login("editor")
    row = client.get(f"/posts/{post_id}").text.split(f'data-target-id="{bad_id}"')[1].split("</tr>")[0]
    assert "Chưa rõ (cần kiểm tra)" in row and "Nền tảng có thể đã có bài này" in row
    assert "retry-btn" not in row
