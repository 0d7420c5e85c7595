"""Hot-topic benchmark: replay a generated 7-day stream through one TrendDetector.

    python bench/hot_topics.py [--seed 1] [--items 100000] [--days 7]

The stream (bench/corpus_gen.py) has a daily and weekly cycle, routine daily events, five
injected bursts and two decoys. Items are fed in *arrival* order (up to 8 minutes late) and
``detect`` runs every 5 simulated minutes; at every simulated midnight the detector is saved
with ``state()``, serialised to JSON and restored, as the Celery task will do through the DB.

Scoring (per new hot topic, i.e. ``is_new``):
* it belongs to the injected burst that makes up at least half of its matched items; the first
  such topic after the burst's onset detects it, delay = pass time − onset; later ones for the
  same burst are reported as duplicates (not false, but noise for the desk);
* any other new topic — chatter, a routine daily event, a decoy — is a false alert.
The first day is the detector's warm-up (the baseline has not yet seen one daily cycle and the
detector reports nothing for its first 12 h), so false alerts are counted on days 2–7 and
divided by 6; alerts during day 1 are reported separately.

Memory: ``max_rss_mb`` is the peak of the whole process; the generated stream and underthesea,
loaded before the replay, take most of it (``rss_before_replay_mb``), and
``detector_rss_growth_mb`` is what the replay added. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil

from bench.corpus_gen import Stream, generate
from domain.hot_topics import HotTopic, TopicItem, TrendConfig, TrendDetector, entities

WARMUP_DAYS = 1
VN = timedelta(hours=7)


@dataclass
class Score:
    stream: Stream
    truth: dict[int, str | None]
    delays: dict[str, int] = field(default_factory=dict)  # burst id → minutes after onset
    duplicates: Counter[str] = field(default_factory=Counter)
    false_alerts: list[str] = field(default_factory=list)
    warmup_alerts: list[str] = field(default_factory=list)

    def judge(self, topic: HotTopic, when: datetime) -> str:
        """Score one new topic found at ``when``; returns the verdict for the log."""
        owner, n = Counter(self.truth[i] for i in topic.item_ids).most_common(1)[0]
        share = n / len(topic.item_ids)
        onsets = {b.id: b.onset for b in self.stream.bursts}
        burst = owner[len("burst:"):] if owner and owner.startswith("burst:") and share >= 0.5 else None
        if burst and when >= onsets[burst]:
            if burst in self.delays:
                self.duplicates[burst] += 1
                return f"duplicate of {burst}"
            self.delays[burst] = int((when - onsets[burst]) / timedelta(minutes=1))
            return f"detects {burst} after {self.delays[burst]} min"
        if (when - self.stream.start).days < WARMUP_DAYS:
            self.warmup_alerts.append(topic.key)
            return "warm-up (day 1, not scored)"
        self.false_alerts.append(topic.key)
        return f"FALSE ({owner or 'chatter'} {share:.0%})"


def replay(stream: Stream, config: TrendConfig, score: Score) -> dict:
    """Feed the stream pass by pass; returns timing and state-size figures."""
    detector = TrendDetector(config)
    items, pending, passes, work, cpu, state_kb = stream.items, 0, 0, 0.0, 0.0, 0.0
    when, end = stream.start + config.step, stream.start + timedelta(days=stream.days)
    next_save = stream.start + timedelta(days=1)
    while when <= end:
        begin, begin_cpu = time.perf_counter(), time.process_time()
        batch = []
        while pending < len(items) and items[pending].arrived_at <= when:
            it = items[pending]
            batch.append(TopicItem(it.id, it.text, it.created_at, it.topic, it.org_id))
            pending += 1
        detector.observe(batch)
        hot = detector.detect(when)
        passes += 1
        if when >= next_save:  # what the Celery task does between passes: store, load
            blob = json.dumps(detector.state(), ensure_ascii=False)
            state_kb = max(state_kb, len(blob.encode()) / 1024)
            detector = TrendDetector(config, state=json.loads(blob))
            next_save += timedelta(days=1)
        work += time.perf_counter() - begin
        cpu += time.process_time() - begin_cpu
        for topic in (t for t in hot if t.is_new):
            verdict = score.judge(topic, when)
            day = (when - stream.start).days + 1
            print(f"  day {day} {when + VN:%a %H:%M} VN  {verdict:<28} {topic.label!r} entities={topic.entities} "
                  f"n={topic.count_window} base={topic.baseline} z={topic.score}", flush=True)
        when += config.step
    # items_per_s is wall time (what a pass takes); items_per_cpu_s is this process's CPU time, which
    # does not depend on what else the machine runs.
    return {"passes": passes, "items_per_s": round(len(items) / work), "items_per_cpu_s": round(len(items) / cpu),
            "max_state_json_kb": round(state_kb, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()

    t0 = time.perf_counter()
    stream = generate(seed=args.seed, n_items=args.items, days=args.days)
    print(f"generated {len(stream.items)} items in {time.perf_counter() - t0:.1f}s (seed {args.seed})", flush=True)
    entities("Công nhân KCN Quang Châu")  # load underthesea now: its ~100 MB are not the detector's
    rss_before = psutil.Process().memory_info().rss / 2**20

    score = Score(stream, {it.id: it.truth for it in stream.items})
    figures = replay(stream, TrendConfig(), score)

    for b in stream.bursts:
        delay = score.delays.get(b.id)
        print(f"  {b.id} {b.name:<40} onset {b.onset + VN:%a %H:%M} VN: "
              + (f"detected after {delay} min" if delay is not None else "MISSED")
              + (f", {score.duplicates[b.id]} duplicate topic(s)" if score.duplicates[b.id] else ""))
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "seed": args.seed,
        "items": len(stream.items),
        "days": stream.days,
        "bursts_injected": len(stream.bursts),
        "bursts_detected": len(score.delays),
        "max_detection_delay_min": max(score.delays.values(), default=None),
        "detection_delays_min": dict(sorted(score.delays.items())),
        "false_alerts": len(score.false_alerts),
        "false_alerts_per_day": round(len(score.false_alerts) / (stream.days - WARMUP_DAYS), 2),
        "false_alert_days": f"days {WARMUP_DAYS + 1}-{stream.days} (day 1 = baseline warm-up, not scored)",
        "warmup_day_alerts": len(score.warmup_alerts),
        "duplicate_alerts": sum(score.duplicates.values()),
        **figures,
        "max_rss_mb": round(max_rss, 1),
        "rss_before_replay_mb": round(rss_before, 1),
        "detector_rss_growth_mb": round(max_rss - rss_before, 1),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
