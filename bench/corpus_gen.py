"""Deterministic synthetic stream of worker chatter for the hot-topic benchmark.

All sentences and templates below were written for this benchmark (nothing is taken from
/work/shared/datasets); companies are invented, industrial parks (KCN) and provinces are real
place names. ``generate(seed)`` returns the same stream for the same seed:

* background chatter across the eight taxonomy topics: ~110 templates with slot fillers
  (companies with a Zipf popularity, their KCN and province, districts, amounts, names),
  openers/closers, chat spellings ("cty", "ko"), some lowercase or unaccented text, and short
  reply threads (a post with a few comments naming the same company/KCN);
* a daily cycle in Vietnam time (quiet 0–5 h, busy at lunch, busiest 18–22 h) and a weekly one
  (weekends quieter);
* three routine daily events that a desk does not call hot (lunch menus ~11:00, the union's
  legal-advice livestream ~20:00, the morning shift bus ~5:30), ± 10 min and ± 20 % in size;
* five injected bursts with known onsets (days 2–6), each ramping up linearly over 10–60
  minutes, holding a plateau and decaying, written as paraphrases and near-duplicate shares;
* two decoys a reasonable desk would not call hot: a 6-hour +80 % drift of everyday
  "thưởng Tết" talk (a mood, not a story), and a trickle of 14 posts in 100 minutes about a
  power cut at one KCN (below ~1 post per 5 minutes: not hot). Reporting either is a false
  alert, as is reporting a routine daily event or chatter.

Each item records ``truth`` ("burst:B1".."burst:B5", "decoy:D1", "event:E2", or None) and an
``arrived_at`` a little after ``created_at`` (70 % within a minute, 5 % 3–8 minutes late), so
the replay is out of order the way collectors deliver it.
"""

from __future__ import annotations

import bisect
import math
import random
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

VN = timedelta(hours=7)  # Asia/Ho_Chi_Minh, no DST
DEFAULT_START = datetime(2025, 3, 2, 17, 0, tzinfo=UTC)  # Monday 3 March 2025, 00:00 in Vietnam
HOURLY = [0.25, 0.18, 0.15, 0.15, 0.2, 0.35, 0.6, 0.8, 0.85, 0.8, 0.85, 1.4,
          1.6, 1.0, 0.8, 0.8, 0.9, 1.2, 1.6, 1.9, 2.2, 2.1, 1.6, 0.8]  # by local hour
WEEKDAY = [1.0, 1.0, 1.0, 1.0, 0.95, 0.85, 0.75]  # Monday … Sunday

# ---- slot fillers ------------------------------------------------------------------------------

TRADES = ["Giày Da", "Linh Kiện", "Điện Tử", "May Mặc", "Chế Biến Gỗ", "Thực Phẩm", "Nhựa", "Bao Bì",
          "Cơ Khí", "Dệt May", "Túi Xách", "Đồ Gỗ"]
COMPANY_NAMES = ["Phúc Thịnh", "Sao Mai", "Minh Quang", "Hưng Phát", "An Khang", "Tân Tiến", "Đại Thành",
                 "Việt Hưng", "Bình Minh", "Trường Sơn", "Kim Long", "Hải Âu", "Phú Gia", "Thành Công",
                 "Nam Việt", "Hoàng Long", "Quang Vinh", "Đông Á", "Thiên Phú", "Hòa Thịnh", "Gia Bảo",
                 "Tiến Đạt", "Hồng Phúc", "Vạn Xuân", "Lộc Phát", "Mỹ Hưng", "Song Long", "Tân Phong",
                 "Đức Minh", "Hải Hà", "Phương Nam", "Ánh Dương", "Bảo Ngọc", "Châu Á", "Duy Tân",
                 "Hà Thành", "Khải Hoàn", "Liên Minh", "Ngọc Lan", "Phú Mỹ"]
KCNS = [("Quang Châu", "Bắc Giang"), ("Đình Trám", "Bắc Giang"), ("Mỹ Phước", "Bình Dương"),
        ("Nhơn Trạch", "Đồng Nai"), ("Vân Trung", "Bắc Giang"), ("Yên Phong", "Bắc Ninh"),
        ("Quế Võ", "Bắc Ninh"), ("VSIP", "Bình Dương"), ("Sóng Thần", "Bình Dương"), ("Amata", "Đồng Nai"),
        ("Phú Bài", "Thừa Thiên Huế"), ("Phú Tài", "Bình Định"), ("Nhơn Hội", "Bình Định"),
        ("Đồng Văn", "Hà Nam"), ("Tân Tạo", "TP.HCM"), ("Thăng Long", "Hà Nội"),
        ("Nam Cầu Kiền", "Hải Phòng"), ("Tràng Duệ", "Hải Phòng"), ("Điềm Thụy", "Thái Nguyên"),
        ("Lễ Môn", "Thanh Hóa")]
