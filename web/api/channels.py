"""Connecting channels (the token is checked on the platform first), re-authorising, slots, status."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import InvalidInput, NotFound
from db.models import Channel, Role, User
from domain import access, channels
from web.deps import WebRuntime, current_user, db, runtime
from web.errors import API_ERRORS, error_responses
from web.schemas import ChannelCreate, ChannelRead, ChannelStatusUpdate, CredentialsUpdate, Slot

router = APIRouter(prefix="/api", tags=["kênh"], responses=API_ERRORS | error_responses(502))


def visible_channel(session: Session, user: User, channel_id: int) -> Channel:
    """A channel of an organisation the user can see, else 404."""
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("Không tìm thấy kênh.", channel_id=channel_id)
    access.get_visible_org(session, user, channel.org_id)
    return channel


@router.get("/orgs/{org_id}/channels", response_model=list[ChannelRead])
def list_channels(org_id: int, user: User = Depends(current_user), session: Session = Depends(db)) -> list:
    """Channels of one organisation."""
    org = access.get_visible_org(session, user, org_id)
    return list(session.scalars(select(Channel).where(Channel.org_id == org.id).order_by(Channel.id)))


@router.post("/orgs/{org_id}/channels", response_model=ChannelRead, status_code=201)
def connect(org_id: int, body: ChannelCreate, user: User = Depends(current_user), session: Session = Depends(db),
            rt: WebRuntime = Depends(runtime)) -> Channel:
    """Connect a Facebook Page or Zalo OA after checking the token with the platform (administrator)."""
    org = access.get_visible_org(session, user, org_id)
    access.require_role(session, user, org, Role.admin)
    creds = channels.validate_credentials(body.platform, body.model_dump())
    info = rt.clients.probe(body.platform.value, body.external_id or "me", creds).whoami()
    if body.external_id and info.external_id != body.external_id:
        raise InvalidInput(f"Mã truy cập thuộc về kênh {info.external_id}, không phải {body.external_id}.")
    channel = channels.connect_channel(
        session, org=org, platform=body.platform, external_id=info.external_id, name=info.name, credentials=creds,
        cipher=rt.cipher, actor=user, slots=[s.model_dump() for s in body.slots],
        default_cover_url=body.default_cover_url)
    session.commit()
    return channel


@router.get("/channels/{channel_id}", response_model=ChannelRead)
def get_channel(channel_id: int, user: User = Depends(current_user), session: Session = Depends(db)) -> Channel:
    """One channel (never its credentials)."""
    return visible_channel(session, user, channel_id)


@router.put("/channels/{channel_id}/credentials", response_model=ChannelRead)
def reauthorise(channel_id: int, body: CredentialsUpdate, user: User = Depends(current_user),
                session: Session = Depends(db), rt: WebRuntime = Depends(runtime)) -> Channel:
    """Replace a channel's token after checking it belongs to the same Page/OA (administrator)."""
    channel = visible_channel(session, user, channel_id)
    access.require_role(session, user, channel.org, Role.admin)
    creds = channels.validate_credentials(channel.platform, body.model_dump())
    info = rt.clients.probe(channel.platform.value, channel.external_id, creds).whoami()
    if info.external_id != channel.external_id:
        raise InvalidInput(f"Mã truy cập thuộc về kênh {info.external_id}, không phải kênh này.")
    channels.replace_credentials(session, channel=channel, credentials=creds, cipher=rt.cipher, actor=user)
    session.commit()
    return channel


@router.put("/channels/{channel_id}/slots", response_model=ChannelRead)
def set_slots(channel_id: int, body: list[Slot], user: User = Depends(current_user),
              session: Session = Depends(db)) -> Channel:
    """Set the weekly queue slots (local time) used by "next free slot" (editor or administrator)."""
    channel = visible_channel(session, user, channel_id)
    access.require_role(session, user, channel.org, Role.editor, Role.admin)
    channel.slots = channels.validate_slots([s.model_dump() for s in body])
    session.commit()
    return channel


@router.put("/channels/{channel_id}/status", response_model=ChannelRead)
def set_status(channel_id: int, body: ChannelStatusUpdate, user: User = Depends(current_user),
               session: Session = Depends(db)) -> Channel:
    """Disable or re-enable a channel (administrator)."""
    channel = visible_channel(session, user, channel_id)
    access.require_role(session, user, channel.org, Role.admin)
    channels.set_status(session, channel=channel, status=body.status, actor=user, reason=body.reason)
    session.commit()
    return channel
