"""Connecting channels, their encrypted credentials, status and queue slots."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common.crypto import CredentialCipher
from common.errors import Conflict, InvalidInput
from db.base import utcnow
from db.models import Channel, ChannelStatus, Notification, Organisation, Platform, User
from domain import audit
from domain.orgs import admins_of

PLATFORM_LABELS = {Platform.facebook_page: "Trang Facebook", Platform.zalo_oa: "Zalo OA"}
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def validate_credentials(platform: Platform, credentials: dict) -> dict:
    """Keep only the fields a platform needs and insist on the required ones."""
    token = str(credentials.get("access_token") or "").strip()
    if not token:
        raise InvalidInput("Thiếu mã truy cập (access_token) của kênh.")
    clean = {"access_token": token}
    if platform == Platform.zalo_oa:
        refresh = str(credentials.get("refresh_token") or "").strip()
        if not refresh:
            raise InvalidInput("Zalo OA cần cả refresh_token để tự gia hạn mã truy cập.")
        clean["refresh_token"] = refresh
    return clean


def validate_slots(slots: list) -> list[dict]:
    """Normalise weekly queue slots: [{"weekdays": [0..6] (Mon=0), "time": "HH:MM"}]."""
    clean = []
    for slot in slots or []:
        if not isinstance(slot, dict):
            raise InvalidInput("Khung giờ đăng không hợp lệ.")
        time_s = str(slot.get("time", ""))
        if not _TIME.match(time_s):
            raise InvalidInput(f"Giờ '{time_s}' không hợp lệ, cần dạng HH:MM (ví dụ 07:30).")
        days = slot.get("weekdays", list(range(7)))
        if not isinstance(days, list) or not days or any(not isinstance(d, int) or not 0 <= d <= 6 for d in days):
            raise InvalidInput("Ngày trong tuần phải là số từ 0 (thứ Hai) đến 6 (Chủ nhật).")
        clean.append({"weekdays": sorted(set(days)), "time": time_s})
    return clean


def connect_channel(session: Session, *, org: Organisation, platform: Platform, external_id: str, name: str,
                    credentials: dict, cipher: CredentialCipher, actor: User | None = None,
                    token_expires_at: datetime | None = None, slots: list | None = None,
                    default_cover_url: str | None = None) -> Channel:
    """Store a new channel with encrypted credentials (the caller has checked them on the platform)."""
    existing = session.scalar(select(Channel).where(Channel.platform == platform, Channel.external_id == external_id))
    if existing is not None:
        raise Conflict(f"{PLATFORM_LABELS[platform]} này đã được kết nối với Loa.", channel_id=existing.id)
    channel = Channel(org_id=org.id, platform=platform, external_id=external_id, name=name[:255],
                      credentials_enc=cipher.encrypt(validate_credentials(platform, credentials)),
                      token_expires_at=token_expires_at, slots=validate_slots(slots or []),
                      default_cover_url=default_cover_url, status=ChannelStatus.active)
    session.add(channel)
    session.flush()
    audit.record(session, entity_type="channel", entity_id=channel.id, action="connect", actor=actor, org_id=org.id,
                 to_state=ChannelStatus.active.value, data={"platform": platform.value, "external_id": external_id})
    return channel


def credentials_of(channel: Channel, cipher: CredentialCipher) -> dict:
    """Decrypted credentials of a channel."""
    return cipher.decrypt(channel.credentials_enc)


def replace_credentials(session: Session, *, channel: Channel, credentials: dict, cipher: CredentialCipher,
                        actor: User | None = None, token_expires_at: datetime | None = None) -> Channel:
    """Re-authorise a channel with new credentials and make it active again."""
    old = channel.status
    channel.credentials_enc = cipher.encrypt(validate_credentials(channel.platform, credentials))
    channel.credentials_version += 1
    channel.token_expires_at = token_expires_at
    channel.status = ChannelStatus.active
    channel.status_reason = None
    session.flush()
    audit.record(session, entity_type="channel", entity_id=channel.id, action="reauthorise", actor=actor,
                 org_id=channel.org_id, from_state=old.value, to_state=ChannelStatus.active.value)
    return channel


def store_refreshed_credentials(session: Session, *, channel_id: int, expected_version: int, credentials: dict,
                                cipher: CredentialCipher, token_expires_at: datetime | None) -> bool:
    """Compare-and-swap the token pair after a refresh; False if someone else changed it first."""
    result = session.execute(
        update(Channel)
        .where(Channel.id == channel_id, Channel.credentials_version == expected_version)
        .values(credentials_enc=cipher.encrypt(credentials), credentials_version=expected_version + 1,
                token_expires_at=token_expires_at, updated_at=utcnow()))
    if result.rowcount == 1:
        audit.record(session, entity_type="channel", entity_id=channel_id, action="token_refreshed",
                     data={"credentials_version": expected_version + 1})
        return True
    return False


def mark_needs_reauth(session: Session, *, channel: Channel, reason: str) -> None:
    """Stop publishing on a channel whose token is dead and tell its administrators."""
    if channel.status == ChannelStatus.needs_reauth:
        return
    old = channel.status
    channel.status = ChannelStatus.needs_reauth
    channel.status_reason = reason
    session.flush()
    audit.record(session, entity_type="channel", entity_id=channel.id, action="needs_reauth", org_id=channel.org_id,
                 from_state=old.value, to_state=ChannelStatus.needs_reauth.value, reason=reason)
    org = session.get(Organisation, channel.org_id)
    message = (f"Kênh {PLATFORM_LABELS[channel.platform]} \"{channel.name}\" cần kết nối lại: {reason} "
               "Các bài đã lên lịch trên kênh này sẽ chờ đến khi kênh được kết nối lại.")
    for admin in admins_of(session, org):
        session.add(Notification(user_id=admin.id, org_id=org.id, kind="channel_needs_reauth", message=message))


def set_status(session: Session, *, channel: Channel, status: ChannelStatus, actor: User | None, reason: str = "") -> None:
    """Enable or disable a channel by hand."""
    old = channel.status
    channel.status = status
    channel.status_reason = reason or None
    session.flush()
    audit.record(session, entity_type="channel", entity_id=channel.id, action="set_status", actor=actor,
                 org_id=channel.org_id, from_state=old.value, to_state=status.value, reason=reason or None)


def pause_channel(session: Session, *, channel_id: int, until: datetime) -> None:
    """Hold all sending on a channel until ``until`` (the platform throttled us)."""
    session.execute(update(Channel).where(Channel.id == channel_id)
                    .where((Channel.paused_until.is_(None)) | (Channel.paused_until < until))
                    .values(paused_until=until))
