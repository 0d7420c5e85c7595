"""FeedSource against a local HTTP feed server: parsing, conditional GET, hostile and broken feeds."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import requests

from collectors.feed_fetch import fetch_feed
from collectors.rss import FeedError, FeedSource
from common.errors import PlatformError, Rejected, RetryLater
from tests.collectors.feed_server import ETAG, LAST_MODIFIED, FeedServer

NOW = datetime(2024, 7, 3, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def server():
    srv = FeedServer()
    yield srv
    srv.close()


@pytest.fixture
def http():
    s = requests.Session()
    s.trust_env = False
    yield s
    s.close()


def source(server, http, path, **kwargs):
    return FeedSource(server.url + path, session=http, timeout=(2.0, 2.0), now=lambda: NOW, **kwargs)


def test_rss_items_are_normalised_news_articles(server, http):
    batch = source(server, http, "/file/tin-tuc.xml").fetch(None)

    first, second, third = batch.items
    assert first.source == "news_article"
    assert first.external_id == first.url == "https://tin-thu-nghiem.example.vn/tang-luong-toi-thieu"
    assert first.title == "Doanh nghiệp trong khu công nghiệp tăng lương tối thiểu từ tháng Bảy"
    assert first.text == (first.title + "\nMức lương tối thiểu vùng tăng 6% áp dụng cho người lao động & doanh "
                          "nghiệp.\nXem chi tiết.")  # tags and the script gone, entities decoded
    assert first.created_at == datetime(2024, 7, 1, 1, 30, tzinfo=timezone.utc)
    assert (first.author_ref, first.account_ref) == ("Phóng viên Minh An", server.url + "/file/tin-tuc.xml")
    assert second.external_id == "https://tin-thu-nghiem.example.vn/kham-suc-khoe"  # no guid: the link
    # A bare guid is scoped to the feed so two sites' "bai-3" never collide; no date → now.
    assert third.external_id == server.url + "/file/tin-tuc.xml#bai-3" and third.created_at == NOW
    json.dumps(batch.cursor)


def test_atom_entries_with_html_title_and_content(server, http):
    items = source(server, http, "/file/atom.xml?ct=application/atom%2Bxml").fetch(None).items

    assert [i.title for i in items] == ["Hội nghị người lao động năm 2024", "Thông báo lịch tiếp đoàn viên tháng Bảy"]
    assert items[0].text.endswith("thoả ước lao động tập thể mới.\nTăng phụ cấp nhà trọ\nThêm ngày nghỉ mát")
    assert items[0].external_id == "tag:congdoan-thu-nghiem.example.vn,2024:hoi-nghi"


def test_conditional_get_answers_304_with_the_same_cursor(server, http):
    src = source(server, http, "/validated")
    first = src.fetch(None)
    assert first.cursor["etag"] == ETAG and first.cursor["modified"] == LAST_MODIFIED and len(first.items) == 3

    second = src.fetch(first.cursor)

    headers = server.requests[-1][1]
    assert headers["If-None-Match"] == ETAG and headers["If-Modified-Since"] == LAST_MODIFIED
    assert second.items == [] and second.cursor == first.cursor


def test_entries_already_seen_are_not_returned_when_the_server_ignores_validators(server, http):
    src = source(server, http, "/file/tin-tuc.xml")
    first = src.fetch(None)

    second = src.fetch(first.cursor)

    assert second.items == [] and second.cursor["seen"] == first.cursor["seen"]


def test_usable_feed_with_errors_is_kept_and_logged(server, http, caplog):
    items = source(server, http, "/file/loi-mot-phan.xml").fetch(None).items

    assert [i.title for i in items] == ["Công nhân được hỗ trợ tiền thuê nhà trong ba tháng",
                                        "Mở lớp dạy nghề buổi tối cho lao động trẻ"]
    assert "feed has errors but is usable" in caplog.text


@pytest.mark.parametrize("path,code,reason", [
    ("/file/cat-ngang.xml", "malformed", "Nguồn tin bị lỗi định dạng, không đọc được bài nào"),
    ("/file/hong.xml", "not_a_feed", "không phải nguồn tin RSS/Atom"),
    ("/file/trang-web.html?ct=text/html", "not_a_feed", "không phải nguồn tin RSS/Atom")])
def test_unusable_feed_raises_feed_error_with_a_vietnamese_reason(server, http, path, code, reason):
    with pytest.raises(FeedError) as err:
        source(server, http, path).fetch(None)

    assert isinstance(err.value, Rejected) and err.value.platform_code == code
    assert reason in err.value.message_vi


def test_wrong_declared_encoding_is_recovered(server, http):
    item = source(server, http, "/file/khai-sai-ma-hoa.xml").fetch(None).items[0]

    assert item.title == "Thông tin cho công nhân"
    assert item.text.endswith("Nhân viên và công nhân chú ý thông báo.")


def test_windows_1258_feed_becomes_nfc_text(server, http):
    # The server even claims UTF-8 in its header; the document declares windows-1258.
    item = source(server, http, "/file/windows-1258.xml").fetch(None).items[0]

    assert item.title == "Người lao động được nghỉ Tết Nguyên đán chín ngày"  # NFC, as typed
    assert item.text.endswith("áp dụng cho cán bộ, công chức và người lao động.")


def test_entity_expansion_is_not_performed(server, http):
    items = source(server, http, "/file/bom-thuc-the.xml").fetch(None).items

    assert len(items) == 1 and len(items[0].text) < 100


@pytest.mark.parametrize("path", ["/huge", "/declared-huge", "/gzip-bomb"])
def test_huge_bodies_are_capped(server, http, path):
    with pytest.raises(FeedError) as err:
        source(server, http, path, max_bytes=1_000_000).fetch(None)

    assert err.value.platform_code == "too_large" and "quá lớn" in err.value.message_vi


def test_redirects_are_followed_up_to_the_cap(server, http):
    assert len(source(server, http, "/redirect/3").fetch(None).items) == 3

    with pytest.raises(FeedError) as err:
        source(server, http, "/redirect/6", max_redirects=5).fetch(None)
    assert err.value.platform_code == "too_many_redirects"


def test_redirect_loop_is_a_clear_error(server, http):
    with pytest.raises(FeedError) as err:
        source(server, http, "/loop/a").fetch(None)

    assert err.value.platform_code == "redirect_loop" and "vòng lặp" in err.value.message_vi


@pytest.mark.parametrize("status,kind", [(404, FeedError), (410, FeedError), (403, FeedError), (500, RetryLater),
                                         (503, RetryLater), (429, RetryLater)])
def test_http_errors_are_per_feed_exceptions(server, http, status, kind):
    with pytest.raises(kind) as err:
        source(server, http, f"/status/{status}").fetch(None)

    assert isinstance(err.value, PlatformError)
    if status == 429:
        assert err.value.throttled and err.value.retry_after == 120


def test_slow_drip_body_hits_the_total_deadline(server, http):
    with pytest.raises(RetryLater) as err:
        fetch_feed(http, server.url + "/slow", etag=None, modified=None, timeout=(1.0, 1.0), max_bytes=10_000,
                   max_redirects=0, deadline_s=0.3)

    assert err.value.platform_code == "slow_body"


def test_unreachable_feed_raises_retry_later(http):
    with socket_closed_port() as url, pytest.raises(RetryLater):
        FeedSource(url + "/feed.xml", session=http, timeout=(1.0, 1.0)).fetch(None)


def test_non_http_url_is_refused(http):
    with pytest.raises(FeedError):
        FeedSource("file:///etc/passwd", session=http).fetch(None)


def socket_closed_port():
    import contextlib
    import socket

    @contextlib.contextmanager
    def closed():
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        yield f"http://127.0.0.1:{port}"

    return closed()


def test_internal_addresses_are_refused_in_production_mode(server, http):
    """A user-typed feed URL must not make Loa read internal services (the test server is on 127.0.0.1)."""
    with pytest.raises(FeedError) as err:
        source(server, http, "/file/tin-tuc.xml", allow_private=False).fetch(None)
    assert err.value.platform_code == "internal_address" and "nội bộ" in err.value.message_vi
    assert source(server, http, "/file/tin-tuc.xml", allow_private=True).fetch(None).items
