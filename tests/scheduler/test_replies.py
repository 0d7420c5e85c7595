"""Replies to collected items end to end: the web pages write, the plain send function talks to the
sandbox over HTTP, exactly once; hiding a comment from the item page reaches the sandbox too."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import requests
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from collectors.ingest import author_hash
from common.errors import OutcomeUnknown
from common.settings import Settings
from db.base import utcnow
from db.models import AuditEntry, Channel, ChannelStatus, Item, ItemReply, Organisation, Platform, ReplyStatus, User, \
    WebSession
from db.session import session_scope
from publishers.fake import FakeClientFactory
from publishers.registry import ClientFactory, PlatformConfig
from scheduler import replies as sender
from tests.factories import build_desk, make_channel, make_item

SALT = "muoi-thu-nghiem"


@pytest.fixture
def desk(factory, world):
    with session_scope(factory) as s:
        return build_desk(s, world)


@pytest.fixture(scope="module")
def sandbox_server():
    from sandbox.testing import SandboxServer

    with SandboxServer() as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server):
    """One emulator for the module (starting one costs a second), reset before each test."""
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def app_client(pg_url, secret_key, tmp_path, sandbox, world):
    """The web app with real platform clients pointed at the sandbox."""
    from web.app import create_app

    settings = Settings(database_url=pg_url, secret_keys=SecretStr(secret_key), media_dir=tmp_path / "media",
                        facebook_graph_url=sandbox.graph_url, zalo_openapi_url=sandbox.zalo_openapi_url,
                        zalo_oauth_url=sandbox.zalo_oauth_url, http_read_timeout_s=3, _env_file=None)
    with TestClient(create_app(settings)) as c:
        yield c


def sign_in(factory, c, user_id) -> str:
    from web import auth

    with session_scope(factory) as s:
        token = auth.start_session(s, user=s.get(User, user_id), user_agent="pytest", now=utcnow())
        csrf = s.scalars(select(WebSession.csrf_token).where(WebSession.user_id == user_id)
                         .order_by(WebSession.created_at.desc())).first()
    c.cookies.set(auth.COOKIE, token)
    return csrf


@pytest.fixture
def ctx(factory, cipher, sandbox):
    http = requests.Session()
    http.trust_env = False
    clients = ClientFactory(PlatformConfig(facebook_graph_url=sandbox.graph_url,
                                           zalo_openapi_url=sandbox.zalo_openapi_url,
                                           zalo_oauth_url=sandbox.zalo_oauth_url, read_timeout=3.0))
    clients._local.session = http
    return sender.ReplyContext(factory=factory, cipher=cipher, clients=clients,
                               author_key=lambda raw: author_hash(SALT, "zalo_message", raw))


@pytest.fixture
def fb_comment(factory, cipher, sandbox, world):
    """A sandbox Page connected to the grassroots union, a post, a visitor's comment collected as an item."""
    page = sandbox.add_page("CĐCS Công ty May Sông Hồng")
    post = requests.post(f"{sandbox.graph_url}/v25.0/{page['id']}/feed", params={"access_token": page["page_token"]},
                         json={"message": "Thông báo Tháng Công nhân"}, timeout=5).json()
    comment_id = sandbox.add_comment(post["id"], "Nghe nói BHXH sắp ngừng chi trả lương hưu, rút hết đi")["id"]
    with session_scope(factory) as s:
        channel = make_channel(s, cipher, s.get(Organisation, world.grassroots), external_id=page["id"],
                               token=page["page_token"])
        item = make_item(s, org_id=world.grassroots, text="Nghe nói BHXH sắp ngừng chi trả lương hưu, rút hết đi",
                         external_id=comment_id, parent_external_id=post["id"], channel_id=channel.id)
        return {"page": page, "comment_id": comment_id, "item_id": item.id, "channel_id": channel.id}


def replies_under(sandbox, comment_id):
    return sandbox.control("GET", "/comment", params={"id": comment_id})["replies"]


def reply_audit(factory, reply_id):
    with session_scope(factory) as s:
        return [a.action for a in s.scalars(select(AuditEntry).where(
            AuditEntry.entity_type == "item_reply", AuditEntry.entity_id == reply_id).order_by(AuditEntry.id))]


def propose_and_approve(factory, client, desk, world, item_id, text) -> int:
    token = sign_in(factory, client, desk.grassroots_monitor)
    res = client.post(f"/review/{item_id}/reply", data={"csrf_token": token, "text": text}, follow_redirects=False)
    assert res.status_code == 303
    with session_scope(factory) as s:
        reply = s.scalars(select(ItemReply).where(ItemReply.item_id == item_id)).one()
        reply_id = reply.id
        assert reply.status == ReplyStatus.pending_approval
    approver = TestClient(client.app)
    token = sign_in(factory, approver, world.approver)
    page = approver.get("/review/replies").text
    assert f'data-reply-id="{reply_id}"' in page and "approve-reply" in page and "reject-reply" in page
    res = approver.post(f"/review/replies/{reply_id}/approve", data={"csrf_token": token}, follow_redirects=False)
    assert res.status_code == 303
    return reply_id


