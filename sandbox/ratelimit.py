"""Call budgets: Graph usage percentages / throttling (A11) and Zalo's per-minute budget (B9)."""

from __future__ import annotations

import json
import math

from sandbox.config import EmuConfig
from sandbox.state import Clock


class RollingCounter:
    """Calls in a rolling window, kept in a fixed number of buckets so counting stays O(buckets)."""

    def __init__(self, window_s: float, buckets: int = 60) -> None:
        self.window_s = float(window_s)
        self.buckets = buckets
        self.bucket_s = self.window_s / buckets
        self.counts: dict[int, int] = {}

    def _prune(self, now: float) -> int:
        cur = int(now // self.bucket_s)
        if self.counts and min(self.counts) <= cur - self.buckets:
            for idx in [i for i in self.counts if i <= cur - self.buckets]:
                del self.counts[idx]
        return cur

    def add(self, now: float, n: int = 1) -> None:
        """Record n calls at ``now``."""
        cur = self._prune(now)
        self.counts[cur] = self.counts.get(cur, 0) + n

    def count(self, now: float) -> int:
        """Calls inside the window ending at ``now``."""
        self._prune(now)
        return sum(self.counts.values())

    def regain_s(self, now: float, budget: int) -> float:
        """Seconds until the count drops below ``budget`` as old buckets leave the window."""
        total = self.count(now)
        for idx in sorted(self.counts):
            if total < budget:
                break
            total -= self.counts[idx]
            leaves_at = (idx + self.buckets) * self.bucket_s
            if total < budget:
                return max(0.0, leaves_at - now)
        return 0.0


def _pct(count: int, budget: int) -> int:
    # Round up so the first calls already show a non-zero, rising percentage.
    return min(100, math.ceil(100 * count / max(1, budget)))


class FbLimits:
    """Per-app and per-Page budgets plus forced throttles from the fault API."""

    def __init__(self, cfg: EmuConfig, clock: Clock) -> None:
        self.cfg, self.clock = cfg, clock
        self.apps: dict[str, RollingCounter] = {}
        self.pages: dict[str, RollingCounter] = {}
        self.forced: list[dict] = []  # {scope, key, until, code}

    def _counter(self, table: dict, key: str) -> RollingCounter:
        c = table.get(key)
        if c is None or c.window_s != self.cfg.fb_window_s:
            c = table[key] = RollingCounter(self.cfg.fb_window_s)
        return c

    def force(self, scope: str, key: str | None, duration_s: float, code: int | None) -> dict:
        """Throttle an app or Page (key None = all) for ``duration_s`` emulator seconds."""
        rule = {"scope": scope, "key": key, "until": self.clock.now() + duration_s, "code": code}
        self.forced.append(rule)
        return rule

    def _forced(self, scope: str, key: str | None) -> dict | None:
        now = self.clock.now()
        self.forced = [r for r in self.forced if r["until"] > now]
        for r in self.forced:
            if r["scope"] == scope and (r["key"] is None or r["key"] == key):
                return r
        return None

    def check(self, app_id: str, page_id: str | None, token_kind: str) -> tuple[int, str] | None:
        """(code, message) when this call must be throttled, else None."""
        now, cfg = self.clock.now(), self.cfg
        forced = self._forced("app", app_id)
        if forced or self._counter(self.apps, app_id).count(now) >= cfg.fb_app_budget:
            code = (forced or {}).get("code") or cfg.fb_app_throttle_code
            return code, "(#%d) Application request limit reached" % code
        if page_id:
            forced = self._forced("page", page_id)
            if forced or self._counter(self.pages, page_id).count(now) >= self.page_budget(page_id):
                default = cfg.fb_page_throttle_code if token_kind == "page" else cfg.fb_user_page_throttle_code
                code = (forced or {}).get("code") or default
                if code == 80001:
                    return code, "There have been too many calls to this Page account. Wait a bit and try again."
                return code, "(#%d) Page request limit reached" % code
        return None

    def page_budget(self, page_id: str) -> int:
        """Budget of one Page (per-Page override or the default)."""
        return int(self.cfg.fb_page_budgets.get(page_id, self.cfg.fb_page_budget))

    def record(self, app_id: str, page_id: str | None) -> None:
        """Count one call against the app and the Page."""
        now = self.clock.now()
        self._counter(self.apps, app_id).add(now)
        if page_id:
            self._counter(self.pages, page_id).add(now)

    def headers(self, app_id: str, page_id: str | None, token_kind: str = "page") -> dict[str, str]:
        """Usage headers; empty until enough calls were made (A11: absence is normal)."""
        cfg, now = self.cfg, self.clock.now()
        out: dict[str, str] = {}
        n_app = self._counter(self.apps, app_id).count(now)
        app_forced = self._forced("app", app_id) is not None
        # While throttled the headers are always sent: they carry the wait.
        throttled = self.check(app_id, page_id, token_kind) is not None
        if n_app >= cfg.fb_usage_headers_after_calls or app_forced:
            pct = 100 if app_forced else _pct(n_app, cfg.fb_app_budget)
            out["X-App-Usage"] = json.dumps(_usage(pct))
        n_page = self._counter(self.pages, page_id).count(now) if page_id else 0
        if page_id and (n_page >= cfg.fb_usage_headers_after_calls or throttled):
            pct = 100 if self._forced("page", page_id) else _pct(n_page, self.page_budget(page_id))
            usage = _usage(pct)
            if cfg.fb_emit_page_usage:
                out["X-Page-Usage"] = json.dumps(usage)
            regain = self.regain_minutes(app_id, page_id) if throttled else 0
            buc = dict(type="pages", call_count=usage["call_count"], total_cputime=usage["total_cputime"],
                       total_time=usage["total_time"], estimated_time_to_regain_access=regain)
            out["X-Business-Use-Case-Usage"] = json.dumps({page_id: [buc]})
        elif throttled:
            # No Page in this call: still tell the client how long to wait (keyed by the app).
            buc = dict(type="app", **_usage(100), estimated_time_to_regain_access=self.regain_minutes(app_id, None))
            out["X-Business-Use-Case-Usage"] = json.dumps({app_id: [buc]})
        return out

    def regain_minutes(self, app_id: str, page_id: str | None) -> int:
        """Minutes until both the app and the Page are usable again (at least 1)."""
        now, cfg, secs = self.clock.now(), self.cfg, 0.0
        for scope, table, key, budget in (("app", self.apps, app_id, cfg.fb_app_budget),
                                          ("page", self.pages, page_id,
                                           self.page_budget(page_id) if page_id else 0)):
            if key is None:
                continue
            forced = self._forced(scope, key)
            if forced:
                secs = max(secs, forced["until"] - now)
            c = self._counter(table, key)
            if c.count(now) >= budget:
                secs = max(secs, c.regain_s(now, budget))
        return max(1, math.ceil(secs / 60))


def _usage(pct: int) -> dict:
    return {"call_count": pct, "total_time": math.ceil(pct * 0.6), "total_cputime": math.ceil(pct * 0.4)}


class ZaloLimits:
    """Per-app budget per clock minute (B9); over budget is -32 inside HTTP 200."""

    def __init__(self, cfg: EmuConfig, clock: Clock) -> None:
        self.cfg, self.clock = cfg, clock
        self.windows: dict[str, tuple[int, int]] = {}
        self.forced_until: dict[str, float] = {}  # app_id or "*" -> until

    def force(self, app_id: str | None, duration_s: float) -> None:
        """Answer -32 for ``duration_s`` emulator seconds (app_id None = every app)."""
        self.forced_until[app_id or "*"] = self.clock.now() + duration_s

    def _used(self, key: str, minute: int) -> int:
        win, count = self.windows.get(key, (minute, 0))
        return count if win == minute else 0

    def take(self, app_id: str, oa_id: str | None = None) -> tuple[bool, dict[str, str]]:
        """Count one call against the app (and the OA when an OA limit is set); (allowed, headers)."""
        now = self.clock.now()
        minute = int(now // 60)
        limits = [(app_id, self.cfg.zalo_rate_limit_per_min)]
        if oa_id and self.cfg.zalo_oa_rate_limit_per_min is not None:
            limits.append(("oa:" + oa_id, self.cfg.zalo_oa_rate_limit_per_min))
        forced = max(self.forced_until.get(app_id, 0), self.forced_until.get("*", 0)) > now
        allowed = not forced and all(self._used(k, minute) < lim for k, lim in limits)
        if allowed:
            for key, _ in limits:
                self.windows[key] = (minute, self._used(key, minute) + 1)
        # The headers describe the tightest budget.
        key, limit = min(limits, key=lambda kl: kl[1] - self._used(kl[0], minute))
        remain = 0 if forced else max(0, limit - self._used(key, minute))
        return allowed, {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remain": str(remain)}

    def peek(self, app_id: str) -> dict[str, str]:
        """X-RateLimit headers without counting a call (OAuth host)."""
        minute = int(self.clock.now() // 60)
        limit = self.cfg.zalo_rate_limit_per_min
        win, count = self.windows.get(app_id, (minute, 0))
        used = count if win == minute else 0
        return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remain": str(max(0, limit - used))}
