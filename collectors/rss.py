"""News and public feeds (RSS/Atom) parsed with feedparser.

Cursor: ``{"etag": str|None, "modified": str|None, "seen": [external ids in the last document]}``.
A 304 returns no items and the same cursor; otherwise entries already in ``seen`` are not
returned again (helps with servers that ignore conditional GET; ingest dedupes anyway).

One feed's failure is one exception from ``fetch``: ``FeedError`` (a ``Rejected``: malformed,
too big, redirect loop, gone — log it and move on to the next feed) or ``RetryLater``
(timeouts, 5xx, 429). Both are ``common.errors.PlatformError``.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import feedparser
import requests

from collectors.base import Batch, CollectedItem, clean_text, from_epoch, make_item
from collectors.feed_fetch import DEFAULT_DEADLINE_SECONDS, PLATFORM, FeedError, FeedResponse, fetch_feed
from platforms.http import DEFAULT_TIMEOUT

logger = logging.getLogger(__name__)

MAX_ENTRIES = 500
SEEN_LIMIT = 500
MAX_EXTERNAL_ID_CHARS = 500
# A publication date this far in the future is a broken clock on the server: use "now".
FUTURE_TOLERANCE = timedelta(days=1)

__all__ = ["FeedError", "FeedSource", "html_to_text", "parse_feed"]


class FeedSource:
    """Source of ``news_article`` items for one feed URL."""

    def __init__(
        self,
        url: str,
        *,
        etag: str | None = None,
        modified: str | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_bytes: int = 5_000_000,
        max_redirects: int = 5,
        deadline_s: float = DEFAULT_DEADLINE_SECONDS,
        now: Callable[[], datetime] | None = None,
        allow_private: bool = True,
    ) -> None:
        self.url = url
        # False in production (LOA_FEEDS_ALLOW_PRIVATE): no feed may point at an internal address.
        self._allow_private = allow_private
        self._etag, self._modified = etag, modified
        self._session = session or requests.Session()
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._max_redirects = max_redirects
        self._deadline_s = deadline_s
        self._now = now or (lambda: datetime.now(timezone.utc))

    def fetch(self, cursor: dict | None) -> Batch:
        """Download and parse the feed; raise FeedError/RetryLater when this feed cannot be read now."""
        cursor = cursor if isinstance(cursor, dict) else {"etag": self._etag, "modified": self._modified}
        etag, modified = _str_or_none(cursor.get("etag")), _str_or_none(cursor.get("modified"))
        seen_ids = cursor.get("seen") if isinstance(cursor.get("seen"), list) else []
        seen = [s for s in seen_ids if isinstance(s, str)][:SEEN_LIMIT]
        resp = fetch_feed(self._session, self.url, etag=etag, modified=modified, timeout=self._timeout,
                          max_bytes=self._max_bytes, max_redirects=self._max_redirects, deadline_s=self._deadline_s,
                          allow_private=self._allow_private)
        if resp.status == 304:
            return Batch([], {"etag": etag, "modified": modified, "seen": seen})
        items = parse_feed(resp, feed_url=self.url, now=self._now())
        already = set(seen)
        fresh = [item for item in items if item.external_id not in already]
        new_cursor = {"etag": resp.etag, "modified": resp.last_modified,
                      "seen": [item.external_id for item in items][:SEEN_LIMIT]}
        logger.info("feed collected url=%s entries=%d new=%d", self.url, len(items), len(fresh))
        return Batch(fresh, new_cursor)


def parse_feed(resp: FeedResponse, *, feed_url: str, now: datetime) -> list[CollectedItem]:
    """Items of a downloaded feed document; FeedError when nothing usable is in it."""
    # Bytes, never a str: given a string that looks like a URL, feedparser would fetch it itself.
    headers = {"content-location": resp.url}
    if resp.content_type:
        headers["content-type"] = resp.content_type
    parsed = feedparser.parse(resp.body, response_headers=headers)
    entries = parsed.get("entries") or []
    if not entries and not parsed.get("version"):
        raise FeedError("Địa chỉ này không phải nguồn tin RSS/Atom (có thể là trang web thường hoặc trang báo lỗi).",
                        platform=PLATFORM, platform_code="not_a_feed", raw=_bozo_reason(parsed), feed_url=feed_url)
    if not entries and parsed.get("bozo"):
        reason = _bozo_reason(parsed)
        raise FeedError(f"Nguồn tin bị lỗi định dạng, không đọc được bài nào ({reason}).",
                        platform=PLATFORM, platform_code="malformed", raw=reason, feed_url=feed_url)
    if parsed.get("bozo"):
        # Usable despite errors (wrong declared encoding, stray markup): keep going, but say so.
        logger.warning("feed has errors but is usable url=%s reason=%s", feed_url, _bozo_reason(parsed))
    items: list[CollectedItem] = []
    for entry in entries[:MAX_ENTRIES]:
        item = _entry_item(entry, feed_url, now)
        if item is not None:
            items.append(item)
    return items


def _entry_item(entry: dict, feed_url: str, now: datetime) -> CollectedItem | None:
    title = _plain(entry.get("title"), entry.get("title_detail"))
    summary = entry.get("summary")
    if not summary and entry.get("content"):
        first = entry["content"][0]
        summary = first.get("value") if isinstance(first, dict) else None
    body = html_to_text(summary) if isinstance(summary, str) else ""
    text = title if not body or body == title else (f"{title}\n{body}" if title else body)
    if not text.strip():
        return None
    link = entry.get("link") if isinstance(entry.get("link"), str) else None
    created = _entry_time(entry, now)
    return make_item("news_article", _external_id(entry, link, title, feed_url), text, created, url=link,
                     title=title or None, author_ref=entry.get("author") or None, account_ref=feed_url)


def _external_id(entry: dict, link: str | None, title: str, feed_url: str) -> str:
    """Entry id, else link, else a hash of title and date; scoped to the feed when not a URI."""
    raw = entry.get("id") if isinstance(entry.get("id"), str) and entry.get("id").strip() else None
    raw = raw or link
    if not raw:
        published = entry.get("published") or entry.get("updated") or ""
        raw = "sha256:" + hashlib.sha256(f"{title}\n{published}".encode()).hexdigest()
    raw = raw.strip()
    if ":" not in raw:
        # A bare "123" from two sites must not collide in (source, external_id).
        raw = f"{feed_url}#{raw}"
    if len(raw) > MAX_EXTERNAL_ID_CHARS:
        raw = "sha256:" + hashlib.sha256(raw.encode()).hexdigest()
    return raw


def _entry_time(entry: dict, now: datetime) -> datetime:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                created = from_epoch(calendar.timegm(value))
            except (TypeError, ValueError, OverflowError):
                continue
            return created if created <= now + FUTURE_TOLERANCE else now
    return now


def _plain(value: object, detail: object) -> str:
    """A title as text; titles typed text/html still carry tags."""
    if not isinstance(value, str):
        return ""
    kind = detail.get("type") if isinstance(detail, dict) else None
    text = html_to_text(value) if kind in ("text/html", "application/xhtml+xml") else value
    return clean_text(text, 1_000).replace("\n", " ")


def _bozo_reason(parsed: dict) -> str:
    exc = parsed.get("bozo_exception")
    return f"{type(exc).__name__}: {str(exc)[:200]}" if exc is not None else "không rõ"


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, with line breaks where blocks end."""

    _BLOCKS = frozenset({"p", "br", "div", "li", "ul", "ol", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
                         "blockquote", "section", "article", "table", "hr"})
    _SKIP = frozenset({"script", "style", "noscript", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Visible text of an HTML fragment (feedparser has already sanitised it), whitespace tidied."""
    extractor = _TextExtractor()
    extractor.feed(fragment[:200_000])
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).split("\n"))
    return clean_text("\n".join(line for line in lines if line))
