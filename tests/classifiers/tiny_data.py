"""A tiny datasets folder with the shared datasets' layout, from sentences written for these tests.

Training on it takes a second or two, so artifact, manifest and correction tests stay fast.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

SUBJECTS = {
    "tien_luong": ["tiền lương tháng này", "thưởng Tết năm nay", "lương tăng ca"],
    "bhxh": ["sổ bảo hiểm xã hội", "chế độ thai sản", "bảo hiểm y tế"],
    "viec_lam": ["hợp đồng lao động", "đợt cắt giảm nhân sự", "lịch tuyển dụng"],
    "an_toan_lao_dong": ["đồ bảo hộ lao động", "vụ ngộ độc thực phẩm", "máy dập không có che chắn"],
    "doi_song": ["khu nhà trọ công nhân", "xe đưa đón công nhân", "nhóm trẻ cho con công nhân"],
    "hoat_dong_cong_doan": ["đoàn phí công đoàn", "chương trình Tết Sum vầy", "đại hội công đoàn cơ sở"],
    "chinh_sach_phap_luat": ["Bộ luật Lao động", "nghị định mới của Chính phủ", "nghị quyết về đối thoại"],
    "khac": ["trận bóng đá tối qua", "quán phở đầu ngõ", "bộ phim mới chiếu"],
}

FRAMES = {
    ("binh_thuong", "trung_tinh"): ["Cho em hỏi về {s} thì liên hệ ai ạ?", "Ai biết {s} bắt đầu từ khi nào không ạ?"],
    ("binh_thuong", "tich_cuc"): ["Cảm ơn công đoàn đã hỗ trợ {s}, rất chu đáo", "Năm nay {s} tốt hơn hẳn, vui quá"],
    ("buc_xuc", "tieu_cuc"): ["Công ty nợ {s} ba tháng rồi mà không ai giải quyết",
                              "Phản ánh mãi chuyện {s} mà quản lý vẫn làm ngơ, anh em rất bức xúc"],
    ("sai_lech", "tieu_cuc"): ["Chính thức từ tháng sau {s} bị bãi bỏ hoàn toàn, chia sẻ gấp",
                               "Tin nội bộ: nhà nước thu hồi {s} của toàn bộ công nhân, ai không rút sẽ mất hết"],
    ("kich_dong", "tieu_cuc"): ["Anh em kéo nhau đập phá cổng công ty vì {s}, bọn chúng phải trả giá",
                                "Đốt xưởng đi anh em, {s} chỉ là trò lừa, bọn công đoàn ăn bám đừng tin"],
}

VIHSD = {
    0: ["Bộ phim này hay quá xem mãi không chán", "Chúc mừng sinh nhật bạn nhé", "Hôm nay trời đẹp đi dạo thôi",
        "Bài hát này nghe rất thư giãn", "Món ăn ngon quá cảm ơn chị", "Cho mình hỏi mấy giờ mở cửa ạ",
        "Đội mình đá hay lắm", "Ảnh đẹp quá bạn ơi", "Chương trình rất ý nghĩa", "Cảm ơn mọi người đã ủng hộ"],
    1: ["Vãi cả chưởng luôn", "Chán vãi đạn", "Ngu vãi thật sự", "Mệt vãi cả ra", "Đồ điên à",
        "Nhảm nhí vãi", "Xàm vãi luôn ông ơi", "Dở hơi vãi", "Điên vãi chưởng", "Lầy vãi cả lúa"],
    2: ["Thằng khốn nạn này đáng chết", "Lũ súc vật cút khỏi đây", "Bọn mày là đồ rác rưởi",
        "Loại người như mày nên biến đi", "Đồ khốn nạn vô học", "Cả lũ súc vật đáng bị đánh",
        "Thằng mất dạy khốn nạn", "Bọn rác rưởi đáng chết hết", "Con khốn súc vật", "Lũ mất dạy cút đi"],
}

VSFC = {
    "2": ["thầy dạy rất nhiệt tình và dễ hiểu", "cô giảng bài hay", "giáo trình đầy đủ và rõ ràng",
          "thầy rất vui tính", "môn học bổ ích", "cô luôn giúp đỡ sinh viên", "bài giảng sinh động",
          "thầy nhiệt tình hỗ trợ", "phòng thí nghiệm hiện đại", "cô dạy rất tận tâm"],
    "1": ["môn học có ba tín chỉ", "lớp học vào buổi sáng", "thầy dạy môn toán", "học ở phòng a1",
          "môn này học cả năm", "cô dạy lớp tối", "giáo trình bằng tiếng anh", "môn học có bài tập lớn",
          "thầy là giảng viên khoa toán", "lớp có bốn mươi sinh viên"],
    "0": ["phòng học nóng và ồn", "thầy dạy quá nhanh khó hiểu", "máy chiếu hay bị hỏng",
          "cô hay đi trễ", "giáo trình sơ sài", "bài tập quá nhiều", "wifi rất chậm", "thầy giảng khó hiểu",
          "phòng máy cũ và hỏng", "cô không nhiệt tình"],
}

VFND = {
    1: ["Sốc: uống nước chanh mỗi sáng chữa khỏi ung thư trong 3 ngày, bác sĩ không muốn bạn biết",
        "Chính thức: ngân hàng sẽ thu hồi toàn bộ tiền tiết kiệm của người dân từ tháng sau",
        "Phát hiện người ngoài hành tinh hạ cánh xuống cánh đồng ở ngoại thành, chính quyền giấu kín",
        "Tin nóng: xăng sẽ miễn phí cho mọi người từ tuần sau theo quyết định mật",
        "Nhà khoa học xác nhận điện thoại gây mù mắt sau một tuần sử dụng, chia sẻ ngay"],
    0: ["Ủy ban nhân dân tỉnh tổ chức hội nghị tổng kết công tác năm và triển khai nhiệm vụ năm mới",
        "Bộ Y tế khuyến cáo người dân tiêm vắc xin đầy đủ trong mùa dịch cúm",
        "Giá xăng dầu được điều chỉnh giảm nhẹ trong kỳ điều hành chiều nay",
        "Sở Giáo dục công bố lịch thi tuyển sinh lớp 10 năm học mới",
        "Cảng hàng không đón lượng khách tăng cao dịp nghỉ lễ"],
}


def seed_rows() -> list[dict]:
    rows = []
    n = 0
    for (risk, sentiment), frames in FRAMES.items():
        for topic, subjects in SUBJECTS.items():
            for frame in frames:
                for subject in subjects[:2]:
                    n += 1
                    rows.append({"id": f"t-{n:04d}", "text": frame.format(s=subject), "source": "facebook_comment",
                                 "risk": risk, "topic": topic, "sentiment": sentiment})
    return rows


def write_tiny_datasets(root: Path) -> Path:
    """Create the folder layout of /work/shared/datasets under `root` and return `root`."""
    (root / "union-opinion").mkdir(parents=True)
    rows = seed_rows()
    for name, part in (("seed-a.jsonl", rows[::2]), ("seed-b.jsonl", rows[1::2])):
        with open(root / "union-opinion" / name, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in part)
    (root / "vihsd").mkdir()
    for split in ("train", "dev"):
        with open(root / "vihsd" / f"{split}.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["free_text", "label_id"])
            for label, texts in VIHSD.items():
                for t in texts:
                    w.writerow([t if split == "train" else t + " nhé", label])
    for split in ("train", "val"):
        d = root / "uit-vsfc" / split
        d.mkdir(parents=True)
        sents, labels = [], []
        for label, texts in VSFC.items():
            sents += texts
            labels += [label] * len(texts)
        (d / "sents.txt").write_text("\n".join(sents) + "\n", encoding="utf-8")
        (d / "sentiments.txt").write_text("\n".join(labels) + "\n", encoding="utf-8")
        (d / "topics.txt").write_text("\n".join("0" for _ in labels) + "\n", encoding="utf-8")
    (root / "vfnd").mkdir()
    with open(root / "vfnd" / "train.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        for label, texts in VFND.items():
            for t in texts:
                w.writerow([t, label])
    return root
