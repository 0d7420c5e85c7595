"""The shared content library: shares received, adopt unchanged in one action, adapt through own approval."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db.base import utcnow
from db.models import Post, PostShare, PostStatus, TargetStatus, User
from db.session import session_scope
from domain import sharing
from tests.factories import make_scheduled_post

NOTE = "Đề nghị các CĐCS đăng trước 8 giờ sáng thứ Hai"


@pytest.fixture
def share(factory, world) -> dict:
    """An approved province post shared down to the grassroots union."""
    with session_scope(factory) as s:
        post = make_scheduled_post(s, world, now=utcnow(),
                                   text="Tháng Công nhân 2027: <b>cùng hành động</b> vì đoàn viên.")
        (row,) = sharing.share_down(s, actor=s.get(User, world.editor), post=post, to_org_ids=[world.grassroots],
                                    note=NOTE)
        return {"id": row.id, "post_id": post.id}


def _posts_in(factory, org_id: int) -> list[Post]:
    with factory() as s:
        return list(s.scalars(select(Post).where(Post.org_id == org_id)))


def test_library_lists_what_upper_levels_shared(client, login, share):
    login("grassroots_editor")
    page = client.get("/library")
    assert page.status_code == 200
    assert f'data-share-id="{share["id"]}"' in page.text
    assert "Từ LĐLĐ tỉnh Thử Nghiệm" in page.text and NOTE in page.text
    assert "&lt;b&gt;cùng hành động&lt;/b&gt;" in page.text and "<b>cùng" not in page.text
    assert "Lên lịch trên kênh của tôi" in page.text and f'href="/library/{share["id"]}/adapt"' in page.text
    assert "Kênh 1003" in page.text and "Kênh 1004" not in page.text  # own channels only


def test_adopting_unchanged_content_schedules_it_on_own_channels_without_approval(client, login, factory, world,
                                                                                   share):
    token = login("grassroots_editor")
    r = client.post(f"/library/{share['id']}/adopt", follow_redirects=False, data={
        "csrf_token": token, "channel_ids": [world.grassroots_fb], "when": "slot", "request_id": "r-1"})
    assert r.status_code == 303
    (post,) = _posts_in(factory, world.grassroots)
    assert r.headers["location"] == f"/posts/{post.id}"
    assert post.status == PostStatus.scheduled and post.source_post_id == share["post_id"]
    with factory() as s:
        targets = s.get(Post, post.id).targets
        assert [(t.channel_id, t.status) for t in targets] == [(world.grassroots_fb, TargetStatus.scheduled)]
        assert s.get(PostShare, share["id"]).adopted_post_id == post.id
    page = client.get(f"/posts/{post.id}").text
    assert "đã được cấp trên duyệt" in page and "Dùng nội dung đã được cấp trên duyệt" in page
    # the same form sent twice (double click) creates nothing more
    again = client.post(f"/library/{share['id']}/adopt", follow_redirects=False, data={
        "csrf_token": token, "channel_ids": [world.grassroots_fb], "when": "slot", "request_id": "r-1"})
    assert again.status_code == 303 and again.headers["location"] == f"/posts/{post.id}"
    assert len(_posts_in(factory, world.grassroots)) == 1


def test_adapted_wording_goes_through_own_approval(client, login, factory, world, share):
    token = login("grassroots_editor")
    form = client.get(f"/library/{share['id']}/adapt")
    assert form.status_code == 200 and "&lt;b&gt;cùng hành động&lt;/b&gt;" in form.text
    r = client.post(f"/library/{share['id']}/adapt", follow_redirects=False, data={
        "csrf_token": token, "text": "CĐCS May Sông Hồng hưởng ứng Tháng Công nhân 2027.", "title": "", "link": "",
        "channel_ids": [world.grassroots_fb], "when": "now", "request_id": "r-2"})
    assert r.status_code == 303
    (post,) = _posts_in(factory, world.grassroots)
    assert post.status == PostStatus.pending_approval and post.text.startswith("CĐCS May Sông Hồng")


def test_adapt_form_sent_back_unchanged_stays_approved_upstream(client, login, factory, world, share):
    token = login("grassroots_editor")
    with factory() as s:
        original = s.get(Post, share["post_id"]).text
    client.post(f"/library/{share['id']}/adapt", data={
        "csrf_token": token, "text": original.replace("\n", "\r\n"), "title": "", "link": "",
        "channel_ids": [world.grassroots_fb], "when": "slot", "request_id": "r-3"})
    (post,) = _posts_in(factory, world.grassroots)
    assert post.status == PostStatus.scheduled


def test_adopt_without_a_channel_or_with_another_unions_channel_stores_nothing(client, login, factory, world, share):
    token = login("grassroots_editor")
    none = client.post(f"/library/{share['id']}/adopt", data={"csrf_token": token, "when": "slot"})
    assert none.status_code == 422 and "Hãy chọn ít nhất một kênh" in none.text
    foreign = client.post(f"/library/{share['id']}/adopt", data={
        "csrf_token": token, "channel_ids": [world.other_fb], "when": "slot"})
    assert foreign.status_code == 422 and "không tồn tại hoặc không thuộc tổ chức này" in foreign.text
    past = client.post(f"/library/{share['id']}/adopt", data={
        "csrf_token": token, "channel_ids": [world.grassroots_fb], "when": "exact", "at": "2020-05-01T07:30"})
    assert past.status_code == 422
    assert _posts_in(factory, world.grassroots) == []


def test_another_union_cannot_see_or_adopt_the_share(client, login, factory, world, share):
    token = login("other_editor")
    assert f'data-share-id="{share["id"]}"' not in client.get("/library").text
    assert client.get(f"/library/{share['id']}/adapt").status_code == 404
    r = client.post(f"/library/{share['id']}/adopt", data={
        "csrf_token": token, "channel_ids": [world.other_fb], "when": "slot"})
    assert r.status_code == 404
    assert client.post(f"/library/{share['id']}/adopt", data={"channel_ids": [world.grassroots_fb]}).status_code == 403
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Post).where(Post.source_post_id.is_not(None))) == 0
