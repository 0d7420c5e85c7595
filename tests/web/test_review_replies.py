"""Replies as the Page (spokesperson rule) through the web pages; sending is tested in tests/scheduler."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from db.models import AuditEntry, ItemReply, Organisation, ReplyStatus
from db.session import session_scope
from tests.web.test_review import XSS, XSS_ESCAPED, desk, items, json_post, signin  # noqa: F401

TEXT = "Thông tin BHXH ngừng chi trả là không đúng. Mời bạn xem thông báo chính thức của BHXH tỉnh."


def comment(factory, world, org="grassroots", channel="grassroots_fb", **extra):
    return items(factory, world, **{org: [dict(text=extra.pop("text", "Nghe nói BHXH sắp ngừng chi trả"),
                                               channel_id=getattr(world, channel), **extra)]})[0]


def the_reply(factory, item_id):
    with session_scope(factory) as s:
        return s.scalars(select(ItemReply).where(ItemReply.item_id == item_id)).one_or_none()


def test_proposed_reply_waits_for_an_approver_and_is_audited(client, factory, world, desk, signin):
    item_id = comment(factory, world)
    token = signin(desk.grassroots_monitor)

    res = client.post(f"/review/{item_id}/reply", data={"csrf_token": token, "text": TEXT}, follow_redirects=False)

    assert res.status_code == 303
    reply = the_reply(factory, item_id)
    assert reply.status == ReplyStatus.pending_approval and reply.text == TEXT
    page = client.get(f"/review/{item_id}").text
    assert "Đã gửi câu trả lời đi duyệt" in page and "Chờ duyệt" in page
    with session_scope(factory) as s:
        actions = [(a.entity_type, a.action) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
                   if a.entity_type in ("item", "item_reply")]
    assert actions == [("item_reply", "proposed"), ("item", "reply_proposed")]


def test_approver_sees_the_original_escaped_and_approves(client, factory, world, desk, signin):
    item_id = comment(factory, world, text=XSS)
    client_m = TestClient(client.app)
    token = signin(desk.grassroots_monitor, client_m)
    client_m.post(f"/review/{item_id}/reply", data={"csrf_token": token, "text": "Chào bạn <b>đoàn viên</b>"})
    reply_id = the_reply(factory, item_id).id
    token = signin(world.approver)

    page = client.get("/review/replies").text

    assert f'data-reply-id="{reply_id}"' in page and 'class="primary approve-reply"' in page \
        and 'class="danger reject-reply"' in page
    assert XSS_ESCAPED in page and "<script>alert(1)" not in page and "&lt;b&gt;đoàn viên&lt;/b&gt;" in page
    res = json_post(client, f"/review/replies/{reply_id}/approve", token)
    assert res.json()["ok"] is True and res.json()["status"] == "approved"
    reply = the_reply(factory, item_id)
    assert reply.status == ReplyStatus.approved and reply.decided_by == world.approver
    assert f'data-reply-id="{reply_id}"' not in client.get("/review/replies").text


def test_nobody_approves_their_own_reply(client, factory, world, desk, signin):
    # The province admin both monitors (admin is a desk role) and approves (admin approves replies).
    item_id = comment(factory, world)
    token = signin(world.admin)
    client.post(f"/review/{item_id}/reply", data={"csrf_token": token, "text": TEXT})
    reply_id = the_reply(factory, item_id).id

    assert "cần một người duyệt khác" in client.get("/review/replies").text
    res = json_post(client, f"/review/replies/{reply_id}/approve", token)

    assert res.status_code == 403 and "chính mình" in res.json()["message"]
    assert the_reply(factory, item_id).status == ReplyStatus.pending_approval


def test_reject_needs_a_reason_shown_to_the_author(client, factory, world, desk, signin):
    item_id = comment(factory, world)
    token = signin(desk.grassroots_monitor)
    client.post(f"/review/{item_id}/reply", data={"csrf_token": token, "text": TEXT})
    reply_id = the_reply(factory, item_id).id
    approver = TestClient(client.app)
    token_a = signin(world.approver, approver)

    assert json_post(approver, f"/review/replies/{reply_id}/reject", token_a).status_code == 422
    res = approver.post(f"/review/replies/{reply_id}/reject",
                        data={"csrf_token": token_a, "reason": "Cần dẫn nguồn văn bản của BHXH"}, follow_redirects=False)

    assert res.status_code == 303
    assert the_reply(factory, item_id).status == ReplyStatus.rejected
    assert "Cần dẫn nguồn văn bản của BHXH" in client.get(f"/review/{item_id}").text


def test_organisation_without_approval_sends_directly(client, factory, world, desk, signin):
    with session_scope(factory) as s:
        s.get(Organisation, world.grassroots).replies_need_approval = False
    item_id = comment(factory, world)
    token = signin(desk.grassroots_monitor)

    res = json_post(client, f"/review/{item_id}/reply", token, {"text": TEXT})

    assert res.json() == {"ok": True, "message": "Đã lưu câu trả lời; hệ thống sẽ gửi trong giây lát.",
                          "status": "approved"}


def test_bad_replies_are_refused_and_the_text_is_kept(client, factory, world, desk, signin):
    item_id = comment(factory, world)
    (news,) = items(factory, world, grassroots=[dict(text="Bài báo", source="news_article")])
    token = signin(desk.grassroots_monitor)

    empty = client.post(f"/review/{item_id}/reply", data={"csrf_token": token, "text": "   "})
    too_long = client.post(f"/review/{item_id}/reply", data={"csrf_token": token, "text": "Dài " * 3000})
    on_news = json_post(client, f"/review/{news}/reply", token, {"text": TEXT})

    assert empty.status_code == 422 and "không được để trống" in empty.text
    assert too_long.status_code == 422 and "vượt giới hạn" in too_long.text and "Dài Dài" in too_long.text
    assert on_news.status_code == 422
    assert the_reply(factory, item_id) is None


def test_approvers_of_other_organisations_and_forgers_change_nothing(client, factory, world, desk, signin):
    item_id = comment(factory, world, org="other_grassroots", channel="other_fb")
    other_desk = TestClient(client.app)
    token_o = signin(desk.other_monitor, other_desk)
    other_desk.post(f"/review/{item_id}/reply", data={"csrf_token": token_o, "text": TEXT})
    reply_id = the_reply(factory, item_id).id
    token = signin(desk.grassroots_monitor)  # a monitor of a sibling grassroots union

    assert f'data-reply-id="{reply_id}"' not in client.get("/review/replies").text
    for action in ("approve", "reject", "retry"):
        res = json_post(client, f"/review/replies/{reply_id}/{action}", token, {"reason": "x"})
        assert res.status_code == 404, action
    assert client.post(f"/review/replies/{reply_id}/approve", data={}).status_code == 403  # no CSRF token
    assert the_reply(factory, item_id).status == ReplyStatus.pending_approval


def test_failed_reply_can_be_sent_again_by_an_approver(client, factory, world, desk, signin):
    item_id = comment(factory, world)
    with session_scope(factory) as s:
        reply = ItemReply(item_id=item_id, org_id=world.grassroots, channel_id=world.grassroots_fb, text=TEXT,
                          status=ReplyStatus.failed, last_error="Facebook từ chối yêu cầu.")
        s.add(reply)
        s.flush()
        reply_id = reply.id
    token = signin(world.approver)

    page = client.get("/review/replies").text
    assert "Facebook từ chối yêu cầu." in page and f"/review/replies/{reply_id}/retry" in page
    assert json_post(client, f"/review/replies/{reply_id}/retry", token).json()["status"] == "approved"
