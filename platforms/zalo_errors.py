"""Zalo OA error codes mapped to Loa's error kinds (platform-apis.md B8, B9).

Zalo answers HTTP 200 with ``{"error": <negative>, "message": "..."}`` for application errors;
HTTP 5xx, resets and timeouts are handled by ``platforms.http`` like Facebook's.
"""

from __future__ import annotations

import re
import time

import requests

from common.errors import AuthExpired, PlatformError, Rejected, RetryLater
from platforms.http import DEFAULT_THROTTLE_SECONDS, retry_after_header

PLATFORM = "zalo_oa"

ARTICLE_PROCESSING = -214
# -124 is the ZNS host's "invalid token"; harmless to treat like -216 here.
REFRESHABLE_CODES = frozenset({-216, -220, -124})
QUOTA_WAIT_SECONDS = 6 * 3600.0
PROCESSING_RETRY_SECONDS = 30.0

# Permanent until someone changes the OA/app configuration.
_CONFIG_REASONS = {
    -204: "OA đã bị vô hiệu hóa; hãy kiểm tra tình trạng OA trên trang quản trị Zalo.",
    -205: "OA không tồn tại; hãy kiểm tra lại mã OA của kênh.",
    -209: "Ứng dụng Zalo chưa được kích hoạt hoặc không được phép dùng API này; hãy kiểm tra cấu hình ứng dụng.",
    -221: "OA cần được Zalo xác thực trước khi dùng chức năng này.",
    -223: "OA chưa cấp quyền dùng API này cho ứng dụng, hoặc đã hết hạn mức tạo bài viết.",
    -224: "OA cần nâng cấp gói dịch vụ Zalo để dùng chức năng này.",
    -242: "appsecret_proof không hợp lệ; hãy kiểm tra khóa bí mật (app secret) của ứng dụng Zalo.",
}
# Permanent for this recipient or request.
_REJECT_REASONS = {
    -213: "Người dùng chưa quan tâm OA nên không thể gửi tin.",
    -217: "Người dùng đã chặn tin nhắn, lời mời từ OA.",
    -218: "Người nhận đã hết hạn mức nhận tin từ OA.",
    -227: "Tài khoản người nhận bị khóa hoặc không hoạt động quá 45 ngày.",
    -230: "Người dùng không tương tác với OA trong 7 ngày qua nên không thể gửi tin tư vấn.",
    -232: "Thời hạn tương tác của người dùng với OA đã hết nên không thể gửi tin.",
    -240: "API gửi tin cũ đã bị Zalo ngừng hỗ trợ; cần cập nhật phần mềm Loa.",
}
_FIELD_IN_MESSAGE = re.compile(r"(?:param(?:eter)?\s+)?['\"]?([A-Za-z_][\w.\[\]]*)['\"]?\s+(?:is\s+)?invalid", re.I)


def map_zalo_error(code: int, message: str, resp: requests.Response, *, raw: str) -> PlatformError:
    """Turn a non-zero Zalo ``error`` into the matching error kind (the only place codes are read)."""
    common = {"platform": PLATFORM, "platform_code": code, "raw": raw, "platform_message": message[:300]}
    if code in REFRESHABLE_CODES:
        return AuthExpired("Mã truy cập Zalo OA đã hết hạn hoặc không hợp lệ; hệ thống sẽ làm mới mã rồi thử lại.",
                           refreshable=True, **common)
    if code == -32:
        return RetryLater("Zalo báo đã gọi quá giới hạn cho phép; hệ thống tạm dừng kênh rồi thử lại.",
                          throttled=True, retry_after=_rate_limit_wait(resp), **common)
    if code == ARTICLE_PROCESSING:
        return RetryLater("Zalo đang xử lý bài viết; hệ thống sẽ kiểm tra lại.",
                          retry_after=PROCESSING_RETRY_SECONDS, **common)
    if code == -211:
        return RetryLater("OA đã hết hạn mức sử dụng của Zalo; hệ thống sẽ thử lại sau.",
                          throttled=True, retry_after=QUOTA_WAIT_SECONDS, **common)
    if code == -201:
        match = _FIELD_IN_MESSAGE.search(message)
        reason = (f"Zalo từ chối vì trường “{match.group(1)}” không hợp lệ." if match
                  else f"Zalo từ chối vì dữ liệu gửi lên không hợp lệ ({message or 'mã -201'}).")
        return Rejected(reason, **common)
    if code in _CONFIG_REASONS:
        return Rejected(_CONFIG_REASONS[code], config=True, **common)
    if code in _REJECT_REASONS:
        return Rejected(_REJECT_REASONS[code], **common)
    return Rejected(f"Zalo từ chối yêu cầu (mã {code}): {message or 'không rõ lý do'}.", **common)


def _rate_limit_wait(resp: requests.Response) -> float:
    """Seconds to wait after -32: Retry-After, else an X-RateLimit reset hint, else one window (60 s)."""
    if (seconds := retry_after_header(resp)) is not None:
        return seconds
    # Only Limit/Remain are documented; the budget resets each minute. A Reset header, if any,
    # may be seconds-until-reset or an epoch timestamp.
    reset = resp.headers.get("X-RateLimit-Reset")
    try:
        value = float(reset) if reset else None
    except ValueError:
        value = None
    if value is not None:
        if value > 1e12:  # epoch milliseconds
            value = value / 1000 - time.time()
        elif value > 1e9:  # epoch seconds
            value -= time.time()
        if 0 < value <= 3600:
            return value
    return DEFAULT_THROTTLE_SECONDS


def rate_limit(resp: requests.Response) -> tuple[int, int] | None:
    """(limit, remaining) from X-RateLimit-Limit / X-RateLimit-Remain, when both are present."""
    try:
        return int(resp.headers["X-RateLimit-Limit"]), int(resp.headers["X-RateLimit-Remain"])
    except (KeyError, ValueError):
        return None
