"""The compose form's state: what a person typed, kept as text so a refused form comes back unchanged,
and its translation into the domain's PostDraft (local Hà Nội time → UTC, weekdays → RRULE)."""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from common.errors import InvalidInput
from db.base import utcnow
from db.models import Post, ScheduleKind
from domain.posts import ChannelChoice, PostDraft, Schedule
from domain.scheduling import to_local, to_utc

RRULE_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
KINDS = ("now", "exact", "slot", "recurring")


def nfc(value: object) -> str:
    """Form text in NFC (some Vietnamese keyboards send decomposed accents, which count twice)."""
    return unicodedata.normalize("NFC", str(value or "")).replace("\r\n", "\n")


def _int(value: str, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} không hợp lệ.") from exc
    if not 0 < number < 2**31:
        raise InvalidInput(f"{what} không hợp lệ.")
    return number


def parse_local_date(value: str, what: str = "Ngày") -> date:
    """'2027-05-04' (date input) or '04/05/2027' (typed by hand)."""
    text = (value or "").strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise InvalidInput(f"{what} \"{text[:20]}\" không hợp lệ (ví dụ 04/05/2027).")


def parse_local_time(value: str, what: str = "Giờ") -> time:
    """'07:30' (time input, possibly with seconds)."""
    text = (value or "").strip()
    for fmt in ("%H:%M", "%H:%M:%S", "%Hh%M", "%Hh"):
        try:
            return datetime.strptime(text, fmt).time()
        except ValueError:
            continue
    raise InvalidInput(f"{what} \"{text[:20]}\" không hợp lệ (ví dụ 07:30).")


@dataclass
class Variant:
    """Per-channel wording, as typed."""

    title: str = ""
    text: str = ""
    link: str = ""

    @property
    def used(self) -> bool:
        """Whether anything was written for this channel."""
        return bool(self.title.strip() or self.text.strip() or self.link.strip())