DISTRICTS = ["Yên Dũng", "Việt Yên", "Lạng Giang", "Tiên Du", "Thuận An", "Bến Cát", "Trảng Bom",
             "Phú Vang", "Tuy Phước", "Duy Tiên", "Thủy Nguyên", "Phổ Yên"]
PEOPLE = ["chị Lan", "anh Tuấn", "chị Hoa", "anh Dũng", "chị Mai", "anh Hùng", "em Thảo", "anh Nam",
          "chị Hương", "cô Bình", "chú Sơn", "em Vy"]
DISHES = ["cá kho", "thịt rang", "trứng chiên", "đậu sốt cà", "gà luộc", "canh chua", "thịt kho trứng"]
VERDICTS = ["ít thịt quá", "ngon hơn hôm qua", "nguội hết rồi", "được thêm tráng miệng", "hơi mặn"]
LAW_QUESTIONS = ["hợp đồng thử việc", "nghỉ thai sản", "tăng ca", "trợ cấp thôi việc", "kỷ luật sa thải",
                 "lương làm đêm", "nghỉ phép năm"]
ORG_COUNT = 12

# ---- background templates by taxonomy topic ------------------------------------------------------

BACKGROUND: dict[str, list[str]] = {
    "tien_luong": [
        "{cty} chậm lương {thang} tháng rồi, anh em sống sao nổi",
        "Cho em hỏi lương tối thiểu vùng năm nay ở {tinh} là bao nhiêu",
        "Tăng ca mà {cty} tính lương thấp hơn quy định, vậy có đúng không",
        "Thưởng Tết năm nay ở {cty} được {tien}, bên {kcn} mọi người được bao nhiêu",
        "Lương tháng này về trễ mấy ngày, cả phòng trọ phải ăn mì gói",
        "Làm ở {kcn} lương cơ bản {tien} có đủ sống không các bác",
        "Phụ cấp chuyên cần bị trừ hết vì nghỉ ốm một ngày, buồn ghê",
        "Mong công đoàn đề xuất tăng lương cho công nhân may mặc",
        "Bảng lương ghi tăng ca {gio} giờ mà thực nhận thiếu, hỏi phòng nhân sự thì không ai trả lời",
        "{cty} vừa điều chỉnh lương từ tháng này, anh em ai nhận rồi chưa",
        "Lương thử việc bằng bao nhiêu phần trăm lương chính thức vậy",
        "Nhận lương qua thẻ ngân hàng mà rút ở cây gần {kcn} toàn hết tiền",
        "Làm chủ nhật có được tính gấp đôi lương không",
        "Tháng này được thưởng năng suất {tien}, cũng đỡ",
    ],
    "bhxh": [
        "Cho hỏi rút BHXH một lần cần những giấy tờ gì",
        "{cty} trừ tiền BHXH mà không đóng, giờ tra thì thấy nợ {thang} tháng",
        "Thẻ BHYT của em hết hạn, công ty bảo đang làm lại",
        "Nghỉ thai sản được hưởng mấy tháng lương vậy mọi người",
        "Tra cứu quá trình đóng bảo hiểm trên ứng dụng VssID kiểu gì",
        "Bảo hiểm thất nghiệp nộp hồ sơ ở {tinh} thì đến đâu",
        "Mẹ em sắp đủ tuổi nghỉ hưu, đóng BHXH tự nguyện thêm có được không",
        "Anh em cân nhắc kỹ trước khi rút BHXH một lần, về già không có lương hưu",
        "Khám bệnh bằng thẻ BHYT ở bệnh viện huyện {huyen} có được thanh toán đủ không",
        "BHXH {tinh} hướng dẫn cài VssID cho công nhân {kcn}",
        "Nghỉ ốm có giấy viện thì BHXH chi trả bao nhiêu phần trăm lương",
        "Luật BHXH sửa đổi thay đổi điều kiện rút một lần thế nào",
        "Lương hưu của bố em tháng này về chậm mấy hôm",
        "Sổ BHXH của em ở công ty cũ chưa chốt, phải làm sao",
    ],
    "viec_lam": [
        "{cty} tuyển {nguoi} công nhân, ai cần việc liên hệ nhé",
        "Hết hợp đồng mà công ty không ký tiếp, có được trợ cấp không",
        "Bị chuyển sang bộ phận khác mà không được báo trước",
        "Ở {kcn} dạo này đơn hàng ít, nhiều xưởng cho nghỉ luân phiên",
        "Tìm việc ca hành chính gần {kcn} cho nữ 35 tuổi",
        "Công ty bắt làm 12 tiếng một ngày, tuần nghỉ có nửa ngày",
        "Nghỉ việc phải báo trước bao nhiêu ngày thì đúng luật",
        "{cty} tạm dừng một dây chuyền, công nhân được trả 70% lương chờ việc",
        "Phiên giao dịch việc làm ở {tinh} tuần này có nhiều doanh nghiệp {kcn}",
        "Hợp đồng thời vụ có phải đóng bảo hiểm không",
        "Làm ở đây {nam} năm rồi mà vẫn hợp đồng ngắn hạn",
        "Ai biết {cty} có nhận lao động lớn tuổi không",
        "Xin nghỉ phép để về quê mà tổ trưởng không ký",
        "Tuần sau {cty} phỏng vấn tuyển thợ, mang theo căn cước nhé",
    ],
    "an_toan_lao_dong": [
        "Xưởng ở {cty} nóng quá, trưa nay có chị bị ngất",
        "Công ty phát khẩu trang rồi mà mùi hóa chất vẫn nặng",
        "Đề nghị kiểm tra hệ thống phòng cháy ở các xưởng trong {kcn}",
        "Máy dập không có che chắn, anh em làm ca đêm sợ lắm",
        "Huấn luyện an toàn lao động ở {cty} chỉ ký giấy cho có",
        "Bếp ăn ở {kcn} có được kiểm tra vệ sinh thường xuyên không",
        "Bị tai nạn lao động thì công ty phải chi trả những khoản gì",
        "Xưởng không có quạt, công nhân phải tự mang quạt mini",
        "Công đoàn {cty} vừa tổ chức diễn tập phòng cháy chữa cháy",
        "Đi làm về đau lưng suốt vì đứng cả ca",
        "Có ai biết sơ cứu khi bị ngộ độc thực phẩm thế nào không",
        "Xe nâng trong kho chạy ẩu, hôm qua suýt va vào người",
    ],
    "doi_song": [
        "Giá phòng trọ gần {kcn} tăng lên {tien} một tháng rồi",
        "Con nhỏ không có chỗ gửi, vợ chồng làm hai ca xoay không kịp",
        "Tiền điện nhà trọ tính 4 nghìn một số, có ai giống không",
        "Chợ gần {kcn} rau thịt đắt quá",
        "Tết này không biết có được về quê không, vé xe đắt quá",
        "Nhà trọ ở {tinh} mùa mưa ngập hết, khổ anh em công nhân",
        "Ai ở {kcn} có nhóm đi chung xe về {tinh} không",
        "Cuối tháng chỉ còn vài trăm nghìn, không dám ốm",
        "Lương tăng chẳng bao nhiêu mà giá cả tăng hết",
        "Trường mầm non cho con công nhân ở {kcn} còn nhận không",
        "Mong có thêm nhà ở xã hội cho công nhân ở {tinh}",
        "Phòng trọ chật, mùa nóng ngủ không nổi",
        "Gửi tiền về quê cho bố mẹ xong là hết sạch",
    ],
    "hoat_dong_cong_doan": [
        "Công đoàn {cty} tổ chức khám sức khỏe miễn phí cho đoàn viên",
        "Chương trình Tết Sum vầy năm nay ở {tinh} có đăng ký online không",
        "Cảm ơn công đoàn đã hỗ trợ gia đình em lúc khó khăn",
        "Đoàn phí công đoàn đóng bao nhiêu một tháng vậy mọi người",
        "Tháng Công nhân năm nay LĐLĐ {tinh} có nhiều hoạt động cho công nhân {kcn}",
        "Giải bóng đá công nhân {kcn} vào vòng bán kết rồi",
        "Công đoàn cơ sở bên em vừa đại hội nhiệm kỳ mới",
        "Muốn gia nhập công đoàn thì làm thủ tục thế nào",
        "Siêu thị Công đoàn ở {kcn} giảm giá cho đoàn viên",
        "Chuyến xe Công đoàn đưa công nhân về quê ăn Tết đăng ký ở đâu",
        "Công đoàn đã vào cuộc giúp anh em {cty} nhận đủ lương",
        "Công đoàn {kcn} thăm hỏi công nhân bị ốm nằm viện",
        "Hội thi an toàn vệ sinh viên của LĐLĐ huyện {huyen} năm nay đông vui",
    ],
    "chinh_sach_phap_luat": [
        "Bộ luật Lao động quy định làm thêm tối đa bao nhiêu giờ một năm",
        "Nghị định mới về lương tối thiểu áp dụng từ khi nào",
        "Nghị quyết 02-NQ/TW nói gì về đổi mới tổ chức công đoàn",
        "Người lao động có quyền đơn phương chấm dứt hợp đồng khi nào",
        "Hòa giải tranh chấp lao động ở {tinh} thì nộp đơn ở đâu",
        "Luật Công đoàn sửa đổi có gì mới cho người lao động",
        "Đối thoại tại nơi làm việc ở {cty} mấy lần một năm là đúng luật",
        "Tuyên truyền pháp luật cho công nhân {kcn} tổ chức vào cuối tuần",
        "Lao động nữ mang thai có được làm ca đêm không theo luật",
        "Thỏa ước lao động tập thể ở {cty} có những quyền lợi gì",
    ],
    "khac": [
        "Ai ở {kcn} cho hỏi đường ra bến xe",
        "Trời {tinh} hôm nay mưa to quá anh em đi làm cẩn thận",
        "Bán xe máy cũ giá rẻ cho anh em công nhân",
        "Tối nay đội tuyển đá, ca đêm có được xem không ta",
        "Có ai nhặt được ví ở cổng {kcn} không",
        "Chúc anh em công nhân một tuần làm việc vui vẻ",
        "Quán cơm bình dân gần {kcn} ngon mà rẻ",
        "Cần tìm bạn ở ghép gần {kcn}",
    ],
}
TOPIC_WEIGHTS = {"tien_luong": 18, "bhxh": 14, "viec_lam": 16, "an_toan_lao_dong": 9, "doi_song": 16,
                 "hoat_dong_cong_doan": 11, "chinh_sach_phap_luat": 7, "khac": 9}
