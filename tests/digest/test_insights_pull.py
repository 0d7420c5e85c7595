"""Post insights end to end: a post published through Loa's own publisher on the sandbox is enrolled, read on
its schedule, its history kept, and answered per post, channel, campaign and organisation; a dead token
pauses the channel; an expired Zalo token is refreshed and the reading goes on."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from pydantic import SecretStr
from sqlalchemy import select

from common.settings import Settings
from db.base import utcnow
from db.models import (Campaign, Channel, ChannelStatus, Notification, Organisation, Platform, PostMetric,
                       PostMetricSnapshot, PostTarget, TargetStatus)
from db.session import session_scope
from domain import channels as channel_service
from domain import insights
from publishers.service import publish_target
from sandbox.testing import SandboxServer
from scheduler import reporting
from scheduler.runtime import Runtime
from tests.digest.seed import publication
from tests.factories import make_scheduled_post

HOUR = 3600


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(seed=55) as sb:
        yield sb


@pytest.fixture
def oa(sandbox):
    return sandbox.add_oa("OA Liên đoàn Lao động tỉnh")


@pytest.fixture
def rt(pg_url, secret_key, sandbox, oa, tmp_path):
    settings = Settings(database_url=pg_url, secret_keys=SecretStr(secret_key), media_dir=tmp_path / "media",
                        facebook_graph_url=sandbox.graph_url, zalo_openapi_url=sandbox.zalo_openapi_url,
                        zalo_oauth_url=sandbox.zalo_oauth_url, zalo_app_id=oa["app_id"],
                        zalo_app_secret=SecretStr(oa["secret"]), _env_file=None)
    return Runtime(settings)


def _connect(factory, rt, org_id, platform, external_id, creds) -> int:
    with session_scope(factory) as s:
        return channel_service.connect_channel(s, org=s.get(Organisation, org_id), platform=platform,
                                               external_id=external_id, name=f"Kênh {external_id}",
                                               credentials=creds, cipher=rt.cipher, slots=[]).id


def _pull(rt, now):
    claimed = reporting.claim_due_insights(rt, now=now)
    return {cid: reporting.pull_channel_insights(cid, ids, rt, now=now) for cid, ids in claimed.items()}


def test_published_post_is_read_on_schedule_and_its_history_kept(factory, world, rt, sandbox):
    page = sandbox.add_page("Liên đoàn Lao động tỉnh Thử Nghiệm")
    channel_id = _connect(factory, rt, world.province, Platform.facebook_page, page["page_id"],
                          {"access_token": page["page_token"]})
    with session_scope(factory) as s:
        camp = Campaign(org_id=world.province, name="Tháng Công nhân 2026")
        s.add(camp)
        s.flush()
        post = make_scheduled_post(s, world, now=utcnow(), channel_ids=[channel_id],
                                   text="Tháng Công nhân: 1.000 suất quà cho đoàn viên khó khăn", campaign_id=camp.id)
        target_id = s.scalar(select(PostTarget.id).where(PostTarget.post_id == post.id))
    assert publish_target(rt.publish_context, target_id) == "published"

    now = utcnow()
    sandbox.advance_clock(2 * HOUR)
    assert _pull(rt, now) == {channel_id: {"read": 1, "gone": 0, "error": None}}
    assert _pull(rt, now + timedelta(minutes=30)) == {}  # next reading due in an hour, not before
    sandbox.advance_clock(10 * HOUR)
    _pull(rt, now + timedelta(hours=1, minutes=1))

    with session_scope(factory) as s:
        row = s.get(PostMetric, target_id)
        history = insights.history(s, target_id)
        external_id = s.get(PostTarget, target_id).external_id
    shown = next(p for p in sandbox.posts(page_id=page["page_id"]) if p["id"] == external_id)
    assert (row.views, row.reactions, row.shares, row.comments) == (shown["views"], shown["reactions"],
                                                                     shown["shares"], 0)
    assert row.fetches == 2 and row.last_error is None and row.next_fetch_at is not None
    assert [h.views for h in history] == sorted(h.views for h in history) and history[0].views < history[1].views

    with session_scope(factory) as s:
        since, until = now - timedelta(days=1), now + timedelta(days=1)
        by = {g: insights.performance(s, by=g, org_ids=[world.province], since=since, until=until)
              for g in insights.GROUPS}
    assert by["channel"][0].label == f"Kênh {page['page_id']}" and by["channel"][0].views == row.views
    assert by["campaign"][0].label == "Tháng Công nhân 2026" and by["campaign"][0].engagement == row.engagement
    assert by["org"][0].publications == 1 and by["post"][0].reactions == row.reactions


def test_revoked_token_pauses_the_channel_and_tells_its_admins(factory, world, rt, sandbox):
    page = sandbox.add_page("Trang sẽ mất quyền")
    channel_id = _connect(factory, rt, world.province, Platform.facebook_page, page["page_id"],
                          {"access_token": page["page_token"]})
    r = requests.post(f"{sandbox.graph_url}/v25.0/{page['page_id']}/feed",
                      data={"message": "Bài đã đăng", "access_token": page["page_token"]}, timeout=10)
    with session_scope(factory) as s:
        t = publication(s, org_id=world.province, channel_id=channel_id, author_id=world.editor,
                        when=utcnow() - timedelta(hours=1), text="Bài đã đăng")
        t.external_id = r.json()["id"]
        target_id = t.id
    sandbox.revoke_token(page_id=page["page_id"], subcode=463)
    now = utcnow()

    result = _pull(rt, now)

    assert "mã truy cập đã hết hạn" in result[channel_id]["error"]
    with session_scope(factory) as s:
        assert s.get(Channel, channel_id).status == ChannelStatus.needs_reauth
        row = s.get(PostMetric, target_id)
        assert row.fetches == 0 and row.next_fetch_at == now + reporting.AUTH_PAUSE and row.last_error
        assert s.scalar(select(Notification.id).where(Notification.user_id == world.admin)) is not None
    assert _pull(rt, now + timedelta(hours=2)) == {}  # a channel needing re-authorisation is not read


def test_expired_zalo_token_is_refreshed_and_the_reading_stored(factory, world, rt, sandbox, oa):
    channel_id = _connect(factory, rt, world.province, Platform.zalo_oa, oa["oa_id"],
                          {"access_token": oa["access_token"], "refresh_token": oa["refresh_token"]})
    h = {"access_token": oa["access_token"]}
    job = requests.post(f"{sandbox.zalo_openapi_url}/v2.0/article/create", headers=h, timeout=10, json={
        "type": "normal", "title": "Bản tin Công đoàn", "author": "BCH", "description": "Tin tuần",
        "cover": {"cover_type": "photo", "photo_url": "https://example.vn/a.jpg", "status": "show"},
        "body": [{"type": "text", "content": "Nội dung"}], "status": "show"}).json()["data"]["token"]
    verify = [requests.post(f"{sandbox.zalo_openapi_url}/v2.0/article/verify", headers=h, json={"token": job},
                            timeout=10).json() for _ in range(2)]
    article_id = verify[-1]["data"]["id"]
    with session_scope(factory) as s:
        t = publication(s, org_id=world.province, channel_id=channel_id, author_id=world.editor,
                        when=utcnow() - timedelta(hours=1), text="Bản tin Công đoàn")
        t.external_id = article_id
        target_id = t.id
    sandbox.advance_clock(6 * HOUR)
    sandbox.revoke_token(platform="zalo", oa_id=oa["oa_id"], code=-216)

    result = _pull(rt, utcnow())

    assert result == {channel_id: {"read": 1, "gone": 0, "error": None}}
    with session_scope(factory) as s:
        row = s.get(PostMetric, target_id)
        assert row.views > 0 and row.reactions is None and row.comments is None
        assert s.get(Channel, channel_id).credentials_version == 2  # the new pair was stored
        assert s.scalar(select(PostMetricSnapshot.views).where(PostMetricSnapshot.target_id == target_id)) == row.views
        assert s.get(PostTarget, target_id).status == TargetStatus.published
