"""The 6-month report from the seeded data: figures, the Excel workbook (sheets, values, charts) and the PDF
(Vietnamese text extractable, DejaVu embedded)."""

from __future__ import annotations

from datetime import date

from openpyxl import load_workbook
from pypdf import PdfReader

from db.session import session_scope
from domain.periods import Period
from domain.reports import gather_report, write_pdf, write_xlsx
from tests.browser import artifacts_dir
from tests.digest.seed import NOW

H2 = Period(date(2026, 7, 1), date(2026, 12, 31))


def test_report_figures_cover_the_period_and_the_subtree(factory, seeded):
    with session_scope(factory) as s:
        r = gather_report(s, seeded.province, H2, now=NOW)
    assert (r.posts, r.publications, r.publications_by_platform) == (9, 9, {"facebook_page": 7, "zalo_oa": 2})
    assert r.months == ["07/2026", "08/2026", "09/2026", "10/2026", "11/2026", "12/2026"]
    assert r.publications_by_month["facebook_page"] == [0, 0, 5, 2, 0, 0]  # W40 runs 28/09 – 04/10
    assert (r.views, r.engagement) == (seeded.views_week, seeded.engagement_week)
    assert r.flagged_by_risk == {"buc_xuc": 4, "sai_lech": 3, "kich_dong": 1}
    assert (r.grievances_new, r.grievances_open) == (4, 3)  # one of the four was dismissed
    assert (r.cdcs_with_channel, r.cdcs_total, r.channels_active) == (2, 2, 5)
    [district] = r.units
    assert (district.name, district.publications, district.flagged, district.cdcs_with_channel) == (
        "LĐLĐ huyện Đông", 2, 4, 2)
    assert r.top_posts[0].excerpt == seeded.top_text and r.top_posts[0].engagement == 499
    assert {c.name: c.publications for c in r.campaigns}["Tháng Công nhân 2026"] == 2
    assert [t.status for t in r.targets] == ["dat", "chua_dat", "chua_dat", "khong_do_duoc"]


def test_excel_report_has_the_sheets_values_and_charts(factory, seeded, tmp_path):
    with session_scope(factory) as s:
        r = gather_report(s, seeded.province, H2, now=NOW)
    path = write_xlsx(r, artifacts_dir("reports") / "bao-cao-2026-H2.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["Tổng hợp", "Chỉ tiêu", "Bài theo kênh", "Theo tháng", "Thông tin cần chú ý",
                             "Đơn vị trực thuộc", "Chiến dịch", "Bài nổi bật"]
    summary = {row[0]: row[1] for row in wb["Tổng hợp"].iter_rows(min_row=5, values_only=True)}
    assert summary["Số lượt đăng trên các kênh"] == 9 and summary["Lượt xem"] == seeded.views_week
    assert summary["  – Bức xúc, khiếu nại"] == 4
    targets = list(wb["Chỉ tiêu"].iter_rows(min_row=5, values_only=True))
    assert targets[0][1] == "100% CĐCS xây dựng trang Fanpage, Zalo do đơn vị mình quản lý"
    assert [t[6] for t in targets] == ["Đạt", "Chưa đạt", "Chưa đạt", "Không đo được"]
    months = list(wb["Theo tháng"].iter_rows(min_row=5, values_only=True))
    assert months[2] == ("09/2026", 5, 1, 6) and months[3] == ("10/2026", 2, 1, 3)
    assert len(wb["Theo tháng"]._charts) == 1 and len(wb["Thông tin cần chú ý"]._charts) == 1


def test_pdf_report_is_readable_vietnamese(factory, seeded):
    with session_scope(factory) as s:
        r = gather_report(s, seeded.province, H2, now=NOW)
    path = write_pdf(r, artifacts_dir("reports") / "bao-cao-2026-H2.pdf")
    pdf = PdfReader(path)
    text = " ".join(" ".join(page.extract_text().split()) for page in pdf.pages)
    assert "BÁO CÁO CÔNG TÁC TRUYỀN THÔNG" in text and "LĐLĐ tỉnh Thử Nghiệm" in text
    assert "Kết quả thực hiện chỉ tiêu" in text and "Chưa đạt" in text and "Không đo được" in text
    assert "Công đoàn tỉnh trao 500 suất quà" in text
    fonts = {str(f["/BaseFont"]) for page in pdf.pages for f in page["/Resources"]["/Font"].values()}
    assert any("DejaVuSans" in f for f in fonts)
    images = sum(len(page.images) for page in pdf.pages)
    assert images == 2  # the monthly posts and flagged-items charts


def test_export_gives_the_bytes_a_download_sends(factory, seeded):
    from domain.reports import export

    with session_scope(factory) as s:
        pdf, name, media = export(s, seeded.province, H2, "pdf", now=NOW)
        xlsx, _, xmedia = export(s, seeded.province, H2, "xlsx", now=NOW)
    assert pdf.startswith(b"%PDF") and name == f"bao-cao-{seeded.province}-20260701-20261231.pdf"
    assert media == "application/pdf" and xlsx.startswith(b"PK") and xmedia.endswith("spreadsheetml.sheet")
