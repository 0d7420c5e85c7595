"""Real-time webhooks from Facebook (page feed: comments, posts) and Zalo (follower messages).

The signature is checked on the raw bytes before anything is parsed into items or stored; a bad or
missing signature is 403 and stores nothing. Storing is idempotent (unique platform id), so the
platforms' redeliveries are harmless. Items are classified by the batch classifier moments later.
"""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors import webhooks as hooks
from collectors.base import CollectedItem
from collectors.ingest import Origin, store
from db.models import Channel, Platform
from domain import channels as channel_service
from web.deps import WebRuntime, db, runtime
from web.errors import error_responses

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks", tags=["webhook"], responses=error_responses(400, 403, 409, 413, json_only=True))


async def _body(request: Request, rt: WebRuntime) -> bytes:
    limit = rt.settings.webhook_max_bytes
    if int(request.headers.get("content-length") or 0) > limit:
        raise HTTPException(413, "Nội dung webhook quá lớn.")
    body = await request.body()
    if len(body) > limit:
        raise HTTPException(413, "Nội dung webhook quá lớn.")
    return body


def _store_by_account(session: Session, rt: WebRuntime, platform: Platform, items: list[CollectedItem]) -> int:
    """Store items under the channel their page/OA id belongs to; items for unknown accounts are dropped."""
    by_account: dict[str, list[CollectedItem]] = {}
    for item in items:
        by_account.setdefault(item.account_ref or "", []).append(item)
    stored = 0
    for account, group in by_account.items():
        channel = session.scalar(select(Channel).where(Channel.platform == platform, Channel.external_id == account))
        if channel is None:
            logger.info("webhook for an unknown account ignored", extra={"platform": platform, "account": account})
            continue
        result = store(session, group, Origin(org_id=channel.org_id, channel_id=channel.id),
                       salt=rt.settings.author_salt.get_secret_value())
        stored += len(result.new_ids)
    session.commit()
    return stored


@router.get("/facebook", response_class=PlainTextResponse)
def facebook_verify(request: Request, rt: WebRuntime = Depends(runtime)) -> str:
    """The subscription handshake: echo hub.challenge when the verify token matches."""
    challenge = hooks.facebook_handshake(dict(request.query_params),
                                         rt.settings.facebook_verify_token.get_secret_value())
    if challenge is None:
        raise HTTPException(403, "Mã xác minh webhook không đúng.")
    return challenge


@router.post("/facebook")
async def facebook_event(request: Request, rt: WebRuntime = Depends(runtime), session: Session = Depends(db)) -> dict:
    """Page feed changes (comments, posts), signed X-Hub-Signature-256 with the app secret."""
    body = await _body(request, rt)
    secret = rt.settings.facebook_app_secret.get_secret_value()
    if not secret or not hooks.verify_facebook_signature(secret, body, request.headers.get("x-hub-signature-256")):
        raise HTTPException(403, "Chữ ký webhook Facebook không hợp lệ.")
    try:
        items = hooks.parse_facebook_webhook(body)
    except ValueError as exc:
        raise HTTPException(400, "Nội dung webhook Facebook không đọc được.") from exc
    # Database work off the event loop: a burst of deliveries must not stall other requests.
    return {"stored": await run_in_threadpool(_store_by_account, session, rt, Platform.facebook_page, items)}


@router.post("/zalo")
async def zalo_event(request: Request, rt: WebRuntime = Depends(runtime), session: Session = Depends(db)) -> dict:
    """Zalo OA events, signed X-ZEvent-Signature: mac = sha256(app_id + body + timestamp + OA secret key)."""
    body = await _body(request, rt)
    try:
        envelope = json.loads(body)
    except ValueError as exc:
        raise HTTPException(403, "Chữ ký webhook Zalo không hợp lệ.") from exc  # unsigned garbage: refuse, store nothing
    if not isinstance(envelope, dict):
        raise HTTPException(403, "Chữ ký webhook Zalo không hợp lệ.")
    secret = await run_in_threadpool(_zalo_secret, session, rt, envelope)
    if not secret or not hooks.verify_zalo_signature(
            app_id=str(envelope.get("app_id") or rt.settings.zalo_app_id), secret=secret, body=body,
            timestamp=str(envelope.get("timestamp", "")), header=request.headers.get("x-zevent-signature")):
        raise HTTPException(403, "Chữ ký webhook Zalo không hợp lệ.")
    try:
        items = hooks.parse_zalo_webhook(body)
    except ValueError as exc:
        raise HTTPException(400, "Nội dung webhook Zalo không đọc được.") from exc
    return {"stored": await run_in_threadpool(_store_by_account, session, rt, Platform.zalo_oa, items)}


def _zalo_secret(session: Session, rt: WebRuntime, envelope: dict) -> str:
    """The OA secret key: the channel's own when its credentials carry one, else the configured one."""
    oa_id = hooks.zalo_oa_id(envelope)
    if oa_id:
        channel = session.scalar(select(Channel).where(Channel.platform == Platform.zalo_oa,
                                                       Channel.external_id == oa_id))
        if channel is not None:
            try:
                own = channel_service.credentials_of(channel, rt.cipher).get("oa_secret_key")
            except Exception:  # noqa: BLE001 - undecryptable credentials: fall back to the configured key
                logger.warning("zalo channel credentials unreadable", extra={"channel_id": channel.id})
                own = None
            if own:
                return own
    return rt.settings.zalo_oa_secret_key.get_secret_value()
