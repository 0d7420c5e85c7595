"""Mirror a Facebook Page's posts and the comments (with replies) people leave on them (A5, A11).

Cursor (JSON; the caller stores it once the items are saved)::

    {"v": 1,
     "posts_since": 1718000000,             # every post created at or after this was listed
     "posts_recent": {"<post id>": t},      # posts already returned within the overlap window
     "posts_gap": {"until": t, "high": t, "recent": {...}},  # while a post listing was cut short
     "pending": ["<post id>", ...] | null,  # posts not yet visited in a round cut short
     "posts": {"<post id>": {"created": t, "mark": t|null, "checked": t|null, "recent": {...},
                             "resume": {"after": "<cursor>", "top": t, "recent": {...}}|null}}}

* Posts are listed newest first with ``since`` = high-water mark minus ``SKEW_SECONDS``. A listing
  cut short (page budget, rate limit) stores ``posts_gap``: the next call lists the still-missing
  older part with ``until`` and only then moves ``posts_since`` to ``high``.
* Every post younger than ``lookback_days`` is tracked; its comments are listed with
  ``filter=stream`` (replies included) newest first down to its ``mark`` (newest comment already
  collected) minus the skew. A comment listing cut short stores ``resume``: the paging cursor to
  continue older, and the newest time seen (``top``), which becomes ``mark`` once the gap is
  closed. Comments written meanwhile are newer than ``top`` and are found by the next pass.
  If Graph rejects a stored cursor (they are opaque and may expire), the pass restarts from the
  newest comment: more duplicates, never a loss.

Every boundary is re-read with an overlap of ``SKEW_SECONDS``; the ids already returned inside that
window (``recent``) are not returned again, so a caught-up source returns only new items. Some
duplicates remain possible (interrupted passes, overflowing ``recent``); ingest removes them on
``external_id``.
Edits of already-collected items are not re-read here; the ``edited`` webhook carries them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import requests

from collectors.base import Batch, CollectedItem, make_item
from collectors.graph_reader import GraphReader, parse_graph_time
from common.errors import Rejected, RetryLater
from platforms.http import DEFAULT_TIMEOUT, str_field

logger = logging.getLogger(__name__)

CURSOR_VERSION = 1
# Overlap re-read at every boundary: covers clock skew and same-second items. Costs duplicates only.
SKEW_SECONDS = 300
PAGE_LIMIT = "100"
# Stop before Graph throttles us: usage headers are percent of budget used (A11).
USAGE_STOP_PERCENT = 90.0
# Pause suggested when usage is high but Graph gives no estimated_time_to_regain_access.
USAGE_PAUSE_SECONDS = 300.0
TRANSIENT_PAUSE_SECONDS = 30.0
# Bounds the cursor: a Page posting more than this within the lookback keeps its newest posts.
MAX_TRACKED_POSTS = 500
# Ids remembered per boundary to suppress re-reads of the overlap; beyond this, duplicates.
MAX_RECENT_IDS = 200
POST_FIELDS = "id,message,created_time,permalink_url,from{id,name}"
COMMENT_FIELDS = "id,message,created_time,permalink_url,from{id,name},parent{id}"


class _Stop(Exception):
    """Internal: end this fetch now, keeping the cursor as it is (page budget or usage limit)."""

    def __init__(self, retry_after: float | None) -> None:
        super().__init__("stop")
        self.retry_after = retry_after


class FacebookPageSource:
    """Source of ``facebook_post`` and ``facebook_comment`` items for one Page (Page token)."""

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
        lookback_days: float = 7,
        max_pages: int = 100,
        posts_edge: str = "feed",
        include_page_comments: bool = False,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        if posts_edge not in ("feed", "published_posts", "posts"):
            raise ValueError("posts_edge must be feed, published_posts or posts")
        self.page_id = page_id
        self._reader = GraphReader(access_token, base_url=base_url, api_version=api_version, session=session,
                                   timeout=timeout, app_secret=app_secret)
        self._lookback = timedelta(days=lookback_days)
        self._max_pages = max(1, max_pages)
        # "feed" includes visitor posts; "published_posts" only the Page's own.
        self._edge = posts_edge
        # The Page's own replies are not opinions to monitor (Chatwoot drops them too).
        self._include_page_comments = include_page_comments
        self._now = now or (lambda: datetime.now(timezone.utc))

    # --- Source ------------------------------------------------------------------------------

    def fetch(self, cursor: dict | None) -> Batch:
        """Collect posts and comments newer than ``cursor``; see the module docstring for the cursor."""
        now = self._now().timestamp()
        state = _load_state(cursor, window_start=now - self._lookback.total_seconds())
        items: list[CollectedItem] = []
        self._reader.last_usage = None
        self._calls_at_start = self._reader.calls
        self._progressed = False
        try:
            if state["pending"] is None:
                # A new round: list new posts, then visit every tracked post once. A round cut
                # short resumes with its pending posts and no new listing, so a small page budget
                # still makes progress instead of re-listing the overlap window every time.
                self._collect_posts(state, items)
                posts = state["posts"]
                state["pending"] = sorted(posts, key=lambda pid: posts[pid].get("checked") or 0)
            self._collect_comments(state, items, now)
        except _Stop as stop:
            logger.info("facebook collect stopped early page=%s items=%d", self.page_id, len(items))
            return Batch(items, state, more=True, retry_after=stop.retry_after)
        except RetryLater as exc:
            if not self._progressed:
                raise
            # Keep what was read: the cursor only covers finished pages, so nothing is skipped.
            logger.warning("facebook collect interrupted page=%s items=%d code=%s", self.page_id, len(items),
                           exc.platform_code)
            wait = exc.retry_after if exc.retry_after is not None else TRANSIENT_PAUSE_SECONDS
            return Batch(items, state, more=True, retry_after=wait)
        logger.info("facebook collect done page=%s items=%d calls=%d", self.page_id, len(items),
                    self._reader.calls - self._calls_at_start)
        return Batch(items, state)

    # --- posts -------------------------------------------------------------------------------

    def _collect_posts(self, state: dict, items: list[CollectedItem]) -> None:
        since = state["posts_since"]
        gap = state.get("posts_gap")
        high = gap["high"] if gap else since
        oldest = gap.get("until") if gap else None
        returned = state["posts_recent"]
        seen: dict[str, float] = dict(gap["recent"]) if gap else {}
        params = {"fields": POST_FIELDS, "limit": PAGE_LIMIT, "since": str(int(since - SKEW_SECONDS))}
        if oldest is not None:
            params["until"] = str(int(oldest))
        path: str = f"{self.page_id}/{self._edge}"
        while True:
            rows, body = self._get_list(path, params)
            for row in rows:
                post_id = str_field(row, "id")
                created = parse_graph_time(row.get("created_time"))
                if post_id is None or created is None:
                    continue
                ts = created.timestamp()
                high, oldest = max(high, ts), ts if oldest is None else min(oldest, ts)
                _track(state, post_id, ts)
                if post_id in returned or post_id in seen:
                    continue
                seen[post_id] = ts
                if (item := self._post_item(row, post_id, created)) is not None:
                    items.append(item)
            nxt = self._reader.next_page(body)
            if nxt is None:
                state["posts_since"], state["posts_gap"] = high, None
                state["posts_recent"] = _recent({**returned, **seen}, high - SKEW_SECONDS)
                return
            # `until` is inclusive on Graph, so the boundary post is re-read rather than skipped.
            state["posts_gap"] = {"until": oldest + 1 if oldest is not None else None, "high": high,
                                  "recent": _recent(seen, high - SKEW_SECONDS)}
            path, params = nxt

    def _post_item(self, row: dict, post_id: str, created: datetime) -> CollectedItem | None:
        text = row.get("message")
        if not isinstance(text, str) or not text.strip():
            return None  # photo-only posts: nothing to classify (their comments are still read)
        author_id, author_name = self._author(row)
        return make_item("facebook_post", post_id, text, created, url=row.get("permalink_url"),
                         author_ref=author_id, author_name=author_name, account_ref=self.page_id)

    # --- comments ----------------------------------------------------------------------------

    def _collect_comments(self, state: dict, items: list[CollectedItem], now: float) -> None:
        posts, pending = state["posts"], state["pending"]
        while pending:
            post_id = pending[0]
            st = posts.get(post_id)  # None once it left the lookback window
            if st is not None and not self._visit_post(post_id, st, items, now):
                posts.pop(post_id, None)
            pending.pop(0)
        state["pending"] = None

    def _visit_post(self, post_id: str, st: dict, items: list[CollectedItem], now: float) -> bool:
        """Read one post's new comments; False when the post is gone (deleted or no longer visible)."""
        for attempt in (1, 2):
            try:
                self._collect_post_comments(post_id, st, items, now)
                return True
            except Rejected as exc:
                if attempt == 1 and st.get("resume"):
                    # Probably an expired paging cursor: start this post's pass again from the top.
                    st["resume"] = None
                    continue
                logger.info("facebook post dropped page=%s post=%s code=%s", self.page_id, post_id,
                            exc.platform_code)
        return False

    def _collect_post_comments(self, post_id: str, st: dict, items: list[CollectedItem], now: float) -> None:
        mark = st.get("mark")
        floor = mark - SKEW_SECONDS if mark is not None else None
        resume = st.get("resume")
        top = resume["top"] if resume else None
        returned = st["recent"]
        # Ids met in this pass near its newest comment: the next pass's overlap.
        seen: dict[str, float] = dict(resume["recent"]) if resume else {}
        params = {"filter": "stream", "order": "reverse_chronological", "fields": COMMENT_FIELDS,
                  "limit": PAGE_LIMIT}
        if resume:
            params["after"] = resume["after"]
        path = f"{post_id}/comments"
        while True:
            rows, body = self._get_list(path, params)
            reached_mark = False
            for row in rows:
                comment_id = str_field(row, "id")
                created = parse_graph_time(row.get("created_time"))
                if comment_id is None or created is None:
                    continue
                ts = created.timestamp()
                if floor is not None and ts < floor:
                    reached_mark = True  # newest first: the rest was collected by an earlier pass
                    break
                top = ts if top is None else max(top, ts)
                if comment_id in returned or comment_id in seen:
                    continue
                if ts >= top - SKEW_SECONDS:
                    seen[comment_id] = ts
                if (item := self._comment_item(row, comment_id, post_id, created)) is not None:
                    items.append(item)
            nxt = None if reached_mark else self._reader.next_page(body)
            if nxt is None:
                st["mark"] = top if mark is None else max(mark, top if top is not None else mark)
                if st["mark"] is not None:
                    st["recent"] = _recent({**returned, **seen}, st["mark"] - SKEW_SECONDS)
                st["resume"], st["checked"] = None, now
                return
            after = nxt[1].get("after")
            # Without an `after` cursor the pass cannot be resumed; it restarts (duplicates only).
            st["resume"] = ({"after": after, "top": top, "recent": _recent(seen, (top or 0) - SKEW_SECONDS)}
                            if after and len(after) <= 1024 else None)
            path, params = nxt

    def _comment_item(self, row: dict, comment_id: str, post_id: str, created: datetime) -> CollectedItem | None:
        author_id, author_name = self._author(row)
        if author_id == self.page_id and not self._include_page_comments:
            return None
        text = row.get("message")
        if not isinstance(text, str) or not text.strip():
            return None  # sticker or photo only
        parent = row.get("parent")
        return make_item("facebook_comment", comment_id, text, created, url=row.get("permalink_url"),
                         parent_external_id=post_id,
                         reply_to_external_id=str_field(parent, "id") if isinstance(parent, dict) else None,
                         author_ref=author_id, author_name=author_name, account_ref=self.page_id)

    # --- helpers -----------------------------------------------------------------------------

    def _author(self, row: dict) -> tuple[str | None, str | None]:
        """(raw author id, display name); the name is kept only for the Page itself."""
        sender = row.get("from")
        author_id = str_field(sender, "id") if isinstance(sender, dict) else None
        name = str_field(sender, "name") if author_id == self.page_id else None
        return author_id, name

    def _get_list(self, path: str, params: dict[str, str]) -> tuple[list[dict], dict]:
        """One list call within the page budget and the usage limit; marks progress on success."""
        if self._reader.calls - self._calls_at_start >= self._max_pages:
            raise _Stop(None)
        usage = self._reader.last_usage
        if usage is not None and usage.max_percent >= USAGE_STOP_PERCENT:
            raise _Stop(usage.regain_seconds or USAGE_PAUSE_SECONDS)
        rows, body = self._reader.get_list(path, params)
        self._progressed = True
        return rows, body


