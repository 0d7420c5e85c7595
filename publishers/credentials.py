"""Zalo token refresh: serialised per channel, the new pair stored before it is used."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from common.crypto import CredentialCipher
from common.errors import AuthExpired
from db.base import utcnow
from db.models import Channel
from domain import channels as channel_service
from db.session import session_scope

logger = logging.getLogger(__name__)


def refresh_channel_tokens(factory: sessionmaker[Session], *, channel_id: int, used_access_token: str,
                           cipher: CredentialCipher, auth) -> dict:  # noqa: ANN001
    """Return working credentials for a Zalo channel whose ``used_access_token`` was refused.

    The channel row is locked (a no-op UPDATE takes the row lock on PostgreSQL and the write
    lock on SQLite) for the whole refresh, so two workers never spend the same single-use
    refresh token; the second one finds the pair the first one stored and uses it.
    """
    with session_scope(factory) as session:
        session.execute(update(Channel).where(Channel.id == channel_id).values(updated_at=utcnow()))
        channel = session.get(Channel, channel_id, populate_existing=True)
        creds = channel_service.credentials_of(channel, cipher)
        if creds["access_token"] != used_access_token:
            return creds  # someone refreshed while we waited for the lock
        try:
            pair = auth.refresh(creds["refresh_token"])
        except AuthExpired as exc:
            refused = exc
        else:
            refused = None
        if refused is not None:
            channel_service.mark_needs_reauth(
                session, channel=channel,
                reason="Zalo không gia hạn được mã truy cập (refresh token hết hạn hoặc đã bị thu hồi); "
                       "quản trị viên OA cần cấp quyền lại.")
            session.commit()  # keep the status and the admins' notifications: the raise below rolls back
            raise AuthExpired(refused.message_vi, platform="zalo_oa", refreshable=False)
        new = {"access_token": pair.access_token, "refresh_token": pair.refresh_token}
        channel.credentials_enc = cipher.encrypt(new)
        channel.credentials_version += 1
        channel.token_expires_at = utcnow() + timedelta(seconds=pair.expires_in)
        from domain import audit

        audit.record(session, entity_type="channel", entity_id=channel_id, action="token_refreshed",
                     org_id=channel.org_id, data={"credentials_version": channel.credentials_version})
        logger.info("zalo token refreshed", extra={"channel_id": channel_id})
        return new


def call_with_refresh(factory: sessionmaker[Session], *, channel_id: int, credentials: dict,
                      cipher: CredentialCipher, zalo_auth, build, call):  # noqa: ANN001, ANN201
    """``call(build(credentials))``; on a refreshable auth error (Zalo), refresh the pair once and retry.

    ``build`` makes a platform client from credentials (a publisher, an engager…); ``zalo_auth()``
    makes the OAuth client, only when a refresh is needed (this is the publishing hot path). The
    refresh is ``refresh_channel_tokens``, so concurrent callers never spend the same refresh token.
    """
    try:
        return call(build(credentials))
    except AuthExpired as exc:
        if not exc.refreshable:
            raise
        fresh = refresh_channel_tokens(factory, channel_id=channel_id, used_access_token=credentials["access_token"],
                                       cipher=cipher, auth=zalo_auth())
        return call(build(fresh))
