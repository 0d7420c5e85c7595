"""ISO weeks in Hà Nội time: parsing, bounds in UTC, and clear Vietnamese errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from common.errors import InvalidInput
from domain.periods import Week


def test_week_bounds_are_local_midnights_in_utc():
    w = Week.parse("2027-W18")
    assert (w.monday.isoformat(), w.sunday.isoformat()) == ("2027-05-03", "2027-05-09")
    assert w.start_utc == datetime(2027, 5, 2, 17, 0, tzinfo=UTC)
    assert w.end_utc == datetime(2027, 5, 9, 17, 0, tzinfo=UTC)
    assert w.title_vi == "tuần 18/2027 (03/05 – 09/05/2027)"


def test_the_week_an_instant_falls_in_is_the_local_one():
    # Sunday 23:30 in Hà Nội is still week 18; Monday 00:10 is week 19, though both are Sunday in UTC.
    assert Week.containing(datetime(2027, 5, 9, 16, 30, tzinfo=UTC)) == Week(2027, 18)
    assert Week.containing(datetime(2027, 5, 9, 17, 10, tzinfo=UTC)) == Week(2027, 19)
    assert Week(2027, 1).shift(-1) == Week(2026, 53)  # 2026 has 53 ISO weeks
    assert Week.parse("2026w53").label == "2026-W53"


@pytest.mark.parametrize("text,message", [
    ("2027-18", "không đúng định dạng"), ("tuần 18", "không đúng định dạng"), ("", "không đúng định dạng"),
    ("2027-W53", "Năm 2027 không có tuần 53"), ("2027-W00", "không có tuần 0"), ("1999-W10", "ngoài khoảng")])
def test_malformed_weeks_are_refused_in_vietnamese(text, message):
    with pytest.raises(InvalidInput, match=message):
        Week.parse(text)