def _load_state(cursor: dict | None, *, window_start: float) -> dict:
    """A fresh, validated copy of the cursor (an unreadable one restarts from the lookback window)."""
    state: dict = {"v": CURSOR_VERSION, "posts_since": window_start, "posts_recent": {}, "posts_gap": None,
                   "pending": None, "posts": {}}
    if not isinstance(cursor, dict) or cursor.get("v") != CURSOR_VERSION:
        return state
    since = _num(cursor.get("posts_since"))
    if since is not None:
        state["posts_since"] = max(since, window_start)
    state["posts_recent"] = _load_recent(cursor.get("posts_recent"))
    gap = cursor.get("posts_gap")
    if isinstance(gap, dict) and _num(gap.get("high")) is not None:
        state["posts_gap"] = {"until": _num(gap.get("until")), "high": _num(gap["high"]),
                              "recent": _load_recent(gap.get("recent"))}
    posts = cursor.get("posts")
    for post_id, st in (posts.items() if isinstance(posts, dict) else ()):
        created = _num(st.get("created")) if isinstance(st, dict) else None
        if created is None or created < window_start:
            continue  # out of the lookback window: its comments are no longer followed
        resume = st.get("resume")
        if not (isinstance(resume, dict) and isinstance(resume.get("after"), str)):
            resume = None
        state["posts"][str(post_id)] = {
            "created": created, "mark": _num(st.get("mark")), "checked": _num(st.get("checked")),
            "recent": _load_recent(st.get("recent")),
            "resume": {"after": resume["after"], "top": _num(resume.get("top")),
                       "recent": _load_recent(resume.get("recent"))} if resume else None}
    pending = cursor.get("pending")
    if isinstance(pending, list):
        state["pending"] = [str(pid) for pid in pending if str(pid) in state["posts"]]
    return state


def _track(state: dict, post_id: str, created: float) -> None:
    """Follow a post's comments from now on; keep at most MAX_TRACKED_POSTS (the newest)."""
    posts = state["posts"]
    if post_id in posts:
        return
    posts[post_id] = {"created": created, "mark": None, "checked": None, "recent": {}, "resume": None}
    if len(posts) > MAX_TRACKED_POSTS:
        oldest = min(posts, key=lambda pid: posts[pid]["created"])
        posts.pop(oldest)


def _recent(ids: dict[str, float], floor: float) -> dict[str, float]:
    """The ids at or above ``floor`` (the next overlap), newest MAX_RECENT_IDS of them."""
    kept = sorted(((ts, i) for i, ts in ids.items() if ts >= floor), reverse=True)[:MAX_RECENT_IDS]
    return {i: ts for ts, i in kept}


def _load_recent(value: object) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    out = {str(k): float(v) for k, v in value.items() if _num(v) is not None}
    return _recent(out, float("-inf"))


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
