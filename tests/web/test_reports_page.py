"""The reports page: targets measured to date, Excel/PDF downloads, tenant isolation and bad input."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from tests.digest.conftest import seeded  # noqa: F401  (fixture)


def test_reports_page_lists_targets_and_downloads_the_excel_report(client, login, seeded, world):  # noqa: F811
    login("approver")
    page = client.get(f"/reports?org={world.province}")
    assert page.status_code == 200 and "Chỉ tiêu của LĐLĐ tỉnh Thử Nghiệm" in page.text
    assert "Đạt" in page.text and "Không đo được" in page.text
    r = client.get(f"/reports/download?org={world.province}&start=2026-07-01&end=2026-12-31&format=xlsx")
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith('attachment; filename="bao-cao-')
    workbook = load_workbook(BytesIO(r.content))
    assert len(workbook.sheetnames) >= 3
    pdf = client.get(f"/reports/download?org={world.province}&start=2026-01-01&end=2026-06-30&format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_grassroots_union_cannot_download_another_unions_report(client, login, world):
    login("other_editor")
    r = client.get(f"/reports/download?org={world.grassroots}&start=2026-01-01&end=2026-06-30&format=xlsx")
    assert r.status_code == 404 and "Không tìm thấy" in r.text
    page = client.get("/reports")
    assert "CĐCS Công ty May Sông Hồng" not in page.text


def test_bad_period_or_format_gets_a_vietnamese_error(client, login, world):
    login("editor")
    backwards = client.get(f"/reports/download?org={world.province}&start=2026-12-31&end=2026-01-01&format=pdf")
    assert backwards.status_code == 422 and "ở sau ngày kết thúc" in backwards.text
    wrong = client.get(f"/reports/download?org={world.province}&start=2026-01-01&end=2026-06-30&format=doc")
    assert wrong.status_code == 422 and "xlsx hoặc pdf" in wrong.text
