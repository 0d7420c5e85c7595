"""Answering a follower's Zalo message with a customer-service text (platform-apis.md B4, B6)."""

from __future__ import annotations

from datetime import datetime

from collections.abc import Callable

from common.errors import Rejected
from platforms.http import str_field
from platforms.zalo_errors import PLATFORM
from publishers.engage import ReplyResult, ReplyTarget
from publishers.zalo.oa import ZaloOAClient

# Recent chats are read in pages of 10 (Zalo's maximum); a CS reply is only allowed within 7 days,
# so the follower is near the top of the list.
CHAT_PAGE = 10
MAX_CHAT_PAGES = 20


class ZaloEngageClient(ZaloOAClient):
    """Engager for one OA: the follower is found among recent chats, then sent a CS message."""

    def __init__(self, *args: object, author_key: Callable[[str], str] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Maps a raw Zalo user id to the stored pseudonymous key (Loa never stores the raw id).
        self._author_key = author_key

    def reply(self, target: ReplyTarget, text: str) -> ReplyResult:
        """Send ``text`` to the follower who wrote ``target``."""
        user_id = self._follower_of(target)
        return ReplyResult(external_id=self.send_text(user_id, text))

    def find_reply(self, target: ReplyTarget, text: str, *, since: datetime) -> ReplyResult | None:
        """Our CS message with this text to the follower since ``since``, from the conversation."""
        user_id = self._follower_of(target)
        not_before_ms = (since.timestamp() - 120) * 1000
        _, rows = self._call("GET", "/v2.0/oa/conversation", params={"user_id": user_id, "offset": 0,
                                                                     "count": CHAT_PAGE})
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict) or row.get("src") not in (0, "0"):
                continue
            sent = row.get("time")
            if row.get("message") == text and isinstance(sent, (int, float)) and sent >= not_before_ms:
                return ReplyResult(external_id=str_field(row, "message_id") or "")
        return None

    def set_hidden(self, target: ReplyTarget, hidden: bool) -> None:
        """Zalo has no hiding of a follower's message."""
        raise Rejected("Zalo không có chức năng ẩn tin nhắn của người dùng.", platform=PLATFORM,
                       platform_code="unsupported")

    def _follower_of(self, target: ReplyTarget) -> str:
        """The follower who sent ``target``: its message id in recent chats, or a matching author key."""
        for page in range(MAX_CHAT_PAGES):
            _, rows = self._call("GET", "/v2.0/oa/listrecentchat", params={"offset": page * CHAT_PAGE,
                                                                           "count": CHAT_PAGE})
            rows = rows if isinstance(rows, list) else []
            for row in rows:
                if not isinstance(row, dict):
                    continue
                user_id = str_field(row, "to_id" if row.get("src") in (0, "0") else "from_id")
                if user_id is None or user_id == self.oa_id:
                    continue
                if str_field(row, "message_id") == target.external_id:
                    return user_id
                if target.author_key and self._author_key and self._author_key(user_id) == target.author_key:
                    return user_id
            if len(rows) < CHAT_PAGE:
                break
        raise Rejected("Không tìm thấy người gửi tin nhắn này trong các cuộc trò chuyện gần đây của OA "
                       "(Zalo chỉ cho phép trả lời trong vòng 7 ngày kể từ lần tương tác cuối).",
                       platform=PLATFORM, platform_code="follower_not_found")
