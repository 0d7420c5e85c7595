"""How a post reads on the approvals inbox, the post page and the shared library.

Plain helpers shared by those pages: the visible-post lookup, a schedule in Vietnamese words,
the readable diff between the last approved content and the current one, and the timeline.
Every piece of user text stays plain ``str`` here; the templates escape it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import NotFound
from db.models import AuditEntry, Channel, Media, Organisation, Post, Role, ScheduleKind, User
from domain import access, audit
from domain.posts import snapshot
from domain.scheduling import to_local
from web.pages.labels import WEEKDAYS_VI, vi

RRULE_DAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
FREQ_WORDS = {"HOURLY": ("hằng giờ", "giờ"), "DAILY": ("hằng ngày", "ngày"), "WEEKLY": ("hằng tuần", "tuần"),
              "MONTHLY": ("hằng tháng", "tháng"), "YEARLY": ("hằng năm", "năm")}
ACTION_VI = {
    "create": "Tạo bài", "edit": "Sửa bài", "submit": "Gửi duyệt", "approve": "Duyệt bài", "reject": "Từ chối",
    "cancel": "Huỷ", "schedule": "Lên lịch", "target_result": "Cập nhật theo kết quả đăng",
    "share": "Chia sẻ xuống cấp dưới", "approve_upstream": "Dùng nội dung đã được cấp trên duyệt",
    "superseded": "Thay bằng lịch mới", "claim": "Bắt đầu đăng", "published": "Đã đăng lên nền tảng",
    "failed": "Đăng lỗi", "retry": "Hẹn tự động thử lại", "manual_retry": "Đăng lại (thủ công)",
    "recurrence": "Thêm lần đăng định kỳ",
}
TOKENS = re.compile(r"\w+|\s+|[^\w\s]+")  # words, spaces, punctuation runs
EQUAL_KEEP = 160  # characters of unchanged text kept around a change in a long diff


def visible_post(session: Session, user: User, post_id: int) -> Post:
    """A post of an organisation the user can see (their own or below); anything else is 'not found'."""
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound("Không tìm thấy bài viết.", post_id=post_id)
    access.get_visible_org(session, user, post.org_id)
    return post


def roles_at(session: Session, user: User, org_id: int) -> set[Role]:
    """Roles the user holds at ``org_id`` directly or through an ancestor."""
    return access.roles_in(session, user, session.get(Organisation, org_id))


def local_time(at: datetime | None) -> str:
    """'07:30 04/05/2027' in Hà Nội time."""
    return to_local(at).strftime("%H:%M %d/%m/%Y") if at else "—"


def rrule_words(rrule: str | None) -> str:
    """'FREQ=WEEKLY;BYDAY=MO,WE' → 'hằng tuần vào Thứ Hai, Thứ Tư' (the raw rule when unusual)."""
    text = (rrule or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts = dict(p.partition("=")[::2] for p in text.upper().split(";") if p)
    freq = FREQ_WORDS.get(parts.get("FREQ", ""))
    if freq is None:
        return text or "—"
    interval = parts.get("INTERVAL", "1")
    words = [freq[0] if interval in ("", "1") else f"mỗi {interval} {freq[1]}"]
    if parts.get("BYDAY"):
        days = []
        for token in parts["BYDAY"].split(","):
            m = re.fullmatch(r"([+-]?\d{1,2})?([A-Z]{2})", token.strip())
            if not m or m.group(2) not in RRULE_DAYS:
                return text
            name = WEEKDAYS_VI[RRULE_DAYS[m.group(2)]]
            n = int(m.group(1) or 0)
            days.append(name if n == 0 else f"{name} {'cuối cùng' if n == -1 else f'thứ {n}' if n > 1 else 'đầu tiên'}")
        words.append("vào " + ", ".join(days))
    if parts.get("BYMONTHDAY"):
        words.append("ngày " + ", ".join(d.strip() for d in parts["BYMONTHDAY"].split(",")))
    if parts.get("BYMONTH"):
        words.append("tháng " + ", ".join(d.strip() for d in parts["BYMONTH"].split(",")))
    if parts.get("BYHOUR"):
        words.append("lúc " + ", ".join(f"{h.strip()} giờ" for h in parts["BYHOUR"].split(",")))
    if parts.get("COUNT"):
        words.append(f"({parts['COUNT']} lần)")
    if parts.get("UNTIL"):
        m = re.match(r"(\d{4})(\d{2})(\d{2})", parts["UNTIL"])
        words.append(f"đến hết {m.group(3)}/{m.group(2)}/{m.group(1)}" if m else f"đến {parts['UNTIL']}")
    return " ".join(words)


def schedule_words(kind: ScheduleKind | str | None, at: datetime | None, rrule: str | None) -> str:
    """A post's schedule as a Vietnamese sentence."""
    kind = getattr(kind, "value", kind)
    if kind is None:
        return "Chưa chọn thời điểm đăng"
    if kind == "now":
        return "Đăng ngay khi được duyệt"
    if kind == "slot":
        return "Khung giờ trống kế tiếp của từng kênh"
    if kind == "exact":
        return f"Lúc {local_time(at)} (giờ Hà Nội)"
    if kind == "recurring":
        return f"Định kỳ {rrule_words(rrule)}, bắt đầu {local_time(at)}"
    return vi(kind, "schedule_kind")


