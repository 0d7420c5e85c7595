"""Sending weekly digests: settings, which organisations are due, and the once-per-recipient ledger.

**Once per recipient per week.** ``digest_deliveries`` has one row per (organisation, ISO week,
address), unique. A copy is sent only after a worker *claims* its row: a guarded UPDATE from
``pending`` to ``sending`` that bumps ``attempts`` and sets a lease, committed before the SMTP call.
Two beats, two workers or a redelivered task race for the same row; exactly one UPDATE matches, the
others skip it. After the SMTP server accepts the message the row becomes ``sent`` (guarded on the
attempt number, so a late worker cannot overwrite a newer state).

**A crash in the middle.** The digest is rendered *before* any row is claimed, so the only window in
which a worker can die holding a claim is the SMTP exchange itself (a few seconds). A row still
``sending`` after its lease (``LOA_DIGEST_SEND_LEASE_S``) may or may not have reached the server:
SMTP has no way to ask. We do not re-send it automatically — a leader would get the same digest twice,
and "at least once" is the wrong trade for a weekly report — but mark it ``uncertain``: it is listed
by ``loa digest failures``, the organisation's admins get a notification, the next digest names it,
and ``loa digest resend`` sends it again on purpose. The Message-ID is the same for every attempt of a
copy (``<digest.ORG.WEEK.HASH@…>``), so mail systems that de-duplicate by Message-ID drop a resend
of a copy that did arrive.

**Failures.** A refused address (or one the headers cannot carry) fails that copy at once and the
other recipients are still sent. Any other SMTP error (server down, timeout) schedules a retry with
backoff (2, 4, 8, 16 minutes) until ``LOA_DIGEST_MAX_ATTEMPTS`` tries, then ``failed``. A failed or
uncertain copy is never dropped silently: it is reported as above.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from common.errors import InvalidInput, NotFound
from common.mail import Mailer, MailError, RecipientRefused
from db.base import utcnow
from db.models import (DigestDelivery, DigestRecipient, DigestSettings, DigestStatus, Membership, Notification,
                       Organisation, Role)
from db.session import insert_skipping_conflicts, session_scope
from domain.digest.render import RenderedDigest
from domain.periods import Week, local_midnight_utc
from domain.scheduling import DEFAULT_TZ

logger = logging.getLogger(__name__)

_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
WEEKDAYS_VI = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
STATUS_VI = {DigestStatus.pending: "chờ gửi", DigestStatus.sending: "đang gửi", DigestStatus.sent: "đã gửi",
             DigestStatus.failed: "không gửi được", DigestStatus.uncertain: "không chắc đã gửi"}


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed tries: 2, 4, 8, 16 … minutes."""
    return timedelta(minutes=2 ** max(1, attempts))


# --- Settings ------------------------------------------------------------------------------------

def normalise_email(raw: str) -> str:
    """A lower-case address, or a Vietnamese error for something that is not one."""
    email = (raw or "").strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInput(f"Địa chỉ email «{raw}» không hợp lệ.", field="email")
    return email


def configure(session: Session, org_id: int, *, add: Iterable[str] = (), remove: Iterable[str] = (),
              weekday: int | None = None, hour: int | None = None, enabled: bool | None = None) -> DigestSettings:
    """Create or change an organisation's digest settings and recipients (validates everything first)."""
    if session.get(Organisation, org_id) is None:
        raise NotFound(f"Không có tổ chức #{org_id}.", org_id=org_id)
    if weekday is not None and not 0 <= weekday <= 6:
        raise InvalidInput("Ngày gửi phải từ 0 (thứ Hai) đến 6 (Chủ nhật).", field="weekday")
    if hour is not None and not 0 <= hour <= 23:
        raise InvalidInput("Giờ gửi phải từ 0 đến 23.", field="hour")
    to_add = [normalise_email(e) for e in add]
    to_remove = [normalise_email(e) for e in remove]
    settings = session.get(DigestSettings, org_id)
    if settings is None:
        settings = DigestSettings(org_id=org_id, enabled=True, weekday=0, hour=7)
        session.add(settings)
    if weekday is not None:
        settings.weekday = weekday
    if hour is not None:
        settings.hour = hour
    if enabled is not None:
        settings.enabled = enabled
    existing = set(session.scalars(select(DigestRecipient.email).where(DigestRecipient.org_id == org_id)))
    for email in to_add:
        if email not in existing:
            session.add(DigestRecipient(org_id=org_id, email=email))
            existing.add(email)
    if to_remove:
        for r in session.scalars(select(DigestRecipient).where(DigestRecipient.org_id == org_id,
                                                                DigestRecipient.email.in_(to_remove))):
            session.delete(r)
    session.flush()
    return settings


