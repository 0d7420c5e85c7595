"""The small interfaces every platform client implements, and the values they exchange."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from platforms.zalo_auth import TokenPair  # noqa: F401  (re-exported for callers of the Publisher API)


@dataclass(frozen=True)
class MediaFile:
    """A photo attached to a post: a local file and, when Loa serves it publicly, its URL."""

    path: str
    content_type: str
    size: int
    url: str | None = None


@dataclass(frozen=True)
class OutgoingPost:
    """What one channel should publish, after per-channel variants are applied."""

    text: str
    link: str | None = None
    title: str | None = None
    photos: tuple[MediaFile, ...] = ()
    # Zalo only: after the article is live, broadcast it to followers.
    broadcast: bool = False
    # Zalo articles need a cover photo URL; used when the post has no photo of its own.
    cover_url: str | None = None


@dataclass(frozen=True)
class PublishResult:
    """Where the platform put the post."""

    external_id: str
    url: str | None = None
    accepted_at: datetime | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ChannelInfo:
    """Who a token speaks for, as the platform reports it."""

    external_id: str
    name: str


class Publisher(Protocol):
    """Publishes to one channel. Raises the ``common.errors.PlatformError`` family."""

    platform: str

    def publish(self, post: OutgoingPost, *, idempotency_key: str,
                before_send: Callable[[], None] | None = None) -> PublishResult:
        """Publish ``post`` once; raise OutcomeUnknown when it may or may not have gone out.

        ``before_send`` is called right before the one irreversible request (after photo uploads);
        if it raises, nothing has been made public and the exception propagates.
        """
        ...

    def find_published(self, post: OutgoingPost, *, idempotency_key: str, since: datetime) -> PublishResult | None:
        """Look on the platform for ``post`` published at or after ``since``; None if absent."""
        ...


class ChannelProbe(Protocol):
    """Checks a token when a channel is connected or re-authorised."""

    def whoami(self) -> ChannelInfo:
        """Return the page/OA the token belongs to, or raise AuthExpired."""
        ...
