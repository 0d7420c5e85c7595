"""The weekly digest end to end: built from the seeded week, sent through a real SMTP server (aiosmtpd),
read back as leaders' mail clients would: headers, both parts, the inline charts, and the figures."""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

from db.session import session_scope
from domain.digest import build_digest, preview_html
from domain.digest.send import send_digest
from tests.browser import artifacts_dir, html_to_png
from tests.digest.seed import NOW, SCRIPT, WEEK


def _send(factory, mailer, seeded):
    return send_digest(factory, mailer, seeded.province, WEEK, now=NOW,
                       build=lambda s: build_digest(s, seeded.province, WEEK, now=NOW))


def _digits(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_digest_email_has_headers_both_parts_and_inline_charts(factory, seeded, smtp):
    inbox, mailer = smtp
    stats = _send(factory, mailer, seeded)
    assert stats == {"sent": 2, "retry": 0, "failed": 0, "skipped": 0}
    [msg] = inbox.to("lanhdao@tinh.vn")
    assert msg["Subject"] == "[Loa] Tổng hợp tuần 40/2026 (28/09 – 04/10/2026) – LĐLĐ tỉnh Thử Nghiệm"
    assert msg["From"] == "Loa <loa@congdoan.test>"
    assert msg["To"] == "lanhdao <lanhdao@tinh.vn>"
    assert parsedate_to_datetime(msg["Date"]).tzinfo is not None
    assert re.fullmatch(rf"<digest\.{seeded.province}\.2026-W40\.[0-9a-f]{{16}}@congdoan\.test>", msg["Message-ID"])
    assert msg["Auto-Submitted"] == "auto-generated"

    # multipart/alternative: text/plain first, then multipart/related (text/html + the PNG charts).
    assert msg.get_content_type() == "multipart/alternative"
    plain, related = msg.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    html = html_part.get_content()
    assert len(images) == 2
    for image in images:
        assert image.get_content_type() == "image/png"
        assert image.get_content().startswith(b"\x89PNG\r\n\x1a\n")
        cid = image["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html
    referenced = set(re.findall(r'src="cid:([^"]+)"', html))
    assert referenced == {i["Content-ID"].strip("<>") for i in images}

    # Another recipient, same digest, own copy and own Message-ID.
    [other] = inbox.to("chutich@tinh.vn")
    assert other["Message-ID"] != msg["Message-ID"] and other["Subject"] == msg["Subject"]


def test_digest_figures_match_the_seeded_week(factory, seeded, smtp):
    inbox, mailer = smtp
    _send(factory, mailer, seeded)
    [msg] = inbox.to("lanhdao@tinh.vn")
    text = _digits(msg.get_body(("plain",)).get_content())
    html = _digits(msg.get_body(("html",)).get_content())

    # Posts per channel and campaign, and the week before.
    assert f"Bài đã đăng: {seeded.posts_week} (tuần trước {seeded.posts_previous})" in text
    assert "T40: Facebook 5 · Zalo OA 2" in text and "T39: Facebook 2 · Zalo OA 0" in text
    assert "Kênh 1001 (Facebook, LĐLĐ tỉnh Thử Nghiệm): 3 / 2" in text
    assert "Kênh 2001 (Zalo OA, LĐLĐ tỉnh Thử Nghiệm): 2 / 0" in text
    assert f"{seeded.campaign}: 2 lượt đăng" in text and "Không thuộc chiến dịch: 5 lượt đăng" in text
    # Insights: totals and the top post by engagement first.
    assert f"Lượt xem: {seeded.views_week:,}".replace(",", ".") in text
    assert f"tương tác (cảm xúc, bình luận, chia sẻ): {seeded.engagement_week}" in text
    top = text.split("2. BÀI ĐƯỢC QUAN TÂM NHẤT")[1]
    assert top.strip().startswith(f"1. {seeded.top_text}")
    assert "499 tương tác · 5.200 lượt xem · 410 cảm xúc · 52 bình luận · 37 chia sẻ" in top
    # Failures, flagged items by risk, trend, hot topics, grievances.
    assert "1 lượt đăng thất bại trong tuần" in text and seeded.failed_reason in text
    assert "Bức xúc, khiếu nại: 3" in text and "Thông tin sai lệch: 2" in text and "Kích động, thù địch: 1" in text
    assert "T39: Bức xúc, khiếu nại 0 · Thông tin sai lệch 1 · Kích động, thù địch 0" in text
    assert "Cán bộ theo dõi đã xử lý 3/6 mục của tuần." in text
    assert f"{seeded.topic_label}: cao điểm 31 mục trong một giờ; từ khoá: nợ lương, may sông hồng, tăng ca" in text
    assert (f"{seeded.grievances_open} phản ánh còn mở ({seeded.grievances_new} mới trong tuần)") in text
    assert "«Phản ánh cũ về bếp ăn» — CĐCS Công ty May Sông Hồng" in text  # the oldest open one first
    # Targets with their status.
    assert "100% CĐCS xây dựng trang Fanpage, Zalo do đơn vị mình quản lý" in text
    assert "Chỉ tiêu ≥ 100% · đạt được 100% · ĐẠT" in text
    assert "Chỉ tiêu ≥ 2 bài/tuần · đạt được 0,1 bài/tuần · CHƯA ĐẠT" in text
    assert "Chỉ tiêu ≥ 90% · đạt được 25% · CHƯA ĐẠT" in text and "2/8 mục được xử lý trong 24 giờ" in text
    assert "Chỉ tiêu ≥ 2 · đạt được — · KHÔNG ĐO ĐƯỢC" in text
    # Rolled up by sub-organisation.
    assert "LĐLĐ huyện Đông: 2 / 3 / 3 (3/3 kênh hoạt động)" in text

    # The HTML part shows the same figures, escaped.
    assert seeded.top_text in html and seeded.topic_label in html and ">ĐẠT<" not in html
    assert "Đạt</span>" in html and "Chưa đạt</span>" in html and "Không đo được</span>" in html
    assert SCRIPT not in html and "&lt;script&gt;" in html
    assert SCRIPT in text  # plain text is not HTML: shown as written


def test_digest_renders_on_a_phone_screenshot(factory, seeded):
    with session_scope(factory) as s:
        digest = build_digest(s, seeded.province, WEEK, now=NOW)
    out = artifacts_dir("digest")
    html_path = out / "digest-2026-W40.html"
    html_path.write_text(preview_html(digest), encoding="utf-8")
    (out / "digest-2026-W40.txt").write_text(digest.text, encoding="utf-8")
    png = html_to_png(html_path, out / "digest-2026-W40.png", width=412, height=3600)
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000
    # The viewport meta tag and the 600 px column keep it to one readable column on a phone.
    assert 'name="viewport"' in digest.html and "max-width:600px" in digest.html