@dataclass
class ComposeForm:
    """Every input of the compose form, as text."""

    org_id: str = ""
    title: str = ""
    text: str = ""
    link: str = ""
    campaign_id: str = ""
    new_campaign: str = ""
    channel_ids: list[int] = field(default_factory=list)
    variants: dict[int, Variant] = field(default_factory=dict)
    schedule_kind: str = "now"
    date: str = ""
    time: str = ""
    rec_days: list[int] = field(default_factory=list)
    rec_time: str = ""
    rec_from: str = ""
    rrule: str = ""
    broadcast: bool = False
    keep_media: list[int] = field(default_factory=list)
    auto_shrink: bool = True
    client_request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    action: str = "draft"

    @classmethod
    def from_form(cls, form) -> ComposeForm:  # noqa: ANN001 - starlette FormData
        """Read the submitted form (unknown or malformed ids are refused with a message)."""
        get = lambda name: nfc(form.get(name) or "")  # noqa: E731
        channel_ids = []
        for raw in form.getlist("channel_ids"):
            cid = _int(str(raw), "Kênh")
            if cid not in channel_ids:
                channel_ids.append(cid)
        variants = {}
        for cid in channel_ids:
            variants[cid] = Variant(get(f"variant_title_{cid}").strip(), get(f"variant_text_{cid}"),
                                    get(f"variant_link_{cid}").strip())
        rec_days = sorted({_int(str(d), "Ngày trong tuần") - 1 for d in form.getlist("rec_days")
                           if str(d).isdigit() and 1 <= int(str(d)) <= 7})
        kind = get("schedule_kind") or "now"
        return cls(
            org_id=get("org_id").strip(), title=get("title").strip(), text=get("text"), link=get("link").strip(),
            campaign_id=get("campaign_id").strip(), new_campaign=" ".join(get("new_campaign").split()),
            channel_ids=channel_ids, variants=variants, schedule_kind=kind if kind in KINDS else "now",
            date=get("date").strip(), time=get("time").strip(), rec_days=rec_days, rec_time=get("rec_time").strip(),
            rec_from=get("rec_from").strip(), rrule=get("rrule").strip(), broadcast=bool(form.get("broadcast")),
            keep_media=[_int(str(m), "Ảnh") for m in form.getlist("keep_media")],
            auto_shrink=bool(form.get("auto_shrink")),
            client_request_id=get("client_request_id").strip()[:100] or uuid.uuid4().hex,
            action="submit" if get("action") == "submit" else "draft")

    @classmethod
    def from_post(cls, post: Post) -> ComposeForm:
        """The form filled with a stored post (for editing)."""
        form = cls(org_id=str(post.org_id), title=post.title or "", text=post.text or "", link=post.link or "",
                   campaign_id=str(post.campaign_id or ""), channel_ids=[c.channel_id for c in post.channels],
                   variants={c.channel_id: Variant(c.variant_title or "", c.variant_text or "", c.variant_link or "")
                             for c in post.channels},
                   broadcast=post.broadcast, keep_media=[m.media_id for m in post.media])
        kind = post.schedule_kind
        local = to_local(post.scheduled_at) if post.scheduled_at else None
        if kind is None:
            form.schedule_kind = "now"
        else:
            form.schedule_kind = kind.value
        if local is not None and kind == ScheduleKind.exact:
            form.date, form.time = local.date().isoformat(), local.strftime("%H:%M")
        if kind == ScheduleKind.recurring and local is not None:
            form.rec_time, form.rec_from = local.strftime("%H:%M"), local.date().isoformat()
            days = _weekly_days(post.rrule or "")
            if days is None:
                form.rrule = post.rrule or ""
            else:
                form.rec_days = days
        return form

    def campaign(self) -> int | None:
        """The chosen existing campaign id, if any."""
        return _int(self.campaign_id, "Chiến dịch") if self.campaign_id else None

    def schedule(self, *, now: datetime | None = None) -> Schedule:
        """The domain schedule (UTC) for the chosen kind."""
        now = now or utcnow()
        if self.schedule_kind == "now":
            return Schedule(ScheduleKind.now)
        if self.schedule_kind == "slot":
            return Schedule(ScheduleKind.slot)
        if self.schedule_kind == "exact":
            if not self.date or not self.time:
                raise InvalidInput("Hãy chọn ngày và giờ đăng (giờ Hà Nội).")
            local = datetime.combine(parse_local_date(self.date, "Ngày đăng"), parse_local_time(self.time, "Giờ đăng"))
            return Schedule(ScheduleKind.exact, at=to_utc(local))
        rule = self.rrule.strip()
        if not rule:
            if not self.rec_days:
                raise InvalidInput("Bài định kỳ: hãy chọn ít nhất một ngày trong tuần (hoặc nhập quy tắc RRULE).")
            rule = "FREQ=WEEKLY;BYDAY=" + ",".join(RRULE_DAYS[d] for d in self.rec_days)
        if not self.rec_time:
            raise InvalidInput("Bài định kỳ: hãy chọn giờ đăng.")
        clock = parse_local_time(self.rec_time, "Giờ đăng")
        today = to_local(now).date()
        first = parse_local_date(self.rec_from, "Ngày bắt đầu") if self.rec_from else today
        start = to_utc(datetime.combine(max(first, today), clock))
        if start <= now:  # today's time has passed: start tomorrow
            start = to_utc(datetime.combine(max(first, today) + timedelta(days=1), clock))
        return Schedule(ScheduleKind.recurring, at=start, rrule=rule)

    def draft(self, *, media_ids: list[int], campaign_id: int | None, now: datetime | None = None) -> PostDraft:
        """The domain draft (photos already stored, campaign already chosen or created)."""
        choices = []
        for cid in self.channel_ids:
            v = self.variants.get(cid) or Variant()
            choices.append(ChannelChoice(cid, title=v.title or None, text=v.text if v.text.strip() else None,
                                         link=v.link or None))
        return PostDraft(text=self.text, title=self.title or None, link=self.link or None, campaign_id=campaign_id,
                         media_ids=media_ids, channels=choices, schedule=self.schedule(now=now),
                         broadcast=self.broadcast)


def _weekly_days(rrule: str) -> list[int] | None:
    """[0, 2] for 'FREQ=WEEKLY;BYDAY=MO,WE'; None for anything the weekday picker cannot show."""
    text = rrule.strip().upper().removeprefix("RRULE:")
    parts = dict(p.partition("=")[::2] for p in text.split(";") if p)
    if set(parts) != {"FREQ", "BYDAY"} or parts["FREQ"] != "WEEKLY":
        return None
    days = parts["BYDAY"].split(",")
    if not all(d in RRULE_DAYS for d in days):
        return None
    return sorted({RRULE_DAYS.index(d) for d in days})
