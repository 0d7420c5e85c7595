"""Alert emails to on-duty monitors: a high-risk item, or a new hot topic.

De-duplicated: an alert row is unique per (kind, subject, recipient) and the subject of a risky
item is its near-duplicate cluster, so a rumour copied into thirty groups alerts once.
Throttled: a recipient gets at most one alert email per throttle window; what arrives meanwhile
waits and goes out together in the next one. Reliable: a row stays `pending` until the SMTP
server has accepted the email; failures are retried with backoff and, after the last try, the
row is `failed` (listed by the API), never silently dropped. A refused address fails only that
recipient's alerts. A worker that dies between the SMTP "accepted" and the commit re-sends that
one email (at least once: for an alarm, a repeat beats a silence).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from classifiers.labels import LABEL_NAMES_VI
from common.mail import Mailer, MailError, RecipientRefused
from db.base import utcnow
from db.models import Alert, AlertKind, AlertStatus, HotTopic, Item, Organisation, User
from db.session import insert_skipping_conflicts, session_scope
from domain.opinion import Labelled, on_duty_monitors

logger = logging.getLogger(__name__)

HIGH_RISK = ("sai_lech", "kich_dong")
MAX_SEND_ATTEMPTS = 5
EXCERPT = 280


def _insert_alerts(session: Session, rows: list[dict]) -> int:
    """Insert alert rows, skipping ones already raised for the same subject and recipient."""
    if not rows:
        return 0
    stmt = insert_skipping_conflicts(session, Alert, ["kind", "subject", "user_id"]).returning(Alert.id)
    return len(session.execute(stmt, rows).all())


def _org_and_parent(session: Session, org_id: int | None) -> tuple[Organisation | None, list[int]]:
    """The organisation and the desks to alert: its own and its parent's, or, when neither has a
    monitor, the nearest ancestor that has one (a grassroots union without a desk is covered from above)."""
    org = session.get(Organisation, org_id) if org_id is not None else None
    if org is None:
        return None, []
    chain = list(reversed(org.ancestor_ids()))  # the organisation first, then upwards
    nearest = chain[:2]
    for org_id_up in chain[2:]:
        if on_duty_monitors(session, nearest):
            break
        nearest = [org_id_up]
    return org, nearest


def raise_item_alerts(session: Session, labelled: Iterable[Labelled], *, min_score: float,
                      base_url: str = "") -> int:
    """Raise an alert for each high-risk item (one per near-duplicate cluster and recipient)."""
    rows: list[dict] = []
    for lab in labelled:
        if lab.risk not in HIGH_RISK or lab.risk_score < min_score:
            continue
        item = session.get(Item, lab.id)
        org, org_ids = _org_and_parent(session, lab.org_id)
        if item is None or org is None:
            continue
        subject = f"cluster:{lab.cluster_id}" if lab.cluster_id else f"item:{lab.id}"
        label = LABEL_NAMES_VI.get(lab.risk, lab.risk)
        excerpt = _excerpt(item.text)
        title = f"{label} tại {org.name} (điểm rủi ro {lab.risk_score:.0%})"
        body = (f"{title}\nNguồn: {item.source}  ·  {item.url or ''}\n«{excerpt}»\n"
                f"Xem và xử lý: {base_url.rstrip('/')}/api/items/{item.id}")
        for user in on_duty_monitors(session, org_ids):
            rows.append({"kind": AlertKind.high_risk, "subject": subject, "org_id": org.id, "user_id": user.id,
                         "item_id": item.id, "title": title, "body": body, "status": AlertStatus.pending,
                         "attempts": 0, "created_at": utcnow()})
    return _insert_alerts(session, rows)


def raise_hot_topic_alert(session: Session, topic: HotTopic, *, base_url: str = "") -> int:
    """Alert the scope's monitors (and its parent's) that a new hot topic appeared."""
    org, org_ids = _org_and_parent(session, topic.org_id)
    where = org.name if org else "toàn hệ thống"
    title = f"Chủ đề nóng mới ({where}): {topic.label}"
    lines = [title, f"Từ khoá: {', '.join(topic.keywords[:8])}"]
    if topic.entities:
        lines.append(f"Đơn vị, địa danh: {', '.join(topic.entities[:8])}")
    lines.append(f"Số mục trong cửa sổ gần nhất: {topic.item_count}")
    lines.append(f"Xem: {base_url.rstrip('/')}/api/hot-topics/{topic.id}")
    rows = [{"kind": AlertKind.hot_topic, "subject": f"hot:{topic.scope}:{topic.key}",
             "org_id": topic.org_id, "user_id": user.id, "hot_topic_id": topic.id, "title": title,
             "body": "\n".join(lines), "status": AlertStatus.pending, "attempts": 0, "created_at": utcnow()}
            for user in on_duty_monitors(session, org_ids)]
    return _insert_alerts(session, rows)


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1] + "…"


def send_pending(factory: sessionmaker[Session], mailer: Mailer, *, throttle_s: float,
                 now: datetime | None = None) -> dict[str, int]:
    """Send every recipient whose throttle window has passed one email with all their pending alerts."""
    now = now or utcnow()
    stats = {"emails": 0, "alerts": 0, "failed": 0, "waiting": 0}
    with session_scope(factory) as session:
        users = list(session.scalars(select(Alert.user_id).where(
            Alert.status == AlertStatus.pending,
            (Alert.next_try_at.is_(None)) | (Alert.next_try_at <= now)).distinct()))
    for user_id in users:
        outcome = _send_to(factory, mailer, user_id, throttle_s=throttle_s, now=now)
        for key, n in outcome.items():
            stats[key] += n
    return stats


def _send_to(factory: sessionmaker[Session], mailer: Mailer, user_id: int, *, throttle_s: float,
             now: datetime) -> dict[str, int]:
    with session_scope(factory) as session:
        last_sent = session.scalar(select(func.max(Alert.sent_at)).where(Alert.user_id == user_id))
        if last_sent and last_sent > now - timedelta(seconds=throttle_s):
            return {"waiting": 1}
        stmt = (select(Alert).where(Alert.user_id == user_id, Alert.status == AlertStatus.pending,
                                    (Alert.next_try_at.is_(None)) | (Alert.next_try_at <= now))
                .order_by(Alert.id).with_for_update(skip_locked=True))
        alerts = list(session.scalars(stmt))
        user = session.get(User, user_id)
        if not alerts or user is None:
            return {}
        try:
            # Inside the try: a name or title the email headers refuse fails this recipient only.
            msg = mailer.message(to=user.email, to_name=user.full_name, subject=_subject(alerts),
                                 text=_text(user, alerts), html=_html(user, alerts))
            mailer.send(msg)
        except (RecipientRefused, ValueError) as exc:
            _failed(alerts, str(exc), final=True, now=now)
            logger.warning("alert recipient refused", extra={"user_id": user_id})
            return {"failed": len(alerts)}
        except MailError as exc:
            gave_up = _failed(alerts, str(exc), final=False, now=now)
            logger.warning("alert email failed", extra={"user_id": user_id, "gave_up": gave_up})
            return {"failed": gave_up}
        for a in alerts:
            a.status, a.sent_at, a.attempts = AlertStatus.sent, now, a.attempts + 1
        return {"emails": 1, "alerts": len(alerts)}


def _failed(alerts: Sequence[Alert], error: str, *, final: bool, now: datetime) -> int:
    gave_up = 0
    for a in alerts:
        a.attempts += 1
        a.last_error = error[:1000]
        if final or a.attempts >= MAX_SEND_ATTEMPTS:
            a.status = AlertStatus.failed
            gave_up += 1
        else:
            a.next_try_at = now + timedelta(seconds=60 * 2 ** (a.attempts - 1))
    return gave_up


def _subject(alerts: Sequence[Alert]) -> str:
    if len(alerts) == 1:
        return f"[Loa] {alerts[0].title}"[:250]
    return f"[Loa] {len(alerts)} cảnh báo dư luận mới"


def _text(user: User, alerts: Sequence[Alert]) -> str:
    parts = [f"Kính gửi {user.full_name or user.email},", ""]
    for a in alerts:
        parts += [a.body, ""]
    parts.append("Thư tự động từ Loa: bàn nắm bắt dư luận. Trả lời thư này không được xử lý.")
    return "\n".join(parts)


def _html(user: User, alerts: Sequence[Alert]) -> str:
    # Everything that came from outside (comment text, names) is escaped: public text is untrusted.
    blocks = "".join(
        f"<div style='margin:0 0 16px;padding:12px;border-left:4px solid "
        f"{'#c0392b' if a.kind == AlertKind.high_risk else '#d35400'};background:#fafafa'>"
        f"<p style='margin:0 0 6px;font-weight:bold'>{html.escape(a.title)}</p>"
        f"<pre style='margin:0;white-space:pre-wrap;font-family:inherit'>{html.escape(a.body)}</pre></div>"
        for a in alerts)
    return (f"<!doctype html><html lang='vi'><meta charset='utf-8'><body style='font-family:sans-serif;"
            f"max-width:640px'><p>Kính gửi {html.escape(user.full_name or user.email)},</p>{blocks}"
            f"<p style='color:#777;font-size:12px'>Thư tự động từ Loa: bàn nắm bắt dư luận.</p></body></html>")


def failed_alerts(session: Session, org_ids: Iterable[int]) -> list[Alert]:
    """Alerts that could not be delivered, for the desk to see."""
    return list(session.scalars(select(Alert).where(Alert.status == AlertStatus.failed,
                                                    Alert.org_id.in_(list(org_ids))).order_by(Alert.id.desc())))
