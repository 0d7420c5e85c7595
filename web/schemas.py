"""HTTP request and response bodies of the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from db.models import ChannelStatus, OrgKind, Platform, PostStatus, Role, ScheduleKind, TargetStatus


class Strict(BaseModel):
    """Unknown fields are refused rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class OrgCreate(Strict):
    name: str = Field(min_length=1, max_length=255)
    kind: OrgKind
    parent_id: int | None = None


class OrgRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: OrgKind
    parent_id: int | None
    depth: int


class MemberCreate(Strict):
    email: str = Field(min_length=3, max_length=255)
    full_name: str = Field(default="", max_length=255)
    role: Role


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    email: str
    full_name: str


class Slot(Strict):
    weekdays: list[int] = Field(default_factory=lambda: list(range(7)), max_length=7)
    time: str = Field(pattern=r"^\d{2}:\d{2}$")


class ChannelCreate(Strict):
    platform: Platform
    access_token: str = Field(min_length=1, max_length=4096)
    refresh_token: str | None = Field(default=None, max_length=4096)
    external_id: str | None = Field(default=None, max_length=64)
    slots: list[Slot] = Field(default_factory=list, max_length=50)
    default_cover_url: str | None = Field(default=None, max_length=1024)


class CredentialsUpdate(Strict):
    access_token: str = Field(min_length=1, max_length=4096)
    refresh_token: str | None = Field(default=None, max_length=4096)


class ChannelStatusUpdate(Strict):
    status: ChannelStatus
    reason: str = Field(default="", max_length=1000)


class ChannelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_id: int
    platform: Platform
    external_id: str
    name: str
    status: ChannelStatus
    status_reason: str | None
    token_expires_at: datetime | None
    paused_until: datetime | None
    slots: list
    default_cover_url: str | None


class CampaignCreate(Strict):
    name: str = Field(min_length=1, max_length=255)
    description: str = Field(default="", max_length=5000)
    starts_on: str | None = None
    ends_on: str | None = None


class CampaignRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_id: int
    name: str
    description: str


class MediaRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    filename: str
    content_type: str
    size: int
    width: int
    height: int
    url: str | None = None


class ScheduleIn(Strict):
    kind: ScheduleKind
    at: str | None = Field(default=None, description="ISO 8601; without an offset it is read in `timezone`.")
    timezone: str = "Asia/Ho_Chi_Minh"
    rrule: str | None = Field(default=None, max_length=512, description="RFC 5545, e.g. FREQ=WEEKLY;BYDAY=MO")


class ChannelChoiceIn(Strict):
    channel_id: int
    title: str | None = Field(default=None, max_length=255)
    text: str | None = Field(default=None, max_length=70000)
    link: str | None = Field(default=None, max_length=2048)


class PostWrite(Strict):
    text: str = Field(default="", max_length=70000)
    title: str | None = Field(default=None, max_length=255)
    link: str | None = Field(default=None, max_length=2048)
    campaign_id: int | None = None
    media_ids: list[int] = Field(default_factory=list, max_length=10)
    channels: list[ChannelChoiceIn] = Field(default_factory=list, max_length=50)
    schedule: ScheduleIn | None = None
    broadcast: bool = False


class PostCreate(PostWrite):
    org_id: int
    submit: bool = Field(default=False, description="Gửi duyệt ngay sau khi tạo.")


class Reason(Strict):
    reason: str = Field(default="", max_length=2000)


class ApproveIn(Strict):
    note: str | None = Field(default=None, max_length=2000)


class ShareIn(Strict):
    org_ids: list[int] = Field(min_length=1, max_length=1000)
    note: str = Field(default="", max_length=2000)


class AdoptIn(Strict):
    channels: list[ChannelChoiceIn] = Field(min_length=1, max_length=50)
    schedule: ScheduleIn
    text: str | None = Field(default=None, max_length=70000)
    title: str | None = Field(default=None, max_length=255)
    link: str | None = Field(default=None, max_length=2048)


class TargetRead(BaseModel):
    id: int
    channel_id: int
    channel_name: str
    platform: Platform
    status: TargetStatus
    scheduled_at: datetime
    scheduled_local: str
    published_at: datetime | None
    published_local: str | None
    external_id: str | None
    external_url: str | None
    attempts: int
    last_error: str | None


class PostRead(BaseModel):
    id: int
    org_id: int
    author_id: int | None
    title: str | None
    text: str
    link: str | None
    status: PostStatus
    version: int
    campaign_id: int | None
    media_ids: list[int]
    channels: list[ChannelChoiceIn]
    schedule_kind: ScheduleKind | None
    scheduled_at: datetime | None
    rrule: str | None
    broadcast: bool
    rejection_reason: str | None
    approved_by_id: int | None
    approved_at: datetime | None
    source_post_id: int | None
    approved_snapshot: dict | None = Field(
        default=None, description="Nội dung đã được duyệt gần nhất: so với nội dung hiện tại để thấy phần đã sửa.")
    created_at: datetime
    targets: list[TargetRead]


class AuditRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor_label: str
    action: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    data: dict | None


class SharedContent(BaseModel):
    """What a sub-organisation sees of a post shared with it (it cannot open the upper level's post)."""

    model_config = ConfigDict(from_attributes=True)
    title: str | None
    text: str
    link: str | None
    broadcast: bool


class ShareRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    post_id: int
    from_org_id: int
    to_org_id: int
    note: str
    shared_at: datetime
    adopted_post_id: int | None
    post: SharedContent


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    message: str
    created_at: datetime
    read_at: datetime | None


class Page(BaseModel):
    total: int
    items: list


OrderField = Literal["created_at", "scheduled_at"]


class ErrorDetail(BaseModel):
    """What went wrong, in Vietnamese; ``fields`` lists invalid input, some errors add the ids concerned."""

    model_config = ConfigDict(extra="allow")
    code: str
    message: str


class ErrorBody(BaseModel):
    """The body of every 4xx/5xx answer of the API."""

    error: ErrorDetail
