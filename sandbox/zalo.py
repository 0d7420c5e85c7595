"""Fake https://openapi.zalo.me mounted at /zalo/openapi: auth, budget, OA/user/message endpoints."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from datetime import datetime, timezone

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sandbox.responses import json_response, zalo_error_body
from sandbox.state import OA, ZaloToken
from sandbox.zalo_model import ms, oa_message, render_message

log = logging.getLogger("sandbox.zalo")
DAY = 86_400


class ZaloError(Exception):
    """Application error: negative code in an HTTP 200 body (B3)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def invalid(field: str, why: str = "") -> ZaloError:
    """-201 '<field> is invalid' (the field name is in the message, B8)."""
    return ZaloError(-201, f"{field} is invalid" + (f": {why}" if why else ""))


class ZCtx:
    """Current Zalo request: emulator, OA, token, merged parameters and uploaded files."""

    def __init__(self, emu, request: Request) -> None:
        self.emu, self.request = emu, request
        self.params: dict = {}
        self.files: dict[str, tuple[str, str, bytes]] = {}
        self.oa: OA | None = None
        self.token: ZaloToken | None = None

    async def load(self) -> None:
        """GET: plain params plus the `data=` JSON param; POST: JSON body, or multipart for uploads."""
        req = self.request
        self.params = {k: v for k, v in req.query_params.items() if k != "data"}
        data = req.query_params.get("data")
        if data:
            try:
                parsed = json.loads(data)
            except ValueError:
                raise invalid("data", "not valid JSON") from None
            if not isinstance(parsed, dict):
                raise invalid("data")
            self.params.update(parsed)
        if req.method != "POST":
            return
        ctype = req.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data") or ctype.startswith("application/x-www-form-urlencoded"):
            form = await req.form(max_part_size=16 * 1024 * 1024)
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    self.files[key] = (value.filename or "", value.content_type or "", await value.read())
                else:
                    self.params[key] = value
            return
        raw = await req.body()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                raise invalid("body", "not valid JSON") from None
            if isinstance(body, dict):
                self.params.update(body)

    def int(self, name: str, default: int) -> int:
        """Integer parameter; -201 when unreadable."""
        v = self.params.get(name, default)
        try:
            return int(v)
        except (TypeError, ValueError):
            raise invalid(name) from None

    def count(self, name: str, default: int, maximum: int) -> int:
        """`count`/`limit` with the platform cap: silently capped or -201 (configurable)."""
        n = self.int(name, default)
        if n < 0:
            raise invalid(name)
        if n > maximum:
            if self.emu.cfg.zalo_count_over_limit == "error":
                raise invalid(name, f"maximum is {maximum}")
            n = maximum
        return n


def authenticate(ctx: ZCtx) -> ZaloToken:
    """`access_token` header → token; -216 missing/unknown, -220 expired, -242 bad appsecret_proof."""
    emu, req = ctx.emu, ctx.request
    raw = req.headers.get("access_token")
    if not raw and emu.cfg.zalo_accept_query_token:
        raw = req.query_params.get("access_token")
    tok = emu.world.zalo_tokens.get(raw or "")
    if tok is None:
        raise ZaloError(-216, "Access token is invalid")
    if tok.revoked_code:
        raise ZaloError(tok.revoked_code, "Access token is invalid" if tok.revoked_code == -216
                        else "Access token has expired or been removed")
    if tok.expires_at <= emu.clock.now():
        raise ZaloError(-220, "Access token has expired")
    proof = req.headers.get("appsecret_proof")
    if proof is not None or emu.cfg.zalo_require_appsecret_proof:
        app = emu.world.zalo_apps[tok.app_id]
        want = hmac.new(app.secret.encode(), tok.token.encode(), hashlib.sha256).hexdigest()
        if not proof or not hmac.compare_digest(proof, want):
            raise ZaloError(-242, "appsecret_proof is invalid")
    ctx.token, ctx.oa = tok, emu.world.oas[tok.oa_id]
    return tok


# --------------------------------------------------------------------------- OA, users, chats

