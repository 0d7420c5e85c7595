"""Vietnamese names of the states, roles and labels shown in the web app."""

from __future__ import annotations

from classifiers.labels import HEAD_NAMES_VI, LABEL_NAMES_VI

ROLE_VI = {"admin": "Quản trị", "editor": "Biên tập", "approver": "Duyệt bài", "monitor": "Theo dõi dư luận",
           "viewer": "Xem"}
ORG_KIND_VI = {"tinh": "LĐLĐ tỉnh/thành phố", "huyen": "LĐLĐ quận/huyện", "nganh": "Công đoàn ngành",
               "co_so": "Công đoàn cơ sở"}
PLATFORM_VI = {"facebook_page": "Trang Facebook", "zalo_oa": "Zalo OA"}
CHANNEL_STATUS_VI = {"active": "Đang hoạt động", "needs_reauth": "Cần kết nối lại", "disabled": "Đã tắt"}
POST_STATUS_VI = {"draft": "Nháp", "pending_approval": "Chờ duyệt", "approved": "Đã duyệt", "rejected": "Bị từ chối",
                  "scheduled": "Đã lên lịch", "publishing": "Đang đăng", "published": "Đã đăng", "failed": "Lỗi",
                  "cancelled": "Đã huỷ"}
TARGET_STATUS_VI = {"pending": "Chờ duyệt", "scheduled": "Đã lên lịch", "publishing": "Đang đăng",
                    "published": "Đã đăng", "failed": "Lỗi", "unknown": "Chưa rõ (cần kiểm tra)",
                    "cancelled": "Đã huỷ"}
SCHEDULE_KIND_VI = {"now": "Đăng ngay", "exact": "Đúng giờ", "slot": "Khung giờ trống kế tiếp",
                    "recurring": "Định kỳ"}
REVIEW_STATUS_VI = {"new": "Mới", "confirmed": "Đã xác nhận", "dismissed": "Bỏ qua", "escalated": "Đã báo cáo lên"}
SOURCE_VI = {"facebook_comment": "Bình luận Facebook", "facebook_post": "Bài đăng Facebook",
             "zalo_message": "Tin nhắn Zalo", "news_article": "Báo chí / RSS"}
REPLY_STATUS_VI = {"pending_approval": "Chờ duyệt", "approved": "Đã duyệt, chờ gửi", "rejected": "Bị từ chối",
                   "sending": "Đang gửi", "sent": "Đã gửi", "failed": "Lỗi"}
WEEKDAYS_VI = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"]

TABLES = {
    "role": ROLE_VI, "org_kind": ORG_KIND_VI, "platform": PLATFORM_VI, "channel_status": CHANNEL_STATUS_VI,
    "post_status": POST_STATUS_VI, "target_status": TARGET_STATUS_VI, "schedule_kind": SCHEDULE_KIND_VI,
    "review_status": REVIEW_STATUS_VI, "source": SOURCE_VI, "reply_status": REPLY_STATUS_VI,
    "label": LABEL_NAMES_VI, "head": HEAD_NAMES_VI,
}


def vi(value: object, table: str) -> str:
    """The Vietnamese name of an enum value or slug (the raw value when unknown)."""
    key = getattr(value, "value", value)
    if key is None:
        return "—"
    return TABLES[table].get(str(key), str(key))
