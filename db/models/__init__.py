"""All tables, importable from one place (Alembic autogenerate reads Base.metadata)."""

from db.base import Base
from db.models.audit import AuditEntry
from db.models.channels import Campaign, Channel, Notification
from db.models.enums import (
    AlertKind,
    AlertStatus,
    ItemSource,
    ReviewStatus,
    AttemptOutcome,
    ChannelStatus,
    OrgKind,
    Platform,
    PostStatus,
    Role,
    ScheduleKind,
    TargetStatus,
)
from db.models.monitoring import (Alert, ChannelCursor, Cluster, ClusterBand, Feed, HotTopic, HotTopicPoint, Item,
                                   ItemNote, LabelCorrection, TrendState)
from db.models.orgs import ApiToken, Membership, Organisation, User
from db.models.posts import Media, Post, PostChannel, PostMedia, PostShare, PostTarget, PublishAttempt
from db.models.web import ItemReply, LoginFailure, OrgEvent, ReplyStatus, WebSession
from db.models.reporting import (DigestDelivery, DigestRecipient, DigestSettings, DigestStatus, PlanTarget,
                                 PostMetric, PostMetricSnapshot, TargetKind)

__all__ = [
    "Alert", "AlertKind", "AlertStatus", "ChannelCursor", "Cluster", "ClusterBand", "Feed", "HotTopic", "HotTopicPoint",
    "Item", "ItemNote", "ItemSource", "LabelCorrection", "ReviewStatus", "TrendState",
    "ApiToken", "AttemptOutcome", "AuditEntry", "Base", "Campaign", "Channel", "ChannelStatus", "Media",
    "Membership", "Notification", "OrgKind", "Organisation", "Platform", "Post", "PostChannel", "PostMedia",
    "PostShare", "PostStatus", "PostTarget", "PublishAttempt", "Role", "ScheduleKind", "TargetStatus", "User",
    "ItemReply", "LoginFailure", "OrgEvent", "ReplyStatus", "WebSession",
    "DigestDelivery", "DigestRecipient", "DigestSettings", "DigestStatus", "PlanTarget", "PostMetric",
    "PostMetricSnapshot", "TargetKind",
]