async def getoa(ctx: ZCtx) -> dict:
    """GET /v2.0/oa/getoa."""
    oa = ctx.oa
    return {"oa_id": oa.oa_id, "name": oa.name, "description": oa.description, "oa_alias": f"oa_{oa.oa_id[-6:]}",
            "is_verified": oa.is_verified, "oa_type": 2, "cate_name": "Tổ chức xã hội",
            "num_follower": sum(1 for u in oa.users.values() if u.is_follower),
            "avatar": f"https://s160-ava-talk.zadn.vn/emu/{oa.oa_id}.jpg", "cover": "",
            "package_name": "Gói Nâng cao", "package_valid_through_date": "31/12/2099"}


async def listrecentchat(ctx: ZCtx) -> list:
    """Latest message per user, newest first; `count` ≤ 10, offset paging."""
    offset = ctx.int("offset", 0)
    count = ctx.count("count", 10, ctx.emu.cfg.zalo_chat_max_count)
    latest: dict[str, object] = {}
    for m in ctx.oa.messages:
        latest[m.user_id] = m
    rows = sorted(latest.values(), key=lambda m: m.seq, reverse=True)
    return [render_message(ctx.oa, m) for m in rows[offset:offset + count]]


async def conversation(ctx: ZCtx) -> list:
    """Messages with one user, newest first; `count` ≤ 10, offset paging."""
    uid = str(ctx.params.get("user_id") or "")
    if uid not in ctx.oa.users:
        raise invalid("user_id")
    offset = ctx.int("offset", 0)
    count = ctx.count("count", 10, ctx.emu.cfg.zalo_chat_max_count)
    rows = [m for m in reversed(ctx.oa.messages) if m.user_id == uid]
    return [render_message(ctx.oa, m) for m in rows[offset:offset + count]]


_PERIODS = {"TODAY": 1, "YESTERDAY": 2, "L7D": 7, "L30D": 30}


async def user_getlist(ctx: ZCtx) -> dict:
    """GET /v3.0/oa/user/getlist: `count` ≤ 50, optional tag/interaction/follower filters."""
    cfg, now = ctx.emu.cfg, ctx.emu.clock.now()
    offset = ctx.int("offset", 0)
    if offset > cfg.zalo_user_list_offset_cap:
        raise invalid("offset", f"maximum is {cfg.zalo_user_list_offset_cap}")
    count = ctx.count("count", 50, cfg.zalo_user_list_max_count)
    users = list(ctx.oa.users.values())
    if "is_follower" in ctx.params:
        want = str(ctx.params["is_follower"]).lower() in ("true", "1")
        users = [u for u in users if u.is_follower == want]
    if ctx.params.get("tag_name"):
        users = [u for u in users if ctx.params["tag_name"] in u.tags]
    period = str(ctx.params.get("last_interaction_period") or "").upper()
    if period:
        if period not in _PERIODS:
            raise invalid("last_interaction_period")
        users = [u for u in users if u.last_interaction and now - u.last_interaction <= _PERIODS[period] * DAY]
    page = users[offset:offset + count]
    return {"total": len(users), "count": len(page), "offset": offset,
            "users": [{"user_id": u.user_id} for u in page]}


def _user(ctx: ZCtx):
    uid = str(ctx.params.get("user_id") or "")
    user = ctx.oa.users.get(uid)
    if user is None:
        raise invalid("user_id")
    return user


async def user_detail(ctx: ZCtx) -> dict:
    """GET /v3.0/oa/user/detail."""
    u = _user(ctx)
    last = (datetime.fromtimestamp(u.last_interaction, timezone.utc).strftime("%d/%m/%Y")
            if u.last_interaction else None)
    return {"user_id": u.user_id, "user_id_by_app": u.user_id_by_app, "display_name": u.display_name,
            "user_alias": u.display_name, "is_sensitive": False, "user_last_interaction_date": last,
            "user_is_follower": u.is_follower, "avatar": u.avatar,
            "avatars": {"120": u.avatar, "240": u.avatar.replace("s120", "s240")},
            "tags_and_notes_info": {"tag_names": list(u.tags), "notes": []}, "shared_info": None}