def test_reply_flow_propose_approve_send_once(app_client, factory, world, desk, sandbox, ctx, fb_comment):
    text = "Thông tin này không đúng: BHXH vẫn chi trả lương hưu bình thường. Mời bạn xem thông báo chính thức."
    reply_id = propose_and_approve(factory, app_client, desk, world, fb_comment["item_id"], text)

    assert replies_under(sandbox, fb_comment["comment_id"]) == []  # nothing leaves before the sender runs
    results = []
    threads = [threading.Thread(target=lambda: results.append(sender.send_reply(ctx, reply_id))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["sent", "skipped"]
    assert sender.send_reply(ctx, reply_id) == "skipped"

    sent = replies_under(sandbox, fb_comment["comment_id"])
    assert [(r["message"], r["from"]["id"]) for r in sent] == [(text, fb_comment["page"]["id"])]
    with session_scope(factory) as s:
        reply = s.get(ItemReply, reply_id)
        assert reply.status == ReplyStatus.sent and reply.external_id == sent[0]["id"] and reply.sent_at
    assert reply_audit(factory, reply_id) == ["proposed", "approved", "sending", "sent"]
    page = app_client.get(f"/review/{fb_comment['item_id']}").text
    assert "Đã gửi" in page and "Đã gửi câu trả lời" in page


def test_expired_token_fails_in_vietnamese_and_pauses_the_channel(app_client, factory, world, desk, sandbox, ctx,
                                                                  fb_comment):
    reply_id = propose_and_approve(factory, app_client, desk, world, fb_comment["item_id"], "Cảm ơn bạn đã phản ánh.")
    sandbox.revoke_token(page_id=fb_comment["page"]["id"], subcode=463)

    assert sender.send_reply(ctx, reply_id) == "failed"

    with session_scope(factory) as s:
        reply = s.get(ItemReply, reply_id)
        assert "hết hạn" in reply.last_error and "kết nối lại" in reply.last_error
        assert s.get(Channel, fb_comment["channel_id"]).status == ChannelStatus.needs_reauth
    assert replies_under(sandbox, fb_comment["comment_id"]) == []


def test_server_error_retries_with_backoff_then_sends(app_client, factory, world, desk, sandbox, ctx, fb_comment):
    reply_id = propose_and_approve(factory, app_client, desk, world, fb_comment["item_id"], "Công đoàn đã ghi nhận.")
    sandbox.faults(platform="facebook", path="*/comments", method="POST", kind="fb_500_json", fail_next=1)

    assert sender.send_reply(ctx, reply_id) == "approved"
    with session_scope(factory) as s:
        assert "thử lại" in s.get(ItemReply, reply_id).last_error
    assert sender.due_replies(ctx) == []  # waiting for its backoff
    later = sender.ReplyContext(factory=ctx.factory, cipher=ctx.cipher, clients=ctx.clients,
                                now=lambda: utcnow() + timedelta(minutes=5))
    assert sender.send_due(later) == {"sent": 1}
    assert len(replies_under(sandbox, fb_comment["comment_id"])) == 1
    assert reply_audit(factory, reply_id) == ["proposed", "approved", "sending", "retry", "sending", "sent"]


def test_retries_give_up_after_max_attempts(app_client, factory, world, desk, sandbox, ctx, fb_comment):
    reply_id = propose_and_approve(factory, app_client, desk, world, fb_comment["item_id"], "Xin cảm ơn.")
    sandbox.faults(platform="facebook", path="*/comments", method="POST", kind="fb_500_json", fail_next=10)
    short = sender.ReplyContext(factory=ctx.factory, cipher=ctx.cipher, clients=ctx.clients, max_attempts=2)

    assert sender.send_reply(short, reply_id) == "approved"
    with session_scope(factory) as s:
        s.get(ItemReply, reply_id).status = ReplyStatus.approved
    assert sender.send_reply(short, reply_id) == "failed"
    with session_scope(factory) as s:
        assert s.get(ItemReply, reply_id).last_error.startswith("Đã thử 2 lần không thành công.")


def test_lost_answer_is_looked_up_never_resent(app_client, factory, world, desk, sandbox, ctx, fb_comment):
    reply_id = propose_and_approve(factory, app_client, desk, world, fb_comment["item_id"], "Đã chuyển CĐCS xác minh.")
    # The reply is created, then the answer is lost: the sender must find it instead of posting again.
    sandbox.faults(platform="facebook", path="*/comments", method="POST", kind="applied_then_hang", hang_s=2,
                   fail_next=1)
    impatient = ClientFactory(PlatformConfig(facebook_graph_url=sandbox.graph_url, read_timeout=0.5))
    quick = sender.ReplyContext(factory=ctx.factory, cipher=ctx.cipher, clients=impatient)

    assert sender.send_reply(quick, reply_id) == "sent"
    assert len(replies_under(sandbox, fb_comment["comment_id"])) == 1


def test_zalo_reply_goes_to_the_follower(app_client, factory, cipher, world, desk, sandbox, ctx):
    oa = sandbox.add_oa("OA CĐCS May Sông Hồng")
    user = sandbox.add_zalo_user(oa["oa_id"], "Chị Lan")
    msg = sandbox.zalo_message(oa["oa_id"], user["user_id"], "Công ty nợ lương 2 tháng, công đoàn có biết không?")
    sandbox.zalo_message(oa["oa_id"], user["user_id"], "Mong được trả lời")
    with session_scope(factory) as s:
        channel = make_channel(s, cipher, s.get(Organisation, world.grassroots), platform=Platform.zalo_oa,
                               external_id=oa["oa_id"], token=oa["access_token"], refresh=oa["refresh_token"])
        item = make_item(s, org_id=world.grassroots, text="Công ty nợ lương 2 tháng, công đoàn có biết không?",
                         source="zalo_message", risk="buc_xuc", external_id=msg["message_id"], channel_id=channel.id)
        item.author_hash = author_hash(SALT, "zalo_message", user["user_id"])
        item_id = item.id
    reply_id = propose_and_approve(factory, app_client, desk, world, item_id, "CĐCS đã ghi nhận và sẽ làm việc với công ty.")

    assert sender.send_reply(ctx, reply_id) == "sent"

    sent = sandbox.control("GET", "/zalo/oa_messages", params={"oa_id": oa["oa_id"]})["data"]
    assert [(m["user_id"], m["text"]) for m in sent] == [(user["user_id"], "CĐCS đã ghi nhận và sẽ làm việc với công ty.")]


def test_unknown_outcome_with_the_fake_is_settled_by_lookup(factory, cipher, world, desk):
    fake = FakeClientFactory()
    ctx = sender.ReplyContext(factory=factory, cipher=cipher, clients=fake)
    with session_scope(factory) as s:
        item = make_item(s, org_id=world.grassroots, text="Tin đồn", channel_id=world.grassroots_fb)
        reply = ItemReply(item_id=item.id, org_id=item.org_id, channel_id=world.grassroots_fb, text="Đính chính",
                          status=ReplyStatus.approved)
        s.add(reply)
        s.flush()
        reply_id = reply.id
    fake.engager("facebook_page", "1003", {"access_token": "t"}).state.script.append(("apply_then", OutcomeUnknown()))

    assert sender.send_reply(ctx, reply_id) == "sent"
    assert len(fake.engagement.replies) == 1


# --- hiding from the item page --------------------------------------------------------------------------

def test_hide_and_unhide_from_the_item_page(app_client, factory, world, desk, sandbox, fb_comment):
    token = sign_in(factory, app_client, desk.grassroots_monitor)
    item_id, comment_id = fb_comment["item_id"], fb_comment["comment_id"]
    assert 'id="btn-hide"' in app_client.get(f"/review/{item_id}").text

    res = app_client.post(f"/review/{item_id}/hide", data={"csrf_token": token}, follow_redirects=False)

    assert res.status_code == 303
    assert sandbox.control("GET", "/comment", params={"id": comment_id})["is_hidden"] is True
    with session_scope(factory) as s:
        assert s.get(Item, item_id).hidden_at is not None
    page = app_client.get(f"/review/{item_id}").text
    assert "Đã ẩn bình luận trên Facebook." in page and 'id="btn-unhide"' in page

    res = app_client.post(f"/review/{item_id}/unhide", data={"csrf_token": token},
                          headers={"Accept": "application/json"})
    assert res.json() == {"ok": True, "message": "Đã hiện lại bình luận trên Facebook.", "status": "visible"}
    assert sandbox.control("GET", "/comment", params={"id": comment_id})["is_hidden"] is False
    with session_scope(factory) as s:
        assert s.get(Item, item_id).hidden_at is None
        assert [a.action for a in s.scalars(select(AuditEntry).where(
            AuditEntry.entity_type == "item", AuditEntry.entity_id == item_id).order_by(AuditEntry.id))] == \
            ["hide", "unhide"]


def test_hide_with_a_revoked_token_explains_and_marks_the_channel(app_client, factory, world, desk, sandbox,
                                                                  fb_comment):
    token = sign_in(factory, app_client, desk.grassroots_monitor)
    sandbox.revoke_token(page_id=fb_comment["page"]["id"], subcode=460)

    res = app_client.post(f"/review/{fb_comment['item_id']}/hide", data={"csrf_token": token})

    assert res.status_code == 400
    assert "đổi mật khẩu Facebook" in res.text
    assert re.search(r'id="item-text"', res.text)  # the item page, with the reason on top
    with session_scope(factory) as s:
        assert s.get(Item, fb_comment["item_id"]).hidden_at is None
        assert s.get(Channel, fb_comment["channel_id"]).status == ChannelStatus.needs_reauth
    assert sandbox.control("GET", "/comment", params={"id": fb_comment["comment_id"]})["is_hidden"] is False
