"""The union year's fixed events and the Vietnamese lunar calendar (UTC+7)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.union_calendar import LunarDate, events_between, events_of_year, lunar_to_solar, solar_to_lunar, tet


@pytest.mark.parametrize("year, expected", [
    (2024, date(2024, 2, 10)), (2025, date(2025, 1, 29)), (2026, date(2026, 2, 17)), (2027, date(2027, 2, 6)),
    (2028, date(2028, 1, 26)), (2023, date(2023, 1, 22)), (2020, date(2020, 1, 25)),
])
def test_tet_nguyen_dan(year, expected):
    assert tet(year) == expected


@pytest.mark.parametrize("year, vietnam, china", [
    (1985, date(1985, 1, 21), date(1985, 2, 20)),
    (2007, date(2007, 2, 17), date(2007, 2, 18)),
    # The new moon falls at 16:07 UTC on 2/2/2030: 23:07 in Hà Nội, already 3/2 in Beijing.
    (2030, date(2030, 2, 2), date(2030, 2, 3)),
])
def test_tet_follows_hanoi_time_not_beijing(year, vietnam, china):
    assert tet(year) == vietnam != china


def test_lunar_round_trip_and_leap_month():
    assert solar_to_lunar(date(2025, 1, 29)) == LunarDate(1, 1, 2025)
    assert solar_to_lunar(date(2025, 1, 28)) == LunarDate(29, 12, 2024)
    # 2025 has a leap sixth month (tháng 6 nhuận) starting 25/7/2025.
    assert solar_to_lunar(date(2025, 7, 25)) == LunarDate(1, 6, 2025, leap=True)
    assert lunar_to_solar(1, 6, 2025, leap=True) == date(2025, 7, 25)
    assert lunar_to_solar(1, 7, 2025) == date(2025, 8, 23)
    with pytest.raises(ValueError):
        lunar_to_solar(1, 5, 2025, leap=True)
    for day in (date(2026, 3, 1), date(2027, 9, 15), date(2028, 12, 31)):
        lunar = solar_to_lunar(day)
        assert lunar_to_solar(lunar.day, lunar.month, lunar.year, leap=lunar.leap) == day


def test_union_year_events():
    events = {e.title: e for e in events_of_year(2027)}
    assert events["Tết Nguyên đán (mùng 1–3)"].starts_on == date(2027, 2, 6)
    assert events["Tết Nguyên đán (mùng 1–3)"].ends_on == date(2027, 2, 8)
    assert events["Ngày Quốc tế Lao động 1/5"].starts_on == date(2027, 5, 1)
    month = events["Tháng Công nhân"]
    assert (month.starts_on, month.ends_on) == (date(2027, 5, 1), date(2027, 5, 31))
    safety = events["Tháng hành động về An toàn, vệ sinh lao động"]
    assert (safety.starts_on, safety.ends_on) == (date(2027, 5, 1), date(2027, 5, 31))
    assert events["Ngày thành lập Công đoàn Việt Nam 28/7 (98 năm)"].starts_on == date(2027, 7, 28)
    assert events["Ngày Phụ nữ Việt Nam 20/10"].starts_on == date(2027, 10, 20)
    assert events["Quốc khánh 2/9"].starts_on == date(2027, 9, 2)
    sum_vay = events["Tháng Tết – Tết Sum vầy, chăm lo Tết cho đoàn viên, người lao động"]
    assert sum_vay.ends_on == date(2027, 2, 5) and sum_vay.starts_on.month == 1
    assert events["Tết Trung thu (15/8 âm lịch) – vui Trung thu cùng con đoàn viên"].starts_on == date(2027, 9, 15)


def test_events_between_spans_years_and_sorts():
    found = events_between(date(2026, 12, 20), date(2027, 1, 10))
    titles = [e.title for e in found]
    assert "Tết Dương lịch" in titles
    assert any(t.startswith("Tháng Tết") for t in titles)  # tháng Chạp of lunar 2026 starts 8/1/2027
    assert [e.starts_on for e in found] == sorted(e.starts_on for e in found)
    may = events_between(date(2027, 5, 1), date(2027, 5, 1))
    assert [e.title for e in may][:2] == ["Tháng Công nhân", "Tháng hành động về An toàn, vệ sinh lao động"]
