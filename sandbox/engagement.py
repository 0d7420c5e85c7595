"""Engagement numbers of published posts and articles: organic growth, or values a test pinned.

Real posts gather views, reactions and shares quickly in their first hours, then level off. The
emulator reproduces that shape with numbers that are *deterministic per post*: each post's ceiling,
growth speed and reaction/share rates come from a CRC of its id, and the age counts in whole hours
of emulator time, so a test that advances the clock by N hours knows exactly what Graph or Zalo
will answer (``organic(post_id, hours * 3600)``) and the value never changes within the hour.

``POST /__emu/engagement`` pins a post's numbers (the ``manual`` flag): from then on the stored
counters are answered as they are. ``organic_engagement = false`` in the config turns growth off.
Comment counts are never invented: they are the comment objects the post really has.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

HOUR = 3600


@dataclass(frozen=True)
class Counts:
    """What a post or article shows at one moment."""

    views: int
    unique_views: int
    reactions: int
    shares: int


def _params(key: str) -> tuple[int, float, float, float]:
    h = zlib.crc32(key.encode("utf-8"))
    ceiling = 300 + h % 4700  # eventual views, 300 – 5,000
    tau_hours = 4.0 + (h >> 12) % 20  # reaches ~63 % of the ceiling after 4 – 23 hours
    reaction_rate = 0.02 + ((h >> 17) % 60) / 1000  # 2 – 8 % of viewers react
    share_rate = 0.002 + ((h >> 23) % 80) / 10000  # 0.2 – 1 % share
    return ceiling, tau_hours, reaction_rate, share_rate


def organic(key: str, age_s: float) -> Counts:
    """Organic numbers of the post ``key`` after ``age_s`` seconds online (whole hours count)."""
    hours = max(0, int(age_s // HOUR))
    ceiling, tau, reaction_rate, share_rate = _params(key)
    views = int(ceiling * (1.0 - math.exp(-hours / tau)))
    return Counts(views=views, unique_views=int(views * 0.7), reactions=int(views * reaction_rate),
                  shares=int(views * share_rate))


def fb_counts(emu, post) -> Counts:  # noqa: ANN001
    """A Facebook post's current numbers (pinned, or organic since it went live)."""
    if post.manual or not emu.cfg.organic_engagement:
        return Counts(post.views, int(post.views * 0.7), post.reactions, post.shares)
    now = emu.clock.now()
    if not post.is_live(now):
        return Counts(0, 0, 0, 0)
    live_since = post.scheduled_at if (not post.published and post.scheduled_at) else post.created_time
    return organic(post.id, now - live_since)


def zalo_counts(emu, article) -> Counts:  # noqa: ANN001
    """A Zalo article's current views and shares (Zalo reports no reactions)."""
    if article.manual or not emu.cfg.organic_engagement:
        return Counts(article.total_view, int(article.total_view * 0.7), 0, article.total_share)
    now = emu.clock.now()
    if article.removed or article.status != "show" or not article.is_processed(now):
        return Counts(0, 0, 0, 0)
    c = organic(article.id, now - article.created)
    return Counts(c.views, c.unique_views, 0, c.shares)


def pin_fb(emu, post, values: dict) -> None:  # noqa: ANN001
    """Pin a post's numbers; unspecified ones keep their current value."""
    current = fb_counts(emu, post)
    post.views = int(values.get("views", current.views))
    post.reactions = int(values.get("reactions", current.reactions))
    post.shares = int(values.get("shares", current.shares))
    post.manual = True


def pin_zalo(emu, article, values: dict) -> None:  # noqa: ANN001
    """Pin an article's numbers; unspecified ones keep their current value."""
    current = zalo_counts(emu, article)
    article.total_view = int(values.get("views", current.views))
    article.total_share = int(values.get("shares", current.shares))
    article.manual = True
