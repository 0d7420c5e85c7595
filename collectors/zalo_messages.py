"""Mirror the messages followers send to a Zalo Official Account (B6: listrecentchat, conversation).

Zalo offers only offset paging, newest first, ``count`` ≤ 10, no "since" filter. One *pass*:

1. walk ``listrecentchat`` (one row per user: their latest message) down to the floor
   (``since_ms`` minus ``SKEW_MS``); for every user seen, read ``conversation`` newest first down
   to the floor and keep the messages FROM the user (``src`` = 1);
2. re-check the top of ``listrecentchat`` for users whose latest message is newer than the
   newest message at the start of the pass (``start_top``): a user who writes during the walk jumps
   to offset 0, behind the walk, and would otherwise be missed with their older messages;
3. set ``since_ms`` = ``start_top``.

Cursor: ``{"v": 1, "since_ms": t, "recent": {message_id: t}, "pass": null | {"floor_ms",
"start_top", "phase", "offset", "done": {user_id: newest time read}, "seen": {message_id: t}}}``.
``recent`` holds the messages already returned inside the ``SKEW_MS`` overlap below ``since_ms``,
so the re-read overlap is not returned twice. A pass cut short (page budget, rate limit, transient
error) keeps ``pass`` so the next fetch resumes at the same offset; rows only ever shift *down*
(except jumpers, handled by step 2), so resuming re-reads some rows, skipped through ``done``.
A user's conversation is read completely before its items are returned, so an interruption
never leaves a half-read user behind. Duplicates are removed by ingest on ``message_id``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import requests

from collectors.base import Batch, CollectedItem, from_epoch, make_item
from common.errors import RetryLater
from platforms.http import DEFAULT_TIMEOUT, appsecret_proof, excerpt, parse_json, send, str_field, \
    unreadable_response
from platforms.zalo_errors import PLATFORM, map_zalo_error, rate_limit

logger = logging.getLogger(__name__)

CURSOR_VERSION = 1
PAGE_COUNT = 10  # the platform maximum for both calls
SKEW_MS = 5 * 60 * 1000
# One user's backlog is read in one go; past this many pages their older messages are skipped.
MAX_CONVERSATION_PAGES = 100
# Stop before Zalo answers -32: keep this share of the per-minute budget for other work.
RATE_RESERVE_FRACTION = 0.05
RATE_WINDOW_SECONDS = 60.0
TRANSIENT_PAUSE_SECONDS = 30.0
MAX_DONE_USERS = 5_000
MAX_RECENT_IDS = 500


class _Stop(Exception):
    """Internal: end this fetch now and keep the pass for the next one."""

    def __init__(self, retry_after: float | None) -> None:
        super().__init__("stop")
        self.retry_after = retry_after


class ZaloMessagesSource:
    """Source of ``zalo_message`` items for one OA; an expired token raises AuthExpired(refreshable)."""

    def __init__(
        self,
        oa_id: str,
        access_token: str,
        *,
        base_url: str = "https://openapi.zalo.me",
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        app_secret: str | None = None,
        lookback_days: float = 7,
        max_pages: int = 100,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.oa_id = oa_id
        self._root = base_url.rstrip("/")
        self._session = session or requests.Session()
        self._timeout = timeout
        self._headers = {"access_token": access_token}
        if app_secret:
            self._headers["appsecret_proof"] = appsecret_proof(app_secret, access_token)
        self._secrets = (access_token, app_secret, self._headers.get("appsecret_proof"))
        self._lookback = timedelta(days=lookback_days)
        self._max_pages = max(1, max_pages)
        self._now = now or (lambda: datetime.now(timezone.utc))
        self.last_rate_limit: tuple[int, int] | None = None

    # --- Source ------------------------------------------------------------------------------

    def fetch(self, cursor: dict | None) -> Batch:
        """Collect follower messages newer than ``cursor``; see the module docstring."""
        now_ms = int(self._now().timestamp() * 1000)
        state = _load_state(cursor, default_since=now_ms - int(self._lookback.total_seconds() * 1000))
        items: list[CollectedItem] = []
        self._calls, self._progressed = 0, False
        # Headers from an earlier fetch say nothing about the current minute's budget.
        self.last_rate_limit = None
        try:
            self._run_pass(state, items)
        except _Stop as stop:
            logger.info("zalo collect stopped early oa=%s items=%d", self.oa_id, len(items))
            return Batch(items, state, more=True, retry_after=stop.retry_after)
        except RetryLater as exc:
            if not self._progressed:
                raise
            logger.warning("zalo collect interrupted oa=%s items=%d code=%s", self.oa_id, len(items),
                           exc.platform_code)
            wait = exc.retry_after if exc.retry_after is not None else TRANSIENT_PAUSE_SECONDS
            return Batch(items, state, more=True, retry_after=wait)
        logger.info("zalo collect done oa=%s items=%d calls=%d", self.oa_id, len(items), self._calls)
        return Batch(items, state)

    # --- the pass ----------------------------------------------------------------------------

    def _run_pass(self, state: dict, items: list[CollectedItem]) -> None:
        p = state["pass"]
        if p is None:
            p = state["pass"] = {"floor_ms": state["since_ms"] - SKEW_MS, "start_top": None, "phase": "walk",
                                 "offset": 0, "done": {}, "seen": {}}
        self._returned = state["recent"]
        if p["phase"] == "walk":
            self._walk(p, items, recheck=False)
            p["phase"], p["offset"] = "recheck", 0
        if p["start_top"] is not None:
            self._walk(p, items, recheck=True)
            # Everything up to the newest message at the start of the pass is collected (and the
            # jumpers above it); never move backwards when all recent chats were older anyway.
            state["since_ms"] = max(state["since_ms"], p["start_top"])
            state["recent"] = _recent({**state["recent"], **p["seen"]}, state["since_ms"] - SKEW_MS)
        state["pass"] = None

    def _walk(self, p: dict, items: list[CollectedItem], *, recheck: bool) -> None:
        """Page through recent chats; collect every user with messages above the limit."""
        # The walk goes down to the floor; the re-check only looks at rows newer than start_top.
        limit = p["start_top"] if recheck else p["floor_ms"]
        while True:
            self._check_budget()
            rows = self._list("/v2.0/oa/listrecentchat", {"offset": p["offset"], "count": PAGE_COUNT})
            if p["start_top"] is None and rows and not recheck:
                p["start_top"] = max(_time_ms(r) or 0 for r in rows)
            for row in rows:
                t = _time_ms(row)
                if t is None:
                    continue
                if t < limit or (recheck and t == limit):
                    return  # newest first: nothing further down is new
                user_id = self._user_of(row)
                if user_id is None or p["done"].get(user_id, -1) >= t:
                    continue  # already read in this pass (rows shift down when others write)
                self._check_budget()
                self._collect_user(p, user_id, t, items)
            if len(rows) < PAGE_COUNT:
                return
            p["offset"] += PAGE_COUNT

    def _collect_user(self, p: dict, user_id: str, latest: int, items: list[CollectedItem]) -> None:
        """Read one user's new messages completely, then record them (all or nothing)."""
        # A user already read in this pass who wrote again is read down to what we had, not the floor.
        floor = p["done"][user_id] - SKEW_MS if user_id in p["done"] else p["floor_ms"]
        found, newest = self._conversation(user_id, floor)
        overlap = (p["start_top"] or 0) - SKEW_MS
        for item, t in found:
            if item.external_id in self._returned or item.external_id in p["seen"]:
                continue  # returned by an earlier fetch inside the overlap window
            items.append(item)
            if t >= overlap:
                p["seen"][item.external_id] = t
        _mark_done(p["done"], user_id, max(latest, newest))

    def _conversation(self, user_id: str, floor_ms: int) -> tuple[list[tuple[CollectedItem, int]], int]:
        """(item, time) of messages from ``user_id`` newer than ``floor_ms``, and the newest time seen."""
        found: list[tuple[CollectedItem, int]] = []
        newest = floor_ms
        for page in range(MAX_CONVERSATION_PAGES):
            rows = self._list("/v2.0/oa/conversation",
                              {"user_id": user_id, "offset": page * PAGE_COUNT, "count": PAGE_COUNT})
            for row in rows:
                t = _time_ms(row)
                if t is None:
                    continue
                if t < floor_ms:
                    return found, newest
                newest = max(newest, t)
                if (item := self._item(row, user_id, t)) is not None:
                    found.append((item, t))
            if len(rows) < PAGE_COUNT:
                return found, newest
        logger.warning("zalo conversation too long oa=%s pages=%d", self.oa_id, MAX_CONVERSATION_PAGES)
        return found, newest

    def _item(self, row: dict, user_id: str, t: int) -> CollectedItem | None:
        """A follower's message as an item; the OA's own messages (src 0) are not collected."""
        if row.get("src") not in (1, "1") or str_field(row, "from_id") != user_id:
            return None
        message_id = str_field(row, "message_id")
        text = row.get("message")
        if message_id is None or not isinstance(text, str) or not text.strip():
            return None  # stickers, photos without caption: nothing to classify
        return make_item("zalo_message", message_id, text, from_epoch(t / 1000), author_ref=user_id,
                         account_ref=self.oa_id)

    def _user_of(self, row: dict) -> str | None:
        """The follower in a recent-chat row: the sender of src 1, the recipient of src 0."""
        key = "to_id" if row.get("src") in (0, "0") else "from_id"
        user_id = str_field(row, key)
        return user_id if user_id != self.oa_id else None

    # --- HTTP --------------------------------------------------------------------------------

    def _check_budget(self) -> None:
        if self._calls >= self._max_pages:
            raise _Stop(None)
        if self.last_rate_limit is not None:
            limit, remaining = self.last_rate_limit
            if remaining <= max(1, int(limit * RATE_RESERVE_FRACTION)):
                raise _Stop(RATE_WINDOW_SECONDS)

    def _list(self, path: str, params: dict) -> list[dict]:
        """One OA GET whose ``data`` is a list of messages; our error kinds otherwise."""
        self._calls += 1
        query = {"data": json.dumps(params, separators=(",", ":"))}
        resp = send(self._session, "GET", f"{self._root}{path}", params=query, headers=self._headers,
                    platform=PLATFORM, creates=False, timeout=self._timeout, secrets=self._secrets)
        self.last_rate_limit = rate_limit(resp) or self.last_rate_limit
        body = parse_json(resp)
        code = body.get("error") if isinstance(body, dict) else None
        # Application errors come in HTTP 200; a 5xx is a gateway failure whatever its body says.
        if resp.status_code < 500 and isinstance(code, int) and not isinstance(code, bool) and code != 0:
            message = body.get("message")
            raise map_zalo_error(code, message if isinstance(message, str) else "", resp,
                                 raw=excerpt(resp, self._secrets))
        data = body.get("data") if isinstance(body, dict) else None
        if resp.status_code != 200 or code != 0 or not isinstance(data, list):
            raise unreadable_response(resp, platform=PLATFORM, creates=False, secrets=self._secrets)
        self._progressed = True
        return [row for row in data if isinstance(row, dict)]