def recipients_of(session: Session, org_id: int) -> list[DigestRecipient]:
    return list(session.scalars(select(DigestRecipient).where(DigestRecipient.org_id == org_id)
                                .order_by(DigestRecipient.email)))


def describe_settings(session: Session, org_id: int) -> str:
    """One line for people: recipients, day and hour, on or off."""
    s = session.get(DigestSettings, org_id)
    if s is None:
        return "Chưa cấu hình thư tổng hợp tuần."
    emails = ", ".join(r.email for r in recipients_of(session, org_id)) or "(chưa có người nhận)"
    state = "đang bật" if s.enabled else "đang tắt"
    return f"Thư tổng hợp tuần {state}: gửi {WEEKDAYS_VI[s.weekday]} lúc {s.hour:02d}:00 (giờ Việt Nam) tới {emails}."


# --- Due digests ---------------------------------------------------------------------------------

def send_moment(week: Week, weekday: int, hour: int, tz_name: str = DEFAULT_TZ) -> datetime:
    """When the digest of the week *before* ``week`` is due: ``week``'s weekday at hour, local."""
    return local_midnight_utc(week.monday + timedelta(days=weekday), tz_name) + timedelta(hours=hour)


def _open_recipient_cond(now: datetime):  # noqa: ANN202
    """Delivery row missing, or pending and its retry time has come."""
    return or_(DigestDelivery.id.is_(None),
               and_(DigestDelivery.status == DigestStatus.pending,
                    or_(DigestDelivery.next_try_at.is_(None), DigestDelivery.next_try_at <= now)))


def due_digests(session: Session, *, now: datetime) -> list[tuple[int, str]]:
    """(organisation id, ISO week) of digests with a recipient still to send (first try or retry).

    The digest of week W goes out in week W+1, at the organisation's weekday and hour (local);
    a beat that was down at that moment sends it as soon as it runs again during W+1.
    """
    current = Week.containing(now)
    week = current.shift(-1)
    settings = session.execute(select(DigestSettings.org_id, DigestSettings.weekday, DigestSettings.hour)
                               .where(DigestSettings.enabled.is_(True))).all()
    ready = [s.org_id for s in settings if send_moment(current, s.weekday, s.hour) <= now]
    if not ready:
        return []
    stmt = (select(DigestRecipient.org_id).distinct()
            .outerjoin(DigestDelivery, and_(DigestDelivery.org_id == DigestRecipient.org_id,
                                            DigestDelivery.email == DigestRecipient.email,
                                            DigestDelivery.week == week.label))
            .where(DigestRecipient.org_id.in_(ready), _open_recipient_cond(now)))
    return [(org_id, week.label) for org_id in sorted(session.scalars(stmt))]


def recipients_to_send(session: Session, org_id: int, week: Week, *, now: datetime) -> list[DigestRecipient]:
    """This organisation's recipients whose copy of ``week`` is still to send now."""
    stmt = (select(DigestRecipient)
            .outerjoin(DigestDelivery, and_(DigestDelivery.org_id == DigestRecipient.org_id,
                                            DigestDelivery.email == DigestRecipient.email,
                                            DigestDelivery.week == week.label))
            .where(DigestRecipient.org_id == org_id, _open_recipient_cond(now)).order_by(DigestRecipient.email))
    return list(session.scalars(stmt))


# --- Sending -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    delivery_id: int
    attempt: int
    retry_from: int = 0

    @property
    def tries(self) -> int:
        """Tries of the current retry budget, this one included."""
        return self.attempt - self.retry_from


