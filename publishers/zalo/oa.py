"""Publishing articles to a Zalo Official Account and sending CS replies (platform-apis.md B3–B6)."""

from __future__ import annotations

from collections.abc import Callable

import json
import time
import unicodedata
from datetime import datetime, timezone

import requests

from common.errors import OutcomeUnknown, PlatformError, Rejected, RetryLater
from publishers.base import ChannelInfo, OutgoingPost, PublishResult
from platforms.http import DEFAULT_TIMEOUT, appsecret_proof, excerpt, parse_json, send, str_field, \
    unreadable_response
from publishers.zalo.article import article_title, build_article
from platforms.zalo_errors import ARTICLE_PROCESSING, PLATFORM, map_zalo_error, rate_limit

MAX_CS_TEXT = 2000
# find_published reads the newest articles in pages of this size, at most MAX_LIST_PAGES pages.
LIST_PAGE_SIZE = 10
MAX_LIST_PAGES = 30
MAX_VERIFY_DELAY = 8.0
# Tolerate clock skew between us and Zalo when comparing creation times with ``since``.
SINCE_SKEW_SECONDS = 120
_CREATED_KEYS = ("create_date", "created_date", "created_time", "create_time")


class ZaloOAClient:
    """Publisher, ChannelProbe and CS-reply sender for one Zalo Official Account."""

    platform = PLATFORM

    def __init__(
        self,
        oa_id: str,
        access_token: str,
        *,
        openapi_url: str = "https://openapi.zalo.me",
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        app_secret: str | None = None,
        author: str = "",
        verify_attempts: int = 6,
        verify_backoff: float = 0.5,
    ) -> None:
        self.oa_id = oa_id
        self._token = access_token
        self._root = openapi_url.rstrip("/")
        self._session = session or requests.Session()
        self._timeout = timeout
        self._headers = {"access_token": access_token}
        if app_secret:
            self._headers["appsecret_proof"] = appsecret_proof(app_secret, access_token)
        self._secrets = (access_token, app_secret, self._headers.get("appsecret_proof"))
        self.author = author
        self.verify_attempts = max(1, verify_attempts)
        self.verify_backoff = verify_backoff
        self._sleep = time.sleep
        # (limit, remaining) from the latest X-RateLimit-* headers, None until seen.
        self.last_rate_limit: tuple[int, int] | None = None

    # --- Publisher -------------------------------------------------------------------------

    def publish(self, post: OutgoingPost, *, idempotency_key: str,
                before_send: Callable[[], None] | None = None) -> PublishResult:
        """Create an article, wait until Zalo has processed it, then broadcast it if asked."""
        article = build_article(post, author=self.author)
        if before_send is not None:
            before_send()  # e.g. renew the publish lease; may abort before anything is created
        # The create call is the irreversible step; Zalo has no idempotency key, so a lost reply
        # is settled with find_published (title + time), never by creating again.
        resp, data = self._call("POST", "/v2.0/article/create", json=article, creates=True)
        token = str_field(data, "token")
        if token is None:
            raise OutcomeUnknown(platform=PLATFORM, platform_code="missing_token", raw=excerpt(resp, self._secrets))
        try:
            article_id = self._await_article(token)
        except PlatformError as exc:
            # The job exists from here on: any failure now (even an expired token) must not lead
            # to a fresh create, so it becomes OutcomeUnknown for find_published to settle.
            if isinstance(exc, OutcomeUnknown):
                raise
            raise OutcomeUnknown(platform=PLATFORM, platform_code=exc.platform_code, raw=exc.raw,
                                 token=token, cause=exc.message_vi) from exc
        extra: dict = {"token": token}
        if post.broadcast:
            extra.update(self._broadcast_after_publish(article_id))
        return PublishResult(external_id=article_id, url=self._article_link(article_id),
                             accepted_at=datetime.now(timezone.utc), extra=extra)

    def find_published(self, post: OutgoingPost, *, idempotency_key: str, since: datetime) -> PublishResult | None:
        """Find our article (same title, created since ``since``) among the newest; None if absent."""
        title = article_title(post)
        not_before = since.timestamp() - SINCE_SKEW_SECONDS
        for page in range(MAX_LIST_PAGES):
            resp, data = self._call("GET", "/v2.0/article/getslice", plain=True,
                                    params={"offset": page * LIST_PAGE_SIZE, "limit": LIST_PAGE_SIZE,
                                            "type": "normal"})
            medias = data.get("medias") if isinstance(data, dict) else None
            if not isinstance(medias, list):
                raise unreadable_response(resp, platform=PLATFORM, creates=False, secrets=self._secrets)
            for item in medias:
                created = _created_at(item)
                if created is not None and created < not_before:
                    return None  # newest first: everything after this is older still
                article_id = str_field(item, "id")
                if article_id and unicodedata.normalize("NFC", str(item.get("title", "")).strip()) == title:
                    # Whether a broadcast went out cannot be read back from Zalo.
                    extra = {"broadcast_status": "unknown"} if post.broadcast else {}
                    link = item.get("link") if isinstance(item.get("link"), str) else None
                    return PublishResult(external_id=article_id, url=link or self._article_link(article_id),
                                         accepted_at=_as_datetime(created), extra=extra)
            total = data.get("total")
            if len(medias) < LIST_PAGE_SIZE or (isinstance(total, int) and (page + 1) * LIST_PAGE_SIZE >= total):
                return None
        raise RetryLater("Không kiểm tra hết được danh sách bài viết của OA; hệ thống sẽ thử lại.",
                         platform=PLATFORM, platform_code="too_many_pages")

    # --- ChannelProbe and other calls --------------------------------------------------------

    def whoami(self) -> ChannelInfo:
        """Return the OA the token belongs to, or raise AuthExpired."""
        resp, data = self._call("GET", "/v2.0/oa/getoa")
        oa_id, name = str_field(data, "oa_id"), str_field(data, "name")
        if oa_id is None or name is None:
            raise unreadable_response(resp, platform=PLATFORM, creates=False, secrets=self._secrets)
        return ChannelInfo(external_id=oa_id, name=name)

    def send_text(self, user_id: str, text: str) -> str:
        """Send a customer-service text reply to a user and return its message_id."""
        if not text or not text.strip():
            raise Rejected("Tin nhắn trả lời không được để trống.", platform=PLATFORM, platform_code="empty_text")
        if len(text) > MAX_CS_TEXT:
            raise Rejected(f"Tin nhắn dài {len(text)} ký tự, vượt giới hạn {MAX_CS_TEXT} ký tự của Zalo.",
                           platform=PLATFORM, platform_code="text_too_long")
        # A message that may have been delivered must not be re-sent blindly: creates=True.
        resp, data = self._call("POST", "/v3.0/oa/message/cs", creates=True,
                                json={"recipient": {"user_id": user_id}, "message": {"text": text}})
        return self._message_id(resp, data)

    def broadcast_article(self, article_id: str) -> str:
        """Broadcast a published article to the OA's followers and return the message_id."""
        payload = {
            "recipient": {"target": {}},
            "message": {"attachment": {"type": "template", "payload": {
                "template_type": "media",
                "elements": [{"media_type": "article", "attachment_id": article_id}]}}},
        }
        resp, data = self._call("POST", "/v2.0/oa/message", json=payload, creates=True)
        return self._message_id(resp, data)

    # --- helpers ---------------------------------------------------------------------------

    def _await_article(self, token: str) -> str:
        """Poll article/verify while Zalo answers -214 (still processing); return the article id."""
        delay = self.verify_backoff
        for attempt in range(self.verify_attempts):
            try:
                resp, data = self._call("POST", "/v2.0/article/verify", json={"token": token})
            except RetryLater as exc:
                if exc.throttled and exc.platform_code != ARTICLE_PROCESSING:
                    raise
                # -214, a 5xx or a dropped connection: verify is a read, so poll again.
            else:
                # [conflict] most clients read data.id, one reads data.article_id.
                article_id = str_field(data, "id") or str_field(data, "article_id")
                if article_id is None:
                    raise OutcomeUnknown(platform=PLATFORM, platform_code="missing_id",
                                         raw=excerpt(resp, self._secrets), token=token)
                return article_id
            if attempt + 1 < self.verify_attempts:
                self._sleep(min(delay, MAX_VERIFY_DELAY))
                delay *= 2
        raise OutcomeUnknown("Zalo chưa xử lý xong bài viết sau nhiều lần kiểm tra; hệ thống sẽ kiểm tra lại "
                             "trước khi đăng lại.", platform=PLATFORM, platform_code=ARTICLE_PROCESSING, token=token)

    def _broadcast_after_publish(self, article_id: str) -> dict:
        """Broadcast without raising: the article is already live, so a failure is reported in extra."""
        try:
            return {"broadcast_message_id": self.broadcast_article(article_id), "broadcast_status": "sent"}
        except PlatformError as exc:
            # Raising would make the caller publish the article again. An unknown outcome is not
            # retried either: followers would receive the same broadcast twice.
            status = "unknown" if isinstance(exc, OutcomeUnknown) else "failed"
            return {"broadcast_status": status, "broadcast_error": {
                "kind": exc.code, "platform_code": exc.platform_code, "message": exc.message_vi}}

    def _article_link(self, article_id: str) -> str | None:
        """The public link from getdetail; None when unavailable (the article is live anyway)."""
        try:
            _, data = self._call("GET", "/v2.0/article/getdetail", params={"id": article_id}, plain=True)
        except PlatformError:
            return None
        link = data.get("link") if isinstance(data, dict) else None
        return link if isinstance(link, str) and link.startswith(("https://", "http://")) else None

    def _message_id(self, resp: requests.Response, data: object) -> str:
        message_id = str_field(data, "message_id")
        if message_id is None:
            raise OutcomeUnknown(platform=PLATFORM, platform_code="missing_message_id",
                                 raw=excerpt(resp, self._secrets))
        return message_id

    def _call(self, method: str, path: str, *, params: dict | None = None, json: dict | None = None,
              plain: bool = False, creates: bool = False) -> tuple[requests.Response, object]:
        """Send one OA call; return (response, ``data``) or raise our error kinds."""
        query = None
        if params:
            # Zalo GETs take one JSON-valued `data` parameter, except the article list/detail.
            query = params if plain else {"data": _compact_json(params)}
        resp = send(self._session, method, f"{self._root}{path}", params=query, json=json, headers=self._headers,
                    platform=PLATFORM, creates=creates, timeout=self._timeout, secrets=self._secrets)
        self.last_rate_limit = rate_limit(resp) or self.last_rate_limit
        body = parse_json(resp)
        code = body.get("error") if isinstance(body, dict) else None
        # Zalo answers application errors in HTTP 200; a 5xx is a gateway or server failure
        # whatever its body says, so it is handled like Facebook's raw 5xx below.
        if resp.status_code < 500 and isinstance(code, int) and not isinstance(code, bool) and code != 0:
            message = body.get("message")
            raise map_zalo_error(code, message if isinstance(message, str) else "", resp,
                                 raw=excerpt(resp, self._secrets))
        if resp.status_code != 200 or code != 0:
            raise unreadable_response(resp, platform=PLATFORM, creates=creates, secrets=self._secrets)
        return resp, body.get("data")


def _compact_json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _created_at(item: object) -> float | None:
    """Creation time in epoch seconds from a getslice item, if it carries one (Zalo uses ms)."""
    if not isinstance(item, dict):
        return None
    for key in _CREATED_KEYS:
        value = item.get(key)
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        return number / 1000 if number > 1e11 else number
    return None


def _as_datetime(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, timezone.utc) if epoch is not None else None
