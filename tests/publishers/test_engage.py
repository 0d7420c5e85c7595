"""publishers.engage clients against the sandbox over HTTP: replies, hiding, and each error kind."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from common.errors import AuthExpired, OutcomeUnknown, Rejected, RetryLater
from publishers.engage import ReplyTarget
from publishers.registry import ClientFactory, PlatformConfig
from sandbox.testing import SandboxServer


@pytest.fixture(scope="module")
def server():
    with SandboxServer(seed=7) as sb:
        yield sb


@pytest.fixture
def sb(server):
    server.reset()
    return server


@pytest.fixture
def clients(server):
    http = requests.Session()
    http.trust_env = False
    factory = ClientFactory(PlatformConfig(facebook_graph_url=server.graph_url, zalo_openapi_url=server.zalo_openapi_url,
                                           zalo_oauth_url=server.zalo_oauth_url, read_timeout=2.0))
    factory._local.session = http
    return factory


def page_with_comment(sb, message="Nghe nói BHXH sắp ngừng chi trả lương hưu"):
    page = sb.add_page("Công đoàn thử nghiệm")
    post = requests.post(f"{sb.graph_url}/v25.0/{page['id']}/feed", params={"access_token": page["page_token"]},
                         json={"message": "Thông báo Tháng Công nhân"}, timeout=5).json()
    comment = sb.add_comment(post["id"], message)
    return page, comment["id"]


def fb(clients, page):
    return clients.engager("facebook_page", page["id"], {"access_token": page["page_token"]})


def test_facebook_reply_appears_under_the_comment(sb, clients):
    page, comment_id = page_with_comment(sb)

    result = fb(clients, page).reply(ReplyTarget(comment_id), "Thông tin này không đúng, BHXH vẫn chi trả bình thường.")

    state = sb.control("GET", "/comment", params={"id": comment_id})
    assert [(r["id"], r["message"], r["from"]["id"]) for r in state["replies"]] == [
        (result.external_id, "Thông tin này không đúng, BHXH vẫn chi trả bình thường.", page["id"])]


def test_facebook_find_reply_finds_the_pages_answer_only(sb, clients):
    page, comment_id = page_with_comment(sb)
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    engager = fb(clients, page)
    assert engager.find_reply(ReplyTarget(comment_id), "Cảm ơn bạn", since=since) is None
    sent = engager.reply(ReplyTarget(comment_id), "Cảm ơn bạn")

    assert engager.find_reply(ReplyTarget(comment_id), "Cảm ơn bạn", since=since).external_id == sent.external_id


def test_facebook_hide_and_unhide(sb, clients):
    page, comment_id = page_with_comment(sb)
    engager = fb(clients, page)

    engager.set_hidden(ReplyTarget(comment_id), True)
    assert sb.control("GET", "/comment", params={"id": comment_id})["is_hidden"] is True
    engager.set_hidden(ReplyTarget(comment_id), False)
    assert sb.control("GET", "/comment", params={"id": comment_id})["is_hidden"] is False


def test_facebook_expired_token_is_auth_expired(sb, clients):
    page, comment_id = page_with_comment(sb)
    sb.revoke_token(page_id=page["id"], subcode=463)

    with pytest.raises(AuthExpired) as err:
        fb(clients, page).reply(ReplyTarget(comment_id), "Trả lời")
    assert "hết hạn" in err.value.message_vi and not err.value.refreshable


def test_facebook_missing_engagement_permission_names_it(sb, clients):
    page = sb.add_page("Trang thiếu quyền", scopes=["pages_manage_posts", "pages_read_engagement"])
    post = requests.post(f"{sb.graph_url}/v25.0/{page['id']}/feed", params={"access_token": page["page_token"]},
                         json={"message": "Bài"}, timeout=5).json()
    comment_id = sb.add_comment(post["id"], "Bình luận")["id"]

    with pytest.raises(AuthExpired) as err:
        fb(clients, page).set_hidden(ReplyTarget(comment_id), True)
    assert "pages_manage_engagement" in err.value.message_vi


def test_facebook_unknown_comment_is_rejected_in_vietnamese(sb, clients):
    page, _ = page_with_comment(sb)

    with pytest.raises(Rejected) as err:
        fb(clients, page).reply(ReplyTarget("999999_888888"), "Trả lời")
    assert "Không tìm thấy bình luận" in err.value.message_vi


def test_facebook_rate_limit_and_server_error_are_retry_later(sb, clients):
    page, comment_id = page_with_comment(sb)
    sb.faults(platform="facebook", path="*/comments", kind="fb_error", code=32, fail_next=1)
    with pytest.raises(RetryLater) as err:
        fb(clients, page).reply(ReplyTarget(comment_id), "Trả lời")
    assert err.value.throttled

    sb.faults(platform="facebook", path="*/comments", kind="fb_500_json", fail_next=1)
    with pytest.raises(RetryLater):
        fb(clients, page).reply(ReplyTarget(comment_id), "Trả lời")
    assert sb.control("GET", "/comment", params={"id": comment_id})["replies"] == []


def test_facebook_lost_reply_is_outcome_unknown(sb, clients):
    page, comment_id = page_with_comment(sb)
    sb.faults(platform="facebook", path="*/comments", method="POST", kind="raw_502_html", fail_next=1)

    with pytest.raises(OutcomeUnknown):
        fb(clients, page).reply(ReplyTarget(comment_id), "Trả lời")


def test_zalo_reply_finds_the_follower_by_author_key_and_sends_cs_message(sb, clients):
    oa = sb.add_oa("OA Công đoàn")
    user = sb.add_zalo_user(oa["oa_id"], "Chị Lan")
    first = sb.zalo_message(oa["oa_id"], user["user_id"], "Công ty nợ lương 2 tháng")
    sb.zalo_message(oa["oa_id"], user["user_id"], "Mong công đoàn giúp")  # the first is no longer the latest
    other = sb.add_zalo_user(oa["oa_id"], "Anh Nam")
    sb.zalo_message(oa["oa_id"], other["user_id"], "Xin chào")
    key = {user["user_id"]: "hash-lan", other["user_id"]: "hash-nam"}
    engager = clients.engager("zalo_oa", oa["oa_id"], {"access_token": oa["access_token"]},
                              author_key=lambda raw: key.get(raw, "?"))

    result = engager.reply(ReplyTarget(first["message_id"], author_key="hash-lan"), "Công đoàn đã ghi nhận.")

    sent = sb.control("GET", "/zalo/oa_messages", params={"oa_id": oa["oa_id"]})["data"]
    assert [(m["user_id"], m["text"], m["message_id"]) for m in sent] == [
        (user["user_id"], "Công đoàn đã ghi nhận.", result.external_id)]


def test_zalo_unknown_follower_and_hide_are_rejected(sb, clients):
    oa = sb.add_oa("OA Công đoàn")
    engager = clients.engager("zalo_oa", oa["oa_id"], {"access_token": oa["access_token"]})

    with pytest.raises(Rejected) as err:
        engager.reply(ReplyTarget("khong-co", author_key="x"), "Chào bạn")
    assert "7 ngày" in err.value.message_vi
    with pytest.raises(Rejected):
        engager.set_hidden(ReplyTarget("khong-co"), True)


def test_zalo_expired_token_is_refreshable(sb, clients):
    oa = sb.add_oa("OA Công đoàn")
    user = sb.add_zalo_user(oa["oa_id"], "Chị Lan")
    msg = sb.zalo_message(oa["oa_id"], user["user_id"], "Hỏi về BHXH")
    sb.revoke_token(platform="zalo", oa_id=oa["oa_id"], code=-220)

    with pytest.raises(AuthExpired) as err:
        clients.engager("zalo_oa", oa["oa_id"], {"access_token": oa["access_token"]}).reply(
            ReplyTarget(msg["message_id"]), "Chào chị")
    assert err.value.refreshable
