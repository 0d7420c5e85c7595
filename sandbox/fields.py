"""Graph request helpers: the `fields` mini-language, strtotime-like times and cursor paging."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlencode


@dataclass
class FieldSpec:
    """One entry of `fields=`: name, modifiers like summary(true)/limit(0), optional sub-fields."""

    name: str
    modifiers: dict = field(default_factory=dict)
    sub: list | None = None


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside {} or ()."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "{(":
            depth += 1
        elif ch in "})":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


_MOD = re.compile(r"\.(\w+)\(([^)]*)\)")


def parse_fields(text: str | None) -> list[FieldSpec] | None:
    """Parse `id,message,from{id,name},comments.summary(true).limit(0)`; None when absent."""
    if not text:
        return None
    specs = []
    for part in _split_top(text):
        sub = None
        brace = part.find("{")
        if brace >= 0 and part.endswith("}"):
            sub = parse_fields(part[brace + 1:-1]) or []
            part = part[:brace]
        dot = part.find(".")
        name = part if dot < 0 else part[:dot]
        mods = {m.group(1): m.group(2) for m in _MOD.finditer(part[dot:])} if dot >= 0 else {}
        specs.append(FieldSpec(name.strip(), mods, sub))
    return specs


def project(obj: dict, specs: list[FieldSpec] | None) -> dict:
    """Keep the requested keys (and sub-keys for nested dicts); `id` is always returned."""
    if specs is None:
        return obj
    out = {}
    if "id" in obj:
        out["id"] = obj["id"]
    for spec in specs:
        if spec.name not in obj:
            continue
        value = obj[spec.name]
        if spec.sub is not None and isinstance(value, dict) and "data" not in value:
            value = project(value, spec.sub)
        out[spec.name] = value
    return out


# --------------------------------------------------------------------------- time

_REL = re.compile(r"^([+-])\s*(\d+)\s*(second|sec|minute|min|hour|day|week|month|year)s?(\s+ago)?$", re.I)
_UNIT = {"second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "day": 86400,
         "week": 7 * 86400, "month": 30 * 86400, "year": 365 * 86400}


def parse_time(value, now: float) -> float | None:
    """Unix seconds from an int, numeric string, ISO-8601 or simple strtotime phrase; None if unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text)
    low = text.lower()
    if low == "now":
        return now
    if low in ("today", "yesterday", "tomorrow"):
        day = datetime.fromtimestamp(now, timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        return day.timestamp() + {"today": 0, "yesterday": -86400, "tomorrow": 86400}[low]
    m = _REL.match(low)
    if m:
        amount = int(m.group(2)) * _UNIT[m.group(3)]
        sign = -1 if (m.group(1) == "-") != bool(m.group(4)) else 1
        return now + sign * amount
    try:
        iso = text.replace("Z", "+00:00")
        if re.search(r"[+-]\d{4}$", iso):
            iso = iso[:-2] + ":" + iso[-2:]
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


# --------------------------------------------------------------------------- paging

def encode_cursor(key: tuple, flag: int = 0) -> str:
    """Opaque cursor for an item's sort key."""
    raw = json.dumps([key[0], key[1], flag], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[tuple, int] | None:
    """Inverse of encode_cursor; None when the cursor is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        a, b, flag = json.loads(raw)
        return (float(a), int(b)), int(flag)
    except (ValueError, TypeError):
        return None


@dataclass
class PageResult:
    data: list
    paging: dict | None


def paginate(items: list, key, *, desc: bool, limit: int, after: str | None, before: str | None,
             base_url: str, query: dict, inject_empty: bool = False) -> PageResult:
    """Cursor paging over ``items`` (already in output order); builds full next/previous URLs.

    ``key(item)`` returns (time, seq). Raises ValueError on a malformed cursor.
    """
    keys = [key(i) for i in items]

    def beyond(k, ck):  # k comes after ck in output order
        return k < ck if desc else k > ck

    start, end = 0, min(limit, len(items))
    if after:
        dec = decode_cursor(after)
        if dec is None:
            raise ValueError("after")
        ck, flag = dec
        start = next((i for i, k in enumerate(keys) if beyond(k, ck)), len(items))
        if inject_empty and flag == 0 and start < len(items):
            # Graph sometimes answers an empty page that still links onwards (A5).
            url = _link(base_url, query, after=encode_cursor(ck, 1))
            return PageResult([], {"cursors": {"before": after, "after": after}, "next": url})
        end = min(start + limit, len(items))
    elif before:
        dec = decode_cursor(before)
        if dec is None:
            raise ValueError("before")
        ck, _ = dec
        stop = next((i for i, k in enumerate(keys) if not beyond(ck, k)), len(items))
        end = stop
        start = max(0, stop - limit)
    data = items[start:end]
    if not data:
        return PageResult([], None)
    paging = {"cursors": {"before": encode_cursor(keys[start]), "after": encode_cursor(keys[end - 1])}}
    if start > 0:
        paging["previous"] = _link(base_url, query, before=encode_cursor(keys[start]))
    if end < len(items):
        paging["next"] = _link(base_url, query, after=encode_cursor(keys[end - 1]))
    return PageResult(data, paging)


def _link(base_url: str, query: dict, **cursor) -> str:
    q = {k: v for k, v in query.items() if k not in ("after", "before")}
    q.update(cursor)
    return f"{base_url}?{urlencode(q)}"
