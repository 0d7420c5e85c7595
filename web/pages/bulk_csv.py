"""Reading a CSV of posts (bulk import): encodings Excel writes, Vietnamese or English headers, the
separator of the person's locale, one row per post. Only parsing lives here; the domain checks each post.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from common.errors import InvalidInput
from domain.scheduling import to_utc

MAX_BYTES = 1024 * 1024
MAX_ROWS = 500
COLUMNS = {  # header (lower case, no accents, no spaces) → field
    "noidung": "text", "text": "text", "content": "text", "baiviet": "text",
    "duongdan": "link", "link": "link", "url": "link", "lienket": "link",
    "kenh": "channels", "kenhdang": "channels", "channels": "channels", "channel": "channels",
    "thoigian": "time", "thoidiem": "time", "lichdang": "time", "ngaygio": "time", "giodang": "time", "time": "time",
    "tieude": "title", "title": "title",
    "chiendich": "campaign", "campaign": "campaign",
}
HEADERS_VI = ["Nội dung", "Đường dẫn", "Kênh", "Thời gian", "Tiêu đề", "Chiến dịch"]
TIME_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %Hh%M", "%d/%m/%Y %Hh", "%d-%m-%Y %H:%M",
                "%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")
NOW_WORDS = {"ngay", "now", "dang ngay"}
SLOT_WORDS = {"", "khung gio trong", "khung trong", "slot", "tu dong"}


def fold(value: str) -> str:
    """Lower case without Vietnamese accents or spaces: 'Thời gian' → 'thoigian'."""
    text = unicodedata.normalize("NFD", value.strip().lower().replace("đ", "d"))
    return "".join(c for c in text if not unicodedata.combining(c) and c.isalnum())


def fold_words(value: str) -> str:
    """Like ``fold`` but keeping single spaces between words."""
    text = unicodedata.normalize("NFD", value.strip().lower().replace("đ", "d"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


@dataclass
class Row:
    """One data row as written in the file."""

    number: int  # the spreadsheet's row number (the header is row 1)
    text: str = ""
    link: str = ""
    channels: str = ""
    time: str = ""
    title: str = ""
    campaign: str = ""


@dataclass
class Parsed:
    """The rows of a file and what was noticed about its layout."""

    rows: list[Row]
    warnings: list[str] = field(default_factory=list)


def decode(data: bytes) -> str:
    """Text of a CSV as Excel and spreadsheets save it (UTF-8 with or without BOM, UTF-16 'Unicode text')."""
    if not data.strip():
        raise InvalidInput("Tệp trống: chưa có dòng nào để nhập.")
    if data[:4] == b"PK\x03\x04":
        raise InvalidInput("Đây là tệp Excel (.xlsx), không phải CSV. Trong Excel hãy chọn Tệp → Lưu thành → "
                           "\"CSV UTF-8 (phân tách bằng dấu phẩy)\" rồi tải tệp đó lên.")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InvalidInput("Tệp không đọc được (mã hoá UTF-16 bị lỗi).") from exc
    else:
        if b"\x00" in data[:8192]:
            raise InvalidInput("Tệp không phải CSV dạng văn bản (có vẻ là tệp nhị phân).")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInput("Tệp không ở mã UTF-8 nên tiếng Việt sẽ bị lỗi font. Trong Excel hãy lưu bằng "
                               "\"CSV UTF-8 (phân tách bằng dấu phẩy)\"; trong Google Sheets chọn Tải xuống → CSV.") \
                from exc
    if "\x00" in text:
        raise InvalidInput("Tệp có ký tự không hợp lệ (NUL); hãy lưu lại thành CSV UTF-8.")
    return unicodedata.normalize("NFC", text)


def _header_map(cells: list[str]) -> dict[int, str]:
    found = {}
    for i, cell in enumerate(cells):
        name = COLUMNS.get(fold(cell))
        if name and name not in found.values():
            found[i] = name
    return found


def parse(data: bytes) -> Parsed:
    """Rows of a CSV file of posts; a file that cannot be read raises InvalidInput with the reason."""
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"Tệp nặng {len(data) / 1048576:.1f} MB, vượt giới hạn {MAX_BYTES // 1048576} MB; "
                           f"hãy chia thành nhiều tệp nhỏ hơn.")
    text = decode(data)
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    best: tuple[int, str] = (0, ",")
    for sep in (",", ";", "\t"):
        cells = next(csv.reader([first_line], delimiter=sep), [])
        score = len(_header_map(cells))
        if score > best[0]:
            best = (score, sep)
    if best[0] == 0 or "text" not in _header_map(next(csv.reader([first_line], delimiter=best[1]), [])).values():
        raise InvalidInput("Không tìm thấy dòng tiêu đề với cột \"Nội dung\". Dòng đầu tiên của tệp cần có các cột: "
                           + ", ".join(HEADERS_VI) + " (hãy dùng tệp mẫu).")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=best[1], strict=True)
    rows: list[Row] = []
    warnings: list[str] = []
    try:
        header, number = next(reader), 1
        while not any(c.strip() for c in header):
            header, number = next(reader), number + 1
        columns = _header_map(header)
        unused = [c.strip() for i, c in enumerate(header) if i not in columns and c.strip()]
        if unused:
            warnings.append("Bỏ qua các cột không dùng: " + ", ".join(f"\"{c[:40]}\"" for c in unused[:8]) + ".")
        for cells in reader:
            number += 1
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise InvalidInput(f"Tệp có hơn {MAX_ROWS} dòng bài viết; mỗi lần chỉ nhập tối đa {MAX_ROWS} dòng.")
            row = Row(number=number)
            for i, name in columns.items():
                if i < len(cells):
                    setattr(row, name, cells[i] if name == "text" else " ".join(cells[i].split()))
            rows.append(row)
    except csv.Error as exc:
        raise InvalidInput(f"Tệp CSV bị lỗi định dạng ở dòng {reader.line_num}: có dấu ngoặc kép \" chưa đóng "
                           "hoặc ký tự lạ.") from exc
    except StopIteration:
        pass
    if not rows:
        raise InvalidInput("Tệp chỉ có dòng tiêu đề, chưa có bài nào.")
    return Parsed(rows, warnings)


def parse_time(value: str) -> tuple[str, datetime | None]:
    """('now' | 'slot' | 'exact', UTC time) for a time cell: '04/05/2027 07:30' (Hà Nội), ISO, 'ngay' or empty."""
    words = fold_words(value)
    if words in NOW_WORDS:
        return "now", None
    if words in SLOT_WORDS:
        return "slot", None
    text = re.sub(r"\s+", " ", value.strip())
    for fmt in TIME_FORMATS:
        try:
            return "exact", to_utc(datetime.strptime(text, fmt))
        except ValueError:
            continue
    try:
        return "exact", to_utc(datetime.fromisoformat(text))  # with an offset, e.g. 2027-05-04T07:30+07:00
    except (ValueError, InvalidInput):
        pass
    raise InvalidInput(f"Thời gian \"{value[:40]}\" không hợp lệ: cần dạng ngày/tháng/năm giờ:phút, "
                       "ví dụ 04/05/2027 07:30 (giờ Hà Nội), hoặc để trống để dùng khung giờ trống kế tiếp.")


def template_csv(example_channels: list[str]) -> bytes:
    """The downloadable template: Vietnamese headers and two example rows, UTF-8 with BOM for Excel."""
    channels = ";".join(example_channels[:2]) or "Trang Facebook LĐLĐ tỉnh;Zalo OA LĐLĐ tỉnh"
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS_VI)
    writer.writerow([
        "Hưởng ứng Tháng Công nhân năm 2027, Công đoàn tỉnh tổ chức chuỗi hoạt động chăm lo đời sống, "
        "đối thoại với đoàn viên, người lao động tại các khu công nghiệp.\nMời đoàn viên theo dõi và tham gia!",
        "https://congdoan.vn/thang-cong-nhan-2027", channels, "04/05/2027 07:30",
        "Khởi động Tháng Công nhân 2027", "Tháng Công nhân 2027"])
    writer.writerow([
        "Nhắc lịch: Hội thao công nhân viên chức lao động diễn ra sáng Chủ nhật tại Nhà văn hoá Lao động.",
        "", example_channels[0] if example_channels else "Trang Facebook LĐLĐ tỉnh", "", "", ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
