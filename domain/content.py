"""Per-platform content rules, checked when a post is written so bad posts fail early."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from common.errors import InvalidInput
from db.models import Channel, ChannelStatus, Media, Platform

FACEBOOK_MAX_TEXT = 63_206
FACEBOOK_MAX_PHOTO_BYTES = 4 * 1024 * 1024
ZALO_MAX_TITLE = 150
ZALO_MAX_PHOTO_BYTES = 1024 * 1024
MAX_PHOTOS = 10
MAX_LINK = 2048


@dataclass(frozen=True)
class ChannelContent:
    """What one channel will receive after its variant is applied."""

    channel: Channel
    title: str | None
    text: str
    link: str | None


def check_link(link: str | None) -> str | None:
    """Accept only absolute http(s) links."""
    if not link:
        return None
    link = link.strip()
    parsed = urlparse(link)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(link) > MAX_LINK:
        raise InvalidInput(f"Đường dẫn '{link[:100]}' không hợp lệ (cần bắt đầu bằng http:// hoặc https://).")
    return link


def check_channel_usable(channel: Channel, org_id: int) -> None:
    """A post may only go to an active channel of its own organisation."""
    if channel.org_id != org_id:
        # Same words as for a missing channel: another organisation's channels are not disclosed.
        raise InvalidInput(f"Kênh #{channel.id} không tồn tại hoặc không thuộc tổ chức này.")
    if channel.status == ChannelStatus.disabled:
        raise InvalidInput(f"Kênh \"{channel.name}\" đang bị tắt.")
    if channel.status == ChannelStatus.needs_reauth:
        raise InvalidInput(f"Kênh \"{channel.name}\" cần kết nối lại trước khi lên lịch bài mới.")


def check_content(item: ChannelContent, photos: list[Media]) -> None:
    """Raise InvalidInput when ``item`` cannot be published on its channel as it stands."""
    name = item.channel.name
    if not item.text.strip() and not item.link and not photos:
        raise InvalidInput("Bài viết trống: cần có nội dung, đường dẫn hoặc ảnh.")
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(f"Mỗi bài đăng tối đa {MAX_PHOTOS} ảnh.")
    if item.channel.platform == Platform.facebook_page:
        if len(item.text) > FACEBOOK_MAX_TEXT:
            raise InvalidInput(f"Nội dung cho Trang \"{name}\" dài {len(item.text):,} ký tự, vượt giới hạn "
                               f"{FACEBOOK_MAX_TEXT:,} ký tự của Facebook.")
        for photo in photos:
            if photo.size > FACEBOOK_MAX_PHOTO_BYTES:
                raise InvalidInput(f"Ảnh \"{photo.filename}\" lớn hơn 4 MB, Facebook không nhận.")
    else:
        if item.title and len(item.title) > ZALO_MAX_TITLE:
            raise InvalidInput(f"Tiêu đề bài viết Zalo dài {len(item.title)} ký tự, tối đa {ZALO_MAX_TITLE}.")
        if not item.text.strip():
            raise InvalidInput(f"Bài viết Zalo trên \"{name}\" cần có nội dung.")
        for photo in photos:
            if photo.size > ZALO_MAX_PHOTO_BYTES:
                raise InvalidInput(f"Ảnh \"{photo.filename}\" lớn hơn 1 MB, Zalo không nhận; hãy dùng ảnh nhỏ hơn.")
        if not photos and not item.channel.default_cover_url:
            raise InvalidInput(f"Bài viết Zalo trên \"{name}\" cần ảnh bìa: hãy đính kèm ít nhất một ảnh.")
