"""The channels page: list with status and slots, connect (token checked on the platform), re-auth, disable."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from common.errors import AuthExpired
from db.models import AuditEntry, Channel, ChannelStatus
from db.session import session_scope
from domain import channels
from publishers.fake import FakeClientFactory

GOOD = "EAAB-ma-truy-cap-hop-le-123"
BAD = "bad-ma-da-bi-thu-hoi-456"


class _Refusing:
    """A probe whose token the platform refuses (Facebook error 190)."""

    def __init__(self, platform: str) -> None:
        self.platform = platform

    def whoami(self):  # noqa: ANN201
        raise AuthExpired("Mã truy cập không hợp lệ hoặc đã bị thu hồi (mã lỗi 190).", platform=self.platform)


class CheckingClients(FakeClientFactory):
    """The fake platform, except that tokens starting with 'bad' are refused like a revoked token."""

    def probe(self, platform: str, external_id: str, credentials: dict):  # noqa: ANN201
        if credentials["access_token"].startswith("bad"):
            return _Refusing(platform)
        return self.publisher(platform, external_id, credentials)


@pytest.fixture(autouse=True)
def checking_clients(client):
    """The app checks tokens with CheckingClients (the shared fake accepts every token)."""
    client.app.state.runtime.clients = CheckingClients()


def _count(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(Channel))


def _channel(factory, channel_id: int) -> Channel:
    with factory() as s:
        return s.get(Channel, channel_id)


def test_channels_page_lists_own_channels_with_status_and_slots(client, login, world):
    login("grassroots_editor")
    page = client.get("/channels")
    assert page.status_code == 200
    shown = {int(i) for i in re.findall(r'<tr data-channel-id="(\d+)"', page.text)}
    assert shown == {world.grassroots_fb}
    assert "Đang hoạt động" in page.text and "Hằng ngày 07:30" in page.text and "Sửa khung giờ" in page.text
    assert 'id="connect-channel"' not in page.text  # connecting is for administrators
    login("admin")
    page = client.get("/channels").text
    assert {int(i) for i in re.findall(r'<tr data-channel-id="(\d+)"', page)} == {
        world.fb, world.zalo, world.district_fb, world.grassroots_fb, world.other_fb}
    form = page[page.index('id="connect-channel"'):]
    for hook in ('select name="platform"', 'name="access_token"', 'name="refresh_token"', 'name="external_id"'):
        assert hook in form, hook
    assert 'type="password" name="access_token" autocomplete="off"' in form


def test_connect_with_a_refused_token_shows_the_reason_and_stores_nothing(client, login, factory, world):
    token = login("admin")
    before = _count(factory)
    r = client.post("/channels/connect", data={
        "csrf_token": token, "org_id": world.province, "platform": "facebook_page", "access_token": BAD,
        "external_id": "1888", "slot_times": "07:30"})
    assert r.status_code == 422
    assert "Trang Facebook không chấp nhận mã truy cập này" in r.text and "mã lỗi 190" in r.text
    assert BAD not in r.text and 'value="1888"' in r.text  # the page id is kept, the token never echoed
    assert _count(factory) == before


def test_connect_with_a_valid_token_stores_it_encrypted_and_never_shows_it(client, login, factory, world):
    token = login("admin")
    r = client.post("/channels/connect", follow_redirects=False, data={
        "csrf_token": token, "org_id": world.grassroots, "platform": "zalo_oa", "access_token": GOOD,
        "refresh_token": "refresh-hop-le-789", "external_id": "2999", "slot_times": "07:30, 19:30",
        "slot_days": [0, 1, 2, 3, 4]})
    assert r.status_code == 303
    with factory() as s:
        channel = s.scalar(select(Channel).where(Channel.external_id == "2999"))
        assert channel.org_id == world.grassroots and channel.status == ChannelStatus.active
        assert GOOD not in channel.credentials_enc
        assert channel.slots == [{"weekdays": [0, 1, 2, 3, 4], "time": "07:30"},
                                 {"weekdays": [0, 1, 2, 3, 4], "time": "19:30"}]
    page = client.get("/channels").text
    assert "Đã kết nối Zalo OA" in page and "T2–T6 07:30" in page
    assert GOOD not in page and "refresh-hop-le-789" not in page
    # connecting the same OA twice is refused
    again = client.post("/channels/connect", data={
        "csrf_token": token, "org_id": world.grassroots, "platform": "zalo_oa", "access_token": GOOD,
        "refresh_token": "r", "external_id": "2999"})
    assert again.status_code == 409 and "đã được kết nối" in again.text


def test_editor_cannot_connect_a_channel(client, login, factory, world):
    token = login("grassroots_editor")
    before = _count(factory)
    r = client.post("/channels/connect", data={"csrf_token": token, "org_id": world.grassroots,
                                               "platform": "facebook_page", "access_token": GOOD})
    assert r.status_code == 403 and "quản trị" in r.text
    r = client.post("/channels/connect", data={"csrf_token": token, "org_id": world.other_grassroots,
                                               "platform": "facebook_page", "access_token": GOOD})
    assert r.status_code == 404
    assert _count(factory) == before


def test_reauth_switches_a_needs_reauth_channel_back_to_active(client, login, factory, world, cipher):
    with session_scope(factory) as s:
        channels.mark_needs_reauth(s, channel=s.get(Channel, world.fb), reason="Facebook báo mã đã hết hạn (190).")
    token = login("admin")
    row = client.get("/channels").text.split(f'data-channel-id="{world.fb}"')[1].split("</tr>")[0]
    assert "Cần kết nối lại" in row and "Facebook báo mã đã hết hạn (190)." in row and "Từ " in row
    refused = client.post(f"/channels/{world.fb}/reauth", data={"csrf_token": token, "access_token": BAD})
    assert refused.status_code == 422 and BAD not in refused.text
    assert _channel(factory, world.fb).status == ChannelStatus.needs_reauth
    r = client.post(f"/channels/{world.fb}/reauth", data={"csrf_token": token, "access_token": GOOD},
                    follow_redirects=False)
    assert r.status_code == 303
    channel = _channel(factory, world.fb)
    assert channel.status == ChannelStatus.active and channel.status_reason is None
    assert channels.credentials_of(channel, cipher)["access_token"] == GOOD
    with factory() as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.entity_type == "channel", AuditEntry.entity_id == world.fb,
                                                 AuditEntry.action == "reauthorise")) is not None
    assert GOOD not in client.get("/channels").text


def test_disable_and_enable_and_edit_slots(client, login, factory, world):
    token = login("admin")
    client.post(f"/channels/{world.zalo}/status", data={"csrf_token": token, "status": "disabled"})
    assert _channel(factory, world.zalo).status == ChannelStatus.disabled
    client.post(f"/channels/{world.zalo}/status", data={"csrf_token": token, "status": "active"})
    assert _channel(factory, world.zalo).status == ChannelStatus.active
    editor = login("editor")
    assert client.post(f"/channels/{world.zalo}/status", data={"csrf_token": editor, "status": "disabled"}
                       ).status_code == 403
    r = client.post(f"/channels/{world.zalo}/slots", follow_redirects=False, data={
        "csrf_token": editor, "time_0": "08:00", "days_0": ["0", "2", "4"], "time_1": "", "days_1": ["1"]})
    assert r.status_code == 303
    assert _channel(factory, world.zalo).slots == [{"weekdays": [0, 2, 4], "time": "08:00"}]
    bad = client.post(f"/channels/{world.zalo}/slots", data={"csrf_token": editor, "time_0": "25:99", "days_0": ["1"]})
    assert bad.status_code == 422 and "không hợp lệ" in bad.text
    assert _channel(factory, world.zalo).slots == [{"weekdays": [0, 2, 4], "time": "08:00"}]


def test_another_unions_channel_cannot_be_changed(client, login, factory, world):
    token = login("grassroots_editor")
    assert client.post(f"/channels/{world.other_fb}/slots", data={"csrf_token": token, "time_0": "08:00",
                                                                  "days_0": ["1"]}).status_code == 404
    assert client.post(f"/channels/{world.other_fb}/status", data={"status": "disabled"}).status_code == 403
    assert _channel(factory, world.other_fb).status == ChannelStatus.active