def claim(session: Session, org_id: int, week: Week, email: str, *, now: datetime, lease: timedelta) -> Claim | None:
    """Take one recipient's copy for sending, or None when it is sent, failed, or someone else holds it."""
    session.execute(insert_skipping_conflicts(session, DigestDelivery, ["org_id", "week", "email"]).values(
        org_id=org_id, week=week.label, email=email, status=DigestStatus.pending, attempts=0, retry_from=0,
        reported=False, created_at=now))
    row = session.execute(
        update(DigestDelivery)
        .where(DigestDelivery.org_id == org_id, DigestDelivery.week == week.label, DigestDelivery.email == email,
               DigestDelivery.status == DigestStatus.pending,
               or_(DigestDelivery.next_try_at.is_(None), DigestDelivery.next_try_at <= now))
        .values(status=DigestStatus.sending, attempts=DigestDelivery.attempts + 1, lease_until=now + lease)
        .returning(DigestDelivery.id, DigestDelivery.attempts, DigestDelivery.retry_from)).first()
    return Claim(row.id, row.attempts, row.retry_from) if row else None


def message_id(org_id: int, week: Week, email: str, domain: str) -> str:
    """The same Message-ID for every attempt at one copy (receivers drop duplicates by it)."""
    digest = hashlib.sha256(email.encode()).hexdigest()[:16]
    return f"<digest.{org_id}.{week.label}.{digest}@{domain or 'loa.local'}>"


def build_message(mailer: Mailer, digest: RenderedDigest, *, to: str, to_name: str = "", msg_id: str,
                  now: datetime) -> EmailMessage:
    """multipart/alternative: text/plain, then multipart/related (text/html + the PNG charts by Content-ID)."""
    msg = mailer.message(to=to, to_name=to_name, subject=digest.subject, text=digest.text, html=digest.html)
    msg.replace_header("Message-ID", msg_id)
    msg["Date"] = format_datetime(now)
    msg["Auto-Submitted"] = "auto-generated"
    msg["Content-Language"] = "vi"
    html_part = msg.get_payload()[1]
    for image in digest.images:
        html_part.add_related(image.data, maintype="image", subtype="png", cid=f"<{image.cid}>",
                              filename=image.filename, disposition="inline")
    return msg


def _finish(session: Session, c: Claim, **values: object) -> bool:
    done = session.execute(update(DigestDelivery).where(DigestDelivery.id == c.delivery_id,
                                                        DigestDelivery.status == DigestStatus.sending,
                                                        DigestDelivery.attempts == c.attempt)
                           .values(lease_until=None, **values))
    return done.rowcount == 1


def send_digest(factory: sessionmaker[Session], mailer: Mailer, org_id: int, week: Week, *,
                build: Callable[[Session], RenderedDigest], now: datetime | None = None,
                lease_s: float = 300.0, max_attempts: int = 5) -> dict[str, int]:
    """Send ``week``'s digest of ``org_id`` to every recipient still owed it; each copy claimed first."""
    now = now or utcnow()
    stats = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    with session_scope(factory) as session:
        recipients = [(r.email, r.name) for r in recipients_to_send(session, org_id, week, now=now)]
    if not recipients:
        return stats
    with session_scope(factory) as session:
        digest = build(session)  # rendered before any claim: a crash here leaves nothing half-sent
    domain = mailer.sender.rpartition("@")[2]
    for email, name in recipients:
        with session_scope(factory) as session:
            c = claim(session, org_id, week, email, now=now, lease=timedelta(seconds=lease_s))
        if c is None:
            stats["skipped"] += 1
            continue
        msg_id = message_id(org_id, week, email, domain)
        try:
            mailer.send(build_message(mailer, digest, to=email, to_name=name, msg_id=msg_id, now=utcnow()))
        except (RecipientRefused, ValueError) as exc:
            # ValueError: an address or name the email headers cannot carry; no retry will fix either.
            with session_scope(factory) as session:
                _finish(session, c, status=DigestStatus.failed, last_error=str(exc)[:1000])
                _report(session, org_id, week, [email])
            logger.warning("digest recipient refused", extra={"org_id": org_id, "week": week.label})
            stats["failed"] += 1
            continue
        except MailError as exc:
            final = c.tries >= max_attempts
            with session_scope(factory) as session:
                if final:
                    _finish(session, c, status=DigestStatus.failed, last_error=str(exc)[:1000])
                    _report(session, org_id, week, [email])
                else:
                    _finish(session, c, status=DigestStatus.pending, last_error=str(exc)[:1000],
                            next_try_at=now + backoff(c.tries))
            logger.warning("digest email failed", extra={"org_id": org_id, "week": week.label, "final": final})
            stats["failed" if final else "retry"] += 1
            continue
        with session_scope(factory) as session:
            if not _finish(session, c, status=DigestStatus.sent, sent_at=utcnow(), message_id=msg_id,
                           last_error=None):
                logger.warning("digest sent after its claim was taken over",
                               extra={"org_id": org_id, "week": week.label})
        stats["sent"] += 1
    return stats


