"""In-memory world of the emulator: clock, ids, Facebook objects, Zalo objects.

Everything runs on one asyncio loop, so a handler that does not await between reading and writing
state is atomic; that is what makes "of two concurrent refreshes only one wins" hold.
"""

from __future__ import annotations

import random
import string
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone


class Clock:
    """Wall clock plus an adjustable offset; every expiry, schedule and window reads it."""

    def __init__(self) -> None:
        self.offset_s = 0.0

    def now(self) -> float:
        """Emulator time in epoch seconds."""
        return time.time() + self.offset_s

    def advance(self, seconds: float) -> None:
        """Move emulator time forward (or back, if negative)."""
        self.offset_s += float(seconds)

    def set_offset(self, seconds: float) -> None:
        """Set the offset from wall time."""
        self.offset_s = float(seconds)


def fb_time(ts: float) -> str:
    """Graph's time format: 2024-06-10T12:00:00+0000."""
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


# --------------------------------------------------------------------------- Facebook

@dataclass(slots=True, eq=False)
class FbToken:
    token: str
    kind: str  # "page" | "user" | "app"
    app_id: str
    issued_at: float
    page_id: str | None = None
    user_id: str | None = None
    scopes: frozenset = frozenset()
    expires_at: float | None = None
    revoked_subcode: int | None = None


@dataclass(slots=True, eq=False)
class FbUser:
    id: str
    name: str
    page_ids: list = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Page:
    id: str
    name: str
    page_token: str
    category: str = "Nonprofit Organization"
    fan_count: int = 0
    followers_count: int = 0
    scopes: frozenset = frozenset()
    subscribed_fields: list = field(default_factory=list)
    posts: list = field(default_factory=list)  # creation order
    # PSID -> list of messenger messages (dicts)
    conversations: dict = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Post:
    id: str
    page_id: str
    seq: int
    message: str | None
    link: str | None
    created_time: float
    accepted_at: float
    published: bool
    from_id: str
    from_name: str
    photo_ids: list = field(default_factory=list)
    video_id: str | None = None
    scheduled_at: float | None = None
    updated_time: float = 0.0
    status_type: str = "mobile_status_update"
    reactions: int = 0
    shares: int = 0
    views: int = 0
    comments: list = field(default_factory=list)  # every comment incl. replies, creation order
    deleted: bool = False
    # True once views/reactions/shares were pinned (control API, demo); else they grow organically.
    manual: bool = False

    def is_live(self, now: float) -> bool:
        """Published now, or scheduled and the emulator clock has passed the time."""
        if self.deleted:
            return False
        if self.published:
            return True
        return self.scheduled_at is not None and self.scheduled_at <= now

    @property
    def local_id(self) -> str:
        return self.id.split("_", 1)[1]


@dataclass(slots=True, eq=False)
class Photo:
    id: str
    page_id: str
    published: bool
    created_time: float
    caption: str | None = None
    url: str | None = None
    data: bytes | None = None
    content_type: str = "image/jpeg"
    width: int = 0
    height: int = 0
    used_in: str | None = None  # post id once attached
    post_id: str | None = None


@dataclass(slots=True, eq=False)
class Video:
    id: str
    page_id: str
    created_time: float
    title: str | None = None
    description: str | None = None
    file_url: str | None = None
    polls_left: int = 1
    failed: bool = False
    post_id: str | None = None


@dataclass(slots=True, eq=False)
class Comment:
    id: str
    post_id: str
    seq: int
    message: str
    from_id: str
    from_name: str
    created_time: float
    parent_id: str | None = None
    is_hidden: bool = False
    like_count: int = 0
    attachment_url: str | None = None
    deleted: bool = False
    private_replied: bool = False


# --------------------------------------------------------------------------- Zalo

@dataclass(slots=True, eq=False)
class ZaloApp:
    app_id: str
    secret: str
    oa_secret: str
    redirect_uri: str | None = None


@dataclass(slots=True, eq=False)
class ZaloUser:
    user_id: str
    display_name: str
    user_id_by_app: str
    avatar: str = ""
    is_follower: bool = True
    last_interaction: float | None = None
    tags: list = field(default_factory=list)


