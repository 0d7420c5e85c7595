"""The union year's fixed events (Tết, 1/5, Tháng Công nhân, 28/7, 20/10…) for the content calendar.

Lunar dates (Tết Nguyên đán, Giỗ Tổ, Trung thu) use the Vietnamese lunar calendar, computed
astronomically for UTC+7 after Hồ Ngọc Đức's method (new moons and the sun's longitude from
Meeus' formulas). Vietnam's calendar is not China's: it follows Hà Nội time, so Tết sometimes falls
on another day (1985: 21/1 in Vietnam, 20/2 in China; 2007: 17/2 against 18/2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

TIMEZONE = 7.0  # hours east of UTC; Vietnam keeps no daylight saving time
_SYNODIC = 29.530588853
_EPOCH_K = 2415021.076998695  # Julian day of the new moon of 1900-01-01 (k = 0)
_ORDINAL_TO_JD = 1721425  # date.toordinal() + this = the Julian day number (at noon)

UNION_FOUNDED = 1929  # Ngày thành lập Công đoàn Việt Nam, 28/7/1929


@dataclass(frozen=True)
class UnionEvent:
    """A day (or period) of the union year shown on every organisation's calendar."""

    title: str
    starts_on: date
    ends_on: date
    kind: str  # "holiday" (public holiday / ngày lễ), "union" (công đoàn), "period" (tháng/đợt cao điểm)
    note: str = ""

    @property
    def days(self) -> int:
        """How many days the event lasts."""
        return (self.ends_on - self.starts_on).days + 1


def _jd(day: date) -> int:
    return day.toordinal() + _ORDINAL_TO_JD


def _from_jd(jd: int) -> date:
    return date.fromordinal(jd - _ORDINAL_TO_JD)


def _new_moon(k: int) -> float:
    """Julian day (UTC) of the k-th new moon after 1900-01-01 (Meeus, Astronomical Algorithms)."""
    t = k / 1236.85
    t2, t3 = t * t, t * t * t
    dr = math.pi / 180
    jd1 = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3
    jd1 += 0.00033 * math.sin((166.56 + 132.87 * t - 0.009173 * t2) * dr)
    m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3  # sun's mean anomaly
    mpr = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3  # moon's mean anomaly
    f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3  # moon's argument of latitude
    c1 = ((0.1734 - 0.000393 * t) * math.sin(m * dr) + 0.0021 * math.sin(2 * dr * m)
          - 0.4068 * math.sin(mpr * dr) + 0.0161 * math.sin(dr * 2 * mpr)
          - 0.0004 * math.sin(dr * 3 * mpr)
          + 0.0104 * math.sin(dr * 2 * f) - 0.0051 * math.sin(dr * (m + mpr))
          - 0.0074 * math.sin(dr * (m - mpr)) + 0.0004 * math.sin(dr * (2 * f + m))
          - 0.0004 * math.sin(dr * (2 * f - m)) - 0.0006 * math.sin(dr * (2 * f + mpr))
          + 0.0010 * math.sin(dr * (2 * f - mpr)) + 0.0005 * math.sin(dr * (2 * mpr + m)))
    if t < -11:
        delta_t = 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
    else:
        delta_t = -0.000278 + 0.000265 * t + 0.000262 * t2
    return jd1 + c1 - delta_t


def _sun_longitude(jdn: float) -> float:
    """The sun's apparent longitude (radians, 0..2π) at Julian day ``jdn`` (UTC)."""
    t = (jdn - 2451545.0) / 36525
    t2 = t * t
    dr = math.pi / 180
    m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2
    l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2
    dl = ((1.914600 - 0.004817 * t - 0.000014 * t2) * math.sin(dr * m)
          + (0.019993 - 0.000101 * t) * math.sin(dr * 2 * m) + 0.000290 * math.sin(dr * 3 * m))
    lon = (l0 + dl) * dr
    return lon - math.pi * 2 * math.floor(lon / (math.pi * 2))


def _new_moon_day(k: int) -> int:
    """The local (UTC+7) day number of the k-th new moon."""
    return math.floor(_new_moon(k) + 0.5 + TIMEZONE / 24)


