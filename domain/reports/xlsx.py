"""The report as an Excel workbook (openpyxl): one sheet per table, native Excel charts on the monthly sheets."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from domain.digest.data import PLATFORM_VI, RISK_VI, RISKS
from domain.reports.data import ReportData
from domain.targets import MET, NOT_MET, STATUS_VI

HEADER_FILL = PatternFill("solid", fgColor="0B3D91")
HEADER_FONT = Font(bold=True, color="FFFFFF")
STATUS_FILL = {MET: PatternFill("solid", fgColor="D1F0D8"), NOT_MET: PatternFill("solid", fgColor="FAD4D4")}
NO_FILL = PatternFill("solid", fgColor="EAEEF2")


def _table(ws, top: int, headers: list[str], rows: list[list], widths: list[int] | None = None) -> int:  # noqa: ANN001
    """Write a header row and rows from row ``top``; returns the next free row."""
    for col, h in enumerate(headers, 1):
        cell = ws.cell(row=top, column=col, value=h)
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for r, row in enumerate(rows, top + 1):
        for c, value in enumerate(row, 1):
            cell = ws.cell(row=r, column=c, value=value)
            cell.alignment = Alignment(wrap_text=isinstance(value, str), vertical="top")
    for col, width in enumerate(widths or [], 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=top + 1, column=1)
    return top + 1 + len(rows)


def _title(ws, data: ReportData, title: str) -> int:  # noqa: ANN001
    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = f"{data.org_name} · kỳ {data.period.title_vi}"
    return 4


def _bar_chart(ws, title: str, y_title: str, first_row: int, last_row: int,  # noqa: ANN001
               first_col: int, last_col: int, anchor: str) -> None:
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
    chart.title, chart.y_axis.title = title, y_title
    chart.height, chart.width = 8, 18
    data = Reference(ws, min_col=first_col, max_col=last_col, min_row=first_row - 1, max_row=last_row)
    cats = Reference(ws, min_col=1, min_row=first_row, max_row=last_row)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(cats)
    ws.add_chart(chart, anchor)


def write_xlsx(data: ReportData, path: Path | BinaryIO) -> Path | BinaryIO:
    """Write the workbook to ``path`` (a file name or a binary file object)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Tổng hợp"
    row = _title(ws, data, "BÁO CÁO CÔNG TÁC TRUYỀN THÔNG VÀ NẮM BẮT DƯ LUẬN")
    _table(ws, row, ["Nội dung", "Số liệu"], [[k, "—" if v is None else v] for k, v in data.summary_items()],
           [60, 28])

    ws = wb.create_sheet("Chỉ tiêu")
    row = _title(ws, data, "KẾT QUẢ THỰC HIỆN CHỈ TIÊU")
    rows = [[i, t.title, t.period.title_vi, t.target_vi, t.actual if t.actual is not None else "—", t.unit,
             STATUS_VI[t.status], t.detail] for i, t in enumerate(data.targets, 1)]
    end = _table(ws, row, ["STT", "Chỉ tiêu", "Kỳ", "Mức chỉ tiêu", "Đạt được", "Đơn vị tính", "Trạng thái",
                           "Ghi chú"], rows, [5, 50, 24, 16, 12, 12, 16, 60])
    for r, t in zip(range(row + 1, end), data.targets, strict=True):
        ws.cell(row=r, column=7).fill = STATUS_FILL.get(t.status, NO_FILL)

    ws = wb.create_sheet("Bài theo kênh")
    row = _title(ws, data, "BÀI ĐĂNG THEO KÊNH")
    _table(ws, row, ["Kênh", "Đơn vị", "Nền tảng", "Lượt đăng", "Bình quân bài/tuần", "Lượt xem", "Tương tác"],
           [[c.name, c.org_name, c.platform, c.publications, c.per_week, c.views, c.engagement]
            for c in data.channels], [40, 36, 12, 12, 18, 12, 12])

    ws = wb.create_sheet("Theo tháng")
    row = _title(ws, data, "LƯỢT ĐĂNG THEO THÁNG")
    platforms = list(data.publications_by_month)
    rows = [[m, *(data.publications_by_month[p][i] for p in platforms),
             sum(data.publications_by_month[p][i] for p in platforms)] for i, m in enumerate(data.months)]
    end = _table(ws, row, ["Tháng", *(PLATFORM_VI[p] for p in platforms), "Tổng"], rows, [12, 14, 14, 12])
    if rows:
        _bar_chart(ws, "Lượt đăng theo tháng", "Lượt đăng", row + 1, end - 1, 2, 1 + len(platforms), "F4")

    ws = wb.create_sheet("Thông tin cần chú ý")
    row = _title(ws, data, "THÔNG TIN CẦN CHÚ Ý THEO THÁNG VÀ MỨC RỦI RO")
    rows = [[m, *(data.flagged_by_month[r][i] for r in RISKS), sum(data.flagged_by_month[r][i] for r in RISKS)]
            for i, m in enumerate(data.months)]
    end = _table(ws, row, ["Tháng", *(RISK_VI[r] for r in RISKS), "Tổng"], rows, [12, 20, 20, 20, 10])
    if rows:
        _bar_chart(ws, "Thông tin cần chú ý theo tháng", "Số mục", row + 1, end - 1, 2, 1 + len(RISKS), "G4")

    if data.units:
        ws = wb.create_sheet("Đơn vị trực thuộc")
        row = _title(ws, data, "THEO ĐƠN VỊ TRỰC THUỘC")
        _table(ws, row, ["Đơn vị", "Lượt đăng", "Lượt xem", "Thông tin cần chú ý", "Phản ánh còn mở",
                         "Kênh hoạt động", "CĐCS có kênh", "Tổng số CĐCS"],
               [[u.name, u.publications, u.views, u.flagged, u.grievances_open, u.channels_active,
                 u.cdcs_with_channel, u.cdcs_total] for u in data.units], [40, 12, 12, 18, 16, 14, 14, 14])

    ws = wb.create_sheet("Chiến dịch")
    row = _title(ws, data, "THEO CHIẾN DỊCH TRUYỀN THÔNG")
    _table(ws, row, ["Chiến dịch", "Lượt đăng", "Lượt xem", "Tương tác"],
           [[c.name, c.publications, c.views, c.engagement] for c in data.campaigns], [44, 12, 12, 12])

    ws = wb.create_sheet("Bài nổi bật")
    row = _title(ws, data, "BÀI ĐƯỢC QUAN TÂM NHẤT")
    _table(ws, row, ["Bài", "Kênh", "Nền tảng", "Ngày đăng", "Lượt xem", "Cảm xúc", "Bình luận", "Chia sẻ",
                     "Tương tác", "Liên kết"],
           [[p.excerpt, p.channel, p.platform, p.published, p.views, p.reactions, p.comments, p.shares, p.engagement,
             p.url] for p in data.top_posts], [60, 30, 10, 12, 10, 10, 10, 10, 10, 40])
    wb.save(path)
    return path