OPENERS = ["", "", "", "", "Mọi người ơi, ", "Cho em hỏi, ", "Ad ơi, ", "Nói thật, ", "Hỏi chút: ", "Chán thật, "]
CLOSERS = ["", "", "", "", " ạ", "!", "...", " huhu", " mọi người ơi", " ai biết chỉ giúp", " 😢", " nhé"]
REPLIES = ["Bên {cty} cũng vậy", "Em cũng làm ở {cty}, đúng như thế", "Ở {kcn} cũng thế thôi",
           "Báo công đoàn đi bạn", "Hóng thêm thông tin", "Thật không vậy", "Tội anh em quá", "Ủng hộ bạn",
           "Chuẩn luôn", "Mình cũng đang thắc mắc", "Inbox mình chỉ cho", "Có ai biết rõ không",
           "{cty} lúc nào chả thế", "Gọi đường dây nóng công đoàn ấy", "Lên {tinh} hỏi trực tiếp cho nhanh"]

# ---- routine daily events: (id, topic, local start hh:mm, minutes, mean size, templates) ---------

EVENTS = [
    ("E1", "doi_song", (11, 0), 45, 25, [
        "Cơm ca trưa nay ở {cty} có {mon}", "Suất cơm ca hôm nay {nhanxet}",
        "Ai ăn cơm ca {kcn} trưa nay chưa, {mon} ngon phết", "Thực đơn cơm ca trưa nay: {mon} với canh rau",
        "Cơm ca hôm nay lại {mon}, ngày nào cũng thế", "Chụp suất cơm ca trưa nay cho mọi người xem nè"]),
    ("E2", "chinh_sach_phap_luat", (20, 0), 60, 45, [
        "Livestream tư vấn pháp luật tối nay hỏi về {hoiluat} được không", "Luật sư ơi cho em hỏi về {hoiluat}",
        "Chương trình tư vấn pháp luật trực tuyến tối nay bổ ích quá",
        "Em xem livestream công đoàn tối nào cũng học được nhiều",
        "Câu hỏi cho livestream: {hoiluat} thì làm sao", "Tối nay livestream có phát lại không, em đi ca"]),
    ("E3", "doi_song", (5, 30), 40, 15, [
        "Xe đưa đón ca sáng tuyến {huyen} hôm nay đến trễ", "Sáng nay xe đưa đón đông quá phải đứng",
        "Xe đưa đón công nhân {kcn} đi sớm quá, lỡ chuyến rồi", "Tài xế xe đưa đón ca sáng chạy ẩu quá"]),
]


