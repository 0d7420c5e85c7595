"""The inbound mirror's one data model and one interface.

Every collector (Facebook Page posts and comments, Zalo OA messages, news feeds, webhooks) turns
what it reads into ``CollectedItem``s built by ``make_item``, so ingest, de-duplication and the
classifier all see the same cleaned text (NFC, no control characters, bounded length), whatever
the platform sent. A ``Source`` returns its items with a JSON cursor telling where to continue.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

SOURCES = ("facebook_comment", "facebook_post", "zalo_message", "news_article")

# Platform bodies are untrusted: every stored string has a ceiling. A Facebook post may hold
# 63,206 characters; nothing worth classifying needs more than the first 20,000.
MAX_TEXT_CHARS = 20_000
MAX_TITLE_CHARS = 1_000
MAX_ID_CHARS = 512
MAX_URL_CHARS = 2_048
MAX_NAME_CHARS = 200

# C0/C1 control characters, except tab and newline which carry meaning in posts.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Zero-width and bidi controls are used to dodge filters and to make copies look different.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_BLANK_LINES = re.compile(r"\n{3,}")
# Runs of spaces, tabs, NBSP and other Unicode spaces (not newlines) become one space.
_SPACES = re.compile(r"[^\S\n]+")


@dataclass(frozen=True)
class CollectedItem:
    """One post, comment, message or article as collected; build it with ``make_item``."""

    source: str
    external_id: str
    text: str
    created_at: datetime
    url: str | None = None
    # The Page post a comment belongs to.
    parent_external_id: str | None = None
    # The comment a reply answers (Facebook flattens deeper replies onto the top-level comment).
    reply_to_external_id: str | None = None
    # RAW platform user id or feed author: ingest stores only ``hash_author(salt, ...)`` of it.
    author_ref: str | None = None
    # Display name, set only for the Page's/OA's own items; never a member's name.
    author_name: str | None = None
    title: str | None = None
    # Page id / OA id / feed URL the item came through: lets webhooks be routed to a channel.
    account_ref: str | None = None


@dataclass
class Batch:
    """What one ``Source.fetch`` returns: items plus the cursor to store for the next call."""

    items: list[CollectedItem]
    cursor: dict
    # True when the source stopped early (page budget spent, rate limit near, transient error
    # after some progress): call fetch again with ``cursor`` after ``retry_after`` seconds.
    more: bool = False
    retry_after: float | None = None


class Source(Protocol):
    """Anything that can mirror items from one account or feed incrementally."""

    def fetch(self, cursor: dict | None) -> Batch:
        """Return items newer than ``cursor`` (None on the first run) and the cursor to store."""
        ...


def clean_text(value: object, limit: int = MAX_TEXT_CHARS) -> str:
    """NFC text without control/invisible characters, CRLF folded, trimmed and capped at ``limit``."""
    if not isinstance(value, str):
        return ""
    # Cap before the regex work too: the input may be megabytes.
    text = value[: limit * 2]
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", _INVISIBLE.sub("", _CONTROL.sub("", text)))
    text = _BLANK_LINES.sub("\n\n", text.replace(" \n", "\n").replace("\n ", "\n")).strip()
    return text[:limit].rstrip()


def _short(value: object, limit: int) -> str | None:
    text = clean_text(value, limit) if value is not None else ""
    return text.replace("\n", " ") or None


def _http_url(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    url = value.strip()
    if len(url) > MAX_URL_CHARS or not url.lower().startswith(("https://", "http://")):
        return None
    return url if not _CONTROL.search(url) and " " not in url else None


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def from_epoch(seconds: float) -> datetime:
    """UTC datetime from epoch seconds."""
    return datetime.fromtimestamp(seconds, timezone.utc)


def make_item(
    source: str,
    external_id: str,
    text: object,
    created_at: datetime,
    *,
    url: object = None,
    parent_external_id: str | None = None,
    reply_to_external_id: str | None = None,
    author_ref: object = None,
    author_name: object = None,
    title: object = None,
    account_ref: str | None = None,
) -> CollectedItem:
    """Build a CollectedItem with cleaned text and bounded fields; ValueError on a bad source or id."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    ext = _short(external_id, MAX_ID_CHARS + 1)
    if not ext or len(ext) > MAX_ID_CHARS:
        raise ValueError("external_id must be a non-empty string of at most 512 characters")
    author = author_ref if isinstance(author_ref, str) else (str(author_ref) if isinstance(author_ref, int) else None)
    return CollectedItem(
        source=source,
        external_id=ext,
        text=clean_text(text),
        created_at=as_utc(created_at),
        url=_http_url(url),
        parent_external_id=_short(parent_external_id, MAX_ID_CHARS),
        reply_to_external_id=_short(reply_to_external_id, MAX_ID_CHARS),
        author_ref=_short(author, MAX_ID_CHARS),
        author_name=_short(author_name, MAX_NAME_CHARS),
        title=_short(title, MAX_TITLE_CHARS),
        account_ref=_short(account_ref, MAX_URL_CHARS),
    )


def hash_author(salt: str, platform: str, raw: str) -> str:
    """Pseudonymous author key: hex HMAC-SHA256(salt, "platform:raw").

    Members' platform ids are personal data; storing only a keyed hash still lets us count how many
    distinct people spread a rumour without being able to look anyone up without the salt.
    """
    if not salt:
        raise ValueError("an author salt is required")
    message = f"{platform}:{raw}".encode()
    return hmac.new(salt.encode(), message, hashlib.sha256).hexdigest()
