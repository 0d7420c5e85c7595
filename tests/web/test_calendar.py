"""The content calendar through real HTTP requests: views, tenant isolation, fixed events, drag to reschedule."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from db.base import utcnow
from db.models import (AuditEntry, OrgEvent, Post, PostStatus, ScheduleKind, TargetStatus, User)
from db.session import session_scope
from domain.posts import Schedule, submit
from domain.scheduling import to_local, to_utc
from tests.factories import make_post, make_scheduled_post


def _at(days: int, hh: int = 9, mm: int = 30) -> datetime:
    """A UTC time ``days`` from today at hh:mm Hà Nội time."""
    day = to_local(utcnow()).date() + timedelta(days=days)
    return to_utc(datetime.combine(day, time(hh, mm)))


def _post(factory, world, *, who="editor", org="province", channels=("fb",), days=10, text="Tin Tháng Công nhân",
          hh=9, submit_it=False) -> tuple[int, int]:
    with session_scope(factory) as s:
        post = make_post(s, author_id=getattr(world, who), org_id=getattr(world, org),
                         channel_ids=[getattr(world, c) for c in channels], now=utcnow(), text=text,
                         schedule=Schedule(ScheduleKind.exact, at=_at(days, hh)))
        if submit_it:
            submit(s, actor=s.get(User, getattr(world, who)), post=post)
        return post.id, post.targets[0].id


def _day(days: int) -> str:
    return (to_local(utcnow()).date() + timedelta(days=days)).isoformat()


def _entry_ids(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'class="cal-entry[^"]*"[^>]*?data-post-id="(\d+)"', html, re.S)}


def test_month_view_shows_visible_posts_with_hooks(client, login, factory, world):
    post_id, target_id = _post(factory, world, text="Chào mừng Tháng Công nhân <b>2027</b>")
    login("editor")
    page = client.get(f"/calendar?view=month&date={_day(10)}")
    assert page.status_code == 200
    for hook in ('id="view-month"', 'id="view-week"', 'id="view-list"'):
        assert hook in page.text
    assert f'data-target-id="{target_id}" data-post-id="{post_id}"' in page.text
    assert "Chào mừng Tháng Công nhân &lt;b&gt;2027&lt;/b&gt;" in page.text
    assert "Thứ Hai" in page.text and "Chủ nhật" in page.text
    assert "09:30" in page.text  # Hà Nội time
    week = client.get(f"/calendar?view=week&date={_day(10)}")
    assert week.status_code == 200 and "Tuần" in week.text and post_id in _entry_ids(week.text)
    listing = client.get(f"/calendar?view=list&date={_day(10)}")
    assert listing.status_code == 200 and post_id in _entry_ids(listing.text) and "Đổi lịch" in listing.text
    for query in ("view=bogus&date=not-a-date", "org=", "page=3&view=list"):  # bad parameters fall back
        assert client.get(f"/calendar?{query}").status_code == 200


def test_grassroots_never_sees_another_grassroots_drafts(client, login, factory, world):
    mine, _ = _post(factory, world, who="grassroots_editor", org="grassroots", channels=("grassroots_fb",))
    theirs, _ = _post(factory, world, who="other_editor", org="other_grassroots", channels=("other_fb",),
                      text="Bản nháp bí mật của CĐCS khác")
    upper, _ = _post(factory, world, text="Bài của LĐLĐ tỉnh")
    login("grassroots_editor")
    for view in ("month", "week", "list"):
        html = client.get(f"/calendar?view={view}&date={_day(10)}").text
        assert _entry_ids(html) == {mine}, view
        assert "Bản nháp bí mật" not in html
    # Filtering by the other organisation or its channel looks like a missing one.
    assert client.get(f"/calendar?org={world.other_grassroots}").status_code == 404
    assert client.get(f"/calendar?channel={world.other_fb}").status_code == 404
    login("editor")
    html = client.get(f"/calendar?view=list&date={_day(10)}").text
    assert _entry_ids(html) == {mine, theirs, upper}
    html = client.get(f"/calendar?view=list&date={_day(10)}&org={world.grassroots}").text
    assert _entry_ids(html) == {mine}


def test_month_caps_entries_per_day_and_shows_union_events(client, login, factory, world):
    for i in range(7):
        _post(factory, world, hh=8 + i, text=f"Bài số {i}")
    login("editor")
    html = client.get(f"/calendar?date={_day(10)}").text
    assert len(_entry_ids(html)) == 5
    assert "+2 bài nữa" in html
    day_list = client.get(f"/calendar?view=list&date={_day(10)}&day=1").text
    assert len(_entry_ids(day_list)) == 7
    # The union year's fixed events are day banners (long ones are strips above the grid).
    may = client.get("/calendar?date=2027-05-10").text
    assert "Tháng Công nhân" in may and "Tháng hành động về An toàn, vệ sinh lao động" in may
    assert "Ngày Quốc tế Lao động 1/5" in may
    tet = client.get("/calendar?view=week&date=2026-02-17").text
    assert "Tết Nguyên đán" in tet
    july = client.get("/calendar?date=2027-07-01").text
    assert "Ngày thành lập Công đoàn Việt Nam 28/7 (98 năm)" in july
    october = client.get("/calendar?view=list&date=2027-10-01").text
    assert "Ngày Phụ nữ Việt Nam 20/10" in october


def test_org_event_add_and_delete(client, login, factory, world):
    token = login("grassroots_editor")
    done = client.post("/calendar/events", data={"csrf_token": token, "org_id": world.grassroots,
                                                  "title": "Đại hội CĐCS <nhiệm kỳ mới>", "starts_on": "2027-03-15"},
                       follow_redirects=False)
    assert done.status_code == 303
    page = client.get("/calendar?date=2027-03-15").text
    assert "Đại hội CĐCS &lt;nhiệm kỳ mới&gt;" in page
    with factory() as s:
        event = s.scalars(select(OrgEvent)).one()
    # Another grassroots union neither sees nor deletes it.
    other = TestClient(client.app)
    other_token = login("other_editor", other)
    assert "Đại hội CĐCS" not in other.get("/calendar?date=2027-03-15").text
    refused = other.post(f"/calendar/events/{event.id}/delete", data={"csrf_token": other_token},
                         follow_redirects=False)
    assert refused.status_code == 404
    # Adding to an organisation one cannot edit is refused too.
    forged = other.post("/calendar/events", data={"csrf_token": other_token, "org_id": world.grassroots,
                                                  "title": "Giả mạo", "starts_on": "2027-03-16"},
                        follow_redirects=False)
    assert forged.status_code == 404
    gone = client.post(f"/calendar/events/{event.id}/delete", data={"csrf_token": token}, follow_redirects=False)
    assert gone.status_code == 303
    with factory() as s:
        assert s.scalars(select(OrgEvent)).all() == []
        assert {a.action for a in s.scalars(select(AuditEntry).where(AuditEntry.entity_type == "org_event"))} == \
            {"create", "delete"}


def test_drag_reschedules_keeping_time_of_day_and_needs_csrf(client, login, factory, world):
    post_id, target_id = _post(factory, world, days=10, hh=7)
    token = login("editor")
    resp = client.post("/calendar/reschedule", json={"target_id": target_id, "date": _day(12)},
                       headers={"X-CSRF-Token": token})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["ok"] is True and "Đã dời bài" in body["message"]
    with factory() as s:
        post = s.get(Post, post_id)
        assert post.status == PostStatus.draft
        assert post.scheduled_at == _at(12, 7)
        assert [t.scheduled_at for t in post.targets] == [_at(12, 7)]
        assert post.scheduled_at.hour == 0  # 07:00 in Hà Nội is 00:00 UTC
        actions = [a.action for a in s.scalars(select(AuditEntry).where(AuditEntry.entity_type == "post",
                                                                         AuditEntry.entity_id == post_id))]
        assert actions[-1] == "edit"
        target_id = post.targets[0].id
    refused = client.post("/calendar/reschedule", json={"target_id": target_id, "date": _day(14)})  # no CSRF
    assert refused.status_code == 403
    with factory() as s:
        assert s.get(Post, post_id).scheduled_at == _at(12, 7)


def test_domain_rules_apply_when_moving_posts(client, login, factory, world):
    with session_scope(factory) as s:
        post = make_scheduled_post(s, world, now=utcnow(), schedule=Schedule(ScheduleKind.exact, at=_at(5)))
        post_id, target_id = post.id, post.targets[0].id
    token = login("editor")
    page = client.get(f"/calendar?date={_day(5)}").text
    assert re.search(rf'data-post-id="{post_id}"[^>]*data-approved="1"', page, re.S)
    resp = client.post("/calendar/reschedule", json={"target_id": target_id, "date": _day(6)},
                       headers={"X-CSRF-Token": token})
    assert resp.json()["ok"] and "duyệt lại" in resp.json()["message"]
    with factory() as s:
        assert s.get(Post, post_id).status == PostStatus.pending_approval
    # A published post stays where it is; a day in the past gets the domain's message.
    with session_scope(factory) as s:
        post = make_scheduled_post(s, world, now=utcnow(), schedule=Schedule(ScheduleKind.exact, at=_at(2)))
        post.targets[0].status = TargetStatus.published
        post.status = PostStatus.published
        post_id, target_id = post.id, post.targets[0].id
    resp = client.post("/calendar/reschedule", json={"target_id": target_id, "date": _day(4)},
                       headers={"X-CSRF-Token": token})
    assert resp.status_code == 422 and resp.json()["ok"] is False
    assert "không thể dời lịch" in resp.json()["message"]
    with factory() as s:
        assert s.get(Post, post_id).scheduled_at == _at(2)
    _post_id, target_id = _post(factory, world, days=10)
    resp = client.post("/calendar/reschedule", json={"target_id": target_id, "date": _day(-3)},
                       headers={"X-CSRF-Token": token})
    assert resp.status_code == 422 and "đã qua" in resp.json()["message"]


def test_reschedule_of_another_org_looks_missing_and_changes_nothing(client, login, factory, world):
    post_id, target_id = _post(factory, world, who="grassroots_editor", org="grassroots",
                               channels=("grassroots_fb",))
    token = login("other_editor")
    resp = client.post("/calendar/reschedule", json={"target_id": target_id, "date": _day(12)},
                       headers={"X-CSRF-Token": token})
    assert resp.status_code == 404
    token = login("district_approver")  # sees it, but approvers do not edit
    resp = client.post("/calendar/reschedule", json={"target_id": target_id, "date": _day(12)},
                       headers={"X-CSRF-Token": token})
    assert resp.status_code == 403
    with factory() as s:
        assert s.get(Post, post_id).scheduled_at == _at(10)


def test_reschedule_form_fallback(client, login, factory, world):
    post_id, target_id = _post(factory, world, days=10)
    login("editor")
    form = client.get(f"/calendar/reschedule?target_id={target_id}&back=/calendar?view=week")
    assert form.status_code == 200 and 'name="date"' in form.text and "09:30" in form.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    done = client.post("/calendar/reschedule", data={"csrf_token": token, "target_id": target_id, "date": _day(11),
                                                     "time": "16:45", "back": "/calendar?view=week"},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/calendar?view=week"
    with factory() as s:
        post = s.get(Post, post_id)
        assert post.scheduled_at == _at(11, 16, 45)
        target_id = post.targets[0].id  # the domain re-plans targets that have not gone out
    assert "Đã dời bài" in client.get("/calendar?view=week").text
    bad = client.post("/calendar/reschedule", data={"csrf_token": token, "target_id": target_id, "date": "ngày mai"})
    assert bad.status_code == 422 and "Ngày mới không hợp lệ" in bad.text
