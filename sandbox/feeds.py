"""A local news feed (RSS 2.0) standing in for the press, so `make run` can show feed collection.

GET /feeds/tin-tuc.xml serves the entries (newest first) with an ETag, answering 304 to a matching
If-None-Match as a real server does. POST /__emu/feed {title, summary, link?} adds an entry; the
demo starts with a few written for Loa (invented events).
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.control_base import ControlError, endpoint

DEMO_ENTRIES = [
    ("Công đoàn KCN tổ chức đối thoại về phụ cấp nhà trọ cho công nhân",
     "Buổi đối thoại thu hút hơn 200 công nhân; doanh nghiệp cam kết xem xét tăng phụ cấp từ quý tới."),
    ("Người lao động phản ánh công ty chậm đóng bảo hiểm xã hội",
     "Bạn đọc phản ánh công ty nơi mình làm việc đã ba tháng chưa đóng bảo hiểm xã hội cho công nhân."),
    ("Tháng Công nhân: trao 500 suất quà cho đoàn viên khó khăn",
     "Liên đoàn Lao động tỉnh trao quà và tổ chức khám sức khoẻ miễn phí cho đoàn viên tại các khu nhà trọ."),
]


class FeedStore:
    """Entries of the local feed; ids are stable so a collector de-duplicates them."""

    def __init__(self, clock, demo: bool) -> None:  # noqa: ANN001
        self.clock = clock
        self._ids = itertools.count(1)
        self.entries: list[dict] = []
        if demo:
            for title, summary in DEMO_ENTRIES:
                self.add(title, summary)

    def add(self, title: str, summary: str, link: str | None = None) -> dict:
        n = next(self._ids)
        entry = {"id": f"tin-{n}", "title": title, "summary": summary,
                 "link": link or f"https://tintuc-demo.example.vn/bai-{n}",
                 "published": datetime.fromtimestamp(self.clock.now(), UTC)}
        self.entries.insert(0, entry)
        return entry

    def rss(self) -> bytes:
        items = "".join(
            f"<item><guid isPermaLink='false'>{escape(e['id'])}</guid><title>{escape(e['title'])}</title>"
            f"<link>{escape(e['link'])}</link><description>{escape(e['summary'])}</description>"
            f"<pubDate>{format_datetime(e['published'])}</pubDate></item>" for e in self.entries)
        return ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
                "<title>Tin tức người lao động (sandbox)</title><link>https://tintuc-demo.example.vn/</link>"
                f"<description>Nguồn tin cục bộ của sandbox Loa</description>{items}</channel></rss>").encode()


async def feed(request: Request) -> Response:
    """GET /feeds/tin-tuc.xml with ETag / If-None-Match."""
    body = request.app.state.emu.feed.rss()
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type="application/rss+xml; charset=utf-8", headers={"ETag": etag})


@endpoint
async def add_entry(emu, body, request):  # noqa: ANN001
    """POST /__emu/feed {title, summary, link?}: publish a news entry in the local feed."""
    title, summary = str(body.get("title") or "").strip(), str(body.get("summary") or "").strip()
    if not title:
        raise ControlError("title is required", 400)
    entry = emu.feed.add(title[:500], summary[:5000], body.get("link"))
    return {**entry, "published": entry["published"].isoformat()}


ROUTES = [Route("/feeds/tin-tuc.xml", feed, methods=["GET"]), Route("/__emu/feed", add_entry, methods=["POST"])]