async def send_cs(ctx: ZCtx) -> dict:
    """POST /v3.0/oa/message/cs: ≤ 2,000 chars, rejected (-230) after 7 days without interaction."""
    emu, cfg = ctx.emu, ctx.emu.cfg
    recipient = ctx.params.get("recipient")
    message = ctx.params.get("message")
    if not isinstance(recipient, dict) or not recipient.get("user_id"):
        raise invalid("recipient.user_id")
    user = ctx.oa.users.get(str(recipient["user_id"]))
    if user is None:
        raise invalid("recipient.user_id")
    if not isinstance(message, dict) or not (message.get("text") or message.get("attachment")):
        raise invalid("message")
    text = message.get("text")
    if text is not None and (not isinstance(text, str) or len(text) > cfg.zalo_cs_max_chars):
        raise invalid("message.text", f"maximum length is {cfg.zalo_cs_max_chars} characters")
    now = emu.clock.now()
    if user.last_interaction is None or now - user.last_interaction > cfg.zalo_cs_max_window_s:
        raise ZaloError(cfg.zalo_cs_window_error, "User has not interacted with the OA in the past 7 days")
    mtype = "text"
    if message.get("attachment"):
        mtype = _check_attachment(ctx, message["attachment"])
    m = oa_message(emu, ctx.oa, user, text or "", mtype)
    return {"message_id": m.message_id, "user_id": user.user_id, "sent_time": str(m.time_ms)}


def _check_attachment(ctx: ZCtx, att) -> str:
    if not isinstance(att, dict):
        raise invalid("message.attachment")
    payload = att.get("payload") or {}
    ids = [payload.get("token")] if att.get("type") == "file" else [
        e.get("attachment_id") for e in payload.get("elements") or [] if isinstance(e, dict)]
    for aid in filter(None, ids):
        up = ctx.oa.uploads.get(aid)
        if up is None:
            raise invalid("attachment_id")
        if ctx.emu.clock.now() - up["created"] > ctx.emu.cfg.zalo_asset_ttl_s:
            raise ZaloError(-100, "attachment_id has expired")
    return "file" if att.get("type") == "file" else "photo"


async def quota_message(ctx: ZCtx) -> dict:
    """POST /v3.0/oa/quota/message: last interaction and which window the user is in."""
    u, cfg, now = _user(ctx), ctx.emu.cfg, ctx.emu.clock.now()
    age = now - u.last_interaction if u.last_interaction else None
    return {"user_id": u.user_id, "last_interaction": ms(u.last_interaction) if u.last_interaction else None,
            "in_free_window": age is not None and age <= cfg.zalo_cs_free_window_s,
            "can_send": age is not None and age <= cfg.zalo_cs_max_window_s}


async def zalo_entry(request: Request) -> Response:
    """Every /zalo/openapi/... request: faults, auth, budget, handler, X-RateLimit headers."""
    from sandbox.zalo_routes import ROUTES
    emu = request.app.state.emu
    emu.calls["zalo"] += 1
    version, path = request.path_params["version"], request.path_params["path"].strip("/")
    decision = await emu.faults.before("zalo", request.method, f"/openapi/{version}/{path}")
    if decision.response is not None:
        # Injected gateway errors still carry the rate headers ("on every response", B9).
        known = emu.world.zalo_tokens.get(request.headers.get("access_token") or "")
        decision.response.headers.update(emu.zalo_limits.peek(known.app_id if known else "-"))
        return decision.response
    ctx = ZCtx(emu, request)
    route = ROUTES.get((f"{version}/{path}", request.method))
    headers: dict = {}
    try:
        if route is None:
            _, headers = emu.zalo_limits.take("-")
            return json_response(zalo_error_body(-209, "Not supported this api"), 404, headers)
        try:
            tok = authenticate(ctx)
        except ZaloError:
            _, headers = emu.zalo_limits.take("-")
            raise
        allowed, headers = emu.zalo_limits.take(tok.app_id, tok.oa_id)
        if not allowed:
            raise ZaloError(-32, "The app has reached the limit of API calls per minute")
        await ctx.load()
        data = await route(ctx)
        body = {"error": 0, "message": "Success", "data": data}
    except ZaloError as e:
        body = zalo_error_body(e.code, e.message)
    except HTTPException as e:  # unreadable multipart body
        body = zalo_error_body(-201, f"body is invalid: {e.detail}")
    except Exception:  # noqa: BLE001 - emulator bug → look like a 500 from the platform
        log.exception("zalo handler failed")
        return json_response({"error": -1, "message": "Internal error"}, 500, headers)
    resp = json_response(body, 200, headers)
    if decision.hang_after_s:
        await asyncio.sleep(decision.hang_after_s)
    return resp
