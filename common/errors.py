"""Error kinds shared by every area of Loa.

Each error carries a Vietnamese message for people (``message_vi``) and the ids it
is about as attributes. None of them knows about HTTP: ``web/errors.py`` maps
classes to status codes in one place.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Root of every error Loa raises on purpose."""

    code = "service_error"
    default_message = "Đã xảy ra lỗi."

    def __init__(self, message_vi: str | None = None, **details: object) -> None:
        self.message_vi = message_vi or self.default_message
        self.details = details
        super().__init__(self.message_vi)


class NotFound(ServiceError):
    """The object does not exist, or the caller may not know that it exists."""

    code = "not_found"
    default_message = "Không tìm thấy đối tượng yêu cầu."


class PermissionDenied(ServiceError):
    """The caller is known but lacks the role needed for this action."""

    code = "permission_denied"
    default_message = "Bạn không có quyền thực hiện thao tác này."


class InvalidInput(ServiceError):
    """The request is malformed or breaks a rule (length, time in the past...)."""

    code = "invalid_input"
    default_message = "Dữ liệu không hợp lệ."


class InvalidState(ServiceError):
    """The action is not allowed in the object's current state (illegal transition)."""

    code = "invalid_state"
    default_message = "Thao tác không hợp lệ ở trạng thái hiện tại."


class Conflict(ServiceError):
    """The action would duplicate something that already exists."""

    code = "conflict"
    default_message = "Dữ liệu bị trùng lặp."


class PlatformError(ServiceError):
    """A failure talking to Facebook or Zalo. Subclasses say what to do about it."""

    code = "platform_error"
    default_message = "Nền tảng trả về lỗi."

    def __init__(
        self,
        message_vi: str | None = None,
        *,
        platform: str | None = None,
        platform_code: int | str | None = None,
        raw: str | None = None,
        **details: object,
    ) -> None:
        super().__init__(message_vi, **details)
        self.platform = platform
        self.platform_code = platform_code
        # Platform bodies are untrusted and can be large: keep at most 2 KB.
        self.raw = raw[:2048] if raw else raw


class RetryLater(PlatformError):
    """The request certainly did not take effect (5xx with an error body, throttling,
    connection refused); it is safe to try again after ``retry_after`` seconds."""

    code = "retry_later"
    default_message = "Nền tảng tạm thời không phản hồi, hệ thống sẽ thử lại."

    def __init__(self, message_vi: str | None = None, *, retry_after: float | None = None,
                 throttled: bool = False, **kwargs: object) -> None:
        super().__init__(message_vi, **kwargs)
        self.retry_after = retry_after
        # True when the platform said "too many calls": the whole channel should pause.
        self.throttled = throttled


class Rejected(PlatformError):
    """The platform refused the content or the request. Never retried automatically."""

    code = "rejected"
    default_message = "Nền tảng từ chối bài đăng."


class AuthExpired(PlatformError):
    """The token is expired, revoked or lacks a permission.

    ``refreshable`` is True when a refresh token may fix it (Zalo -216/-220); otherwise
    an administrator has to reconnect the channel (Facebook 190).
    """

    code = "auth_expired"
    default_message = "Mã truy cập của kênh đã hết hạn hoặc bị thu hồi, cần kết nối lại kênh."

    def __init__(self, message_vi: str | None = None, *, refreshable: bool = False, **kwargs: object) -> None:
        super().__init__(message_vi, **kwargs)
        self.refreshable = refreshable


class OutcomeUnknown(PlatformError):
    """The request may have reached the platform (timeout after sending, a reply lost).

    Never retried blindly: settle it with ``Publisher.find_published`` first.
    """

    code = "outcome_unknown"
    default_message = "Không rõ nền tảng đã nhận bài hay chưa; hệ thống sẽ kiểm tra lại trước khi đăng lại."


class Throttled(ServiceError):
    """Too many attempts in a short time (sign-in guessing); try again later."""

    code = "throttled"
    default_message = "Quá nhiều lần thử. Vui lòng đợi ít phút rồi thử lại."