def _time_ms(row: dict) -> int | None:
    """Epoch milliseconds of a message (Zalo sends a number or a numeric string)."""
    value = row.get("time")
    if isinstance(value, bool):
        return None
    try:
        t = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return t if 0 < t < 10**14 else None


def _mark_done(done: dict, user_id: str, t: int) -> None:
    done[user_id] = t
    if len(done) > MAX_DONE_USERS:
        # Forgetting a user only costs a re-read of their conversation.
        done.pop(next(iter(done)))


def _recent(ids: dict[str, int], floor: int) -> dict[str, int]:
    """Message ids at or above ``floor`` (the next overlap), newest MAX_RECENT_IDS of them."""
    kept = sorted(((t, i) for i, t in ids.items() if t >= floor), reverse=True)[:MAX_RECENT_IDS]
    return {i: t for t, i in kept}


def _int_map(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)}


def _load_state(cursor: dict | None, *, default_since: int) -> dict:
    """A validated copy of the cursor; an unreadable one restarts from the lookback window."""
    state: dict = {"v": CURSOR_VERSION, "since_ms": default_since, "recent": {}, "pass": None}
    if not isinstance(cursor, dict) or cursor.get("v") != CURSOR_VERSION:
        return state
    since = cursor.get("since_ms")
    if isinstance(since, int) and not isinstance(since, bool):
        state["since_ms"] = since
    state["recent"] = _recent(_int_map(cursor.get("recent")), state["since_ms"] - SKEW_MS)
    p = cursor.get("pass")
    if isinstance(p, dict) and p.get("phase") in ("walk", "recheck") and isinstance(p.get("floor_ms"), int):
        start_top = p.get("start_top")
        state["pass"] = {
            "floor_ms": p["floor_ms"],
            "start_top": start_top if isinstance(start_top, int) else None,
            "phase": p["phase"],
            "offset": p["offset"] if isinstance(p.get("offset"), int) and p["offset"] >= 0 else 0,
            "done": _int_map(p.get("done")),
            "seen": _int_map(p.get("seen")),
        }
    return state