def post_schedule_words(post: Post) -> str:
    """The schedule of ``post`` in words."""
    return schedule_words(post.schedule_kind, post.scheduled_at, post.rrule)


def text_diff(old: str | None, new: str | None) -> list[tuple[str, str]]:
    """Word-level differences as (kind, text) pieces; kind is 'eq', 'ins' or 'del'.

    Long unchanged runs are shortened around the changes so the approver sees what moved.
    """
    a, b = TOKENS.findall(old or ""), TOKENS.findall(new or "")
    pieces: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("eq", "".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            pieces.append(("del", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            pieces.append(("ins", "".join(b[j1:j2])))
    for i, (kind, text) in enumerate(pieces):
        if kind == "eq" and len(text) > 2 * EQUAL_KEEP + 20:
            head = text[:EQUAL_KEEP] if i > 0 else ""
            tail = text[-EQUAL_KEEP:] if i < len(pieces) - 1 else ""
            pieces[i] = ("eq", f"{head} … {tail}" if head or tail else text)
    return pieces


@dataclass
class FieldChange:
    """One changed field: its name and either a text diff or before/after values."""

    label: str
    pieces: list[tuple[str, str]] | None = None
    before: str | None = None
    after: str | None = None
    photos_removed: list[Media] = field(default_factory=list)
    photos_added: list[Media] = field(default_factory=list)


def changes_since_approval(session: Session, post: Post) -> list[FieldChange] | None:
    """What changed since the post was last approved (None when it was never approved or is unchanged)."""
    old = post.approved_snapshot
    if not old or post.approved_version is None or post.approved_version == post.version:
        return None
    new = snapshot(post)
    changes: list[FieldChange] = []
    if (old.get("title") or "") != (new["title"] or ""):
        changes.append(FieldChange("Tiêu đề", before=old.get("title") or "—", after=new["title"] or "—"))
    if (old.get("text") or "") != (new["text"] or ""):
        changes.append(FieldChange("Nội dung", pieces=text_diff(old.get("text"), new["text"])))
    if (old.get("link") or "") != (new["link"] or ""):
        changes.append(FieldChange("Đường dẫn", before=old.get("link") or "—", after=new["link"] or "—"))
    old_ch = {c["channel_id"]: c for c in old.get("channels") or []}
    new_ch = {c["channel_id"]: c for c in new["channels"]}
    names = channel_names(session, set(old_ch) | set(new_ch))
    if list(old_ch) != list(new_ch):
        changes.append(FieldChange("Kênh đăng", before=", ".join(names.get(i, f"#{i}") for i in old_ch) or "—",
                                   after=", ".join(names.get(i, f"#{i}") for i in new_ch) or "—"))
    for cid in set(old_ch) & set(new_ch):
        o, n = old_ch[cid], new_ch[cid]
        if (o.get("text") or "") != (n.get("text") or ""):
            changes.append(FieldChange(f"Nội dung riêng cho {names.get(cid, cid)}",
                                       pieces=text_diff(o.get("text"), n.get("text"))))
        for key, label in (("title", "Tiêu đề riêng"), ("link", "Đường dẫn riêng")):
            if (o.get(key) or "") != (n.get(key) or ""):
                changes.append(FieldChange(f"{label} cho {names.get(cid, cid)}", before=o.get(key) or "—",
                                           after=n.get(key) or "—"))
    old_s, new_s = old.get("schedule") or {}, new["schedule"]
    if old_s != new_s:
        changes.append(FieldChange("Lịch đăng", before=_snapshot_schedule(old_s), after=_snapshot_schedule(new_s)))
    old_m, new_m = list(old.get("media_ids") or []), new["media_ids"]
    if old_m != new_m:
        photos = {m.id: m for m in session.scalars(select(Media).where(Media.id.in_(set(old_m) | set(new_m))))}
        removed = [photos[i] for i in old_m if i not in new_m and i in photos]
        added = [photos[i] for i in new_m if i not in old_m and i in photos]
        note = None if removed or added else "Đổi thứ tự ảnh"
        changes.append(FieldChange("Ảnh", photos_removed=removed, photos_added=added, after=note))
    return changes or None


def _snapshot_schedule(s: dict) -> str:
    at = s.get("at")
    return schedule_words(s.get("kind"), datetime.fromisoformat(at) if at else None, s.get("rrule"))


def channel_names(session: Session, ids: set[int]) -> dict[int, str]:
    """Channel id → name."""
    if not ids:
        return {}
    return {cid: name for cid, name in session.execute(select(Channel.id, Channel.name).where(Channel.id.in_(ids)))}


@dataclass
class TimelineEntry:
    """One line of a post's history, in words."""

    at: datetime
    who: str
    action: str
    subject: str  # "Bài viết" or the channel's name
    from_state: str | None
    to_state: str | None
    reason: str | None
    detail: str | None


def timeline(session: Session, post: Post) -> list[TimelineEntry]:
    """The post's audit history and its channels', oldest first, in Vietnamese."""
    entries = audit.history(session, entity_type="post", entity_id=post.id)
    target_channel = {t.id: t.channel_id for t in post.targets}
    if target_channel:
        entries += list(session.scalars(select(AuditEntry).where(
            AuditEntry.entity_type == "target", AuditEntry.entity_id.in_(list(target_channel)))))
    entries.sort(key=lambda e: e.id)
    names = channel_names(session, set(target_channel.values()))
    people = {u.id: u.full_name or u.email for u in session.scalars(
        select(User).where(User.id.in_({e.actor_id for e in entries if e.actor_id})))}
    orgs = {o.id: o.name for o in session.scalars(select(Organisation).where(Organisation.id.in_(
        {(e.data or {}).get("to_org_id") for e in entries if e.action == "share"} - {None})))}
    out = []
    for e in entries:
        is_target = e.entity_type == "target"
        table = "target_status" if is_target else "post_status"
        detail = None
        if e.action == "share":
            detail = "Gửi đến: " + orgs.get((e.data or {}).get("to_org_id"), "tổ chức cấp dưới")
        elif is_target and (e.data or {}).get("attempt"):
            detail = f"Lần thử {e.data['attempt']}"
        out.append(TimelineEntry(
            at=e.at, who=people.get(e.actor_id) or (e.actor_label if e.actor_label not in ("", audit.SYSTEM)
                                                     else audit.SYSTEM.capitalize()),
            action=ACTION_VI.get(e.action, e.action),
            subject=names.get(target_channel.get(e.entity_id), "Kênh") if is_target else "Bài viết",
            from_state=vi(e.from_state, table) if e.from_state else None,
            to_state=vi(e.to_state, table) if e.to_state else None, reason=e.reason, detail=detail))
    return out


def photo_url(media: Media) -> str:
    """Where an uploaded photo is served."""
    return f"/media/{media.stored_name}"
