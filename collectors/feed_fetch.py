"""Download one news feed defensively: conditional GET, capped redirects, capped size and time.

Feeds are third-party and untrusted: a broken or hostile server must cost us one bounded request
and one clear error, never a hang, a memory blow-up or a stop of the other feeds.
"""

from __future__ import annotations

import ipaddress
import socket

import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from urllib3 import exceptions as urllib3_exc

from common.errors import Rejected, RetryLater
from platforms.http import DEFAULT_THROTTLE_SECONDS, redact, retry_after_header

PLATFORM = "rss"
USER_AGENT = "Loa/1.0 (+bo thu thap tin tuc cua cong doan)"
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
CHUNK_BYTES = 64 * 1024
# requests' timeout is per socket read; a server dripping one byte at a time needs a total cap.
DEFAULT_DEADLINE_SECONDS = 60.0
MAX_VALIDATOR_CHARS = 256


class FeedError(Rejected):
    """This feed cannot be used as it is (malformed, too big, redirect loop, gone...).

    A ``Rejected``: retrying at once will not help; the reason (``message_vi``) is for the
    operator. Transient failures (timeouts, 5xx, 429) are ``RetryLater`` instead.
    """

    code = "feed_error"
    default_message = "Không đọc được nguồn tin."


@dataclass(frozen=True)
class FeedResponse:
    """A 200 (with its body) or a 304 (body empty) after following redirects."""

    status: int
    body: bytes
    url: str
    content_type: str | None
    etag: str | None
    last_modified: str | None


def fetch_feed(
    session: requests.Session,
    url: str,
    *,
    etag: str | None,
    modified: str | None,
    timeout: tuple[float, float],
    max_bytes: int,
    max_redirects: int,
    deadline_s: float = DEFAULT_DEADLINE_SECONDS,
    allow_private: bool = True,
) -> FeedResponse:
    """GET ``url`` with If-None-Match/If-Modified-Since; raise FeedError or RetryLater on failure."""
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    deadline = time.monotonic() + deadline_s
    visited = {url}
    current = url
    for _ in range(max_redirects + 1):
        _check_http_url(current, url, allow_private)
        resp = _get(session, current, headers, timeout, url)
        try:
            if resp.is_redirect:
                target = urljoin(current, resp.headers.get("Location", ""))
                if target in visited:
                    raise FeedError("Nguồn tin chuyển hướng vòng tròn (vòng lặp chuyển hướng); "
                                    "hãy kiểm tra lại địa chỉ nguồn tin.",
                                    platform=PLATFORM, platform_code="redirect_loop", feed_url=url)
                visited.add(target)
                current = target
                continue
            return _finish(resp, current, url, max_bytes, deadline)
        finally:
            resp.close()
    raise FeedError(f"Nguồn tin chuyển hướng quá {max_redirects} lần; hãy kiểm tra lại địa chỉ nguồn tin.",
                    platform=PLATFORM, platform_code="too_many_redirects", feed_url=url)


def _check_http_url(current: str, feed_url: str, allow_private: bool = True) -> None:
    parts = urlsplit(current)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FeedError("Địa chỉ nguồn tin không hợp lệ (chỉ nhận http/https).",
                        platform=PLATFORM, platform_code="bad_url", feed_url=feed_url)
    if not allow_private and is_internal_host(parts.hostname or ""):
        raise FeedError("Nguồn tin trỏ tới địa chỉ nội bộ (localhost, mạng riêng): không được phép.",
                        platform=PLATFORM, platform_code="internal_address", feed_url=feed_url)


def is_internal_host(host: str) -> bool:
    """True when ``host`` is or resolves to a loopback, private, link-local or reserved address.

    Feeds are URLs typed by users and fetched by our servers: without this a feed (or a redirect
    from one) could make Loa read internal services. A name that does not resolve is not internal
    (fetching it fails anyway). Checked at every redirect hop.
    """
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%")[0])
        if addr.is_loopback or addr.is_private or addr.is_link_local or addr.is_reserved or addr.is_unspecified \
                or addr.is_multicast:
            return True
    return False


