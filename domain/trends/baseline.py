"""Each term's expected share of items: what "normal" looks like for that term right now.

Why shares and not counts: people post three to ten times more in the evening than at night,
and less at weekends. Expected count = (items actually seen in the window) × (the term's normal
share of items), so the daily and weekly volume cycle cancels out without being modelled.

Two estimates, the larger wins:

* long-run share — exponentially decayed counts (half-life ``half_life``, 12 h by default) of
  items containing the term, over decayed item totals. Terms of a story that is hot right now
  are added with a reduced weight, so a burst does not become its own baseline within hours;
  a lasting change of level is still learned within a day or two.
* hour-of-day share — for terms that are clearly more common in one hour of the day than
  overall (lunch menus at 11:00, the nightly legal-advice livestream at 20:00), one decayed
  ratio per UTC hour, updated once a day (``seasonal_decay`` = weight of the previous days).
  A term enters an hour's profile when its share there exceeds ``seasonal_boost`` × its
  long-run share; once in, it is updated every day whatever its count (an entry condition
  applied every day would bias the ratio down) until it decays below ``min_mass``. The
  neighbouring hours count too, so a daily event that starts 20 minutes late is still normal.
  Only such terms are stored per hour, which keeps the state small. Terms of hot stories are
  *not* held back here: a routine event flagged on its first day must still be learned (else
  it is flagged again every day), and a story repeating at the same hour the next day is routine.

Memory is bounded: decayed counts below ``min_mass`` are dropped every hour and at most
``max_terms`` terms are kept, so the size depends on the vocabulary of the last days, not on
the length of the stream.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

HOUR = timedelta(hours=1)


class TermBaseline:
    def __init__(
        self,
        half_life: timedelta = timedelta(hours=12),
        seasonal_decay: float = 0.5,
        seasonal_boost: float = 1.5,
        seasonal_min_count: int = 3,
        hot_term_weight: float = 0.25,
        min_mass: float = 0.5,
        max_terms: int = 50_000,
        state: dict | None = None,
    ) -> None:
        self.hourly_decay = 0.5 ** (HOUR / half_life)
        self.seasonal_decay = seasonal_decay
        self.seasonal_boost = seasonal_boost
        self.seasonal_min_count = seasonal_min_count
        self.hot_term_weight = hot_term_weight
        self.min_mass = min_mass
        self.max_terms = max_terms
        state = state or {}
        self.counts: dict[str, float] = dict(state.get("counts", {}))
        self.total: float = state.get("total", 0.0)
        self.slots: list[dict[str, float]] = [dict(s) for s in state.get("slots", [{} for _ in range(24)])]
        self.slot_totals: list[float] = list(state.get("slot_totals", [0.0] * 24))
        # The hour being accumulated (absolute hour number) and its raw counts.
        self.hour: int | None = state.get("hour")
        self.hour_counts: Counter[str] = Counter(state.get("hour_counts", {}))
        self.hour_items: int = state.get("hour_items", 0)

    def add(self, start: datetime, counts: Counter[str], n_items: int, hot_terms: set[str]) -> None:
        """Fold one closed time bucket (``counts`` = items containing each term) into the baseline."""
        hour = int(start.timestamp() // 3600)
        if self.hour is not None and hour != self.hour:
            self._close_hour(hour)
        self.hour = hour
        for term, count in counts.items():
            weight = self.hot_term_weight if term in hot_terms else 1.0
            self.counts[term] = self.counts.get(term, 0.0) + weight * count
        self.total += n_items
        self.hour_counts.update(counts)
        self.hour_items += n_items

    def _long_run(self, term: str) -> float:
        return self.counts.get(term, 0.0) / self.total if self.total else 0.0

    def share(self, term: str, hour_of_day: int) -> float:
        """The larger of the term's long-run share and its share around this hour of the day."""
        long_run = self._long_run(term)
        seasonal = max(
            (self.slots[h].get(term, 0.0) / self.slot_totals[h] if self.slot_totals[h] else 0.0)
            for h in ((hour_of_day - 1) % 24, hour_of_day, (hour_of_day + 1) % 24)
        )
        return max(long_run, seasonal)

    def _close_hour(self, next_hour: int) -> None:
        assert self.hour is not None
        self._update_slot(self.hour % 24)
        decay = self.hourly_decay ** max(1, next_hour - self.hour)
        self.total *= decay
        self.counts = {t: v * decay for t, v in self.counts.items() if v * decay >= self.min_mass}
        if len(self.counts) > self.max_terms:
            kept = sorted(self.counts.items(), key=lambda kv: kv[1], reverse=True)[: self.max_terms]
            self.counts = dict(kept)
        self.hour_counts, self.hour_items = Counter(), 0

    def _update_slot(self, slot: int) -> None:
        """Once a day per hour: decay the hour's profile and add the terms peaking in this hour."""
        if not self.hour_items:
            return
        r = self.seasonal_decay
        profile = {t: v * r for t, v in self.slots[slot].items() if v * r >= self.min_mass}
        for term, count in self.hour_counts.items():
            if term in profile:
                profile[term] += count  # tracked terms are always updated, so the ratio is unbiased
            elif count >= self.seasonal_min_count and (
                count / self.hour_items > self.seasonal_boost * self._long_run(term)
            ):
                profile[term] = float(count)
        self.slots[slot] = profile
        self.slot_totals[slot] = self.slot_totals[slot] * r + self.hour_items

    def state(self) -> dict:
        """JSON-serialisable snapshot (values rounded: they are estimates)."""
        return {
            "counts": {t: round(v, 2) for t, v in self.counts.items()},
            "total": round(self.total, 2),
            "slots": [{t: round(v, 2) for t, v in s.items()} for s in self.slots],
            "slot_totals": [round(v, 2) for v in self.slot_totals],
            "hour": self.hour,
            "hour_counts": dict(self.hour_counts),
            "hour_items": self.hour_items,
        }
