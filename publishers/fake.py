"""A scriptable in-memory publisher for fast unit tests of the publishing service."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from common.errors import PlatformError
from db.base import utcnow
from publishers.base import ChannelInfo, OutgoingPost, PublishResult, TokenPair


@dataclass
class FakePlatform:
    """Shared state of the fake: what was published, and a script of outcomes per call."""

    published: list[tuple[str, OutgoingPost, datetime]] = field(default_factory=list)
    calls: int = 0
    # Each entry is an exception to raise, or "apply_then" + exception (the post is stored, then it raises).
    script: list = field(default_factory=list)
    find_fails: int = 0
    refreshes: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_publish: Callable[[], None] | None = None

    def find(self, post: OutgoingPost, since: datetime) -> PublishResult | None:
        """Look a post up by its text (what the real clients do)."""
        for external_id, stored, at in self.published:
            if stored.text == post.text and stored.link == post.link and at >= since:
                return PublishResult(external_id=external_id, url=f"https://fake/{external_id}", accepted_at=at)
        return None


class FakePublisher:
    """Implements Publisher and ChannelProbe over a FakePlatform."""

    def __init__(self, platform_state: FakePlatform, external_id: str, token: str, platform: str = "facebook_page"):
        self.state = platform_state
        self.external_id = external_id
        self.token = token
        self.platform = platform

    def publish(self, post: OutgoingPost, *, idempotency_key: str,
                before_send: Callable[[], None] | None = None) -> PublishResult:
        """Store the post unless the script says otherwise."""
        if before_send is not None:
            before_send()
        with self.state.lock:
            self.state.calls += 1
            step = self.state.script.pop(0) if self.state.script else None
        if self.state.on_publish:
            self.state.on_publish()
        apply = True
        if isinstance(step, tuple) and step[0] == "apply_then":
            step = step[1]
        elif isinstance(step, PlatformError):
            apply = False
        with self.state.lock:
            external_id = f"{self.external_id}_{len(self.state.published) + 1}"
            if apply:
                self.state.published.append((external_id, post, utcnow()))
        if step is not None:
            raise step
        return PublishResult(external_id=external_id, url=f"https://fake/{external_id}", accepted_at=utcnow())

    def find_published(self, post: OutgoingPost, *, idempotency_key: str, since: datetime) -> PublishResult | None:
        """Find a stored post by its content."""
        if self.state.find_fails:
            self.state.find_fails -= 1
            from common.errors import RetryLater

            raise RetryLater(platform=self.platform)
        return self.state.find(post, since)

    def whoami(self) -> ChannelInfo:
        """The fake page."""
        return ChannelInfo(external_id=self.external_id, name="Fake")


class FakeAuth:
    """A Zalo-like refresher: each refresh token works once."""

    def __init__(self, state: FakePlatform) -> None:
        self.state = state

    def refresh(self, refresh_token: str) -> TokenPair:
        """Return a new pair; reusing a refresh token fails like Zalo's does."""
        from common.errors import AuthExpired

        with self.state.lock:
            if refresh_token in self.state.refreshes:
                raise AuthExpired("refresh token đã dùng", platform="zalo_oa", refreshable=False)
            self.state.refreshes.append(refresh_token)
            n = len(self.state.refreshes)
        return TokenPair(access_token=f"access-{n}", refresh_token=f"refresh-{n}", expires_in=90000)


class FakeClientFactory:
    """Drop-in for publishers.registry.ClientFactory in tests."""

    def __init__(self, state: FakePlatform | None = None) -> None:
        self.state = state or FakePlatform()

    def publisher(self, platform: str, external_id: str, credentials: dict, *, name: str = "") -> FakePublisher:
        """A fake publisher bound to the shared state."""
        return FakePublisher(self.state, external_id, credentials["access_token"], platform)

    probe = publisher

    def zalo_auth(self) -> FakeAuth:
        """The fake refresher."""
        return FakeAuth(self.state)


# --- Engager fake (replies and hiding; publishers.engage) ------------------------------------------

@dataclass
class FakeEngagement:
    """What the fake engager did: replies sent, comments hidden, and a script of errors per call."""

    replies: list[tuple[str, str, str]] = field(default_factory=list)  # (target id, text, reply id)
    hidden: dict[str, bool] = field(default_factory=dict)
    calls: int = 0
    script: list = field(default_factory=list)  # PlatformError to raise, or ("apply_then", error)
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_reply: Callable[[], None] | None = None


class FakeEngager:
    """Implements publishers.engage.Engager over a FakeEngagement."""

    def __init__(self, state: FakeEngagement, external_id: str, platform: str = "facebook_page") -> None:
        self.state = state
        self.external_id = external_id
        self.platform = platform

    def _step(self):  # noqa: ANN202
        with self.state.lock:
            self.state.calls += 1
            return self.state.script.pop(0) if self.state.script else None

    def reply(self, target, text: str):  # noqa: ANN001, ANN201
        """Record the reply unless the script says otherwise."""
        from publishers.engage import ReplyResult

        step = self._step()
        if self.state.on_reply:
            self.state.on_reply()
        apply = not isinstance(step, PlatformError)
        if isinstance(step, tuple) and step[0] == "apply_then":
            step = step[1]
        reply_id = f"{target.external_id}_r{len(self.state.replies) + 1}"
        if apply:
            with self.state.lock:
                self.state.replies.append((target.external_id, text, reply_id))
        if step is not None:
            raise step
        return ReplyResult(external_id=reply_id)

    def find_reply(self, target, text: str, *, since: datetime):  # noqa: ANN001, ANN201
        """A recorded reply with the same target and text."""
        from publishers.engage import ReplyResult

        for target_id, stored, reply_id in self.state.replies:
            if target_id == target.external_id and stored == text:
                return ReplyResult(external_id=reply_id)
        return None

    def set_hidden(self, target, hidden: bool) -> None:  # noqa: ANN001
        """Record the hidden flag unless the script says otherwise."""
        step = self._step()
        if step is not None:
            raise step[1] if isinstance(step, tuple) else step
        self.state.hidden[target.external_id] = hidden


def _fake_engager(self: FakeClientFactory, platform: str, external_id: str, credentials: dict, *,
                  author_key=None) -> FakeEngager:  # noqa: ANN001
    """A fake engager bound to the factory's engagement state."""
    if not hasattr(self, "engagement"):
        self.engagement = FakeEngagement()
    return FakeEngager(self.engagement, external_id, platform)


FakeClientFactory.engager = _fake_engager