def _sun_sector(day_number: int) -> int:
    """Which of the 12 major solar terms (0..11) the sun is in at the start of the local day."""
    return math.floor(_sun_longitude(day_number - 0.5 - TIMEZONE / 24) / math.pi * 6)


@lru_cache(maxsize=256)
def _month11(year: int) -> int:
    """Day number of the first day of lunar month 11 (the month holding the winter solstice) before 31/12/year."""
    off = _jd(date(year, 12, 31)) - 2415021
    k = math.floor(off / _SYNODIC)
    nm = _new_moon_day(k)
    if _sun_sector(nm) >= 9:
        nm = _new_moon_day(k - 1)
    return nm


@lru_cache(maxsize=256)
def _leap_month_offset(a11: int) -> int:
    """The offset (in months after month 11) of the leap month in a 13-month lunar year starting at ``a11``."""
    k = math.floor((a11 - _EPOCH_K) / _SYNODIC + 0.5)
    i = 1
    arc = _sun_sector(_new_moon_day(k + i))
    while True:
        last = arc
        i += 1
        arc = _sun_sector(_new_moon_day(k + i))
        if arc == last or i >= 14:
            return i - 1


def lunar_to_solar(day: int, month: int, year: int, *, leap: bool = False) -> date:
    """The Gregorian date of lunar ``day``/``month``/``year`` (Vietnamese calendar, UTC+7)."""
    if month < 11:
        a11, b11 = _month11(year - 1), _month11(year)
    else:
        a11, b11 = _month11(year), _month11(year + 1)
    k = math.floor(0.5 + (a11 - _EPOCH_K) / _SYNODIC)
    off = month - 11
    if off < 0:
        off += 12
    if b11 - a11 > 365:
        leap_off = _leap_month_offset(a11)
        leap_month = leap_off - 2
        if leap_month < 0:
            leap_month += 12
        if leap and month != leap_month:
            raise ValueError(f"lunar year {year} has no leap month {month}")
        if leap or off >= leap_off:
            off += 1
    elif leap:
        raise ValueError(f"lunar year {year} has no leap month")
    return _from_jd(_new_moon_day(k + off) + day - 1)


@dataclass(frozen=True)
class LunarDate:
    """A date of the Vietnamese lunar calendar."""

    day: int
    month: int
    year: int
    leap: bool = False

    def short(self) -> str:
        """'1/1', '15/8', '3/4n' (n: leap month), as printed on Vietnamese wall calendars."""
        return f"{self.day}/{self.month}" + ("n" if self.leap else "")


def solar_to_lunar(day: date) -> LunarDate:
    """The Vietnamese lunar date of a Gregorian ``day``."""
    day_number = _jd(day)
    k = math.floor((day_number - _EPOCH_K) / _SYNODIC)
    month_start = _new_moon_day(k + 1)
    if month_start > day_number:
        month_start = _new_moon_day(k)
    a11 = _month11(day.year)
    b11 = a11
    if a11 >= month_start:
        lunar_year = day.year
        a11 = _month11(day.year - 1)
    else:
        lunar_year = day.year + 1
        b11 = _month11(day.year + 1)
    lunar_day = day_number - month_start + 1
    diff = math.floor((month_start - a11) / 29)
    leap = False
    lunar_month = diff + 11
    if b11 - a11 > 365:
        leap_diff = _leap_month_offset(a11)
        if diff >= leap_diff:
            lunar_month = diff + 10
            leap = diff == leap_diff
    if lunar_month > 12:
        lunar_month -= 12
    if lunar_month >= 11 and diff < 4:
        lunar_year -= 1
    return LunarDate(lunar_day, lunar_month, lunar_year, leap)


def tet(year: int) -> date:
    """Mùng 1 Tết Nguyên đán of lunar year ``year`` (which starts in January or February of ``year``)."""
    return lunar_to_solar(1, 1, year)


def _fixed(year: int, month: int, day: int, title: str, kind: str, note: str = "") -> UnionEvent:
    d = date(year, month, day)
    return UnionEvent(title, d, d, kind, note)