def recover_stale(session: Session, *, now: datetime) -> int:
    """Claims whose worker vanished become ``uncertain`` (reported, not re-sent); stale retries of
    past weeks become ``failed``."""
    stale = session.execute(
        update(DigestDelivery).where(DigestDelivery.status == DigestStatus.sending, DigestDelivery.lease_until < now)
        .values(status=DigestStatus.uncertain, lease_until=None,
                last_error="Tiến trình gửi bị dừng giữa lúc trao đổi với máy chủ thư; không chắc thư đã đến. "
                           "Không tự gửi lại để tránh trùng; dùng `loa digest resend` nếu cần.")
        .returning(DigestDelivery.org_id, DigestDelivery.week, DigestDelivery.email)).all()
    too_old = Week.containing(now).shift(-1).label
    expired = session.execute(
        update(DigestDelivery).where(DigestDelivery.status == DigestStatus.pending, DigestDelivery.week < too_old)
        .values(status=DigestStatus.failed, last_error="Hết tuần mà vẫn chưa gửi được.")
        .returning(DigestDelivery.org_id, DigestDelivery.week, DigestDelivery.email)).all()
    for org_id, week, email in [*stale, *expired]:
        _report(session, org_id, Week.parse(week), [email])
    return len(stale) + len(expired)


def _report(session: Session, org_id: int, week: Week, emails: list[str]) -> None:
    """Tell the organisation's admins (and those above) that copies did not go out; mark them reported."""
    rows = session.execute(select(DigestDelivery).where(DigestDelivery.org_id == org_id,
                                                        DigestDelivery.week == week.label,
                                                        DigestDelivery.email.in_(emails),
                                                        DigestDelivery.reported.is_(False))).scalars().all()
    if not rows:
        return
    org = session.get(Organisation, org_id)
    admins = set(session.scalars(select(Membership.user_id).where(Membership.org_id.in_(org.ancestor_ids()),
                                                                  Membership.role == Role.admin)))
    for d in rows:
        d.reported = True
        text = (f"Thư tổng hợp {week.title_vi} của {org.name} {STATUS_VI[DigestStatus(d.status)]} tới {d.email}: "
                f"{(d.last_error or '')[:300]}")
        for user_id in admins:
            session.add(Notification(user_id=user_id, org_id=org_id, kind="digest_failed", message=text))


def problems(session: Session, *, org_id: int | None = None, limit: int = 200) -> list[DigestDelivery]:
    """Copies that failed or may not have arrived, newest week first (``loa digest failures``)."""
    stmt = select(DigestDelivery).where(DigestDelivery.status.in_([DigestStatus.failed, DigestStatus.uncertain]))
    if org_id is not None:
        stmt = stmt.where(DigestDelivery.org_id == org_id)
    return list(session.scalars(stmt.order_by(DigestDelivery.week.desc(), DigestDelivery.org_id,
                                              DigestDelivery.email).limit(limit)))


def resend(session: Session, org_id: int, week: Week, email: str) -> DigestDelivery:
    """Put a failed or uncertain copy back to pending (an operator's deliberate decision)."""
    email = normalise_email(email)
    d = session.scalar(select(DigestDelivery).where(DigestDelivery.org_id == org_id,
                                                    DigestDelivery.week == week.label, DigestDelivery.email == email))
    if d is None:
        raise NotFound(f"Không có thư {week.label} của tổ chức #{org_id} gửi {email}.")
    if d.status not in (DigestStatus.failed, DigestStatus.uncertain):
        raise InvalidInput(f"Thư này đang ở trạng thái «{STATUS_VI[DigestStatus(d.status)]}», không cần gửi lại.")
    # attempts keeps counting (it fences out any worker of an earlier claim); the budget restarts.
    d.status, d.next_try_at, d.retry_from, d.reported = DigestStatus.pending, None, d.attempts, False
    return d