@dataclass(frozen=True)
class Burst:
    id: str
    name: str
    topic: str
    onset: datetime
    ramp_min: int
    peak_per_min: float
    plateau_min: int
    decay_min: int


# (id, name, topic, day index, local hh:mm, ramp, peak/min, plateau, decay, templates)
BURSTS = [
    ("B1", "tin đồn BHXH ngừng chi trả", "bhxh", 1, (20, 37), 60, 12, 120, 60, [
        "Nghe nói từ tháng sau BHXH ngừng chi trả lương hưu, có thật không mọi người",
        "Tin nóng: BHXH sắp ngừng chi trả, anh em rút BHXH một lần ngay kẻo mất trắng",
        "Chị em ơi, BHXH ngừng chi trả từ tháng sau, ai chưa rút thì đi rút đi",
        "Có phải quỹ BHXH hết tiền nên sắp ngừng chi trả lương hưu không",
        "Chia sẻ: BHXH thông báo ngừng chi trả các chế độ từ tháng sau!!!",
        "Thấy trên mạng nói quỹ BHXH cạn, sắp ngừng chi trả, lo quá",
        "Xếp hàng ở BHXH huyện {huyen} để rút một lần vì sợ ngừng chi trả, đông khủng khiếp",
        "Đừng tin tin đồn BHXH ngừng chi trả, cơ quan BHXH đã bác bỏ rồi",
        "Ai xác minh giúp tin BHXH ngừng chi trả lương hưu với",
        "Nếu BHXH ngừng chi trả thật thì tiền mình đóng bao năm đi đâu",
        "{ten} bảo BHXH ngừng chi trả từ tháng sau, cả xóm trọ đang hoang mang"]),
    ("B2", "ngừng việc đòi lương ở Phúc Thịnh", "tien_luong", 2, (7, 12), 20, 7, 150, 60, [
        "Hơn {nguoi} công nhân Công ty TNHH Giày Da Phúc Thịnh ngừng việc vì bị nợ lương {thang} tháng",
        "Sáng nay anh em Phúc Thịnh ở KCN Quang Châu đứng trước cổng, không vào xưởng",
        "Cty Phúc Thịnh nợ lương mấy tháng rồi, giờ cả xưởng nghỉ hết",
        "Công nhân Giày Da Phúc Thịnh ngừng việc tập thể đòi lương, công đoàn đâu rồi",
        "Vụ Phúc Thịnh ở Quang Châu, Bắc Giang có ai cập nhật không",
        "LĐLĐ tỉnh Bắc Giang đã xuống làm việc với Công ty TNHH Giày Da Phúc Thịnh",
        "Vợ em làm ở Phúc Thịnh, công ty hứa cuối tuần trả lương mà không ai tin",
        "Clip công nhân KCN Quang Châu ngừng việc trước cổng Phúc Thịnh đang lan khắp nơi",
        "Chủ Phúc Thịnh bỏ trốn hay sao mà nợ lương lâu vậy",
        "Ủng hộ anh em Phúc Thịnh đòi lương, nợ {thang} tháng ai chịu nổi"]),
    ("B3", "ngộ độc thực phẩm ở KCN Đình Trám", "an_toan_lao_dong", 3, (1, 33), 10, 6, 90, 45, [
        "Hàng chục công nhân ca đêm ở KCN Đình Trám nhập viện nghi ngộ độc thực phẩm",
        "Ăn bữa ca đêm xong cả chục người nôn ói, xe cấp cứu vào KCN Đình Trám liên tục",
        "Ngộ độc thực phẩm ở Đình Trám, người nhà công nhân đang lên bệnh viện",
        "Công ty TNHH Linh Kiện Sao Mai ở KCN Đình Trám có bao nhiêu người bị ngộ độc vậy",
        "Bếp ăn ca đêm ở Sao Mai phải kiểm tra ngay, {nguoi} người ngộ độc rồi",
        "Em vừa ở viện ra, đau bụng cả đêm sau suất ăn ca đêm ở Sao Mai",
        "Trung tâm y tế Việt Yên đang cấp cứu công nhân Đình Trám bị ngộ độc",
        "Cầu mong anh em Sao Mai bị ngộ độc mau khỏe",
        "Vụ ngộ độc ở KCN Đình Trám, Bắc Giang đêm nay nghe nói do suất ăn ca đêm"]),
    ("B4", "Minh Quang cắt giảm lao động", "viec_lam", 4, (14, 22), 30, 5, 240, 90, [
        "Công ty TNHH Điện Tử Minh Quang thông báo cắt giảm {nguoi} lao động từ tháng sau",
        "Minh Quang cắt giảm hơn nghìn người, anh em KCN Mỹ Phước lo mất việc",
        "Danh sách cắt giảm ở Minh Quang có cả người làm mười năm, buồn quá",
        "Bị cắt giảm ở Minh Quang thì được trợ cấp mất việc thế nào",
        "Nghe nói Điện Tử Minh Quang mất đơn hàng nên cắt giảm hàng loạt",
        "Công đoàn Minh Quang có được tham gia phương án cắt giảm lao động không",
        "Bình Dương lại thêm công ty cắt giảm lao động, lần này là Minh Quang ở Mỹ Phước",
        "{ten} vừa nhận quyết định cắt giảm ở Minh Quang, giờ không biết xin việc ở đâu"]),
    ("B5", "đêm gala công nhân Nhơn Trạch gây sốt", "hoat_dong_cong_doan", 5, (19, 48), 45, 5, 90, 60, [
        "Clip chủ tịch công đoàn KCN Nhơn Trạch hát tặng công nhân trong đêm gala đang gây sốt",
        "Đêm gala công nhân ở Nhơn Trạch vui quá, ai có clip không",
        "Xem clip gala công nhân Nhơn Trạch mà rớt nước mắt",
        "Công đoàn Đồng Nai làm đêm gala cho công nhân Nhơn Trạch hay thật",
        "Năm sau công đoàn KCN Nhơn Trạch có tổ chức gala nữa không",
        "Chia sẻ clip: chủ tịch công đoàn hát giữa đêm gala công nhân Nhơn Trạch",
        "Công nhân Nhơn Trạch được bốc thăm trúng xe máy ở đêm gala",
        "{ten} lên sân khấu gala Nhơn Trạch hát cùng chủ tịch công đoàn, dễ thương ghê"]),
]
SHARE_PREFIXES = ["", "", "", "Chia sẻ: ", "Nóng: ", "Mọi người ơi, ", "Thật không: ", "Ai biết không, "]
SHARE_SUFFIXES = ["", "", "", " !!!", " ...", " 😡", " 😢", " mọi người ơi", " trời ơi", " share cho mọi người biết"]

