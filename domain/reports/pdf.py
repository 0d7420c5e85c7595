"""The report as a PDF (reportlab): tables and matplotlib charts, in a font with every Vietnamese glyph.

The font is the DejaVu Sans that matplotlib ships (``matplotlib/mpl-data/fonts/ttf``), so nothing
depends on the machine's fonts; it is embedded (subset) in the PDF.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

import matplotlib
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import Image, LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from domain.charts import Series, chart_book
from domain.digest.data import PLATFORM_VI, RISK_VI, RISKS
from domain.reports.data import ReportData
from domain.scheduling import to_local
from domain.targets import MET, NOT_MET, STATUS_VI, fmt_number

FONT, BOLD = "LoaDejaVuSans", "LoaDejaVuSans-Bold"
STATUS_COLOUR = {MET: colors.HexColor("#1a7f37"), NOT_MET: colors.HexColor("#cf222e")}


@cache
def _fonts() -> None:
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(ttf / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(ttf / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=12.5)
    return {
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=15, leading=19, alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=11, leading=15, alignment=TA_CENTER),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=12, leading=16, spaceBefore=12, spaceAfter=6,
                             keepWithNext=1,
                             textColor=colors.HexColor("#0b3d91")),
        "body": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10, textColor=colors.HexColor("#57606a")),
    }


def _n(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, (int, float)):
        return fmt_number(value)
    return str(value)


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(rows: list[list], widths: list[float], st: dict, *, numeric_from: int = 1) -> LongTable:
    head = ParagraphStyle("head", parent=st["cell"], fontName=BOLD, textColor=colors.white)
    right = ParagraphStyle("right", parent=st["cell"], alignment=TA_RIGHT)

    def cell(i: int, j: int, c: object) -> Paragraph:
        if i == 0:
            return Paragraph(_esc(c), head)
        if isinstance(c, str):
            return Paragraph(_esc(c), st["cell"])
        return Paragraph(_n(c), right if j >= numeric_from else st["cell"])

    body = [[cell(i, j, c) for j, c in enumerate(row)] for i, row in enumerate(rows)]
    t = LongTable(body, colWidths=widths, repeatRows=1)
    t.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#0b3d91")),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#d0d7de")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f8fa")]),
        ("ALIGN", (numeric_from, 1), (-1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return t


def _chart(values: dict[str, list[int]], keys: list[str], labels: dict[str, str], months: list[str]) -> Image | None:
    if not months or not any(any(values[k]) for k in keys):
        return None
    series = tuple(Series(k, labels[k]) for k in keys)
    png = chart_book().stacked(len(months), series, width_in=6.6, height_in=2.3).png(
        [values[k] for k in keys], [m[:2] + "/" + m[5:] for m in months])
    return Image(BytesIO(png), width=17 * cm, height=17 * cm * 2.3 / 6.6)


def _legend(keys: list[str], labels: dict[str, str], st: dict) -> Paragraph:
    from domain.charts import COLOURS

    parts = [f'<font color="{COLOURS.get(k, "#95a5a6")}">■</font> {_esc(labels[k])}' for k in keys]
    return Paragraph("&nbsp;&nbsp;".join(parts), st["small"])


def write_pdf(data: ReportData, path: Path | BinaryIO) -> Path | BinaryIO:
    """Write the PDF to ``path`` (a file name or a binary file object)."""
    _fonts()
    st = _styles()
    gen = to_local(data.generated_at)
    story: list = [
        Paragraph("BÁO CÁO CÔNG TÁC TRUYỀN THÔNG VÀ NẮM BẮT DƯ LUẬN", st["title"]),
        Paragraph(_esc(data.org_name), st["subtitle"]),
        Paragraph(f"Kỳ báo cáo: {data.period.title_vi}", st["subtitle"]),
        Spacer(1, 10),
        Paragraph("I. Số liệu tổng hợp", st["h2"]),
        _table([["Nội dung", "Số liệu"], *[[k, v] for k, v in data.summary_items()]], [12 * cm, 5 * cm], st),
        Paragraph("II. Kết quả thực hiện chỉ tiêu", st["h2"]),
    ]
    if data.targets:
        rows = [["Chỉ tiêu", "Mức", "Đạt được", "Trạng thái", "Ghi chú"]]
        rows += [[t.title, t.target_vi, t.actual_vi, STATUS_VI[t.status], t.detail] for t in data.targets]
        table = _table(rows, [5.6 * cm, 2 * cm, 2 * cm, 2.2 * cm, 5.2 * cm], st, numeric_from=1)
        for i, t in enumerate(data.targets, 1):
            if t.status in STATUS_COLOUR:
                table.setStyle(TableStyle([("BACKGROUND", (3, i), (3, i), STATUS_COLOUR[t.status].clone(alpha=0.18))]))
        story.append(table)
    else:
        story.append(Paragraph("Chưa ghi chỉ tiêu nào cho kỳ này.", st["body"]))

    platforms = list(data.publications_by_month)
    story.append(Paragraph("III. Bài đăng theo tháng và theo kênh", st["h2"]))
    chart = _chart(data.publications_by_month, platforms, PLATFORM_VI, data.months)
    if chart is not None:
        story += [chart, _legend(platforms, PLATFORM_VI, st), Spacer(1, 6)]
    story.append(_table([["Tháng", *(PLATFORM_VI[p] for p in platforms), "Tổng"],
                         *[[m, *(data.publications_by_month[p][i] for p in platforms),
                            sum(data.publications_by_month[p][i] for p in platforms)]
                           for i, m in enumerate(data.months)]], [4 * cm, 4 * cm, 4 * cm, 3 * cm], st))
    story.append(Spacer(1, 8))
    story.append(_table([["Kênh", "Đơn vị", "Lượt đăng", "Bài/tuần", "Lượt xem", "Tương tác"],
                         *[[c.name + f" ({c.platform})", c.org_name, c.publications, c.per_week, c.views, c.engagement]
                           for c in data.channels]],
                        [4.8 * cm, 4.4 * cm, 1.7 * cm, 2 * cm, 2.1 * cm, 2 * cm], st, numeric_from=2))

    story.append(Paragraph("IV. Thông tin cần chú ý", st["h2"]))
    chart = _chart(data.flagged_by_month, list(RISKS), RISK_VI, data.months)
    if chart is not None:
        story += [chart, _legend(list(RISKS), RISK_VI, st), Spacer(1, 6)]
    story.append(_table([["Tháng", *(RISK_VI[r] for r in RISKS), "Tổng"],
                         *[[m, *(data.flagged_by_month[r][i] for r in RISKS),
                            sum(data.flagged_by_month[r][i] for r in RISKS)] for i, m in enumerate(data.months)]],
                        [3 * cm, 4 * cm, 4 * cm, 4 * cm, 2 * cm], st))

    if data.units:
        story.append(Paragraph("V. Theo đơn vị trực thuộc", st["h2"]))
        story.append(_table([["Đơn vị", "Lượt đăng", "Lượt xem", "Cần chú ý", "Phản ánh mở", "CĐCS có kênh"],
                             *[[u.name, u.publications, u.views, u.flagged, u.grievances_open,
                                f"{u.cdcs_with_channel}/{u.cdcs_total}"] for u in data.units]],
                            [6 * cm, 2 * cm, 2.2 * cm, 2.2 * cm, 2.3 * cm, 2.3 * cm], st))
    if data.top_posts:
        story.append(Paragraph("VI. Bài được quan tâm nhất", st["h2"]))
        story.append(_table([["Bài", "Kênh", "Ngày", "Lượt xem", "Tương tác"],
                             *[[p.excerpt, f"{p.channel} ({p.platform})", p.published, p.views, p.engagement]
                               for p in data.top_posts]],
                            [7.6 * cm, 4 * cm, 2 * cm, 1.7 * cm, 1.7 * cm], st, numeric_from=3))
    story += [Spacer(1, 12), Paragraph(f"Lập bằng Loa lúc {gen:%H:%M ngày %d/%m/%Y} (giờ Việt Nam). Lượt xem và tương "
                                       "tác do Facebook, Zalo cung cấp; thông tin cần chú ý do bộ phân loại gắn nhãn "
                                       "và cán bộ theo dõi xác nhận.", st["small"])]

    def footer(canvas, doc) -> None:  # noqa: ANN001
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.HexColor("#57606a"))
        canvas.drawString(2 * cm, 1.2 * cm, f"{data.org_name} · {data.period.title_vi}")
        canvas.drawRightString(A4[0] - 2 * cm, 1.2 * cm, f"Trang {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(path if hasattr(path, "write") else str(path), pagesize=A4, leftMargin=2 * cm,
                            rightMargin=2 * cm, topMargin=1.8 * cm,
                            bottomMargin=2 * cm, title=f"Báo cáo truyền thông {data.org_name} {data.period.title_vi}",
                            author="Loa", lang="vi")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return path
