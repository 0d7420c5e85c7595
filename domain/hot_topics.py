"""Hot topics: which stories are suddenly being talked about, in one scope (an organisation or overall).

The caller feeds collected items with ``observe`` and calls ``detect`` every ``step`` (5 min);
each pass returns the hot topics active now, each with a ``key`` that stays the same while it is
the same story (alert on keys not seen before, i.e. ``is_new``). ``state()`` is a JSON snapshot
to store between passes and restore with ``TrendDetector(state=...)``. Pure Python, no database;
one detector per scope (the caller runs one per organisation and one overall).

How a pass decides, and why:

1. Terms (domain.trends.text). Each item becomes its set of syllable unigrams and bigrams minus
   stopwords: cheap enough to count every item, and a bigram catches both words ("lương hưu")
   and the phrases that make a story ("ngừng chi", "chi trả"). Counts are of items containing
   a term, so one long post cannot make a burst.
2. Baseline (domain.trends.baseline): each term's normal *share* of items, so the daily cycle
   (quiet nights, busy lunch and evenings) and weekends cancel out, plus an hour-of-day profile
   for terms that peak at the same hour every day (lunch menus, a nightly livestream): those
   are routine, not news. The last ``long_window`` is never part of the baseline, and terms of
   an active hot topic enter the long-run share at ``hot_term_weight``, so a story does not
   become its own baseline within hours.
3. Burst test per term (domain.trends.bursts) in two recent windows (10 and 15 min: a fast
   story early; a story ramping up shows mostly in its last 10 minutes) and a long one (60 min:
   a slow one). Expected = items in the window × share, at least ``floor_per_step`` per bucket;
   in the recent windows also at least the term's rate in the rest of the hour
   (``local_expected``, a change-point null: a burst is a change of rate, so a term that has
   trickled all hour must rise above its own recent level, while a story starting from nothing
   keeps the full weight of its first minutes). A term bursts when its count reaches the
   window's minimum, is ≥ ``min_ratio`` × expected and its z-score is ≥ ``z_min`` (5: one
   chance in ~3·10⁶ per test; a week of passes makes ~10⁶ tests, so pure chance gives well
   under one term burst a week). With the floor, a never-seen term needs 6 mentions in 10
   minutes, 7 in 15 or 11 in an hour: less would flag every small reply thread. Terms in more
   than ``generic_share`` of all items ("lương", "công ty") cannot hold a story.
4. Groups: bursting terms that occur in the same items are grouped (connected components).
   A group is hot when enough items match it at the scale where its terms burst —
   ``short_min_items`` (6) in the 15-minute window if a term bursts in a recent window,
   ``long_min_items`` (20) in the hour otherwise — i.e. a sustained post every 2–3 minutes;
   fewer is a thread, not a hot topic (and an hour-long trickle with a chance cluster of six is
   not a story). Terms that were rare before (share < ``core_share``) or are now at
   ``core_ratio`` × their normal rate ("ngộ độc" seven times in 15 minutes at night) are the
   story's own words ("ngừng chi trả", "gala"). A *new* topic needs some: familiar words rising
   together (a big employer's name, "nghỉ ốm", "thưởng Tết" in the evening) is drift or chance,
   not news — the stories that matter bring new words within minutes. And an item matches a
   topic only if it has one of them and a second topic term — otherwise every post that names
   the story's company or KCN would be counted as part of the story.
5. Tracking: a group joins the active topic that resembles most of its items (≥
   ``merge_overlap`` share two of the topic's terms, accents ignored, so "Phuc Thinh" typed in
   a hurry is the same story) or names the same organisation; else the topic, active or
   remembered, whose terms it mostly repeats (Jaccard ≥ ``merge_term_jaccard``); else it is a
   new topic with a readable key (``20250305-0025-ngung-viec``). A topic stays active while it
   bursts or still draws ``min_ratio`` × its baseline, and ends ``cooldown`` after that; ended
   topics are remembered for ``memory``, so the same story flaring up again keeps its key and
   is not new.
6. Naming (domain.trends.naming): representatives are the items closest to the centroid of the
   topic's weighted terms, with distinct texts; keywords are phrases rebuilt from its bigrams on
   word boundaries; entities (domain.trends.entities) come from prefix rules on a sample of
   ``entity_sample`` items plus underthesea NER on the representatives only (NER costs ~10 ms
   per text; results are cached, so a topic that keeps its representatives costs nothing).

The thresholds follow from the statistics above and from what a desk calls hot; the benchmark
(bench/hot_topics.py) reports how they do on generated streams.

Memory: items are kept only for ``long_window``; older time buckets are folded into the
baseline, which prunes rare terms every hour, so RAM and state depend on the recent vocabulary,
not on how long the stream has run. Items older than the window (late or replayed) are ignored,
as are ids already seen inside it. Nothing is reported before ``warmup`` of history.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from domain.trends import naming
from domain.trends.baseline import TermBaseline
from domain.trends.bursts import Window, burst_z, group_terms, local_expected
from domain.trends.entities import entities, heuristic_entities
from domain.trends.text import ascii_slug, fold_accents, terms

__all__ = ["HotTopic", "TopicItem", "TrendConfig", "TrendDetector", "burst_z", "entities"]

STATE_VERSION = 1
MIN_CORE_KEPT = 5  # a topic always keeps some of its own words, else every mention of its KCN matches


@dataclass(frozen=True)
class TopicItem:
    id: int | str
    text: str
    created_at: datetime  # timezone-aware
    topic: str | None = None  # the classifier's topic label
    org_id: int | None = None


@dataclass(frozen=True)
class HotTopic:
    key: str  # stable while it is the same story
    label: str  # short Vietnamese name: keywords – entities
    keywords: list[str]
    entities: list[str]  # organisations and places: "Công ty TNHH …", "KCN …", "Bắc Giang"
    score: float  # burst strength: the highest z-score of its terms in this pass (0 = cooling down)
    count_window: int  # items matching the topic (≥ 2 of its terms) in the last long_window
    baseline: float  # expected count of its most common term in that window: normal chatter
    started_at: datetime  # the pass that first found it hot
    last_hot_at: datetime  # the last pass it was bursting or clearly above baseline
    representative_ids: list
    item_ids: list  # items matching in the window, newest first, at most max_item_ids
    is_new: bool  # first pass it appears
    category: str | None = None  # most common classifier topic among its items


@dataclass(frozen=True)
class TrendConfig:
    step: timedelta = timedelta(minutes=5)  # time bucket, and how often detect() is meant to run
    fast_window: timedelta = timedelta(minutes=10)  # a story ramping up shows first in its last minutes
    short_window: timedelta = timedelta(minutes=15)
    long_window: timedelta = timedelta(minutes=60)  # also how late an item may arrive
    short_min_term_count: int = 5  # a term needs this many items in the short window…
    long_min_term_count: int = 10  # …or this many in the long one
    short_min_items: int = 6  # a hot group needs this many matching items in the short window…
    long_min_items: int = 20  # …or this many in the long one
    z_min: float = 5.0
    min_ratio: float = 3.0  # count ≥ min_ratio × expected
    dispersion: float = 5.0  # negative-binomial k for common terms
    floor_per_step: float = 0.1  # expected count never below this per bucket (never-seen terms)
    generic_share: float = 0.05  # terms in more items than this never form topics
    core_share: float = 0.001  # terms rarer than this before the burst are the story's own words…
    core_ratio: float = 20.0  # …as are terms now at ≥ this × their normal rate in the short window
    link_fraction: float = 0.4  # co-occurrence needed to group two bursting terms
    merge_overlap: float = 0.3  # share of a group's items an active topic must match to absorb it
    merge_term_jaccard: float = 0.5  # term overlap that makes a group the same story
    half_life: timedelta = timedelta(hours=12)  # of the long-run term shares
    seasonal_decay: float = 0.5  # weight of previous days in the hour-of-day profile
    seasonal_boost: float = 1.5  # hour share / long-run share for a term to get an hourly profile
    hot_term_weight: float = 0.25  # weight of an active topic's terms in the long-run baseline
    max_terms: int = 50_000  # baseline vocabulary cap
    cooldown: timedelta = timedelta(minutes=60)  # a topic ends this long after it was last hot
    memory: timedelta = timedelta(hours=24)  # ended topics kept to recognise the same story
    warmup: timedelta = timedelta(hours=12)  # history needed before reporting anything
    max_topic_terms: int = 40
    max_item_ids: int = 500
    representatives: int = 5
    entity_sample: int = 20


@dataclass(slots=True)
class _Item:
    id: int | str
    text: str
    created_at: datetime
    topic: str | None
    org_id: int | None
    terms: frozenset[str]


@dataclass
class _Bucket:
    items: list[_Item] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


@dataclass
class _Topic:
    key: str
    started_at: datetime
    last_hot: datetime
    weights: dict[str, float]  # term → strongest z-score seen
    core: set[str]  # terms that were rare (share < core_share) when they joined: the story's own words
    passes: int = 0
    ended: bool = False
    entities: list[str] = field(default_factory=list)  # as last described

    def matches(self, item: _Item) -> bool:
        """One of the story's own words and, if it has more than one term, a second topic term.

        Without the first condition every post naming the story's KCN or company would count."""
        if self.core and not item.terms & self.core:
            return False
        return len(item.terms & self.weights.keys()) >= min(2, len(self.weights))