# (id, topic, day index, local hh:mm, minutes, drift (× the background rate) or size, templates)
DECOY_DRIFT = ("D1", "tien_luong", 3, (17, 0), 360, 0.8, [
    "Thưởng Tết năm nay ở {cty} được {tien}, bên {kcn} mọi người được bao nhiêu",
    "{cty} chưa công bố thưởng Tết, anh em sốt ruột",
    "Thưởng Tết năm nay chắc chỉ được nửa tháng lương"])
DECOY_TRICKLE = ("D2", "an_toan_lao_dong", 5, (9, 10), 100, 14, [
    "KCN Yên Phong mất điện từ sáng, xưởng nghỉ hết", "Mất điện ở KCN Yên Phong có được tính lương không",
    "Bên Yên Phong mất điện lâu vậy, ai biết bao giờ có lại", "Mất điện nóng quá, anh em KCN Yên Phong ra sân ngồi"])


@dataclass(frozen=True, slots=True)
class StreamItem:
    id: int
    text: str
    created_at: datetime
    arrived_at: datetime
    topic: str
    org_id: int
    truth: str | None  # "burst:B1", "decoy:D1", "event:E1" or None for chatter


@dataclass(frozen=True)
class Stream:
    start: datetime
    days: int
    items: list[StreamItem]  # in arrival order
    bursts: list[Burst]


