"""Passwords (argon2id) and sign-in with throttling of repeated failures."""

from __future__ import annotations

from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from common.errors import InvalidInput, Throttled
from db.models import LoginFailure, User
from domain import audit

_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so a wrong address costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("loa-dummy-password-never-valid")

MIN_PASSWORD_LENGTH = 10
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_IP = 30


class SignInFailed(InvalidInput):
    """Wrong e-mail or password (deliberately not saying which)."""

    code = "sign_in_failed"
    default_message = "Email hoặc mật khẩu không đúng."


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` after checking the length rule."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.")
    if len(password) > 1024:
        raise InvalidInput("Mật khẩu quá dài.")
    return _hasher.hash(password)


def set_password(session: Session, *, user: User, password: str, actor: User | None = None,
                 org_id: int | None = None) -> None:
    """Give ``user`` a new password (audited under ``org_id`` when given, never logged)."""
    user.password_hash = hash_password(password)
    audit.record(session, entity_type="user", entity_id=user.id, action="password_set",
                 actor=actor, org_id=org_id)


def _normalise(email: str) -> str:
    return (email or "").strip().lower()[:255]


def _recent_failures(session: Session, *, email: str, ip: str, now: datetime) -> tuple[int, int]:
    since = now - THROTTLE_WINDOW
    by_email = session.scalar(select(func.count()).select_from(LoginFailure)
                              .where(LoginFailure.email == email, LoginFailure.at >= since)) or 0
    by_ip = session.scalar(select(func.count()).select_from(LoginFailure)
                           .where(LoginFailure.ip == ip, LoginFailure.at >= since)) or 0
    return by_email, by_ip


def authenticate(session: Session, *, email: str, password: str, ip: str, now: datetime) -> User:
    """The active user with this e-mail and password; records failures and refuses guessing.

    After ``MAX_FAILURES_PER_EMAIL`` failures for one e-mail (or ``MAX_FAILURES_PER_IP`` from one
    address) within ``THROTTLE_WINDOW``, every attempt is refused, right password or not, until the
    window has passed. The caller commits, so failures are counted even though this raises.
    """
    email, ip = _normalise(email), (ip or "?")[:64]
    by_email, by_ip = _recent_failures(session, email=email, ip=ip, now=now)
    if by_email >= MAX_FAILURES_PER_EMAIL or by_ip >= MAX_FAILURES_PER_IP:
        raise Throttled("Đăng nhập sai quá nhiều lần. Vui lòng đợi 15 phút rồi thử lại.")
    user = session.scalar(select(User).where(func.lower(User.email) == email)) if email else None
    ok = False
    try:
        ok = _hasher.verify(user.password_hash if user and user.password_hash else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user.password_hash or not user.is_active:
        session.add(LoginFailure(email=email, ip=ip, at=now))
        session.flush()
        raise SignInFailed()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    return user


def prune_failures(session: Session, *, now: datetime) -> int:
    """Forget failures older than the throttle window."""
    return session.execute(delete(LoginFailure).where(LoginFailure.at < now - THROTTLE_WINDOW)).rowcount or 0