@dataclass(slots=True, eq=False)
class ZaloMessage:
    message_id: str
    user_id: str
    src: int  # 1 = user -> OA, 0 = OA -> user
    time_ms: int
    type: str
    text: str
    seq: int
    attachments: list = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Article:
    id: str
    oa_id: str
    seq: int
    type: str
    title: str
    author: str
    description: str
    cover: dict
    body: list
    status: str
    comment: str
    created: float
    updated: float
    accepted_at: float
    processed: bool = False  # set when article/verify has answered the id (or for demo data)
    removed: bool = False
    total_view: int = 0
    total_share: int = 0
    video_id: str | None = None
    # Emulator time at which Zalo finishes processing on its own, polled or not; None = only verify.
    ready_at: float | None = None
    # True once total_view/total_share were pinned (control API, demo); else they grow organically.
    manual: bool = False

    def is_processed(self, now: float) -> bool:
        """Processed (listed by getslice, readable by getdetail) once verified or once ``ready_at`` passed.

        Computed from the clock on every read, so no background task is needed.
        """
        return self.processed or (self.ready_at is not None and now >= self.ready_at)


@dataclass(slots=True, eq=False)
class ArticleJob:
    token: str
    article_id: str
    polls_left: int


@dataclass(slots=True, eq=False)
class OA:
    oa_id: str
    name: str
    app_id: str
    description: str = ""
    is_verified: bool = True
    users: dict = field(default_factory=dict)  # user_id -> ZaloUser
    messages: list = field(default_factory=list)  # ZaloMessage, creation order
    articles: dict = field(default_factory=dict)  # id -> Article
    broadcasts: list = field(default_factory=list)
    uploads: dict = field(default_factory=dict)  # attachment id/token -> dict
    articles_created: int = 0


@dataclass(slots=True, eq=False)
class ZaloToken:
    token: str
    oa_id: str
    app_id: str
    issued_at: float
    expires_at: float
    revoked_code: int | None = None


@dataclass(slots=True, eq=False)
class ZaloRefresh:
    token: str
    oa_id: str
    app_id: str
    issued_at: float
    expires_at: float
    used: bool = False


@dataclass(slots=True, eq=False)
class ZaloCode:
    code: str
    oa_id: str
    app_id: str
    expires_at: float
    challenge: str | None = None
    method: str = "S256"
    used: bool = False


# --------------------------------------------------------------------------- world

class World:
    """Every object the emulator knows about, plus id/token generation."""

    def __init__(self, seed: int | None = None) -> None:
        self.rng = random.Random(seed)
        self._counter = 0
        self._seq = 0
        # Facebook
        self.fb_tokens: dict[str, FbToken] = {}
        self.fb_users: dict[str, FbUser] = {}
        self.pages: dict[str, Page] = {}
        self.objects: dict[str, object] = {}  # id -> Page | Post | Photo | Video | Comment
        self.fb_codes: dict[str, tuple[str, float, bool]] = {}  # code -> (user_id, expires, used)
        # Zalo
        self.zalo_apps: dict[str, ZaloApp] = {}
        self.oas: dict[str, OA] = {}
        self.zalo_tokens: dict[str, ZaloToken] = {}
        self.zalo_refresh: dict[str, ZaloRefresh] = {}
        self.zalo_codes: dict[str, ZaloCode] = {}
        self.article_jobs: dict[str, ArticleJob] = {}
        self.articles: dict[str, Article] = {}  # id -> Article (all OAs)

    # ids ---------------------------------------------------------------------------------
    def numeric_id(self, digits: int = 15) -> str:
        """A fresh numeric id string (Graph and Zalo ids are large numbers kept as strings)."""
        self._counter += 1
        base = 10 ** (digits - 1) + 2 * 10 ** (digits - 3)
        return str(base + self._counter * 7919 + self.rng.randrange(7919))

    def next_seq(self) -> int:
        """Monotonic sequence number used to order objects created in the same second."""
        self._seq += 1
        return self._seq

    def token(self, prefix: str, length: int = 48) -> str:
        """A random opaque token with a readable prefix."""
        alphabet = string.ascii_letters + string.digits
        return prefix + "".join(self.rng.choice(alphabet) for _ in range(length))

    def hex_id(self, length: int = 32) -> str:
        """Random lowercase hex id (Zalo article and message ids look like this)."""
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(length))
