"""Enumerations stored in the database (values are the stored slugs)."""

from __future__ import annotations

import enum


class OrgKind(enum.StrEnum):
    """Level of an organisation in the union hierarchy."""

    tinh = "tinh"  # LĐLĐ tỉnh / thành phố
    huyen = "huyen"  # LĐLĐ quận, huyện
    nganh = "nganh"  # Công đoàn ngành
    co_so = "co_so"  # Công đoàn cơ sở


class Role(enum.StrEnum):
    """A user's role in one organisation; roles flow down to descendants."""

    admin = "admin"
    editor = "editor"
    approver = "approver"
    monitor = "monitor"
    viewer = "viewer"


class Platform(enum.StrEnum):
    """Kinds of channel Loa publishes to."""

    facebook_page = "facebook_page"
    zalo_oa = "zalo_oa"


class ChannelStatus(enum.StrEnum):
    """Whether a channel can publish."""

    active = "active"
    needs_reauth = "needs_reauth"
    disabled = "disabled"


class PostStatus(enum.StrEnum):
    """Lifecycle of a post (see domain/posts.py for the allowed transitions)."""

    draft = "draft"
    pending_approval = "pending_approval"
    approved = "approved"
    rejected = "rejected"
    scheduled = "scheduled"
    publishing = "publishing"
    published = "published"
    failed = "failed"
    cancelled = "cancelled"


class TargetStatus(enum.StrEnum):
    """Lifecycle of one post on one channel at one time."""

    pending = "pending"  # waiting for the post's approval
    scheduled = "scheduled"
    publishing = "publishing"  # claimed by a worker; an attempt is in flight
    published = "published"
    failed = "failed"
    unknown = "unknown"  # the platform may have it and cannot be asked: a person decides
    cancelled = "cancelled"


class ScheduleKind(enum.StrEnum):
    """How a post's publication time is chosen."""

    now = "now"
    exact = "exact"
    slot = "slot"
    recurring = "recurring"


class AttemptOutcome(enum.StrEnum):
    """What became of one publish attempt."""

    in_flight = "in_flight"
    published = "published"
    retry = "retry"
    failed = "failed"
    unknown = "unknown"
    reconciled = "reconciled"  # found on the platform after an uncertain outcome
    lost = "lost"  # worker died and the platform did not have it: retried


class ItemSource(enum.StrEnum):
    """Where a collected item came from (opinion-taxonomy.md's `source`)."""

    facebook_comment = "facebook_comment"
    facebook_post = "facebook_post"
    zalo_message = "zalo_message"
    news_article = "news_article"


class ReviewStatus(enum.StrEnum):
    """Where a flagged item is in the monitors' review queue."""

    new = "new"  # flagged by the classifier, nobody has looked yet
    confirmed = "confirmed"  # a monitor agrees it needs action
    dismissed = "dismissed"  # a monitor decided it needs none
    escalated = "escalated"  # sent up to the parent organisation / leadership


class AlertKind(enum.StrEnum):
    """Why monitors were emailed."""

    high_risk = "high_risk"
    hot_topic = "hot_topic"


class AlertStatus(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # gave up after the retries; shown in the API, never silently dropped
