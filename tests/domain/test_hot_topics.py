"""Hot-topic detection on small generated streams (no database, a few seconds).

The stream: 3 days of worker chatter with a daily cycle (quiet nights, busy evenings) and a
routine livestream every evening at 20:00; optionally a burst — a wage-arrears stoppage at one
company in one KCN — on the last day at 14:03 Vietnam time.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from domain.hot_topics import TopicItem, TrendConfig, TrendDetector, entities
from domain.trends.baseline import TermBaseline
from domain.trends.bursts import local_expected
from domain.trends.text import fingerprint, terms

START = datetime(2025, 3, 2, 17, 0, tzinfo=UTC)  # Monday 00:00 in Vietnam
DAYS = 3
ONSET = START + timedelta(days=2, hours=14, minutes=3)
STEP = TrendConfig().step
HOURLY = [2, 1, 1, 1, 1, 2, 4, 5, 5, 5, 6, 9, 9, 6, 5, 5, 6, 8, 10, 12, 13, 12, 9, 4]  # items per 10 min, by local hour
COMPANIES = ["Phú Gia", "Tân Tiến", "Việt Hưng", "Kim Long", "Trường Sơn", "Hải Âu", "Đông Á", "Song Long"]
PARKS = ["Quế Võ", "Yên Phong", "Đồng Văn", "Phú Bài", "Tràng Duệ", "Amata"]
CHATTER = [
    "Công ty TNHH {c} tăng ca nhiều quá mà lương chẳng tăng", "Cho em hỏi rút BHXH một lần cần giấy tờ gì",
    "Phòng trọ gần KCN {k} giá bao nhiêu một tháng", "Công đoàn {c} tổ chức khám sức khỏe cho đoàn viên",
    "Hết hợp đồng mà không được ký tiếp có được trợ cấp không", "Xưởng ở KCN {k} nóng quá anh em ơi",
    "Thưởng Tết năm nay ở {c} được bao nhiêu", "Ai ở KCN {k} có nhóm đi chung xe về quê không",
    "Thẻ BHYT hết hạn thì gia hạn ở đâu", "Chợ gần KCN {k} rau thịt đắt quá",
    "Nghỉ việc phải báo trước bao nhiêu ngày", "Lương tháng này về trễ mấy hôm rồi",
    "Tuyển gấp công nhân may cho công ty {c}", "Luật Công đoàn sửa đổi có gì mới",
]
ROUTINE = ["Livestream tư vấn pháp luật tối nay hay quá", "Luật sư trên livestream cho em hỏi về nghỉ phép năm",
           "Tối nay livestream tư vấn pháp luật có phát lại không"]
BURST = [
    "Công nhân Công ty TNHH Dệt May Hòa Bình ở KCN Vân Trung ngừng việc vì bị nợ lương",
    "Cty Dệt May Hòa Bình nợ lương hai tháng, anh em KCN Vân Trung đứng trước cổng",
    "Vụ ngừng việc ở Dệt May Hòa Bình, KCN Vân Trung có ai cập nhật không",
    "Công ty TNHH Dệt May Hòa Bình hứa trả nợ lương cuối tuần mà công nhân không tin",
    "Ủng hộ anh em Hòa Bình ở KCN Vân Trung đòi lương",
]


def make_stream(seed: int, burst: bool) -> list[TopicItem]:
    rng = random.Random(seed)
    items: list[TopicItem] = []

    def add(at: datetime, text: str) -> None:
        items.append(TopicItem(len(items) + 1, text, at, "tien_luong", 1))

    for minute in range(DAYS * 1440):
        at = START + timedelta(minutes=minute)
        rate = HOURLY[(at + timedelta(hours=7)).hour] / 10
        for _ in range(int(rate) + (rng.random() < rate % 1)):
            text = rng.choice(CHATTER).format(c=rng.choice(COMPANIES), k=rng.choice(PARKS))
            add(at + timedelta(seconds=rng.uniform(0, 59)), text)
    for day in range(DAYS):
        begin = START + timedelta(days=day, hours=20, minutes=rng.uniform(-10, 10))
        for _ in range(rng.randint(25, 35)):
            add(begin + timedelta(minutes=rng.uniform(0, 60)), rng.choice(ROUTINE))
    if burst:
        for minute in range(90):
            rate = 6 * min(1.0, (minute + 0.5) / 10)
            for _ in range(int(rate) + (rng.random() < rate % 1)):
                text = rng.choice(BURST) + rng.choice(["", " !!!", " mọi người ơi", " 😡"])
                add(ONSET + timedelta(minutes=minute + rng.random()), text)
    return sorted(items, key=lambda it: it.created_at)


def replay(items, detector=None, start=START + STEP, until=START + timedelta(days=DAYS)):
    """Feed items and run a pass every 5 minutes from ``start`` to ``until``.

    Returns (detector, [(pass time, hot topics)])."""
    detector = detector or TrendDetector()
    pending = [it for it in items if it.created_at > start - STEP]
    passes, at, i = [], start, 0
    while at <= until:
        batch = []
        while i < len(pending) and pending[i].created_at <= at:
            batch.append(pending[i])
            i += 1
        detector.observe(batch)
        passes.append((at, detector.detect(at)))
        at += STEP
    return detector, passes


@pytest.fixture(scope="module")
def burst_run():
    items = make_stream(7, burst=True)
    return items, *replay(items)


@pytest.fixture(scope="module")
def flat_run():
    return replay(make_stream(7, burst=False))


def new_topics(passes, after=START + timedelta(days=1)):
    return [(at, t) for at, hot in passes for t in hot if t.is_new and at >= after]


def test_burst_detected_once_early_with_stable_key(burst_run):
    items, _, passes = burst_run
    found = new_topics(passes)
    assert len(found) == 1, [t.label for _, t in found]
    at, topic = found[0]
    assert ONSET <= at <= ONSET + timedelta(minutes=15)
    burst_texts = {fingerprint(t) for t in BURST}
    by_id = {it.id: it for it in items}
    from_burst = [i for i in topic.item_ids if any(b in fingerprint(by_id[i].text) for b in burst_texts)]
    assert len(from_burst) >= 0.8 * len(topic.item_ids)
    appearances = [t for _, hot in passes for t in hot if t.key == topic.key]
    assert len(appearances) >= 12  # tracked for over an hour under the same key
    assert [t.is_new for t in appearances] == [True] + [False] * (len(appearances) - 1)


def test_topic_is_named_by_its_company_and_kcn(burst_run):
    _, _, passes = burst_run
    topic = next(t for at, hot in passes for t in hot if t.is_new and at >= ONSET)
    later = [t for _, hot in passes for t in hot if t.key == topic.key][6]  # 30 min in
    for t in (topic, later):
        assert "Công ty TNHH Dệt May Hòa Bình" in t.entities
        assert "KCN Vân Trung" in t.entities
        assert "Hòa Bình" in t.label and "Vân Trung" in t.label
        assert any("ngừng việc" in k or "nợ lương" in k for k in t.keywords)


def test_representatives_are_distinct_texts(burst_run):
    items, _, passes = burst_run
    by_id = {it.id: it for it in items}
    for at, hot in passes:
        for topic in hot:
            texts = [fingerprint(by_id[i].text) for i in topic.representative_ids]
            assert len(texts) == len(set(texts))
            assert set(topic.representative_ids) <= set(topic.item_ids)
            if at >= ONSET and topic.count_window >= 10:  # the burst: five templates, decorated
                assert len(texts) == 5


def test_flat_seasonal_background_raises_no_alert(flat_run):
    """The daily cycle and the evening livestream (learned on day 1) are not hot topics."""
    _, passes = flat_run
    assert new_topics(passes) == []


def test_state_round_trips_through_json_and_keeps_detecting(burst_run):
    items, _, uninterrupted = burst_run
    expected = {at: [t.key for t in hot] for at, hot in uninterrupted}
    # Stop just before the onset, store, restore, continue: same alert, same key.
    cut = ONSET - timedelta(minutes=3)
    before, _ = replay(items, until=cut)
    restored = TrendDetector(state=json.loads(json.dumps(before.state(), ensure_ascii=False)))
    restored, passes = replay(items, restored, start=cut + STEP, until=ONSET + timedelta(minutes=40))
    for at, hot in passes:
        assert [t.key for t in hot] == expected[at]
    # Round trip in the middle of the burst: the topic continues, not new.
    mid = passes[-1][0]
    assert expected[mid]
    again = TrendDetector(state=json.loads(json.dumps(restored.state())))
    _, passes = replay(items, again, start=mid + STEP, until=mid + timedelta(minutes=30))
    keys = {t.key for _, hot in passes for t in hot}
    assert keys and keys <= set(expected[mid])
    assert not any(t.is_new for _, hot in passes for t in hot)


def test_state_stays_small(burst_run):
    _, detector, _ = burst_run
    blob = json.dumps(detector.state(), ensure_ascii=False)
    assert len(blob) < 300_000


def test_baseline_learns_a_daily_event_for_its_hour_only():
    baseline = TermBaseline()
    for day in range(2):
        for hour in range(24):
            start = START + timedelta(days=day, hours=hour)
            counts = Counter({"lương": 10, "phòng trọ": 5})
            if (start + timedelta(hours=7)).hour == 20:  # the livestream, every evening
                counts["livestream"] = 30
            baseline.add(start, counts, 100, hot_terms=set())
    evening, morning = 13, 2  # UTC hours of 20:00 and 09:00 in Vietnam
    assert baseline.share("livestream", evening) > 0.2
    assert baseline.share("livestream", morning) < 0.03
    assert abs(baseline.share("lương", morning) - 0.1) < 0.01


def test_late_and_repeated_items_are_ignored():
    detector = TrendDetector()
    now = START + timedelta(hours=3)
    first = [TopicItem(1, "Lương về trễ", now - timedelta(minutes=2))]
    assert detector.observe(first) == 1
    assert detector.observe(first) == 0  # same id again
    detector.detect(now)
    too_old = TopicItem(2, "Lương về trễ", now - timedelta(hours=2))
    assert detector.observe([too_old]) == 0
    late_but_in_window = TopicItem(3, "Lương về trễ", now - timedelta(minutes=30))
    assert detector.observe([late_but_in_window]) == 1
    with pytest.raises(ValueError):
        detector.observe([TopicItem(4, "x", datetime(2025, 3, 3, 8, 0))])


def test_terms_fold_chat_spelling_and_drop_stopwords():
    found = terms("Cty ko trả lương, anh em ở khu công nghiệp Quế Võ ơi")
    assert {"công ty", "trả lương", "kcn quế", "quế võ"} <= found
    assert not {"không", "ơi", "anh", "em", "lương anh"} & found


def test_entities_find_companies_parks_and_provinces():
    assert entities("Cty TNHH Giày Da Phúc Thịnh ở KCN Quang Châu, Bắc Giang nợ lương 2 tháng") == [
        "Công ty TNHH Giày Da Phúc Thịnh", "KCN Quang Châu", "Bắc Giang"]
    assert entities("Công nhân khu công nghiệp Đình Trám, tỉnh Thanh Hoá") == ["KCN Đình Trám", "Thanh Hóa"]
    assert entities("nghe nói bhxh sắp ngừng chi trả") == []


# ---- onset of a story vs a trickle (fast window, change-point null, scale-matched size) ----------

STORY_AT = START + timedelta(days=2, hours=3, minutes=2)  # 10:02 Vietnam time on the last day
STORY = ["Nghe nói KCN Đồng Văn sắp cúp nước ba ngày", "KCN Đồng Văn cúp nước thật à, xưởng nghỉ không",
         "Cúp nước ở Đồng Văn thì nhà trọ lấy đâu ra nước", "Ai ở Đồng Văn xác nhận tin cúp nước giúp với"]


def story_items(minutes: list[float], first_id: int) -> list[TopicItem]:
    return [TopicItem(first_id + i, STORY[i % len(STORY)], STORY_AT + timedelta(minutes=m), "doi_song", 1)
            for i, m in enumerate(minutes)]


@pytest.fixture(scope="module")
def before_story():
    items = make_stream(7, burst=False)
    cut = STORY_AT - timedelta(minutes=62)
    detector, _ = replay(items, until=cut)
    return items, cut, json.dumps(detector.state(), ensure_ascii=False)


def story_run(before_story, extra: list[TopicItem]):
    items, cut, blob = before_story
    stream = sorted(items + extra, key=lambda it: it.created_at)
    _, passes = replay(stream, TrendDetector(state=json.loads(blob)), start=cut + STEP,
                       until=STORY_AT + timedelta(minutes=40))
    return [(at, t) for at, hot in passes for t in hot if t.is_new]


def test_a_story_starting_from_nothing_is_caught_from_its_last_ten_minutes(before_story):
    """Six posts in eight minutes about something never said before: hot at the next pass, though
    the 15-minute window alone (six against a floor of 0.3) would wait for a seventh."""
    found = story_run(before_story, story_items([0.5, 2, 3.5, 5, 6.5, 7.8], 10**6))
    assert len(found) == 1, [t.label for _, t in found]
    at, topic = found[0]
    assert at == STORY_AT + timedelta(minutes=8)
    assert "Đồng Văn" in topic.label


def test_a_chance_cluster_in_a_steady_trickle_is_not_a_story(before_story):
    """The same six posts after five others over the previous 45 minutes: the trickle's own rate
    explains them (change-point null), and over the hour eleven posts are not a hot topic."""
    trickle = story_items([-45, -37, -29, -21, -13], 10**6)
    found = story_run(before_story, trickle + story_items([0.5, 2, 3.5, 5, 6.5, 7.8], 10**6 + 10))
    assert found == [], [t.label for _, t in found]


def test_local_expected_is_the_rate_in_the_rest_of_the_long_window():
    assert local_expected(11, 6, 12, 2) == pytest.approx(1.0)  # 5 posts in 50 min → 1 per 10 min
    assert local_expected(6, 6, 12, 3) == 0.0  # nothing before: a story starting from nothing
    assert local_expected(3, 3, 3, 3) == 0.0