def events_of_year(year: int) -> list[UnionEvent]:
    """The union year's fixed events whose start falls in ``year`` (Gregorian)."""
    new_year = tet(year)
    # Tết Sum vầy / chăm lo Tết runs through tháng Chạp (lunar month 12) until the eve of Tết.
    chap = lunar_to_solar(1, 12, year - 1)
    founded = year - UNION_FOUNDED
    events = [
        _fixed(year, 1, 1, "Tết Dương lịch", "holiday"),
        UnionEvent("Tháng Tết – Tết Sum vầy, chăm lo Tết cho đoàn viên, người lao động", chap,
                   new_year - timedelta(days=1), "period",
                   "Chương trình Tết Sum vầy, hỗ trợ vé xe, quà Tết cho người lao động."),
        UnionEvent("Tết Nguyên đán (mùng 1–3)", new_year, new_year + timedelta(days=2), "holiday",
                   "Mùng 1 Tết theo âm lịch Việt Nam."),
        _fixed(year, 2, 3, "Ngày thành lập Đảng Cộng sản Việt Nam (3/2/1930)", "holiday"),
        _fixed(year, 3, 8, "Ngày Quốc tế Phụ nữ 8/3", "union",
               "Phong trào \"Giỏi việc nước, đảm việc nhà\" trong nữ CNVCLĐ."),
        UnionEvent("Giỗ Tổ Hùng Vương (10/3 âm lịch)", lunar_to_solar(10, 3, year), lunar_to_solar(10, 3, year),
                   "holiday"),
        _fixed(year, 4, 30, "Ngày Giải phóng miền Nam, thống nhất đất nước 30/4", "holiday"),
        _fixed(year, 5, 1, "Ngày Quốc tế Lao động 1/5", "union"),
        UnionEvent("Tháng Công nhân", date(year, 5, 1), date(year, 5, 31), "period",
                   "Chăm lo, đối thoại, gặp gỡ đoàn viên, người lao động."),
        UnionEvent("Tháng hành động về An toàn, vệ sinh lao động", date(year, 5, 1), date(year, 5, 31), "period"),
        _fixed(year, 5, 19, "Ngày sinh Chủ tịch Hồ Chí Minh 19/5", "holiday"),
        _fixed(year, 6, 1, "Ngày Quốc tế Thiếu nhi 1/6 – chăm lo con đoàn viên", "union"),
        _fixed(year, 6, 28, "Ngày Gia đình Việt Nam 28/6", "union",
               "Phong trào xây dựng \"Gia đình CNVCLĐ thành đạt\"."),
        _fixed(year, 7, 27, "Ngày Thương binh – Liệt sĩ 27/7", "holiday"),
        _fixed(year, 7, 28, f"Ngày thành lập Công đoàn Việt Nam 28/7 ({founded} năm)", "union",
               f"Kỷ niệm {founded} năm Ngày thành lập Công đoàn Việt Nam (28/7/{UNION_FOUNDED} – 28/7/{year})."),
        UnionEvent("Tết Trung thu (15/8 âm lịch) – vui Trung thu cùng con đoàn viên", lunar_to_solar(15, 8, year),
                   lunar_to_solar(15, 8, year), "union"),
        _fixed(year, 9, 2, "Quốc khánh 2/9", "holiday"),
        _fixed(year, 10, 20, "Ngày Phụ nữ Việt Nam 20/10", "union"),
        _fixed(year, 11, 9, "Ngày Pháp luật Việt Nam 9/11", "union",
               "Tuyên truyền, phổ biến pháp luật lao động, công đoàn."),
        _fixed(year, 11, 20, "Ngày Nhà giáo Việt Nam 20/11", "union"),
    ]
    return events


def events_between(start: date, end: date) -> list[UnionEvent]:
    """Fixed events overlapping [start, end], earliest first, longer periods first on the same day."""
    found = []
    for year in range(start.year, end.year + 2):  # the Tết Sum vầy period of next year starts in this December
        found += [e for e in events_of_year(year) if e.starts_on <= end and e.ends_on >= start]
    return sorted(found, key=lambda e: (e.starts_on, -e.days, e.title))
