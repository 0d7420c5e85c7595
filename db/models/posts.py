"""Posts, their per-channel choices, scheduled targets, publish attempts and shares."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, UTCDateTime, str_enum, utcnow
from db.models.channels import Campaign, Channel
from db.models.enums import AttemptOutcome, PostStatus, ScheduleKind, TargetStatus


class Media(Base):
    """An uploaded photo, validated and stored under the media directory by its hash."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(128))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Post(Base):
    """One piece of content; what it says and when it should go out, for several channels."""

    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("author_id", "client_request_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    title: Mapped[str | None] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(2048))
    status: Mapped[PostStatus] = mapped_column(str_enum(PostStatus), default=PostStatus.draft, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    approved_version: Mapped[int | None] = mapped_column(Integer)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    schedule_kind: Mapped[ScheduleKind | None] = mapped_column(str_enum(ScheduleKind))
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rrule: Mapped[str | None] = mapped_column(String(512))
    broadcast: Mapped[bool] = mapped_column(Boolean, default=False)
    source_post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    client_request_id: Mapped[str | None] = mapped_column(String(128))
    # Snapshot of the last approved content, so an approver sees what an edit changed.
    approved_snapshot: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign | None] = relationship()
    channels: Mapped[list[PostChannel]] = relationship(back_populates="post", cascade="all, delete-orphan",
                                                      order_by="PostChannel.id")
    media: Mapped[list[PostMedia]] = relationship(cascade="all, delete-orphan", order_by="PostMedia.position")
    targets: Mapped[list[PostTarget]] = relationship(back_populates="post", order_by="PostTarget.id",
                                                    cascade="all, delete-orphan")


class PostMedia(Base):
    """A photo attached to a post, in display order."""

    __tablename__ = "post_media"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="RESTRICT"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    media: Mapped[Media] = relationship()


class PostChannel(Base):
    """A channel chosen for a post, with the per-channel variant where the platforms differ."""

    __tablename__ = "post_channels"
    __table_args__ = (UniqueConstraint("post_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    variant_title: Mapped[str | None] = mapped_column(String(255))
    variant_text: Mapped[str | None] = mapped_column(Text)
    variant_link: Mapped[str | None] = mapped_column(String(2048))

    post: Mapped[Post] = relationship(back_populates="channels")
    channel: Mapped[Channel] = relationship()


class PostTarget(Base):
    """One publication of a post on one channel at one scheduled time (a recurring post has many)."""

    __tablename__ = "post_targets"
    __table_args__ = (
        UniqueConstraint("post_id", "channel_id", "scheduled_at"),
        # A queue slot holds one post per channel (NULLs, i.e. non-slot targets, never collide).
        UniqueConstraint("channel_id", "slot_at", name="uq_post_targets_channel_slot"),
        Index("ix_post_targets_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    status: Mapped[TargetStatus] = mapped_column(str_enum(TargetStatus), default=TargetStatus.pending)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    slot_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the next attempt may start (scheduled_at, then later after a retry).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Also the ownership token of a claim: the attempt numbered `attempts` owns a publishing target.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # `attempts` when a person last pressed "retry": the automatic retry budget counts from here.
    retry_from: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(128))
    external_url: Mapped[str | None] = mapped_column(String(1024))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    post: Mapped[Post] = relationship(back_populates="targets")
    channel: Mapped[Channel] = relationship()


class PublishAttempt(Base):
    """A ledger row written before each platform call, closed after it (exactly-once)."""

    __tablename__ = "publish_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("post_targets.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[AttemptOutcome] = mapped_column(str_enum(AttemptOutcome), default=AttemptOutcome.in_flight)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(128))


class PostShare(Base):
    """An approved post offered by an upper-level organisation to a sub-organisation."""

    __tablename__ = "post_shares"
    __table_args__ = (UniqueConstraint("post_id", "to_org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    from_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    to_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    shared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    adopted_post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))

    post: Mapped[Post] = relationship(foreign_keys=[post_id])
