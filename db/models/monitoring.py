"""Opinion monitoring: collected items, near-duplicate clusters, reviews, hot topics, alerts.

An item is everything the desk may read: a comment on one of our pages, a Zalo message from a
follower, a public post, a news article. The classifier's labels and the monitors' decisions live
on the same row (one row per item, no joins on the review queue's hot path); every monitor action
is also written to the audit log, and a relabel also becomes a `LabelCorrection` that the next
`loa train` learns from.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, str_enum, utcnow
from db.models.enums import AlertKind, AlertStatus, ItemSource, ReviewStatus


class Feed(Base):
    """An RSS/Atom feed an organisation follows (press, public pages' feeds)."""

    __tablename__ = "feeds"
    __table_args__ = (UniqueConstraint("org_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    name: Mapped[str] = mapped_column(String(255), default="")
    interval_s: Mapped[int] = mapped_column(Integer, default=900)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Conditional-GET validators and recently seen entry ids (collectors.rss cursor).
    cursor: Mapped[dict | None] = mapped_column(JSON)
    next_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChannelCursor(Base):
    """Where collection from one of our channels stopped (collectors' opaque cursor)."""

    __tablename__ = "channel_cursors"

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    cursor: Mapped[dict | None] = mapped_column(JSON)
    next_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class Cluster(Base):
    """Near-duplicate texts (the same rumour copied across groups): one cluster, a spread count."""

    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    minhash: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClusterBand(Base):
    """LSH band keys of a cluster's MinHash: equality on any key makes it a candidate."""

    __tablename__ = "cluster_bands"

    band_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True)


class Item(Base):
    """One collected item, its classification and its review state."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_items_queue", "org_id", "flagged", "review_status", "risk_score"),
        # Newest-first queue pages; on PostgreSQL migration 0003 also adds a pg_trgm GIN index on
        # `text` (ix_items_text_trgm) so the queue's text search (ILIKE '%…%') does not scan every item.
        Index("ix_items_queue_time", "org_id", "flagged", "review_status", "created_at"),
        # Riskiest-first pages of a desk spanning many organisations: walked in order, filtered by org.
        Index("ix_items_flagged_risk", "flagged", "risk_score", "created_at", "id"),
        Index("ix_items_flagged_time", "flagged", "created_at", "id"),  # … and newest-first pages
        Index("ix_items_unclassified", "classified_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source: Mapped[ItemSource] = mapped_column(str_enum(ItemSource))
    external_id: Mapped[str] = mapped_column(String(512))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"))
    parent_external_id: Mapped[str | None] = mapped_column(String(512))
    reply_to_external_id: Mapped[str | None] = mapped_column(String(512))
    author_hash: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id", ondelete="SET NULL"), index=True)

    # Classifier output (NULL classified_at = waiting for the batch classifier).
    classified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    model_version: Mapped[str | None] = mapped_column(String(64))
    risk: Mapped[str | None] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(String(32))
    sentiment: Mapped[str | None] = mapped_column(String(32))
    toxicity: Mapped[str | None] = mapped_column(String(32))
    # Probability that the item is not `binh_thuong`: the review queue's sort key.
    risk_score: Mapped[float] = mapped_column(Float, default=0.0)
    proba: Mapped[dict | None] = mapped_column(JSON)
    explanation: Mapped[dict | None] = mapped_column(JSON)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    # Review by the monitors' desk.
    review_status: Mapped[ReviewStatus] = mapped_column(str_enum(ReviewStatus), default=ReviewStatus.new)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A monitor's labels replace the classifier's for display and reports.
    human_labels: Mapped[dict | None] = mapped_column(JSON)
    # Set when a monitor hid the comment on the platform (Facebook `is_hidden`).
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ItemNote(Base):
    """A monitor's note on an item."""

    __tablename__ = "item_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("items.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LabelCorrection(Base):
    """A monitor's relabel, kept as training data for the next `loa train` (text copied: items may go)."""

    __tablename__ = "label_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("items.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    labels: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HotTopic(Base):
    """A burst of talk about one story, in one scope (an organisation, or overall when org_id is NULL)."""

    __tablename__ = "hot_topics"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(32))  # "all" or "org:<id>"
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(128))
    label: Mapped[str] = mapped_column(String(512))
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    entities: Mapped[list] = mapped_column(JSON, default=list)
    representative_ids: Mapped[list] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    peak_score: Mapped[float] = mapped_column(Float, default=0.0)
    item_count: Mapped[int] = mapped_column(Integer, default=0)


class HotTopicPoint(Base):
    """Volume of a hot topic at one detection pass (the chart over time)."""

    __tablename__ = "hot_topic_points"

    hot_topic_id: Mapped[int] = mapped_column(ForeignKey("hot_topics.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    baseline: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)


class TrendState(Base):
    """The burst detector's state for one scope, and the last item id it has seen."""

    __tablename__ = "trend_states"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[dict | None] = mapped_column(JSON)
    last_item_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alert(Base):
    """One email-worthy event for one recipient; unique per subject, so it is never sent twice."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("kind", "subject", "user_id"),
                      Index("ix_alerts_pending", "status", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AlertKind] = mapped_column(str_enum(AlertKind))
    # What the alert is about, e.g. "cluster:12" (one rumour copied 30 times = one alert) or "hot:all:<key>".
    subject: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("items.id", ondelete="SET NULL"))
    hot_topic_id: Mapped[int | None] = mapped_column(ForeignKey("hot_topics.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[AlertStatus] = mapped_column(str_enum(AlertStatus), default=AlertStatus.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