def _get(session: requests.Session, url: str, headers: dict, timeout: tuple[float, float],
         feed_url: str) -> requests.Response:
    try:
        return session.get(url, headers=headers, timeout=timeout, stream=True, allow_redirects=False)
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema) as exc:
        raise FeedError("Địa chỉ nguồn tin không hợp lệ.", platform=PLATFORM, platform_code="bad_url",
                        raw=redact(str(exc)), feed_url=feed_url) from None
    except requests.exceptions.SSLError as exc:
        raise FeedError("Chứng chỉ bảo mật (HTTPS) của nguồn tin không hợp lệ.", platform=PLATFORM,
                        platform_code="tls_error", raw=redact(str(exc)), feed_url=feed_url) from None
    except requests.RequestException as exc:
        raise _unreachable(exc, feed_url) from None


def _unreachable(exc: Exception, feed_url: str) -> RetryLater:
    return RetryLater("Không kết nối được tới nguồn tin hoặc nguồn tin phản hồi quá chậm; hệ thống sẽ thử lại.",
                      platform=PLATFORM, platform_code=type(exc).__name__, raw=redact(str(exc)), feed_url=feed_url)


def _finish(resp: requests.Response, final_url: str, feed_url: str, max_bytes: int,
            deadline: float) -> FeedResponse:
    status = resp.status_code
    etag = _validator(resp.headers.get("ETag"))
    modified = _validator(resp.headers.get("Last-Modified"))
    ctype = resp.headers.get("Content-Type")
    if status == 304:
        return FeedResponse(304, b"", final_url, ctype, etag, modified)
    if status == 429 or status >= 500:
        raise RetryLater("Máy chủ nguồn tin đang quá tải hoặc gặp sự cố; hệ thống sẽ thử lại.", platform=PLATFORM,
                         platform_code=f"http_{status}", feed_url=feed_url, throttled=status == 429,
                         retry_after=retry_after_header(resp) or (DEFAULT_THROTTLE_SECONDS if status == 429 else None))
    if status in (404, 410):
        raise FeedError("Nguồn tin không còn tồn tại (HTTP %d); hãy kiểm tra lại địa chỉ." % status,
                        platform=PLATFORM, platform_code=f"http_{status}", feed_url=feed_url)
    if status in (401, 403):
        raise FeedError("Nguồn tin từ chối truy cập (HTTP %d)." % status,
                        platform=PLATFORM, platform_code=f"http_{status}", feed_url=feed_url)
    if status != 200:
        raise FeedError("Nguồn tin trả về mã lỗi HTTP %d." % status,
                        platform=PLATFORM, platform_code=f"http_{status}", feed_url=feed_url)
    return FeedResponse(200, _read_capped(resp, feed_url, max_bytes, deadline), final_url, ctype, etag, modified)


def _read_capped(resp: requests.Response, feed_url: str, max_bytes: int, deadline: float) -> bytes:
    """The (decompressed) body, refusing more than ``max_bytes`` or a read past ``deadline``."""
    too_big = FeedError(f"Nguồn tin quá lớn (vượt {max_bytes // 1_000_000 or 1} MB); đã bỏ qua.",
                        platform=PLATFORM, platform_code="too_large", feed_url=feed_url)
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            # read1 returns as soon as some bytes arrived (iter_content would block until a whole
            # chunk is filled, letting a server that drips bytes outlive the deadline). Counted
            # after gzip/deflate decoding, so a compression bomb stops at the cap as well.
            chunk = resp.raw.read1(CHUNK_BYTES, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise too_big
            if time.monotonic() > deadline:
                raise RetryLater("Nguồn tin tải quá chậm; hệ thống sẽ thử lại sau.", platform=PLATFORM,
                                 platform_code="slow_body", feed_url=feed_url)
            chunks.append(chunk)
    except urllib3_exc.DecodeError:
        raise FeedError("Nguồn tin gửi dữ liệu nén bị hỏng.", platform=PLATFORM, platform_code="bad_encoding",
                        feed_url=feed_url) from None
    except (urllib3_exc.HTTPError, OSError) as exc:
        raise _unreachable(exc, feed_url) from None
    return b"".join(chunks)


def _validator(value: str | None) -> str | None:
    """An ETag/Last-Modified worth sending back: short, printable ASCII."""
    if not value or len(value) > MAX_VALIDATOR_CHARS or not value.isascii() or not value.isprintable():
        return None
    return value
