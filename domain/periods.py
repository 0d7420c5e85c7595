"""Weeks and reporting periods in local time (Asia/Ho_Chi_Minh), as UTC bounds for queries.

A digest covers one ISO week: Monday 00:00 to the next Monday 00:00, local time. A plan's period
(6 months, a year, any range of dates) runs from its first day 00:00 to the day after its last day
00:00, local. Everything stored is UTC; these helpers are the only place the conversion happens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from common.errors import InvalidInput
from domain.scheduling import DEFAULT_TZ, zone

_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)


def local_midnight_utc(day: date, tz_name: str = DEFAULT_TZ) -> datetime:
    """00:00 of ``day`` in the local zone, as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=zone(tz_name)).astimezone(UTC)


@dataclass(frozen=True, order=True)
class Week:
    """An ISO week of the local calendar."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        """'2027-W18' → Week; a clear Vietnamese error otherwise."""
        match = _WEEK.match(text or "")
        if not match:
            raise InvalidInput(f"Tuần «{text}» không đúng định dạng (ví dụ 2027-W18: năm, chữ W, số tuần ISO).",
                               field="week")
        year, number = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError as exc:
            raise InvalidInput(f"Năm {year} không có tuần {number} (tuần ISO từ 1 đến 52 hoặc 53).",
                               field="week") from exc
        if not 2000 <= year <= 2100:
            raise InvalidInput(f"Năm {year} nằm ngoài khoảng cho phép.", field="week")
        return cls(year, number)

    @classmethod
    def containing(cls, at: datetime, tz_name: str = DEFAULT_TZ) -> Week:
        """The week that the UTC instant ``at`` falls in, local time."""
        iso = at.astimezone(zone(tz_name)).date().isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def of_date(cls, day: date) -> Week:
        """The week containing a local date."""
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @property
    def label(self) -> str:
        """'2027-W18' (stored in digest deliveries, typed on the command line)."""
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def start_utc(self) -> datetime:
        """Monday 00:00 local, in UTC."""
        return local_midnight_utc(self.monday)

    @property
    def end_utc(self) -> datetime:
        """The next Monday 00:00 local, in UTC (exclusive)."""
        return local_midnight_utc(self.monday + timedelta(days=7))

    def shift(self, weeks: int) -> Week:
        """The week ``weeks`` later (negative: earlier)."""
        return Week.of_date(self.monday + timedelta(weeks=weeks))

    @property
    def title_vi(self) -> str:
        """'tuần 18/2027 (27/04 – 03/05/2027)'."""
        return (f"tuần {self.number}/{self.year} ({self.monday:%d/%m} – {self.sunday:%d/%m/%Y})")

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class Period:
    """A range of local dates, both ends included (a plan's 6 months, a year)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise InvalidInput(f"Ngày bắt đầu {self.start:%d/%m/%Y} ở sau ngày kết thúc {self.end:%d/%m/%Y}.",
                               field="period")

    @property
    def start_utc(self) -> datetime:
        return local_midnight_utc(self.start)

    @property
    def end_utc(self) -> datetime:
        """00:00 local of the day after ``end``, in UTC (exclusive)."""
        return local_midnight_utc(self.end + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def title_vi(self) -> str:
        return f"{self.start:%d/%m/%Y} – {self.end:%d/%m/%Y}"

    def clipped(self, until: date) -> Period:
        """The part of the period up to ``until`` (for a period still running); at least its first day."""
        return Period(self.start, max(self.start, min(self.end, until)))


def parse_date(text: str, *, field: str = "date") -> date:
    """'2027-06-30' (or 30/06/2027) → date, with a Vietnamese error."""
    text = (text or "").strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise InvalidInput(f"Ngày «{text}» không hợp lệ (ví dụ 2027-06-30 hoặc 30/06/2027).", field=field)


def parse_period(text: str) -> Period:
    """'2027' (cả năm), '2027-H1' / '2027-H2' (6 tháng), '2027-Q2' (quý) or '2027-01-01:2027-06-30'."""
    text = (text or "").strip().upper()
    if ":" in text:
        a, _, b = text.partition(":")
        return Period(parse_date(a, field="period"), parse_date(b, field="period"))
    m = re.fullmatch(r"(\d{4})(?:-(H[12]|Q[1-4]))?", text)
    if not m:
        raise InvalidInput(f"Kỳ «{text}» không hợp lệ (ví dụ 2027, 2027-H1, 2027-Q3 hoặc 2027-01-01:2027-06-30).",
                           field="period")
    year, part = int(m.group(1)), m.group(2)
    if part is None:
        return Period(date(year, 1, 1), date(year, 12, 31))
    if part[0] == "H":
        return Period(date(year, 1, 1), date(year, 6, 30)) if part == "H1" else Period(date(year, 7, 1),
                                                                                         date(year, 12, 31))
    q = int(part[1])
    start = date(year, 3 * q - 2, 1)
    end = (date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)) - timedelta(days=1)
    return Period(start, end)


def today_local(now: datetime, tz_name: str = DEFAULT_TZ) -> date:
    """The local date of a UTC instant."""
    return now.astimezone(zone(tz_name)).date()