class _Slots(dict):
    """Slot values drawn on first use, so a template's slots agree (the company's own KCN)."""

    def __init__(self, gen: _Generator, **fixed: str) -> None:
        super().__init__(fixed)
        self.gen = gen

    def __missing__(self, name: str) -> str:
        g, rng = self.gen, self.gen.rng
        if name in ("cty", "kcn", "tinh"):  # all three at once: the company's own KCN and province
            index = g.pick_company()
            park, province = KCNS[index % len(KCNS)]
            self.setdefault("cty", g.company_mention(index))
            self.setdefault("kcn", rng.choice([f"KCN {park}"] * 3 + [f"khu công nghiệp {park}"]))
            self.setdefault("tinh", province)
            return self[name]
        value = {
            "huyen": lambda: rng.choice(DISTRICTS),
            "tien": lambda: f"{rng.choice([3, 3.5, 4, 4.5, 5, 5.5, 6, 7, 8])} triệu".replace(".", ","),
            "thang": lambda: str(rng.randint(1, 4)),
            "nguoi": lambda: rng.choice(["50", "hai trăm", "300", "500", "nghìn", "1.200", "2.000"]),
            "gio": lambda: str(rng.randint(20, 60)),
            "nam": lambda: str(rng.randint(2, 12)),
            "ten": lambda: rng.choice(PEOPLE).capitalize(),
            "mon": lambda: rng.choice(DISHES),
            "nhanxet": lambda: rng.choice(VERDICTS),
            "hoiluat": lambda: rng.choice(LAW_QUESTIONS),
        }[name]()
        self[name] = value
        return value


