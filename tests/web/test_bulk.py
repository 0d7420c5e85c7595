"""Bulk CSV import through real HTTP requests: template, per-row preview that saves nothing, signed
confirm that creates only the good rows, refusals of bad files and forged payloads."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from db.base import utcnow
from db.models import Campaign, Post, PostStatus
from domain.scheduling import to_local
from web.pages import bulk_csv


def _when(days: int, hhmm: str = "07:30") -> str:
    return (to_local(utcnow()).date() + timedelta(days=days)).strftime("%d/%m/%Y") + " " + hhmm


def _csv(rows: list[list[str]], *, sep=",", bom=True,
         header=("Nội dung", "Đường dẫn", "Kênh", "Thời gian", "Tiêu đề", "Chiến dịch")) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=sep, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def _posts(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(Post))


def _upload(client, token, org_id, data: bytes, name="bai.csv"):
    return client.post("/posts/import", data={"csrf_token": token, "org_id": org_id},
                       files={"file": (name, data, "text/csv")})


def test_template_is_utf8_csv_with_vietnamese_headers(client, login, world):
    login("editor")
    resp = client.get(f"/posts/import/template.csv?org={world.province}")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in resp.headers["content-disposition"]
    assert resp.content.startswith(b"\xef\xbb\xbf")
    parsed = bulk_csv.parse(resp.content)  # the template reads back as valid rows
    assert len(parsed.rows) == 2 and "Tháng Công nhân" in parsed.rows[0].text
    assert parsed.rows[0].channels == "Kênh 1001;Kênh 2001"  # the organisation's own channel names
    page = client.get("/posts/import")
    assert page.status_code == 200 and "Tải tệp mẫu" in page.text and 'name="file"' in page.text


def test_preview_shows_each_rows_error_and_saves_nothing(client, login, factory, world):
    token = login("editor")
    data = _csv([
        ["Bài tốt số 1: phát động Tháng Công nhân.", "https://congdoan.vn/a", "Kênh 1001", _when(5), "Tiêu đề 1",
         "Tháng Công nhân 2027"],
        ["Bài tốt số 2 <script>alert(1)</script>", "", f"{world.fb};{world.zalo}", _when(6, "19:00"), "", ""],
        ["Bài có thời gian đã qua", "", "Kênh 1001", _when(-2), "", ""],
        ["Bài ghi sai kênh", "", "Kênh không tồn tại", _when(5), "", ""],
        ["Bài có kênh của đơn vị khác", "", str(world.other_fb), _when(5), "", ""],
        ["Bài sai đường dẫn", "ftp://sai", "Kênh 1001", _when(5), "", ""],
        ["Bài sai định dạng giờ", "", "Kênh 1001", "mai 7 giờ", "", ""],
        ["", "", "Kênh 1001", _when(5), "", ""],
        ["", "", "", "", "", ""],  # blank lines are skipped
        ["Bài vào khung giờ trống", "", "Kênh 1001", "", "", ""],
    ])
    resp = _upload(client, token, world.province, data)
    assert resp.status_code == 200, resp.text
    html = resp.text
    assert "3 dòng hợp lệ" in html and "6 dòng lỗi" in html
    errors = dict(re.findall(r'id="row-(\d+)".*?(?:<span class="row-error">(.*?)</span>|Hợp lệ)', html, re.S))
    assert errors["2"] == "" and errors["3"] == "" and errors["11"] == ""
    assert "đã qua" in errors["4"]
    assert "Không tìm thấy kênh" in errors["5"] and "Không tìm thấy kênh" in errors["6"]
    assert "không hợp lệ" in errors["7"] and "Thời gian" in errors["8"]
    assert "trống" in errors["9"]
    assert "Bài tốt số 2 &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "chiến dịch mới" in html and "Khung giờ trống" in html
    assert _posts(factory) == 0
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 0


def test_confirm_creates_only_good_selected_rows_once(client, login, factory, world):
    token = login("editor")
    data = _csv([["Bài một", "", "Kênh 1001", _when(5), "", "Tháng Công nhân 2027"],
                 ["Bài hai", "", "Kênh 1001", _when(-1), "", ""],
                 ["Bài ba", "", "Kênh 1001", _when(7), "", "Tháng Công nhân 2027"],
                 ["Bài bốn", "", "Kênh 1001", _when(8), "", ""]], sep=";")  # Excel in Vietnamese locale
    preview = _upload(client, token, world.province, data)
    payload = re.findall(r'name="payload" value="([^"]+)"', preview.text)
    signature = re.search(r'name="signature" value="([^"]+)"', preview.text).group(1)
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', preview.text).group(1)
    form = {"csrf_token": form_token, "payload": payload, "signature": signature, "rows": ["2", "4", "3"],
            "action": "submit"}  # row 3 (past time) is not in the signed payload; row 5 left unticked
    done = client.post("/posts/import/confirm", data=form)
    assert done.status_code == 200 and "Đã tạo 2 bài" in done.text
    with factory() as s:
        created = list(s.scalars(select(Post).order_by(Post.id)))
        assert [p.text for p in created] == ["Bài một", "Bài ba"]
        assert {p.status for p in created} == {PostStatus.pending_approval}
        assert created[0].campaign_id == created[1].campaign_id is not None
        assert s.scalar(select(func.count()).select_from(Campaign)) == 1
    again = client.post("/posts/import/confirm", data=form)  # pressed twice
    assert "đã được tạo trước đó" in again.text and _posts(factory) == 2


def test_tampered_or_foreign_payload_and_bad_files_are_refused(client, login, factory, world):
    token = login("editor")
    preview = _upload(client, token, world.province, _csv([["Bài một", "", "Kênh 1001", _when(5), "", ""]]))
    payload = re.findall(r'name="payload" value="([^"]+)"', preview.text)
    signature = re.search(r'name="signature" value="([^"]+)"', preview.text).group(1)
    forged = client.post("/posts/import/confirm", data={"csrf_token": token, "payload": [payload[0][:-4] + "AAAA"],
                                                        "signature": signature, "rows": ["2"]})
    assert forged.status_code == 422 and "không hợp lệ hoặc đã quá hạn" in forged.text
    other = TestClient(client.app)
    other_token = login("other_editor", other)
    stolen = other.post("/posts/import/confirm", data={"csrf_token": other_token, "payload": payload,
                                                       "signature": signature, "rows": ["2"]})
    assert stolen.status_code == 422
    no_csrf = client.post("/posts/import/confirm", data={"payload": payload, "signature": signature, "rows": ["2"]})
    assert no_csrf.status_code == 403
    assert _posts(factory) == 0
    # Importing into another organisation is refused outright.
    forged_org = _upload(other, other_token, world.grassroots, _csv([["x", "", "Kênh 1003", _when(5), "", ""]]))
    assert forged_org.status_code == 404
    # Files the parser refuses are shown on the upload page, with nothing saved.
    rows = [[f"Bài {i}", "", "Kênh 1001", "", "", ""] for i in range(bulk_csv.MAX_ROWS + 1)]
    resp = _upload(client, token, world.province, _csv(rows))
    assert resp.status_code == 422 and "tối đa 500 dòng" in resp.text
    resp = _upload(client, token, world.province, b"\x00\x01\x02", name="anh.png")
    assert resp.status_code == 422 and "nhị phân" in resp.text
    assert _posts(factory) == 0


@pytest.mark.parametrize("data, message", [
    (b"PK\x03\x04 excel", "tệp Excel"),
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "nhị phân"),
    (b"N\xf4i dung,K\xeanh\nb\xe0i,K\xeanh 1001\n", "UTF-8"),  # a Windows-1258 file
    (b"", "trống"),
    (b"a" * (bulk_csv.MAX_BYTES + 10), "vượt giới hạn"),
    ("Tên,Tuổi\nAn,30\n".encode(), "Nội dung"),
    ("Nội dung,Kênh\n\"chưa đóng ngoặc,Kênh 1001\n".encode(), "lỗi định dạng"),
])
def test_bad_files_get_a_clear_error(data, message):
    with pytest.raises(bulk_csv.InvalidInput) as exc:
        bulk_csv.parse(data)
    assert message in exc.value.message_vi


def test_english_headers_utf16_and_iso_time():
    text = "text\tchannels\ttime\nBài tiếng Việt\t1\t2027-05-04T07:30\n"
    parsed = bulk_csv.parse(b"\xff\xfe" + text.encode("utf-16-le"))
    assert parsed.rows[0].text == "Bài tiếng Việt" and parsed.rows[0].channels == "1"
    kind, at = bulk_csv.parse_time(parsed.rows[0].time)
    assert kind == "exact" and at.isoformat() == "2027-05-04T00:30:00+00:00"
    assert bulk_csv.parse_time("04/05/2027 7:30")[1] == at
    assert bulk_csv.parse_time("Ngay") == ("now", None) and bulk_csv.parse_time("") == ("slot", None)
