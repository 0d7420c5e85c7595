"""Reporting: post insights and their history, plan targets (chỉ tiêu), weekly digest settings and deliveries.

* ``post_metrics`` holds the latest numbers of each published post on each channel (one row per
  ``post_targets`` row) and when to ask the platform again; ``post_metric_snapshots`` keeps every
  reading, so "how did it perform" can be answered at any date, per post, channel, campaign and
  organisation.
* ``plan_targets`` are the targets an organisation's plan sets for a period ("100% CĐCS có Fanpage
  hoặc Zalo"); Loa measures the kinds it can from its own data (domain/targets.py).
* ``digest_settings`` / ``digest_recipients``: who receives an organisation's weekly digest, which
  day and hour (local time). ``digest_deliveries`` is the ledger: one row per (organisation, ISO
  week, recipient), claimed before the SMTP call, so a digest is sent once per recipient per week
  whatever beat or the workers do (domain/digest/send.py explains the states).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (JSON, BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, SmallInteger, String,
                        Text, UniqueConstraint)
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, str_enum, utcnow
from db.models.enums import Platform
from db.models.monitoring import Item
from db.models.posts import PostTarget


class TargetKind(enum.StrEnum):
    """What a plan target measures (domain/targets.py computes each measurable kind)."""

    cdcs_channel_pct = "cdcs_channel_pct"  # % of grassroots unions (CĐCS) below with an active Fanpage or Zalo OA
    posts_per_channel_week = "posts_per_channel_week"  # posts a week on each channel (the weakest channel counts)
    flagged_handled_pct = "flagged_handled_pct"  # % of flagged items handled within `hours` (params)
    published_posts = "published_posts"  # posts published in the period
    digital_products_pct = "digital_products_pct"  # % of communication products on digital platforms
    manual = "manual"  # entered by hand (Loa cannot see it: training sessions, printed material…)


class DigestStatus(enum.StrEnum):
    """One recipient's copy of one week's digest."""

    pending = "pending"  # to send (first try, or a retry once next_try_at has passed)
    sending = "sending"  # claimed by a worker, SMTP call in progress (lease_until)
    sent = "sent"
    failed = "failed"  # refused address or retries used up: listed, reported, never silently dropped
    # The worker died during the SMTP exchange: the server may or may not have accepted the mail.
    # Not re-sent automatically (at most once); listed like `failed`, an operator may resend.
    uncertain = "uncertain"


class PostMetric(Base):
    """Latest insights of one published post on one channel, and when to read them again."""

    __tablename__ = "post_metrics"
    __table_args__ = (Index("ix_post_metrics_channel_published", "channel_id", "published_at"),
                      Index("ix_post_metrics_org_published", "org_id", "published_at"))

    target_id: Mapped[int] = mapped_column(ForeignKey("post_targets.id", ondelete="CASCADE"), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    platform: Mapped[Platform] = mapped_column(str_enum(Platform))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # None = the platform does not offer this number (Zalo has no reactions; a metric Meta retired).
    views: Mapped[int | None] = mapped_column(Integer)
    reach: Mapped[int | None] = mapped_column(Integer)
    reactions: Mapped[int | None] = mapped_column(Integer)
    comments: Mapped[int | None] = mapped_column(Integer)
    shares: Mapped[int | None] = mapped_column(Integer)
    # reactions + comments + shares (what is known of them): the "top posts" sort key.
    engagement: Mapped[int] = mapped_column(Integer, default=0)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # NULL = no more readings (old enough, or the post is gone from the platform).
    next_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    fetches: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class PostMetricSnapshot(Base):
    """One reading of a post's insights (the history behind ``post_metrics``)."""

    __tablename__ = "post_metric_snapshots"
    __table_args__ = (Index("ix_post_metric_snapshots_target_at", "target_id", "fetched_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("post_targets.id", ondelete="CASCADE"))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    views: Mapped[int | None] = mapped_column(Integer)
    reach: Mapped[int | None] = mapped_column(Integer)
    reactions: Mapped[int | None] = mapped_column(Integer)
    comments: Mapped[int | None] = mapped_column(Integer)
    shares: Mapped[int | None] = mapped_column(Integer)


class PlanTarget(Base):
    """A target (chỉ tiêu) of an organisation's plan for a period, e.g. "≥ 2 bài/tuần trên mỗi kênh"."""

    __tablename__ = "plan_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TargetKind] = mapped_column(str_enum(TargetKind))
    title: Mapped[str] = mapped_column(String(500))  # the plan's own wording
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # inclusive, local dates
    threshold: Mapped[float] = mapped_column(Float)
    comparison: Mapped[str] = mapped_column(String(2), default=">=")  # ">=" or "<="
    # Kind-specific settings, e.g. {"hours": 24} for flagged_handled_pct.
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # manual: the value itself; digital_products_pct: the total number of products of the period.
    manual_value: Mapped[float | None] = mapped_column(Float)
    manual_note: Mapped[str | None] = mapped_column(Text)
    plan_ref: Mapped[str | None] = mapped_column(String(255))  # "Kế hoạch 27/KH-LĐLĐ"
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DigestSettings(Base):
    """When an organisation's leaders receive the weekly digest (local day and hour)."""

    __tablename__ = "digest_settings"

    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    weekday: Mapped[int] = mapped_column(SmallInteger, default=0)  # 0 = Monday
    hour: Mapped[int] = mapped_column(SmallInteger, default=7)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DigestRecipient(Base):
    """One leader's address for an organisation's digest."""

    __tablename__ = "digest_recipients"
    __table_args__ = (UniqueConstraint("org_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestDelivery(Base):
    """One recipient's copy of one week's digest: claimed before sending, unique per week."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (UniqueConstraint("org_id", "week", "email"),
                      Index("ix_digest_deliveries_status", "status", "next_try_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(8))  # ISO week "2027-W18" (local time)
    email: Mapped[str] = mapped_column(String(255))
    status: Mapped[DigestStatus] = mapped_column(str_enum(DigestStatus), default=DigestStatus.pending)
    # Also the claim's fencing token: only the worker holding attempt number `attempts` may finish it.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # `attempts` when an operator asked to resend: the retry budget counts from here.
    retry_from: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set once the failure was announced (admins notified, shown in the next digest).
    reported: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Indexes the reports read by on other areas' tables, declared here so they stay with the
# queries that need them (and Alembic sees them on the tables' metadata).
Index("ix_post_targets_channel_published", PostTarget.channel_id, PostTarget.published_at)
Index("ix_items_org_created", Item.org_id, Item.created_at)