class _Generator:
    def __init__(self, seed: int, start: datetime, days: int) -> None:
        self.rng = random.Random(seed)
        self.start, self.days = start, days
        self.items: list[tuple[datetime, str, str, str | None, str]] = []  # at, text, topic, truth, tinh
        popularity = [1 / (rank + 1) ** 0.8 for rank in range(len(COMPANY_NAMES))]
        self.company_cum = list(_cumulative(popularity))
        minute_weights = [self.volume(start + timedelta(minutes=m)) for m in range(days * 1440)]
        self.minute_cum = list(_cumulative(minute_weights))
        topics = list(TOPIC_WEIGHTS)
        self.topics, self.topic_cum = topics, list(_cumulative([TOPIC_WEIGHTS[t] for t in topics]))

    @staticmethod
    def volume(at: datetime) -> float:
        local = at + VN
        return HOURLY[local.hour] * WEEKDAY[local.weekday()]

    def local_time(self, day: int, hhmm: tuple[int, int]) -> datetime:
        return self.start + timedelta(days=day, hours=hhmm[0], minutes=hhmm[1])

    def pick_company(self) -> int:
        return bisect.bisect(self.company_cum, self.rng.random() * self.company_cum[-1])

    def company_mention(self, index: int) -> str:
        name, trade = COMPANY_NAMES[index], TRADES[index % len(TRADES)]
        return self.rng.choice([f"Công ty TNHH {trade} {name}"] * 4 + [f"Cty {name}"] * 3
                               + [f"công ty {name}"] * 2 + [f"Cty TNHH {trade} {name}"])

    def render(self, template: str, slots: _Slots, decorate: bool = True) -> str:
        rng = self.rng
        text = template.format_map(slots)
        if decorate:
            text = rng.choice(OPENERS) + text + rng.choice(CLOSERS)
        roll = rng.random()
        if roll < 0.10:
            text = text.replace("công ty", "cty").replace("không", "ko").replace("được", "dc")
        elif roll < 0.22:
            text = text.lower()
        elif roll < 0.25:
            text = _strip_accents(text)
        return text

    def add(self, at: datetime, text: str, topic: str, truth: str | None, slots: _Slots) -> None:
        self.items.append((at, text, topic, truth, slots.get("tinh", "")))

    # -- parts of the stream --

    def routine_events(self) -> None:
        rng = self.rng
        for day in range(self.days):
            for event_id, topic, hhmm, minutes, size, templates in EVENTS:
                begin = self.local_time(day, hhmm) + timedelta(minutes=rng.uniform(-10, 10))
                for _ in range(max(1, round(rng.gauss(size, size * 0.2)))):
                    at = begin + timedelta(minutes=rng.uniform(0, minutes))
                    slots = _Slots(self)
                    self.add(at, self.render(rng.choice(templates), slots), topic, f"event:{event_id}", slots)

    def bursts(self) -> list[Burst]:
        rng, found = self.rng, []
        for bid, name, topic, day, hhmm, ramp, peak, plateau, decay, templates in BURSTS:
            onset = self.local_time(day, hhmm)
            found.append(Burst(bid, name, topic, onset, ramp, peak, plateau, decay))
            minute = 0
            while True:
                if minute < ramp:
                    rate = peak * (minute + 0.5) / ramp
                elif minute < ramp + plateau:
                    rate = peak
                else:
                    rate = peak * math.exp(-(minute - ramp - plateau) / decay)
                if rate < 0.05:
                    break
                for _ in range(_poisson(rng, rate)):
                    slots = _Slots(self)
                    text = self.render(rng.choice(templates), slots, decorate=False)
                    text = rng.choice(SHARE_PREFIXES) + text + rng.choice(SHARE_SUFFIXES)
                    at = onset + timedelta(minutes=minute + rng.random())
                    self.add(at, text, topic, f"burst:{bid}", slots)
                minute += 1
        return found

    def decoys(self, n_background: int) -> None:
        rng = self.rng
        did, topic, day, hhmm, minutes, drift, templates = DECOY_DRIFT
        begin = self.local_time(day, hhmm)
        # The background says "thưởng Tết" in one of its tien_luong templates; add `drift` × that rate.
        theme_share = TOPIC_WEIGHTS[topic] / sum(TOPIC_WEIGHTS.values()) / len(BACKGROUND[topic])
        per_weight = n_background / self.minute_cum[-1]
        for minute in range(minutes):
            at = begin + timedelta(minutes=minute)
            for _ in range(_poisson(rng, drift * theme_share * per_weight * self.volume(at))):
                slots = _Slots(self)
                self.add(at + timedelta(minutes=rng.random()), self.render(rng.choice(templates), slots),
                         topic, f"decoy:{did}", slots)
        did, topic, day, hhmm, minutes, size, templates = DECOY_TRICKLE
        begin = self.local_time(day, hhmm)
        for _ in range(size):
            slots = _Slots(self, tinh="Bắc Ninh")
            at = begin + timedelta(minutes=rng.uniform(0, minutes))
            self.add(at, self.render(rng.choice(templates), slots), topic, f"decoy:{did}", slots)

    def background(self, n_items: int) -> None:
        """Chatter at the daily/weekly volume profile, some posts followed by a short reply thread."""
        rng, end = self.rng, self.start + timedelta(days=self.days)
        made = 0
        while made < n_items:
            minute = bisect.bisect(self.minute_cum, rng.random() * self.minute_cum[-1])
            at = self.start + timedelta(minutes=minute + rng.random())
            topic = self.topics[bisect.bisect(self.topic_cum, rng.random() * self.topic_cum[-1])]
            slots = _Slots(self)
            self.add(at, self.render(rng.choice(BACKGROUND[topic]), slots), topic, None, slots)
            made += 1
            replies = min(n_items - made, rng.choice([1, 2, 3, 4, 6])) if rng.random() < 0.12 else 0
            for _ in range(replies):
                reply_at = at + timedelta(minutes=rng.uniform(1, 45))
                if reply_at < end:
                    self.add(reply_at, self.render(rng.choice(REPLIES), slots), topic, None, slots)
                    made += 1


