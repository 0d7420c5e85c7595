"""Publishing to a Facebook Page through the Graph API (platform-apis.md Part A)."""

from __future__ import annotations

from collections.abc import Callable

import os
import unicodedata
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests

from common.errors import Rejected, RetryLater
from publishers.base import ChannelInfo, MediaFile, OutgoingPost, PublishResult
from platforms.graph_errors import PLATFORM, GraphUsage, map_graph_error, missing_id, parse_usage
from platforms.http import (DEFAULT_TIMEOUT, appsecret_proof, excerpt, parse_json, send, str_field,
                             unreadable_response)

# Postiz caps Page messages at 63,206 characters.
MAX_MESSAGE_CHARS = 63_206
MAX_PHOTOS = 10
# find_published pages through at most this many result pages before giving up (RetryLater).
MAX_LIST_PAGES = 50
# Tolerate clock skew between us and Facebook when asking for posts "since" an attempt started.
SINCE_SKEW_SECONDS = 120


class FacebookPageClient:
    """Publisher and ChannelProbe for one Facebook Page, using a Page access token."""

    platform = PLATFORM

    def __init__(
        self,
        page_id: str,
        access_token: str,
        *,
        base_url: str = "https://graph.facebook.com",
        api_version: str = "v25.0",
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        app_secret: str | None = None,
    ) -> None:
        self.page_id = page_id
        self._token = access_token
        self._root = f"{base_url.rstrip('/')}/{api_version.strip('/')}"
        self._origin = urlsplit(base_url)[:2]
        self._session = session or requests.Session()
        self._timeout = timeout
        self._proof = appsecret_proof(app_secret, access_token) if app_secret else None
        self._secrets = (access_token, app_secret, self._proof)
        # Latest usage headers seen (None until Graph sends some); `.near_limit` at >= 95 %.
        self.last_usage: GraphUsage | None = None

    # --- Publisher -------------------------------------------------------------------------

    def publish(self, post: OutgoingPost, *, idempotency_key: str,
                before_send: Callable[[], None] | None = None) -> PublishResult:
        """Publish a text, link or photo post; raises OutcomeUnknown when the feed call may have applied."""
        # Graph has no idempotency key: duplicates are prevented by settling OutcomeUnknown with
        # find_published before any new attempt, never by re-sending.
        fields = self._feed_fields(post)
        if len(post.photos) > MAX_PHOTOS:
            raise Rejected(f"Facebook chỉ cho phép tối đa {MAX_PHOTOS} ảnh trong một bài.",
                           platform=PLATFORM, platform_code="too_many_photos")
        payload: dict[str, object] = dict(fields)
        if post.photos:
            # Unpublished photos are invisible and unused ones are harmless, so uploads may be
            # repeated freely; only the /feed call below makes something public.
            ids = [self._upload_photo(photo) for photo in post.photos]
            payload["attached_media"] = [{"media_fbid": photo_id} for photo_id in ids]
        if before_send is not None:
            before_send()  # e.g. renew the publish lease; may abort before anything is public
        resp, body = self._call("POST", f"{self.page_id}/feed", params={"fields": "id,permalink_url"},
                                json=payload, creates=True)
        post_id = str_field(body, "id")
        if post_id is None:
            raise missing_id(resp, creates=True, raw=excerpt(resp, self._secrets), what="đăng bài")
        return PublishResult(external_id=post_id, url=_http_url(body.get("permalink_url")),
                             accepted_at=datetime.now(timezone.utc))

    def find_published(self, post: OutgoingPost, *, idempotency_key: str, since: datetime) -> PublishResult | None:
        """Find our post among the Page's posts created since ``since``; None if it is not there."""
        fields = self._feed_fields(post)
        want_message = _normalise(fields.get("message", ""))
        want_link = fields.get("link")
        url = self._url(f"{self.page_id}/published_posts")
        since_ts = int(since.timestamp()) - SINCE_SKEW_SECONDS
        params = {"fields": "id,message,created_time,permalink_url", "since": str(since_ts)}
        for _ in range(MAX_LIST_PAGES):
            resp, body = self._call("GET", url, params=params)
            items = body.get("data")
            if not isinstance(items, list):
                raise unreadable_response(resp, platform=PLATFORM, creates=False, secrets=self._secrets)
            for item in items:
                if _matches(item, want_message, want_link, not_before=since_ts):
                    return PublishResult(external_id=str_field(item, "id") or "",
                                         url=_http_url(item.get("permalink_url")),
                                         accepted_at=_parse_time(item.get("created_time")))
            # An empty page may still have `next`: stop only when `next` is absent.
            paging = body.get("paging")
            next_url = paging.get("next") if isinstance(paging, dict) else None
            if not next_url:
                return None
            url, params = self._follow(next_url, resp)
        raise RetryLater("Không kiểm tra hết được danh sách bài trên Trang; hệ thống sẽ thử lại.",
                         platform=PLATFORM, platform_code="too_many_pages")

    # --- ChannelProbe ----------------------------------------------------------------------

    def whoami(self) -> ChannelInfo:
        """Return the Page the token speaks for, or raise AuthExpired."""
        resp, body = self._call("GET", self.page_id, params={"fields": "id,name"})
        page_id, name = str_field(body, "id"), str_field(body, "name")
        if page_id is None or name is None:
            raise missing_id(resp, creates=False, raw=excerpt(resp, self._secrets), what="đọc thông tin Trang")
        return ChannelInfo(external_id=page_id, name=name)

    # --- helpers ---------------------------------------------------------------------------

    def _feed_fields(self, post: OutgoingPost) -> dict[str, str]:
        """The message/link sent to /feed; also what find_published compares against."""
        message = post.text or ""
        link = post.link or None
        if link and post.photos:
            # A post with attached photos shows no link preview, so keep the link in the text.
            message = f"{message}\n\n{link}" if message else link
            link = None
        if not message.strip() and not link and not post.photos:
            raise Rejected("Bài đăng trống: cần có nội dung, liên kết hoặc ảnh.",
                           platform=PLATFORM, platform_code="empty_post")
        if len(message) > MAX_MESSAGE_CHARS:
            count = f"{len(message):,}".replace(",", ".")
            raise Rejected(f"Nội dung dài {count} ký tự, vượt giới hạn 63.206 ký tự của Facebook.",
                           platform=PLATFORM, platform_code="message_too_long")
        fields = {"message": message} if message else {}
        if link:
            fields["link"] = link
        return fields

    def _upload_photo(self, photo: MediaFile) -> str:
        """Upload one photo unpublished and return its id (safe to repeat)."""
        try:
            with open(photo.path, "rb") as fh:
                content = fh.read()
        except OSError as exc:
            raise Rejected(f"Không đọc được tệp ảnh {os.path.basename(photo.path)}.",
                           platform=PLATFORM, platform_code="photo_unreadable", raw=str(exc)) from None
        files = {"source": (os.path.basename(photo.path), content, photo.content_type)}
        resp, body = self._call("POST", f"{self.page_id}/photos", data={"published": "false"}, files=files)
        photo_id = str_field(body, "id")
        if photo_id is None:
            raise missing_id(resp, creates=False, raw=excerpt(resp, self._secrets), what="tải ảnh lên")
        return photo_id

    def _url(self, path: str) -> str:
        return f"{self._root}/{path.lstrip('/')}"

    def _follow(self, next_url: object, resp: requests.Response) -> tuple[str, dict[str, str]]:
        """Split a `paging.next` URL into URL and params; refuse other hosts (the token would leak)."""
        parts = urlsplit(next_url) if isinstance(next_url, str) else None
        if parts is None or parts[:2] != self._origin:
            raise unreadable_response(resp, platform=PLATFORM, creates=False, secrets=self._secrets)
        params = {k: v for k, v in parse_qsl(parts.query) if k not in ("access_token", "appsecret_proof")}
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), params

    def _call(self, method: str, path_or_url: str, *, params: dict | None = None, creates: bool = False,
              **kwargs: object) -> tuple[requests.Response, dict]:
        """Send one Graph call and return (response, JSON object), raising our error kinds otherwise."""
        url = path_or_url if path_or_url.startswith(("http://", "https://")) else self._url(path_or_url)
        query = dict(params or {})
        # Token in the query string as Postiz does; redact() strips it from any stored error text.
        query["access_token"] = self._token
        if self._proof:
            query["appsecret_proof"] = self._proof
        resp = send(self._session, method, url, params=query, platform=PLATFORM, creates=creates,
                    timeout=self._timeout, secrets=self._secrets, **kwargs)
        usage = parse_usage(resp.headers)
        if usage is not None:
            self.last_usage = usage
        body = parse_json(resp)
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            raise map_graph_error(body["error"], resp, raw=excerpt(resp, self._secrets))
        if not 200 <= resp.status_code < 300 or not isinstance(body, dict):
            raise unreadable_response(resp, platform=PLATFORM, creates=creates, secrets=self._secrets)
        return resp, body


def _normalise(text: object) -> str:
    """Compare messages the way Facebook stores them: NFC, no CR, no trailing spaces."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    return "\n".join(line.rstrip() for line in text.strip().split("\n"))


def _matches(item: object, want_message: str, want_link: str | None, *, not_before: int) -> bool:
    if not isinstance(item, dict) or str_field(item, "id") is None:
        return False
    created = _parse_time(item.get("created_time"))
    if created is not None and created.timestamp() < not_before:
        return False  # `since` is applied by Graph too; this guards against a listing that ignores it
    # A photo-only post has no message, so it matches any message-less post since `since`:
    # weaker, but still bounded by the time window.
    if _normalise(item.get("message")) != want_message:
        return False
    # The requested fields carry no link; compare it only when the listing happens to include one.
    got_link = item.get("link")
    return not (want_link and isinstance(got_link, str) and got_link.rstrip("/") != want_link.rstrip("/"))


def _http_url(value: object) -> str | None:
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


def _parse_time(value: object) -> datetime | None:
    """Graph times look like 2024-05-01T10:00:00+0000."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


