"""Compose and edit through real HTTP requests: create + submit with variants and an exact Hà Nội time,
photos, validation errors keeping the input, tenant isolation, editing an approved post."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from db.base import utcnow
from db.models import (AuditEntry, Campaign, Media, Post, PostChannel, PostStatus, ScheduleKind, TargetStatus)
from db.session import session_scope
from domain.posts import Schedule
from domain.scheduling import to_local
from tests.factories import make_scheduled_post


def _png(size=(64, 48), color=(11, 79, 156)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def _future_day(days=20) -> str:
    return (to_local(utcnow()).date() + timedelta(days=days)).isoformat()


def _count(factory, model) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_form_hooks_limits_and_weekly_schedule(client, login, factory, world):
    token = login("editor")
    page = client.get("/posts/new")
    assert page.status_code == 200
    html = page.text
    assert re.search(rf'<form id="compose-form".*?name="csrf_token" value="{token}"', html, re.S)
    assert 'id="compose-form"' in html and 'id="compose-text"' in html and 'name="text"' in html
    assert 'select name="org_id"' in html
    assert f'name="channel_ids" value="{world.fb}"' in html and f'name="channel_ids" value="{world.zalo}"' in html
    for kind in ("now", "exact", "slot", "recurring"):
        assert f'name="schedule_kind" value="{kind}"' in html
    assert 'type="date" name="date"' in html and 'type="time" name="time"' in html
    assert re.search(r'<button[^>]*id="btn-draft"[^>]*name="action" value="draft"', html)
    assert re.search(r'<button[^>]*id="btn-submit"[^>]*name="action" value="submit"', html)
    assert 'data-limit-facebook="63206"' in html and 'data-limit-zalo-title="150"' in html
    assert "khung trống kế tiếp" in html  # the channel's next free slot is shown
    # A weekly post from the weekday picker, shown again the same way when edited.
    resp = client.post("/posts/new", data={"csrf_token": token, "org_id": world.province, "text": "Bản tin thứ Hai",
                                           "channel_ids": [world.fb], "schedule_kind": "recurring",
                                           "rec_days": ["1", "3"], "rec_time": "07:00", "action": "draft"},
                       follow_redirects=False)
    assert resp.status_code == 303, resp.text
    with factory() as s:
        post = s.scalars(select(Post)).one()
        assert post.schedule_kind == ScheduleKind.recurring and post.rrule == "FREQ=WEEKLY;BYDAY=MO,WE"
        assert {to_local(t.scheduled_at).weekday() for t in post.targets} == {0, 2}
        assert {to_local(t.scheduled_at).strftime("%H:%M") for t in post.targets} == {"07:00"}
    edit = client.get(f"/posts/{post.id}/edit").text
    assert re.findall(r'name="rec_days" value="(\d)" checked', edit) == ["1", "3"]


def test_create_and_submit_with_variants_exact_time_and_photo(client, login, factory, world, settings):
    token = login("editor")
    day = _future_day()
    resp = client.post("/posts/new", data={
        "csrf_token": token, "org_id": world.province, "title": "Tháng Công nhân 2027",
        "text": "Phát động Tháng Công nhân năm 2027 trong toàn tỉnh.", "link": "https://congdoan.vn/thang-cong-nhan",
        "channel_ids": [world.fb, world.zalo], f"variant_text_{world.zalo}": "Bản tin riêng cho Zalo OA.",
        f"variant_title_{world.zalo}": "Tháng Công nhân", "schedule_kind": "exact", "date": day, "time": "07:30",
        "new_campaign": "Tháng Công nhân 2027", "broadcast": "1", "auto_shrink": "1", "action": "submit",
        "client_request_id": "abc123",
    }, files=[("photos", ("bia.png", _png(), "image/png"))], follow_redirects=False)
    assert resp.status_code == 303, resp.text
    post_id = int(resp.headers["location"].rsplit("/", 1)[1])
    with factory() as s:
        post = s.get(Post, post_id)
        assert post.status == PostStatus.pending_approval and post.broadcast
        local = datetime.fromisoformat(f"{day}T07:30")
        assert post.scheduled_at == (local - timedelta(hours=7)).replace(tzinfo=UTC)  # 07:30 Hà Nội = 00:30 UTC
        assert {t.scheduled_at for t in post.targets} == {post.scheduled_at}
        variants = {c.channel_id: c for c in s.scalars(select(PostChannel).where(PostChannel.post_id == post_id))}
        assert variants[world.zalo].variant_text == "Bản tin riêng cho Zalo OA."
        assert variants[world.fb].variant_text is None
        assert s.get(Campaign, post.campaign_id).name == "Tháng Công nhân 2027"
        media = s.get(Media, post.media[0].media_id)
        assert media.content_type == "image/png" and media.width == 64
        actions = [a.action for a in s.scalars(select(AuditEntry).where(AuditEntry.entity_type == "post",
                                                                         AuditEntry.entity_id == post_id))]
        assert actions == ["create", "submit"]
    assert (settings.media_dir / "thumbs" / f"{media.sha256}.jpg").exists()
    assert f"Đã gửi duyệt bài #{post_id}" in client.get(resp.headers["location"]).text
    # Pressing "Gửi duyệt" twice (same form) does not create a second post.
    again = client.post("/posts/new", data={"csrf_token": token, "org_id": world.province, "text": "x",
                                            "channel_ids": [world.fb], "client_request_id": "abc123",
                                            "action": "draft"}, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == f"/posts/{post_id}"
    assert _count(factory, Post) == 1


def test_photos_non_image_refused_large_one_shrunk(client, login, factory, world):
    token = login("editor")
    resp = client.post("/posts/new", data={"csrf_token": token, "org_id": world.province,
                                           "text": "Bài có tệp lạ <script>alert(1)</script>",
                                           "channel_ids": [world.fb], "schedule_kind": "now", "action": "submit",
                                           "new_campaign": "Chiến dịch không được tạo"},
                       files=[("photos", ("virus.png", b"MZ\x90\x00 not an image", "image/png"))])
    assert resp.status_code == 422
    assert "không phải ảnh hợp lệ" in resp.text
    assert "Bài có tệp lạ &lt;script&gt;alert(1)&lt;/script&gt;" in resp.text  # input kept, escaped
    assert "chọn lại ảnh" in resp.text
    assert _count(factory, Post) == 0 and _count(factory, Media) == 0 and _count(factory, Campaign) == 0
    # A phone-sized photo is shrunk under Zalo's 1 MB instead of being refused.
    raw = io.BytesIO()
    Image.effect_noise((2200, 1200), 25).convert("RGB").save(raw, "PNG", compress_level=1)
    assert len(raw.getvalue()) > 1024 * 1024
    resp = client.post("/posts/new", data={"csrf_token": token, "org_id": world.province, "text": "Ảnh lớn",
                                           "channel_ids": [world.zalo], "schedule_kind": "now", "auto_shrink": "1",
                                           "action": "draft"},
                       files=[("photos", ("lon.png", raw.getvalue(), "image/png"))], follow_redirects=False)
    assert resp.status_code == 303, resp.text
    with factory() as s:
        media = s.scalars(select(Media)).one()
        assert media.size <= 1024 * 1024 and max(media.width, media.height) <= 2048


def test_validation_error_keeps_every_input_and_stores_nothing(client, login, factory, world):
    token = login("editor")
    past = (to_local(utcnow()).date() - timedelta(days=2)).isoformat()
    resp = client.post("/posts/new", data={
        "csrf_token": token, "org_id": world.province, "title": "Tiêu đề giữ lại", "text": "Nội dung giữ lại",
        "link": "https://vi.wikipedia.org/wiki/Công_đoàn", "channel_ids": [world.fb],
        f"variant_text_{world.fb}": "Biến thể giữ lại", "schedule_kind": "exact", "date": past, "time": "08:15",
        "action": "submit"})
    assert resp.status_code == 422
    html = resp.text
    assert "đã qua" in html
    assert 'value="Tiêu đề giữ lại"' in html and "Nội dung giữ lại</textarea>" in html
    assert "Biến thể giữ lại</textarea>" in html
    assert f'value="{past}"' in html and 'value="08:15"' in html
    assert re.search(rf'name="channel_ids" value="{world.fb}"[^>]*checked', html, re.S)
    assert re.search(r'name="schedule_kind" value="exact" checked', html)
    assert _count(factory, Post) == 0
    too_long = client.post("/posts/new", data={"csrf_token": token, "org_id": world.province, "text": "a" * 63_207,
                                               "channel_ids": [world.fb], "schedule_kind": "now", "action": "draft"})
    assert too_long.status_code == 422 and "63,206" in too_long.text
    no_days = client.post("/posts/new", data={"csrf_token": token, "org_id": world.province, "text": "Định kỳ",
                                              "channel_ids": [world.fb], "schedule_kind": "recurring",
                                              "rec_time": "07:00", "action": "draft"})
    assert no_days.status_code == 422 and "ít nhất một ngày" in no_days.text
    assert _count(factory, Post) == 0


def test_forged_org_or_channel_of_another_org_is_refused(client, login, factory, world):
    token = login("grassroots_editor")
    page = client.get("/posts/new").text
    offered = set(re.findall(r'name="channel_ids" value="(\d+)"', page))
    assert offered == {str(world.grassroots_fb)}
    forged_org = client.post("/posts/new", data={"csrf_token": token, "org_id": world.other_grassroots,
                                                 "text": "Giả mạo", "channel_ids": [world.other_fb],
                                                 "schedule_kind": "now", "action": "submit"})
    assert forged_org.status_code == 404
    forged_channel = client.post("/posts/new", data={"csrf_token": token, "org_id": world.grassroots,
                                                     "text": "Kênh của người khác", "channel_ids": [world.other_fb],
                                                     "schedule_kind": "now", "action": "submit"})
    assert forged_channel.status_code == 422 and "không thuộc tổ chức này" in forged_channel.text
    no_csrf = client.post("/posts/new", data={"org_id": world.grassroots, "text": "Không có mã CSRF",
                                              "channel_ids": [world.grassroots_fb], "action": "draft"})
    assert no_csrf.status_code == 403
    assert _count(factory, Post) == 0
    # An approver (no editor role) cannot write.
    login("approver")
    assert client.get("/posts/new").status_code == 403


def test_edit_approved_post_warns_and_goes_back_to_approval(client, login, factory, world):
    at = utcnow() + timedelta(days=3)
    with session_scope(factory) as s:
        post = make_scheduled_post(s, world, now=utcnow(), schedule=Schedule(ScheduleKind.exact, at=at))
        post_id = post.id
    token = login("editor")
    page = client.get(f"/posts/{post_id}/edit")
    assert page.status_code == 200 and 'id="approval-warning"' in page.text and "duyệt lại" in page.text
    local = to_local(at)
    resp = client.post(f"/posts/{post_id}/edit", data={
        "csrf_token": token, "org_id": world.other_grassroots, "text": "Nội dung đã sửa",
        "channel_ids": [world.fb], "schedule_kind": "exact", "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"), "action": "draft"}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == f"/posts/{post_id}"
    with factory() as s:
        post = s.get(Post, post_id)
        assert post.status == PostStatus.pending_approval and post.text == "Nội dung đã sửa"
        assert post.org_id == world.province  # the forged org_id was ignored
        assert all(t.status in (TargetStatus.pending, TargetStatus.cancelled) for t in post.targets)
    # Another grassroots union's editor cannot open it; a published post cannot be edited.
    other = TestClient(client.app)
    login("other_editor", other)
    assert other.get(f"/posts/{post_id}/edit").status_code == 404
    with session_scope(factory) as s:
        s.get(Post, post_id).status = PostStatus.published
    assert client.get(f"/posts/{post_id}/edit").status_code == 409
