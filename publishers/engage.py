"""The second small platform interface: answering and moderating what people wrote to our channels.

Publishing (``publishers.base.Publisher``) makes our own posts; this one acts on a collected item —
a comment under a Page post or a follower's Zalo message: reply as the Page/OA, and hide or unhide a
comment. Kept separate so neither interface grows optional methods (style-anchors: "a second small
Protocol").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ReplyTarget:
    """The collected item being answered or hidden."""

    # Facebook: the comment id; Zalo: the follower's message id.
    external_id: str
    # The stored pseudonymous author key (Zalo needs it to find the follower: the raw id is never stored).
    author_key: str | None = None


@dataclass(frozen=True)
class ReplyResult:
    """Where the platform put our answer."""

    external_id: str
    url: str | None = None


class Engager(Protocol):
    """Replies and moderation on one channel. Raises the ``common.errors.PlatformError`` family."""

    platform: str

    def reply(self, target: ReplyTarget, text: str) -> ReplyResult:
        """Answer ``target`` publicly as the Page (or privately as the OA); OutcomeUnknown if it may have gone out."""
        ...

    def find_reply(self, target: ReplyTarget, text: str, *, since: datetime) -> ReplyResult | None:
        """Our answer ``text`` to ``target`` made at or after ``since``, if the platform can say; else None."""
        ...

    def set_hidden(self, target: ReplyTarget, hidden: bool) -> None:
        """Hide (or show again) a comment; Rejected where the platform has no such thing."""
        ...
