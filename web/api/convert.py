"""ORM objects → response bodies, with times shown in the local zone where people read them."""

from __future__ import annotations

from datetime import datetime

from db.models import Post
from domain.scheduling import to_local
from web.schemas import ChannelChoiceIn, PostRead, TargetRead


def local(at: datetime | None, tz: str) -> str | None:
    """'07:30 04/05/2027' in the user's zone."""
    return to_local(at, tz).strftime("%H:%M %d/%m/%Y") if at else None


def post_read(post: Post, tz: str) -> PostRead:
    """A post with its per-channel results."""
    targets = [TargetRead(id=t.id, channel_id=t.channel_id, channel_name=t.channel.name, platform=t.channel.platform,
                          status=t.status, scheduled_at=t.scheduled_at, scheduled_local=local(t.scheduled_at, tz),
                          published_at=t.published_at, published_local=local(t.published_at, tz),
                          external_id=t.external_id, external_url=t.external_url, attempts=t.attempts,
                          last_error=t.last_error) for t in post.targets]
    return PostRead(
        id=post.id, org_id=post.org_id, author_id=post.author_id, title=post.title, text=post.text, link=post.link,
        status=post.status, version=post.version, campaign_id=post.campaign_id,
        media_ids=[m.media_id for m in post.media],
        channels=[ChannelChoiceIn(channel_id=c.channel_id, title=c.variant_title, text=c.variant_text,
                                  link=c.variant_link) for c in post.channels],
        schedule_kind=post.schedule_kind, scheduled_at=post.scheduled_at, rrule=post.rrule, broadcast=post.broadcast,
        rejection_reason=post.rejection_reason, approved_by_id=post.approved_by_id, approved_at=post.approved_at,
        source_post_id=post.source_post_id, approved_snapshot=post.approved_snapshot, created_at=post.created_at,
        targets=targets)
