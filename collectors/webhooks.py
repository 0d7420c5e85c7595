"""Real-time deliveries from Facebook (A9) and Zalo (B7): signature checks and payload parsing.

The web layer must verify the signature on the RAW body before parsing anything, answer 403 and
store nothing when it fails, and answer 200 quickly otherwise (platforms retry slow receivers).
Parsers are lenient per entry — one malformed change is skipped, the rest of a batch is kept —
but a body that is not JSON at all raises ValueError.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from datetime import datetime, timezone

from collectors.base import CollectedItem, from_epoch, make_item
from platforms.http import str_field

logger = logging.getLogger(__name__)

# Real deliveries are a few KB; refuse to parse anything bigger.
MAX_BODY_BYTES = 1_000_000
FB_POST_ITEMS = frozenset({"post", "status", "photo", "video", "share", "link"})
FB_VERBS = frozenset({"add", "edited"})
# user_send_* with text; media events carry a caption in `text` when there is one.
ZALO_USER_EVENT_PREFIXES = ("user_send_", "anonymous_send_")


# --- Facebook ---------------------------------------------------------------------------------

def verify_facebook_signature(app_secret: str, body: bytes, header: str | None) -> bool:
    """True when ``X-Hub-Signature-256`` is ``sha256=`` HMAC-SHA256(app secret, raw body)."""
    if not app_secret or not header:
        return False
    algo, _, given = header.strip().partition("=")
    if algo.lower() != "sha256" or len(given) != 64:
        return False  # the legacy sha1 header is not accepted
    want = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, given.lower())


def facebook_handshake(params: Mapping[str, str], verify_token: str) -> str | None:
    """The ``hub.challenge`` to echo when mode is subscribe and the verify token matches, else None."""
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    given = params.get("hub.verify_token") or ""
    challenge = params.get("hub.challenge")
    if not hmac.compare_digest(given.encode(), verify_token.encode()) or not challenge:
        return None
    return challenge if len(challenge) <= 512 else None


def parse_facebook_webhook(body: bytes, *, include_page_comments: bool = False) -> list[CollectedItem]:
    """Comments and posts added or edited on a Page feed; other objects, fields and verbs are ignored."""
    payload = _load(body)
    if not isinstance(payload, dict) or payload.get("object") != "page":
        return []
    items: list[CollectedItem] = []
    for entry in _dicts(payload.get("entry")):
        page_id = str_field(entry, "id")
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "feed" or not isinstance(value, dict) or page_id is None:
                continue
            try:
                item = _facebook_item(value, page_id, entry, include_page_comments)
            except ValueError as exc:  # e.g. an id make_item refuses
                logger.warning("facebook webhook change skipped page=%s reason=%s", page_id, exc)
                continue
            if item is not None:
                items.append(item)
    return items


def _facebook_item(value: dict, page_id: str, entry: dict, include_page: bool) -> CollectedItem | None:
    kind, verb = value.get("item"), value.get("verb")
    if verb not in FB_VERBS:
        return None
    sender = value.get("from") if isinstance(value.get("from"), dict) else {}
    author_id = str_field(sender, "id")
    author_name = str_field(sender, "name") if author_id == page_id else None
    text = value.get("message")
    if not isinstance(text, str) or not text.strip():
        return None
    created = _epoch_time(value.get("created_time")) or _epoch_time(entry.get("time")) or _utcnow()
    post_id = str_field(value, "post_id")
    if kind == "comment":
        comment_id = str_field(value, "comment_id")
        if comment_id is None or post_id is None:
            return None
        if author_id == page_id and not include_page:
            return None  # the Page's own replies are not opinions to monitor
        parent = str_field(value, "parent_id")
        post = value.get("post") if isinstance(value.get("post"), dict) else {}
        return make_item("facebook_comment", comment_id, text, created, url=_comment_url(post, comment_id),
                         parent_external_id=post_id, reply_to_external_id=parent if parent != post_id else None,
                         author_ref=author_id, author_name=author_name, account_ref=page_id)
    if kind in FB_POST_ITEMS and post_id is not None:
        # `link` would be the article a post shares, not the post itself: only a permalink is a URL here.
        return make_item("facebook_post", post_id, text, created, url=value.get("permalink_url"),
                         author_ref=author_id, author_name=author_name, account_ref=page_id)
    return None


def _comment_url(post: dict, comment_id: str) -> str | None:
    permalink = post.get("permalink_url")
    if not isinstance(permalink, str) or "_" not in comment_id:
        return None
    return f"{permalink}?comment_id={comment_id.split('_', 1)[1]}"


# --- Zalo -------------------------------------------------------------------------------------

def verify_zalo_signature(app_id: str, secret: str, body: bytes, header: str | None,
                          timestamp: str | None = None, *, max_age_s: float | None = None,
                          now: float | None = None) -> bool:
    """True when ``X-ZEvent-Signature`` is ``mac=`` SHA-256(app_id + raw body + timestamp + secret).

    ``secret`` is the OA Secret Key of the webhook settings (B7 [conflict]: some say the app
    secret; the caller picks). ``timestamp`` is the body's own field (epoch ms); when not given it
    is read from the body, which is decoded only for that: the hash covers the exact raw bytes.
    Plain SHA-256, not HMAC, per the official SDK. With ``max_age_s``, a delivery whose timestamp
    is further than that from ``now`` is refused (replays).
    """
    if not app_id or not secret or not header or len(body) > MAX_BODY_BYTES:
        return False
    prefix, _, given = header.strip().partition("=")
    if prefix.lower() != "mac" or len(given) != 64:
        return False
    if timestamp is None:
        timestamp = _body_timestamp(body)
        if timestamp is None:
            return False
    want = hashlib.sha256(app_id.encode() + body + timestamp.encode() + secret.encode()).hexdigest()
    if not hmac.compare_digest(want, given.lower()):
        return False
    if max_age_s is not None:
        sent = _ms(timestamp)
        current = time.time() if now is None else now
        if sent is None or abs(current - sent / 1000) > max_age_s:
            return False
    return True


def zalo_oa_id(payload: Mapping) -> str | None:
    """The OA a Zalo event is about: recipient of ``user_*`` events, sender of ``oa_*``, else ``oa_id``."""
    event = payload.get("event_name")
    if isinstance(event, str) and event.startswith("oa_"):
        side = payload.get("sender")
    elif isinstance(event, str) and event.startswith(ZALO_USER_EVENT_PREFIXES + ("user_",)):
        side = payload.get("recipient")
    else:
        side = None
    return (str_field(side, "id") if isinstance(side, dict) else None) or str_field(payload, "oa_id")


def parse_zalo_webhook(body: bytes) -> list[CollectedItem]:
    """Messages users send to the OA (``user_send_*``); OA-sent, follow and other events are ignored."""
    payload = _load(body)
    if not isinstance(payload, dict):
        return []
    event = payload.get("event_name")
    if not isinstance(event, str) or not event.startswith(ZALO_USER_EVENT_PREFIXES):
        return []
    message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
    sender = payload.get("sender") if isinstance(payload.get("sender"), dict) else {}
    msg_id, text = str_field(message, "msg_id"), message.get("text")
    if msg_id is None or not isinstance(text, str) or not text.strip():
        return []
    sent = _ms(payload.get("timestamp"))
    created = from_epoch(sent / 1000) if sent is not None else _utcnow()
    try:
        return [make_item("zalo_message", msg_id, text, created, author_ref=str_field(sender, "id"),
                          account_ref=zalo_oa_id(payload))]
    except ValueError as exc:
        logger.warning("zalo webhook skipped event=%s reason=%s", event, exc)
        return []


# --- helpers ----------------------------------------------------------------------------------

def _load(body: bytes) -> object:
    """Decode a webhook body; ValueError when it is too big or not JSON."""
    if len(body) > MAX_BODY_BYTES:
        raise ValueError("webhook body too large")
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise ValueError("webhook body is not UTF-8 JSON") from exc


def _body_timestamp(body: bytes) -> str | None:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    value = payload.get("timestamp") if isinstance(payload, dict) else None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value)


def _dicts(value: object) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _epoch_time(value: object) -> datetime | None:
    """Facebook's webhook times are epoch seconds (sometimes milliseconds)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    seconds = value / 1000 if value > 1e11 else value
    try:
        return from_epoch(seconds)
    except (OverflowError, OSError, ValueError):
        return None


def _ms(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        ms = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return ms if 0 < ms < 10**14 else None


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)
