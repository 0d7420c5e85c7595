"""Replying to and hiding comments on a Facebook Page (platform-apis.md A6)."""

from __future__ import annotations

from datetime import datetime

from common.errors import AuthExpired, Rejected, RetryLater
from platforms.graph_errors import PLATFORM, missing_id
from platforms.http import excerpt, str_field, unreadable_response
from publishers.engage import ReplyResult, ReplyTarget
from publishers.facebook.client import SINCE_SKEW_SECONDS, FacebookPageClient, _normalise, _parse_time

# Facebook's limit for a comment is the same order as a post's; keep replies short anyway.
MAX_REPLY_CHARS = 8000
MAX_REPLY_PAGES = 10


class FacebookEngageClient(FacebookPageClient):
    """Engager for one Page: ``POST /{comment-id}/comments`` and ``POST /{comment-id}`` is_hidden."""

    def reply(self, target: ReplyTarget, text: str) -> ReplyResult:
        """Reply under the comment as the Page; OutcomeUnknown when the call may have applied."""
        text = (text or "").strip()
        if not text:
            raise Rejected("Nội dung trả lời không được để trống.", platform=PLATFORM, platform_code="empty_reply")
        if len(text) > MAX_REPLY_CHARS:
            raise Rejected(f"Nội dung trả lời quá dài (tối đa {MAX_REPLY_CHARS:,} ký tự).".replace(",", "."),
                           platform=PLATFORM, platform_code="reply_too_long")
        resp, body = self._engage("POST", f"{target.external_id}/comments", json={"message": text}, creates=True)
        reply_id = str_field(body, "id")
        if reply_id is None:
            raise missing_id(resp, creates=True, raw=excerpt(resp, self._secrets), what="trả lời bình luận")
        return ReplyResult(external_id=reply_id)

    def find_reply(self, target: ReplyTarget, text: str, *, since: datetime) -> ReplyResult | None:
        """Look for the Page's reply with this text among the comment's replies."""
        want = _normalise(text)
        not_before = since.timestamp() - SINCE_SKEW_SECONDS
        url = f"{target.external_id}/comments"
        params = {"fields": "id,message,from{id},created_time", "order": "reverse_chronological", "limit": "100"}
        for _ in range(MAX_REPLY_PAGES):
            resp, body = self._engage("GET", url, params=params)
            rows = body.get("data")
            if not isinstance(rows, list):
                raise unreadable_response(resp, platform=PLATFORM, creates=False, secrets=self._secrets)
            for row in rows:
                sender = row.get("from") if isinstance(row, dict) else None
                created = _parse_time(row.get("created_time")) if isinstance(row, dict) else None
                if (isinstance(sender, dict) and str_field(sender, "id") == self.page_id
                        and _normalise(row.get("message")) == want
                        and (created is None or created.timestamp() >= not_before)):
                    return ReplyResult(external_id=str_field(row, "id") or "")
            paging = body.get("paging")
            next_url = paging.get("next") if isinstance(paging, dict) else None
            if not next_url:
                return None
            url, params = self._follow(next_url, resp)
        raise RetryLater("Không kiểm tra hết được các trả lời dưới bình luận; hệ thống sẽ thử lại.",
                         platform=PLATFORM, platform_code="too_many_pages")

    def set_hidden(self, target: ReplyTarget, hidden: bool) -> None:
        """Hide or unhide the comment (safe to repeat)."""
        _, body = self._engage("POST", target.external_id, json={"is_hidden": hidden})
        if body.get("success") is not True:
            raise RetryLater("Facebook không xác nhận việc ẩn/hiện bình luận; hãy thử lại.",
                             platform=PLATFORM, platform_code="no_success")

    def _engage(self, method: str, path: str, **kwargs: object):  # noqa: ANN202
        """``_call`` with the engagement permission named in the error people see."""
        try:
            return self._call(method, path, **kwargs)
        except AuthExpired as exc:
            if not exc.details.get("missing_permission"):
                raise
            raise AuthExpired("Kênh Facebook thiếu quyền quản lý bình luận (pages_manage_engagement) hoặc người "
                              "cấp quyền không đủ vai trò trên Trang; cần quản trị viên kết nối lại Trang.",
                              refreshable=False, missing_permission=True, platform=PLATFORM,
                              platform_code=exc.platform_code, raw=exc.raw) from None
        except Rejected as exc:
            if exc.platform_code == 100 and exc.details.get("subcode") == 33:
                raise Rejected("Không tìm thấy bình luận trên Facebook (có thể đã bị xoá) hoặc kênh không có quyền "
                               "truy cập.", platform=PLATFORM, platform_code=100, raw=exc.raw, subcode=33) from None
            raise
