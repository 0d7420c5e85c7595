"""Read how a published post performs: views, reach, reactions, comments, shares (A8, B5).

Facebook (what Graph still offers in 2026, per platform-apis.md A8):

* engagement from the post's own fields: ``reactions.summary(total_count)``,
  ``comments.summary(true)`` and ``shares`` (omitted when zero);
* views from ``post_media_view`` and reach from ``post_total_media_view_unique``, **each in its own
  insights call**: one retired or unknown metric fails the whole request with code 100, so a metric
  Meta switches off costs us that one number, never the others. A metric refused that way is
  remembered for the rest of the reader's life (one channel pass) and not asked again.

Zalo OA: an article's ``getdetail`` carries ``total_view`` and ``total_share``; Zalo offers no
reaction or comment counts for articles, so those stay ``None`` (unknown), not 0.

Errors are Loa's kinds (``platforms``): an expired token is ``AuthExpired`` (Zalo: refreshable), a
throttle or 5xx ``RetryLater``, a post that no longer exists ``Rejected`` (``PostGone``).
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

from collectors.graph_reader import GraphReader
from common.errors import Rejected
from platforms.http import DEFAULT_TIMEOUT, appsecret_proof, excerpt, parse_json, send, unreadable_response
from platforms.zalo_errors import PLATFORM as ZALO, map_zalo_error

FB_ENGAGEMENT_FIELDS = "reactions.summary(total_count).limit(0),comments.summary(true).limit(0),shares"
FB_VIEWS_METRIC = "post_media_view"
FB_REACH_METRIC = "post_total_media_view_unique"


@dataclass(frozen=True)
class PostStats:
    """One reading; None = the platform does not offer that number."""

    views: int | None = None
    reach: int | None = None
    reactions: int | None = None
    comments: int | None = None
    shares: int | None = None

    @property
    def engagement(self) -> int:
        """Reactions + comments + shares, counting what is known."""
        return sum(v for v in (self.reactions, self.comments, self.shares) if v is not None)


class PostGone(Rejected):
    """The post or article is no longer on the platform (deleted, or never visible to this token)."""


def _count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and 0 <= value < 10**12:
        return int(value)
    return None


def _summary_total(edge: object) -> int | None:
    if not isinstance(edge, dict) or not isinstance(edge.get("summary"), dict):
        return None
    return _count(edge["summary"].get("total_count"))


class FacebookInsights:
    """Insights of posts on one Page, with its Page token."""

    def __init__(self, access_token: str, *, base_url: str, api_version: str,
                 session: requests.Session | None = None, timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 app_secret: str | None = None) -> None:
        self._reader = GraphReader(access_token, base_url=base_url, api_version=api_version, session=session,
                                   timeout=timeout, app_secret=app_secret)
        self.retired_metrics: set[str] = set()

    @property
    def calls(self) -> int:
        return self._reader.calls

    def fetch(self, post_id: str) -> PostStats:
        """Current numbers of one post (three small calls; see the module docstring)."""
        try:
            body = self._reader.get(post_id, {"fields": FB_ENGAGEMENT_FIELDS})
        except Rejected as exc:
            if exc.platform_code == 100:
                raise PostGone("Bài đăng không còn trên Facebook (đã bị xoá hoặc Trang không xem được).",
                               platform=exc.platform, platform_code=100, raw=exc.raw) from exc
            raise
        shares = body.get("shares")
        return PostStats(views=self._metric(post_id, FB_VIEWS_METRIC), reach=self._metric(post_id, FB_REACH_METRIC),
                         reactions=_summary_total(body.get("reactions")),
                         comments=_summary_total(body.get("comments")),
                         # Graph omits `shares` when nobody shared.
                         shares=_count(shares.get("count")) if isinstance(shares, dict) else 0)

    def _metric(self, post_id: str, metric: str) -> int | None:
        if metric in self.retired_metrics:
            return None
        try:
            body = self._reader.get(f"{post_id}/insights", {"metric": metric})
        except Rejected as exc:
            if exc.platform_code == 100 and "insights metric" in str(exc.details.get("platform_message") or "").lower():
                self.retired_metrics.add(metric)
                return None
            raise
        for row in body.get("data") or []:
            if isinstance(row, dict) and row.get("name") == metric:
                values = row.get("values")
                if isinstance(values, list) and values and isinstance(values[-1], dict):
                    return _count(values[-1].get("value"))
        return None


class ZaloInsights:
    """Views and shares of articles of one Zalo OA, with its access token."""

    def __init__(self, access_token: str, *, base_url: str = "https://openapi.zalo.me",
                 session: requests.Session | None = None, timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 app_secret: str | None = None) -> None:
        self._root = base_url.rstrip("/")
        self._session = session or requests.Session()
        self._timeout = timeout
        self._headers = {"access_token": access_token}
        if app_secret:
            self._headers["appsecret_proof"] = appsecret_proof(app_secret, access_token)
        self._secrets = (access_token, app_secret, self._headers.get("appsecret_proof"))
        self.calls = 0

    def fetch(self, article_id: str) -> PostStats:
        """Current views and shares of one article (``GET /v2.0/article/getdetail``)."""
        self.calls += 1
        resp = send(self._session, "GET", f"{self._root}/v2.0/article/getdetail", platform=ZALO, creates=False,
                    timeout=self._timeout, secrets=self._secrets, headers=self._headers, params={"id": article_id})
        body = parse_json(resp)
        code = body.get("error") if isinstance(body, dict) else None
        if resp.status_code < 500 and isinstance(code, int) and not isinstance(code, bool) and code != 0:
            message = body.get("message")
            error = map_zalo_error(code, message if isinstance(message, str) else "", resp,
                                   raw=excerpt(resp, self._secrets))
            if code == -201:
                raise PostGone("Bài viết không còn trên Zalo OA (đã bị gỡ).", platform=ZALO, platform_code=code,
                               raw=error.raw)
            raise error
        data = body.get("data") if isinstance(body, dict) else None
        if resp.status_code != 200 or not isinstance(data, dict):
            raise unreadable_response(resp, platform=ZALO, creates=False, secrets=self._secrets)
        return PostStats(views=_count(data.get("total_view")), reach=None, reactions=None, comments=None,
                         shares=_count(data.get("total_share")))
