"""Graph API error bodies and usage headers mapped to Loa's error kinds (platform-apis.md A10, A11)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import requests

from common.errors import AuthExpired, OutcomeUnknown, PlatformError, Rejected, RetryLater

PLATFORM = "facebook_page"

THROTTLE_CODES = frozenset({4, 17, 32, 613, 80001, 341})
# Used when a throttle error comes without estimated_time_to_regain_access.
DEFAULT_THROTTLE_SECONDS = 300.0
# Code 368 (policy block) lasts hours to days; Postiz's subcode 1390008 ("posting too fast") is shorter.
POLICY_BLOCK_SECONDS = 6 * 3600.0
POSTING_TOO_FAST_SECONDS = 3600.0
USAGE_WARN_PERCENT = 95.0

_TOKEN_SUBCODE_REASONS = {
    458: "quản trị viên đã gỡ ứng dụng Loa khỏi tài khoản Facebook",
    459: "tài khoản Facebook của quản trị viên đang bị kiểm tra bảo mật (cần đăng nhập facebook.com để mở khóa)",
    460: "quản trị viên đã đổi mật khẩu Facebook",
    463: "mã truy cập đã hết hạn",
    464: "tài khoản Facebook của quản trị viên chưa được xác nhận",
    467: "quản trị viên đã đăng xuất hoặc mã truy cập không còn hợp lệ",
    492: "người cấp quyền không còn vai trò quản trị trên Trang",
}


@dataclass(frozen=True)
class GraphUsage:
    """Usage percentages reported by Graph headers (0–100, throttled at 100)."""

    max_percent: float
    regain_seconds: float | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def near_limit(self) -> bool:
        """True when some budget is at or above USAGE_WARN_PERCENT."""
        return self.max_percent >= USAGE_WARN_PERCENT


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0 <= value <= 10_000_000 else None


def parse_usage(headers: requests.structures.CaseInsensitiveDict | dict) -> GraphUsage | None:
    """Read X-App-Usage, X-Page-Usage and X-Business-Use-Case-Usage; None when none is present."""
    seen: dict[str, str] = {}
    percents: list[float] = []
    regain: list[float] = []
    for name in ("X-App-Usage", "X-Page-Usage", "X-Business-Use-Case-Usage"):
        value = headers.get(name)
        if not value:
            continue
        seen[name] = value[:1024]
        try:
            parsed = json.loads(value)
        except ValueError:
            continue
        # App/Page headers are one flat object; BUC maps an id to a list of such objects.
        entries = [parsed] if name != "X-Business-Use-Case-Usage" else [
            e for lst in (parsed.values() if isinstance(parsed, dict) else []) if isinstance(lst, list)
            for e in lst]
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            for key in ("call_count", "total_time", "total_cputime"):
                if (n := _number(entry.get(key))) is not None:
                    percents.append(n)
            # Meta documents minutes; one client reads seconds ([conflict]): we follow Meta.
            if (n := _number(entry.get("estimated_time_to_regain_access"))) is not None and n > 0:
                regain.append(n * 60)
    if not seen:
        return None
    return GraphUsage(max(percents, default=0.0), max(regain, default=None), seen)


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def map_graph_error(error: dict, resp: requests.Response, *, raw: str) -> PlatformError:
    """Turn a Graph ``{"error": {...}}`` object into the matching error kind (the only place codes are read)."""
    code = _as_int(error.get("code"))
    sub = _as_int(error.get("error_subcode"))
    text = str(error.get("error_user_msg") or error.get("message") or "")[:300]
    common = {"platform": PLATFORM, "platform_code": code if code is not None else f"http_{resp.status_code}",
              "raw": raw, "subcode": sub, "platform_message": text}

    if code in THROTTLE_CODES:
        usage = parse_usage(resp.headers)
        wait = usage.regain_seconds if usage and usage.regain_seconds else DEFAULT_THROTTLE_SECONDS
        return RetryLater("Facebook báo kênh đã gọi quá giới hạn cho phép; "
                          "hệ thống tạm dừng đăng lên Trang rồi thử lại.",
                          throttled=True, retry_after=wait, **common)
    if code == 368:
        wait = POSTING_TOO_FAST_SECONDS if sub == 1390008 else POLICY_BLOCK_SECONDS
        return RetryLater("Facebook tạm chặn Trang đăng bài (nghi vi phạm chính sách hoặc đăng quá nhanh); "
                          "hệ thống sẽ dừng kênh và thử lại sau. Nếu lặp lại, hãy kiểm tra Trang.",
                          throttled=True, retry_after=wait, policy_block=True, **common)
    if code in (190, 102):
        reason = _TOKEN_SUBCODE_REASONS.get(sub, "mã truy cập của Trang không còn hợp lệ")
        return AuthExpired(f"Không dùng được kênh Facebook vì {reason}; cần quản trị viên kết nối lại Trang.",
                           refreshable=False, **common)
    if code == 10 and sub == 2018278:
        return Rejected("Đã quá 24 giờ kể từ tin nhắn cuối của người dùng nên Facebook không cho phép trả lời.",
                        **common)
    if code == 10 or (code is not None and 200 <= code <= 299):
        # Missing pages_manage_posts, a user token instead of a Page token, or a lost Page task:
        # only re-consent by an administrator fixes it, so the channel is paused like an expired token.
        return AuthExpired("Kênh Facebook thiếu quyền cần thiết (ví dụ pages_manage_posts) hoặc người cấp quyền "
                           "không đủ vai trò trên Trang; cần quản trị viên kết nối lại Trang và cấp đủ quyền.",
                           refreshable=False, missing_permission=True, **common)
    if code == 506:
        return Rejected("Facebook từ chối vì nội dung trùng với bài vừa đăng trên Trang; "
                        "hãy sửa nội dung rồi đăng lại.",
                        duplicate=True, **common)
    if code == 1609005:
        return Rejected("Facebook không đọc được liên kết trong bài (lỗi lấy bản xem trước); "
                        "hãy kiểm tra lại liên kết.",
                        **common)
    if code == 100:
        return Rejected(_invalid_parameter_reason(sub, text), **common)
    if code in (1, 2) or error.get("is_transient") is True or resp.status_code >= 500:
        # Per our contract a Graph error body means the request was refused, so it is safe to retry.
        # No fixed wait: the caller's exponential backoff with jitter decides (about 1 s, 2 s, 4 s …).
        return RetryLater("Facebook đang gặp sự cố tạm thời; hệ thống sẽ thử lại.", **common)
    return Rejected(f"Facebook từ chối yêu cầu: {text or 'không rõ lý do'}.", **common)


def _invalid_parameter_reason(sub: int | None, text: str) -> str:
    if sub == 1366046:
        return "Facebook từ chối ảnh: ảnh quá lớn (nên dưới 4 MB) hoặc sai định dạng (chỉ nhận JPG/PNG)."
    if sub == 1366051:
        return "Facebook từ chối vì ảnh này đã được đăng trước đó."
    if sub == 33:
        return "Không tìm thấy Trang hoặc đối tượng trên Facebook, hoặc kênh không có quyền truy cập."
    lowered = text.lower()
    if "too long" in lowered or "length" in lowered:
        return "Nội dung bài quá dài so với giới hạn của Facebook; hãy rút gọn."
    return f"Facebook từ chối vì dữ liệu gửi lên không hợp lệ ({text or 'mã 100'})."


def missing_id(resp: requests.Response, *, creates: bool, raw: str, what: str) -> PlatformError:
    """Error for a success reply that lacks the id we need (platform replies are untrusted)."""
    if creates:
        return OutcomeUnknown(platform=PLATFORM, platform_code="missing_id", raw=raw)
    return RetryLater(f"Facebook trả về phản hồi không hợp lệ khi {what}; hệ thống sẽ thử lại.",
                      platform=PLATFORM, platform_code="missing_id", raw=raw)