def _resemblance(topic: _Topic, folded_items: list[set[str]]) -> float:
    """Share of items with two of the topic's terms, accents ignored: whether a new group is about
    the same thing (the company and its KCN, or the story typed without diacritics: "Phuc Thinh")."""
    folded = {fold_accents(t) for t in topic.weights}
    needed = min(2, len(folded))
    return sum(1 for terms_ in folded_items if len(terms_ & folded) >= needed) / len(folded_items)


class TrendDetector:
    """Burst detector for one scope; see the module docstring for the method."""

    def __init__(self, config: TrendConfig = TrendConfig(), state: dict | None = None) -> None:
        self.config = config
        self._step_s = config.step.total_seconds()
        self._n_short = max(1, round(config.short_window / config.step))
        self._n_fast = max(1, min(self._n_short, round(config.fast_window / config.step)))
        self._n_long = max(self._n_short, round(config.long_window / config.step))
        self._buckets: dict[int, _Bucket] = {}
        self._ids: set[int | str] = set()
        self._folded_upto: int | None = None  # buckets ≤ this are in the baseline: too late
        self._first_bucket: int | None = None
        self._topics: dict[str, _Topic] = {}
        baseline_state = None
        if state:
            if state.get("version") != STATE_VERSION:
                raise ValueError(f"unsupported hot-topic state version {state.get('version')!r}")
            self._folded_upto = state["folded_upto"]
            self._first_bucket = state["first_bucket"]
            baseline_state = state["baseline"]
            for t in state["topics"]:
                self._topics[t["key"]] = _Topic(
                    key=t["key"], started_at=datetime.fromisoformat(t["started_at"]),
                    last_hot=datetime.fromisoformat(t["last_hot"]), weights=t["weights"], core=set(t["core"]),
                    passes=t["passes"], ended=t["ended"], entities=t["entities"],
                )
        self._baseline = TermBaseline(
            half_life=config.half_life, seasonal_decay=config.seasonal_decay,
            seasonal_boost=config.seasonal_boost, hot_term_weight=config.hot_term_weight,
            max_terms=config.max_terms, state=baseline_state,
        )
        if state:
            self.observe(
                TopicItem(i, text, datetime.fromisoformat(at), topic, org)
                for i, text, at, topic, org in state["items"]
            )

    # ---- input -------------------------------------------------------------------------------

    def _bucket_of(self, at: datetime) -> int:
        return math.floor(at.timestamp() / self._step_s)

    def _bucket_start(self, index: int) -> datetime:
        return datetime.fromtimestamp(index * self._step_s, UTC)

    def observe(self, items: Iterable[TopicItem]) -> int:
        """Add items; returns how many were taken (too old for the window or repeated: ignored)."""
        taken = 0
        for item in items:
            if item.created_at.tzinfo is None:
                raise ValueError(f"item {item.id!r}: created_at must be timezone-aware")
            index = self._bucket_of(item.created_at)
            if (self._folded_upto is not None and index <= self._folded_upto) or item.id in self._ids:
                continue
            entry = _Item(item.id, item.text, item.created_at.astimezone(UTC), item.topic, item.org_id,
                          terms(item.text))
            bucket = self._buckets.setdefault(index, _Bucket())
            bucket.items.append(entry)
            bucket.counts.update(entry.terms)
            self._ids.add(item.id)
            if self._first_bucket is None or index < self._first_bucket:
                self._first_bucket = index
            taken += 1
        return taken

    # ---- one pass ----------------------------------------------------------------------------

    def detect(self, now: datetime) -> list[HotTopic]:
        """One pass at ``now``: the hot topics active now (new ones have ``is_new``)."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        current = self._bucket_of(now - timedelta(microseconds=1))
        self._fold(current - self._n_long)
        self._expire(now)
        if self._first_bucket is None:
            return []
        fast, short = self._window(current, self._n_fast), self._window(current, self._n_short)
        long = self._window(current, self._n_long)
        recent = [it for b in range(long.first_bucket, current + 1) for it in self._bucket_items(b)]
        warm = (current + 1 - self._first_bucket) * self.config.step >= self.config.warmup
        hour = now.astimezone(UTC).hour
        if warm:
            bursting, fast_terms = self._bursting_terms((fast, short), long, hour)
            for group in group_terms(bursting, (it.terms for it in recent), self.config.link_fraction):
                self._assign(group, recent, short, hour, now, fast=bool(group.keys() & fast_terms))
        results = []
        for topic in self._topics.values():
            if topic.ended:
                continue
            matched = [it for it in recent if topic.matches(it)]
            baseline = max(self._expected(t, long, hour) for t in topic.weights)
            if len(matched) >= max(self.config.short_min_items, self.config.min_ratio * baseline):
                topic.last_hot = now  # bursting or not, still clearly above normal
            topic.passes += 1
            score = max(burst_z(w.counts[t], self._expected(t, w, hour), self.config.dispersion)
                        for t in topic.weights for w in (short, long))
            results.append(self._describe(topic, matched, baseline, score))
        return sorted(results, key=lambda t: -t.score)

    def _bucket_items(self, index: int) -> list[_Item]:
        bucket = self._buckets.get(index)
        return bucket.items if bucket else []

    def _fold(self, upto: int) -> None:
        """Move buckets ≤ ``upto`` (out of the long window) into the baseline and forget their items."""
        hot_terms = {t for topic in self._topics.values() if not topic.ended for t in topic.weights}
        for index in sorted(b for b in self._buckets if b <= upto):
            bucket = self._buckets.pop(index)
            self._baseline.add(self._bucket_start(index), bucket.counts, len(bucket.items), hot_terms)
            self._ids.difference_update(it.id for it in bucket.items)
        self._folded_upto = upto if self._folded_upto is None else max(self._folded_upto, upto)

    def _expire(self, now: datetime) -> None:
        for key, topic in list(self._topics.items()):
            if now - topic.last_hot >= self.config.memory:
                del self._topics[key]
            elif now - topic.last_hot >= self.config.cooldown:
                topic.ended = True

    def _window(self, current: int, n_buckets: int) -> Window:
        counts: Counter[str] = Counter()
        n_items = 0
        first = current - n_buckets + 1
        for index in range(first, current + 1):
            if bucket := self._buckets.get(index):
                counts.update(bucket.counts)
                n_items += len(bucket.items)
        return Window(counts, n_items, n_buckets, first)

    def _expected(self, term: str, window: Window, hour: int) -> float:
        share = self._baseline.share(term, hour)
        return max(window.n_items * share, self.config.floor_per_step * window.n_buckets)

    def _bursting_terms(self, recent: tuple[Window, ...], long: Window, hour: int) -> tuple[dict[str, float], set[str]]:
        """Term → burst z-score, for terms bursting in any window; and the terms bursting in a
        recent (short) window.

        In the recent windows (10 and 15 min) the expected count is also at least what the term's
        rate in the rest of the long window predicts (``local_expected``): a burst is a change of
        rate, so a term already trickling for the past hour must rise above its own recent level."""
        cfg = self.config
        bursting: dict[str, float] = {}
        fast_terms: set[str] = set()
        windows = [(w, cfg.short_min_term_count) for w in recent] + [(long, cfg.long_min_term_count)]
        for window, min_count in windows:
            for term, count in window.counts.items():
                if count < min_count or self._baseline.share(term, hour) >= cfg.generic_share:
                    continue
                expected = self._expected(term, window, hour)
                if window is not long:
                    expected = max(expected, local_expected(long.counts[term], count, long.n_buckets,
                                                            window.n_buckets))
                if count < cfg.min_ratio * expected:
                    continue
                z = burst_z(count, expected, cfg.dispersion)
                if z >= cfg.z_min:
                    bursting[term] = max(bursting.get(term, 0.0), z)
                    if window is not long:
                        fast_terms.add(term)
        return bursting, fast_terms

    def _assign(self, group: dict[str, float], recent: list[_Item], short: Window, hour: int, now: datetime,
                fast: bool = True) -> None:
        """Make a hot group part of an existing topic, revive a remembered one, or start a new one.

        Each time scale's evidence goes with that scale's size: a group whose terms burst in a
        short window needs ``short_min_items`` there; one whose terms burst only over the long
        window needs ``long_min_items`` there. (A term significant over the hour because it has
        trickled all along, plus a chance cluster of six posts in 15 minutes, is not a story.)"""
        cfg = self.config
        core = {t for t in group if self._is_core(t, short, hour)}
        probe = _Topic("", now, now, group, core)
        matched = [it for it in recent if probe.matches(it)]
        in_short = sum(1 for it in matched if self._bucket_of(it.created_at) >= short.first_bucket)
        if not (fast and in_short >= cfg.short_min_items) and len(matched) < cfg.long_min_items:
            return
        topic = self._match(group, matched)
        if topic is None:
            if not core:
                return  # only familiar words rising (a company's name, "nghỉ ốm"): drift, not news
            topic = self._new_topic(group, core, matched, now)
        items = {it.id: it for it in recent if topic.matches(it)} | {it.id: it for it in matched}
        self._absorb(topic, group, core, list(items.values()))
        topic.last_hot, topic.ended = now, False

    def _is_core(self, term: str, short: Window, hour: int) -> bool:
        """A story's own word: rare before (share < ``core_share``: "gala", "ngừng chi"), or now far
        above its normal rate (``core_ratio`` ×: "ngộ độc" is said now and then, not 7 times in 15
        minutes at night). A familiar word rising a few times over (a big employer's name) is not."""
        share = self._baseline.share(term, hour)
        return share < self.config.core_share or short.counts[term] >= self.config.core_ratio * short.n_items * share

    def _absorb(self, topic: _Topic, group: dict[str, float], core: set[str], items: list[_Item]) -> None:
        """Add a group's terms to a topic, keeping the ``max_topic_terms`` that cover most of its
        items (the company's name, not a rare paraphrase), at least a few of them core terms."""
        weights = dict(topic.weights)
        for term, z in group.items():
            weights[term] = max(weights.get(term, 0.0), z)
        core = topic.core | core
        coverage = Counter(t for it in items for t in it.terms & weights.keys())
        ranked = sorted(weights, key=lambda t: (-coverage[t], -weights[t], t))
        n_core = min(len(core), MIN_CORE_KEPT)
        kept = [t for t in ranked if t in core][:n_core]
        kept += [t for t in ranked if t not in kept][: self.config.max_topic_terms - len(kept)]
        topic.weights = {t: weights[t] for t in kept}
        topic.core = core & topic.weights.keys()

    def _match(self, group: dict[str, float], matched: list[_Item]) -> _Topic | None:
        """The topic this hot group belongs to, if any.

        The active topic that resembles ≥ ``merge_overlap`` of the group's items (the best
        one), or one that names the same organisation ("Vợ em làm ở Phúc Thịnh, công ty hứa…"
        joins the Phúc Thịnh stoppage, though a big employer's name is too common to be a topic
        term). Else any topic, active or remembered, whose terms the group mostly repeats
        (Jaccard ≥ ``merge_term_jaccard``): stricter, because two different poisonings share
        many words and only a remembered story's own words should revive it.
        """
        active = [t for t in self._topics.values() if not t.ended]
        folded_items = [{fold_accents(t) for t in it.terms} for it in matched]
        overlaps = [(_resemblance(t, folded_items), t) for t in active]
        overlap, best = max(overlaps, key=lambda pair: pair[0], default=(0.0, None))
        if best is not None and overlap >= self.config.merge_overlap:
            return best
        if active:
            named = self._name_entities(naming.representatives(matched, group, self.config.entity_sample))
            for topic in active:
                if naming.same_organisation(named, topic.entities):
                    return topic
        for topic in self._topics.values():
            a, b = group.keys(), topic.weights.keys()
            if len(a & b) / len(a | b) >= self.config.merge_term_jaccard:
                return topic
        return None

    def _new_topic(self, group: dict[str, float], core: set[str], matched: list[_Item], now: datetime) -> _Topic:
        reps = naming.representatives(matched, group, self.config.representatives)
        words = naming.keywords(group, [it.text for it in reps], limit=1)
        base = f"{now.astimezone(UTC):%Y%m%d-%H%M}-{ascii_slug(words[0] if words else '')}"
        key, n = base, 2
        while key in self._topics:
            key, n = f"{base}-{n}", n + 1
        topic = _Topic(key=key, started_at=now, last_hot=now, weights=dict(group), core=core)
        self._topics[key] = topic
        return topic

    def _describe(self, topic: _Topic, matched: list[_Item], baseline: float, score: float) -> HotTopic:
        cfg = self.config
        sample = naming.representatives(matched, topic.weights, max(cfg.entity_sample, cfg.representatives))
        reps = sample[: cfg.representatives]
        names = topic.entities = self._name_entities(sample)
        words = naming.keywords(topic.weights, [it.text for it in sample])
        categories = Counter(it.topic for it in matched if it.topic)
        newest = sorted(matched, key=lambda it: it.created_at, reverse=True)[: cfg.max_item_ids]
        return HotTopic(
            key=topic.key,
            label=naming.label(words, names),
            keywords=words,
            entities=names,
            score=round(score, 2),
            count_window=len(matched),
            baseline=round(baseline, 2),
            started_at=topic.started_at,
            last_hot_at=topic.last_hot,
            representative_ids=[it.id for it in reps],
            item_ids=[it.id for it in newest],
            is_new=topic.passes == 1,
            category=categories.most_common(1)[0][0] if categories else None,
        )

    def _name_entities(self, ranked: list[_Item]) -> list[str]:
        """Entities of a topic's sample (best items first): prefix rules on all, NER on the first
        ``representatives`` only, because it is slow."""
        rep_texts = {it.text for it in ranked[: self.config.representatives]}

        def extract(text: str) -> list[str]:
            return entities(text) if text in rep_texts else heuristic_entities(text)

        return naming.topic_entities([it.text for it in ranked[: self.config.entity_sample]], extract)

    # ---- persistence -------------------------------------------------------------------------

    def state(self) -> dict:
        """JSON-serialisable snapshot; ``TrendDetector(config, state=...)`` continues from it."""
        return {
            "version": STATE_VERSION,
            "folded_upto": self._folded_upto,
            "first_bucket": self._first_bucket,
            "baseline": self._baseline.state(),
            "items": [
                [it.id, it.text, it.created_at.isoformat(), it.topic, it.org_id]
                for index in sorted(self._buckets) for it in self._buckets[index].items
            ],
            "topics": [
                {"key": t.key, "started_at": t.started_at.isoformat(), "last_hot": t.last_hot.isoformat(),
                 "weights": {k: round(v, 2) for k, v in t.weights.items()}, "core": sorted(t.core),
                 "passes": t.passes, "ended": t.ended, "entities": t.entities}
                for t in self._topics.values()
            ],
        }
