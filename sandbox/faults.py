"""Fault injection: latency, random transient errors, "fail the next N calls", hangs.

A rule matches on platform ("facebook", "zalo" or "all"), an fnmatch pattern over the path after
the platform prefix (e.g. ``*/feed`` or ``*/article/create``) and optionally the HTTP method.
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
from dataclasses import asdict, dataclass, field

from starlette.responses import Response

from sandbox.responses import (fb_error_response, json_response, raw_429, raw_500_html, raw_502_html,
                               raw_503_empty, zalo_error_body)
from sandbox.state import Clock

KINDS = ("fb_500_json", "fb_error", "zalo_error", "raw_500_html", "raw_502_html", "raw_503_empty",
         "raw_429", "timeout_hang", "applied_then_hang")
PLATFORMS = ("facebook", "zalo", "all")


@dataclass
class FaultRule:
    """One fault rule; see module docstring for matching."""

    id: int
    platform: str = "all"
    path: str = "*"
    method: str | None = None
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_kinds: list | None = None
    fail_next: int = 0
    kind: str | None = None
    hang_s: float = 30.0
    code: int | None = None
    subcode: int | None = None
    http_status: int | None = None
    message: str | None = None
    until: float | None = None  # emulator time after which the rule is dropped
    hits: int = field(default=0)

    def matches(self, platform: str, method: str, path: str) -> bool:
        """True when this rule applies to the request."""
        if self.platform not in ("all", platform):
            return False
        if self.method and self.method.upper() != method:
            return False
        return self.path in ("*", "") or fnmatch.fnmatchcase(path, self.path)


@dataclass
class Decision:
    """What the entry point must do: answer ``response`` now, or run the handler then wait ``hang_after_s``."""

    response: Response | None = None
    hang_after_s: float = 0.0


class Faults:
    """Holds the rules and decides per request."""

    def __init__(self, clock: Clock, seed: int | None = None) -> None:
        self.clock = clock
        self.rng = random.Random(seed)
        self.rules: list[FaultRule] = []
        self._next_id = 1
        # Facebook 368 policy blocks: page id (or "*") -> (until, subcode)
        self.blocks: dict[str, tuple[float, int | None]] = {}

    def add(self, spec: dict) -> FaultRule:
        """Validate and store a rule from control-API JSON."""
        spec = dict(spec)
        duration = spec.pop("duration_s", None)
        known = set(FaultRule.__dataclass_fields__) - {"id", "hits", "until"}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        rule = FaultRule(id=self._next_id, **spec)
        if rule.platform not in PLATFORMS:
            raise ValueError(f"platform must be one of {PLATFORMS}")
        if rule.kind is not None and rule.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        if not 0.0 <= float(rule.error_rate) <= 1.0:
            raise ValueError("error_rate must be within [0, 1]")
        if duration is not None:
            rule.until = self.clock.now() + float(duration)
        self._next_id += 1
        self.rules.append(rule)
        return rule

    def block(self, page_id: str | None, duration_s: float, subcode: int | None) -> dict:
        """Answer 368 to every write on the Page (None = all Pages) for ``duration_s`` emulator seconds."""
        until = self.clock.now() + float(duration_s)
        self.blocks[page_id or "*"] = (until, subcode)
        return {"page_id": page_id, "until": until, "subcode": subcode}

    def blocked(self, page_id: str | None) -> tuple[float, int | None] | None:
        """(until, subcode) of an active policy block for the Page, else None."""
        now = self.clock.now()
        for key in (page_id, "*"):
            hit = self.blocks.get(key) if key else None
            if hit and hit[0] > now:
                return hit
        return None

    def clear(self, rule_id: int | None = None) -> int:
        """Remove one rule or all; returns how many were removed."""
        before = len(self.rules)
        if rule_id is None:
            self.blocks.clear()
        self.rules = [] if rule_id is None else [r for r in self.rules if r.id != rule_id]
        return before - len(self.rules)

    def describe(self) -> list[dict]:
        """Rules as JSON-ready dicts."""
        return [asdict(r) for r in self.rules]

    async def before(self, platform: str, method: str, path: str) -> Decision:
        """Apply latency, then pick at most one failure for this request."""
        if not self.rules:
            return Decision()
        now = self.clock.now()
        if any(r.until is not None and r.until <= now for r in self.rules):
            self.rules = [r for r in self.rules if r.until is None or r.until > now]
        matching = [r for r in self.rules if r.matches(platform, method, path)]
        if not matching:
            return Decision()
        delay = 0.0
        for r in matching:
            if r.latency_ms or r.jitter_ms:
                delay += max(0.0, r.latency_ms + (self.rng.uniform(-r.jitter_ms, r.jitter_ms) if r.jitter_ms else 0.0))
        if delay > 0:
            await asyncio.sleep(delay / 1000.0)
        for r in matching:
            if r.fail_next > 0:
                r.fail_next -= 1
                r.hits += 1
                # Without a kind: Graph's transient JSON error, or a bare 502 from Zalo's gateway.
                default = "fb_500_json" if platform == "facebook" else (
                    "zalo_error" if r.code else "raw_502_html")
                return await self._act(r, r.kind or default, platform)
        for r in matching:
            if r.error_rate and self.rng.random() < r.error_rate:
                r.hits += 1
                kinds = r.error_kinds or (["fb_500_json"] if platform == "facebook"
                                          else ["raw_502_html", "raw_503_empty"])
                return await self._act(r, self.rng.choice(kinds), platform, random_code=True)
        return Decision()

    async def _act(self, r: FaultRule, kind: str, platform: str, random_code: bool = False) -> Decision:
        if kind == "applied_then_hang":
            return Decision(hang_after_s=r.hang_s)
        if kind == "timeout_hang":
            # Never applied: the client gives up long before this answer comes.
            await asyncio.sleep(r.hang_s)
            return Decision(Response(b"", 504))
        return Decision(self.response(r, kind, platform, random_code))

    def response(self, r: FaultRule, kind: str, platform: str, random_code: bool = False) -> Response:
        """Build the failure response for ``kind``."""
        if kind == "fb_500_json":
            keep = r.code is not None and (r.code in (1, 2) or not random_code)
            code = r.code if keep else self.rng.choice((1, 2))
            return fb_error_response(code, status=r.http_status or 500, message=r.message)
        if kind == "fb_error":
            return fb_error_response(r.code or 1, status=r.http_status or 400, subcode=r.subcode, message=r.message)
        if kind == "zalo_error":
            return json_response(zalo_error_body(r.code or -32, r.message or "Injected error"), r.http_status or 200)
        if kind == "raw_500_html":
            return raw_500_html()
        if kind == "raw_503_empty":
            return raw_503_empty()
        if kind == "raw_429":
            return raw_429()
        return raw_502_html()
