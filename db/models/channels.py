"""Channels (a Facebook Page or a Zalo OA of one organisation) and campaigns."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, UTCDateTime, str_enum, utcnow
from db.models.enums import ChannelStatus, Platform
from db.models.orgs import Organisation


class Channel(Base):
    """Credentials are a Fernet token (see common/crypto.py), never plain text."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    platform: Mapped[Platform] = mapped_column(str_enum(Platform))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[ChannelStatus] = mapped_column(str_enum(ChannelStatus), default=ChannelStatus.active)
    status_reason: Mapped[str | None] = mapped_column(Text)
    credentials_enc: Mapped[str] = mapped_column(Text)
    # Bumped on every credential change; a refresh is only stored over the version it read.
    credentials_version: Mapped[int] = mapped_column(default=1)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the platform throttles us: nothing is sent on this channel before then.
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Weekly queue slots in local time: [{"weekdays": [0..6], "time": "07:30"}, ...]
    slots: Mapped[list] = mapped_column(JSON, default=list)
    default_cover_url: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    org: Mapped[Organisation] = relationship()


class Campaign(Base):
    """A communication campaign ("Tháng Công nhân 2027") that posts are tagged with."""

    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """Something a user must know (a channel needs re-authorisation, a post failed)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
