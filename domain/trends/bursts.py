"""The statistics of a pass: window counts, the burst score, and grouping co-bursting terms."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations


@dataclass
class Window:
    """Counts over a run of time buckets ending at the current one."""

    counts: Counter[str]  # term → items containing it
    n_items: int
    n_buckets: int
    first_bucket: int


def burst_z(count: float, expected: float, dispersion: float) -> float:
    """How surprising ``count`` is given ``expected``: the smaller of two z-scores.

    The Poisson likelihood-ratio z (signed root of the deviance) is accurate for rare terms,
    where a normal approximation is far too generous; the negative-binomial z (variance
    e + e²/dispersion) is the stricter one for common terms, whose counts vary more than
    Poisson because what people talk about drifts during a day.
    """
    if count <= expected:
        return 0.0
    z_lr = math.sqrt(2 * (count * math.log(count / expected) - (count - expected)))
    z_nb = (count - expected) / math.sqrt(expected + expected * expected / dispersion)
    return min(z_lr, z_nb)


def local_expected(count_long: float, count_window: float, long_buckets: int, window_buckets: int) -> float:
    """A term's count expected in a recent window at the rate it had just before it, in the rest of
    the long window: the null hypothesis of a change-point test ("did its rate just change?").

    A term that has trickled all along — a few posts an hour about one power cut — is then judged
    against its own recent level, not against the long-run share in which it was never seen, so a
    chance cluster in a steady trickle does not look like an onset; a story that starts from
    nothing has an empty preceding window and keeps the full evidence of its first minutes."""
    rest = long_buckets - window_buckets
    return max(0.0, count_long - count_window) * window_buckets / rest if rest > 0 else 0.0


def group_terms(bursting: dict[str, float], item_terms: Iterable[frozenset[str]],
                link_fraction: float) -> list[dict[str, float]]:
    """Bursting terms grouped by co-occurrence: connected components of the graph linking two
    terms that appear together in ≥ ``link_fraction`` of the rarer one's items (and ≥ 2 items)."""
    if not bursting:
        return []
    df: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for found in item_terms:
        present = sorted(found & bursting.keys())
        df.update(present)
        pairs.update(combinations(present, 2))
    parent = {t: t for t in bursting}

    def root(t: str) -> str:
        while parent[t] != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    for (a, b), together in pairs.items():
        if together >= max(2, link_fraction * min(df[a], df[b])):
            parent[root(a)] = root(b)
    groups: dict[str, dict[str, float]] = {}
    for term, z in bursting.items():
        groups.setdefault(root(term), {})[term] = z
    return list(groups.values())
