"""The label taxonomy (../shared/docs/opinion-taxonomy.md) and toxicity levels (as ViHSD)."""

from __future__ import annotations

RISK_LABELS = ("binh_thuong", "buc_xuc", "sai_lech", "kich_dong")
TOPIC_LABELS = ("tien_luong", "bhxh", "viec_lam", "an_toan_lao_dong", "doi_song", "hoat_dong_cong_doan",
                "chinh_sach_phap_luat", "khac")
SENTIMENT_LABELS = ("tich_cuc", "trung_tinh", "tieu_cuc")
TOXICITY_LABELS = ("clean", "offensive", "hate")
HEADS: dict[str, tuple[str, ...]] = {"risk": RISK_LABELS, "topic": TOPIC_LABELS, "sentiment": SENTIMENT_LABELS,
                                     "toxicity": TOXICITY_LABELS}
# When an item fits several risk labels, the first of these wins.
RISK_PRECEDENCE = ("kich_dong", "sai_lech", "buc_xuc", "binh_thuong")
# Same idea for toxicity when several levels pass their thresholds.
TOXICITY_PRECEDENCE = ("hate", "offensive", "clean")
PRECEDENCE: dict[str, tuple[str, ...]] = {"risk": RISK_PRECEDENCE, "toxicity": TOXICITY_PRECEDENCE}
# The label of each flagging head that needs nobody's attention.
BENIGN = {"risk": "binh_thuong", "toxicity": "clean"}
HEAD_NAMES_VI = {"risk": "Mức rủi ro", "topic": "Chủ đề", "sentiment": "Cảm xúc", "toxicity": "Độc hại"}

LABEL_NAMES_VI = {
    "binh_thuong": "Bình thường", "buc_xuc": "Bức xúc, khiếu nại", "sai_lech": "Thông tin sai lệch",
    "kich_dong": "Kích động, thù địch",
    "tien_luong": "Tiền lương, thưởng", "bhxh": "Bảo hiểm xã hội", "viec_lam": "Việc làm",
    "an_toan_lao_dong": "An toàn lao động", "doi_song": "Đời sống", "hoat_dong_cong_doan": "Hoạt động công đoàn",
    "chinh_sach_phap_luat": "Chính sách, pháp luật", "khac": "Khác",
    "tich_cuc": "Tích cực", "trung_tinh": "Trung tính", "tieu_cuc": "Tiêu cực",
    "clean": "Sạch", "offensive": "Xúc phạm", "hate": "Thù ghét",
}


def is_flagged(risk: str | None) -> bool:
    """Monitors review every item whose risk is not ordinary."""
    return risk is not None and risk != "binh_thuong"
