"""Time handling for schedules: local input → UTC, weekly queue slots and RFC 5545 recurrence.

People type times in Asia/Ho_Chi_Minh; everything is stored in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import DAILY, HOURLY, MONTHLY, WEEKLY, YEARLY, rrulestr
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import InvalidInput
from db.models import Channel, PostTarget, TargetStatus

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
ALLOWED_FREQ = {YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY}
SLOT_SEARCH_DAYS = 60
MAX_OCCURRENCES = 500  # per channel and planning window; more is a mistake, not a bulletin
RRULE_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYHOUR", "WKST", "BYSETPOS"}
MIN_YEAR, MAX_YEARS_AHEAD = 2000, 5


def zone(name: str | None) -> ZoneInfo:
    """The named time zone, or a Vietnamese error for an unknown one."""
    try:
        if name and len(name) > 64:
            raise ValueError(name)
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise InvalidInput(f"Múi giờ '{name}' không tồn tại (ví dụ hợp lệ: Asia/Ho_Chi_Minh).") from exc


def to_utc(value: datetime | str, tz_name: str | None = None) -> datetime:
    """Interpret ``value`` (naive = local time in ``tz_name``) and return it in UTC."""
    tz = zone(tz_name)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise InvalidInput(f"Thời gian '{value}' không đúng định dạng (ví dụ 2027-05-04T07:30).") from exc
    if not MIN_YEAR <= value.year <= datetime.now(UTC).year + MAX_YEARS_AHEAD:
        raise InvalidInput(f"Năm {value.year} nằm ngoài khoảng cho phép ({MIN_YEAR} – {MAX_YEARS_AHEAD} năm tới).")
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def to_local(value: datetime, tz_name: str | None = None) -> datetime:
    """Show a UTC time in the local zone."""
    return value.astimezone(zone(tz_name))


def require_future(at: datetime, now: datetime) -> None:
    """Refuse a publication time that has already passed."""
    if at <= now:
        shown = to_local(at).strftime("%H:%M %d/%m/%Y")
        raise InvalidInput(f"Thời điểm đăng {shown} đã qua; hãy chọn một thời điểm trong tương lai.")


def slot_times(slots: list[dict], *, after: datetime, tz_name: str | None = None) -> Iterator[datetime]:
    """Yield the channel's weekly slot times (UTC) strictly after ``after``, in order."""
    if not slots:
        return
    tz = zone(tz_name)
    day = to_local(after, tz_name).date()
    for offset in range(SLOT_SEARCH_DAYS):
        current = day + timedelta(days=offset)
        times = sorted({s["time"] for s in slots if current.weekday() in s["weekdays"]})
        for hhmm in times:
            hour, minute = map(int, hhmm.split(":"))
            at = datetime(current.year, current.month, current.day, hour, minute, tzinfo=tz).astimezone(UTC)
            if at > after:
                yield at


def next_free_slot(session: Session, *, channel: Channel, after: datetime, tz_name: str | None = None,
                   skip: set[datetime] | None = None) -> datetime:
    """The earliest slot of ``channel`` after ``after`` that no live post holds."""
    if not channel.slots:
        raise InvalidInput(f"Kênh \"{channel.name}\" chưa có khung giờ đăng; hãy thêm khung giờ hoặc chọn giờ cụ thể.")
    taken = set(session.scalars(select(PostTarget.slot_at).where(
        PostTarget.channel_id == channel.id, PostTarget.slot_at > after,
        PostTarget.status.notin_([TargetStatus.cancelled]))))
    taken |= skip or set()
    for at in slot_times(channel.slots, after=after, tz_name=tz_name):
        if at not in taken:
            return at
    raise InvalidInput(f"Kênh \"{channel.name}\" không còn khung giờ trống trong {SLOT_SEARCH_DAYS} ngày tới.")


def parse_rrule(rule: str, *, dtstart: datetime, tz_name: str | None = None):  # noqa: ANN201
    """Parse an RFC 5545 RRULE (e.g. 'FREQ=WEEKLY;BYDAY=MO') anchored at local ``dtstart``."""
    text = (rule or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    # One RRULE line with known parts only: no EXDATE/RDATE sets, no minute/second expansions.
    parts = dict(p.partition("=")[::2] for p in text.upper().split(";") if p)
    if (not text or "FREQ" not in parts or any(c in text for c in "\r\n") or not set(parts) <= RRULE_PARTS
            or parts.get("INTERVAL", "1") in ("0", "") or len(text) > 300):
        raise InvalidInput("Quy tắc lặp lại không hợp lệ: cần dạng RRULE, ví dụ FREQ=WEEKLY;BYDAY=MO "
                           "(khoảng lặp ≥ 1, không lặp theo phút/giây).")
    local_start = to_local(dtstart, tz_name).replace(tzinfo=None)
    try:
        parsed = rrulestr(text, dtstart=local_start)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidInput(f"Quy tắc lặp lại không hợp lệ: {text}") from exc
    if parsed._freq not in ALLOWED_FREQ:  # noqa: SLF001 - dateutil exposes no public accessor
        raise InvalidInput("Không thể lặp lại bài đăng dày hơn mỗi giờ một lần.")
    return parsed


def occurrences(rule: str, *, dtstart: datetime, after: datetime, before: datetime,
                tz_name: str | None = None) -> list[datetime]:
    """UTC occurrences of ``rule`` in (after, before]."""
    tz = zone(tz_name)
    parsed = parse_rrule(rule, dtstart=dtstart, tz_name=tz_name)
    lo = to_local(after, tz_name).replace(tzinfo=None)
    hi = to_local(before, tz_name).replace(tzinfo=None)
    found = []
    try:
        for d in parsed.xafter(lo, count=MAX_OCCURRENCES + 1, inc=False):
            if d > hi:
                break
            found.append(d.replace(tzinfo=tz).astimezone(UTC))
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidInput(f"Quy tắc lặp lại không hợp lệ: {rule}") from exc
    if len(found) > MAX_OCCURRENCES:
        raise InvalidInput(f"Quy tắc lặp lại tạo quá {MAX_OCCURRENCES} lần đăng; hãy lặp thưa hơn.")
    return found