def generate(seed: int = 1, n_items: int = 100_000, days: int = 7, start: datetime = DEFAULT_START) -> Stream:
    """The benchmark stream: ``n_items`` items over ``days`` (≥ 7: bursts sit on days 2–6)."""
    if days < 7:
        raise ValueError("the injected bursts need at least 7 days")
    gen = _Generator(seed, start, days)
    gen.routine_events()
    bursts = gen.bursts()
    gen.decoys(n_background=n_items - len(gen.items))
    gen.background(n_items - len(gen.items))
    rng = gen.rng
    gen.items.sort(key=lambda row: row[0])
    items = []
    for i, (at, text, topic, truth, province) in enumerate(gen.items, start=1):
        roll = rng.random()
        delay = rng.uniform(0, 60) if roll < 0.7 else rng.uniform(60, 180) if roll < 0.95 else rng.uniform(180, 480)
        org = 1 + sum(map(ord, province)) % ORG_COUNT if province else rng.randint(1, ORG_COUNT)
        items.append(StreamItem(i, text, at, at + timedelta(seconds=delay), topic, org, truth))
    items.sort(key=lambda it: it.arrived_at)
    return Stream(start=start, days=days, items=items, bursts=bursts)


def _cumulative(weights: list[float]):
    total = 0.0
    for w in weights:
        total += w
        yield total


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method (λ here is at most ~15 per minute)."""
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _strip_accents(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(ch for ch in folded if not unicodedata.combining(ch)))
