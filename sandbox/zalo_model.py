"""Zalo domain operations: OAs, token pairs, followers, messages, webhook events (B2, B6, B7)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from sandbox.state import OA, ZaloApp, ZaloMessage, ZaloRefresh, ZaloToken, ZaloUser


def ms(ts: float) -> int:
    """Epoch milliseconds (Zalo's unit)."""
    return int(ts * 1000)


def create_oa(emu, *, name: str, oa_id: str | None = None, app_id: str | None = None, secret: str | None = None,
              oa_secret: str | None = None, access_token: str | None = None, refresh_token: str | None = None,
              description: str = "", redirect_uri: str | None = None) -> tuple[OA, ZaloToken, ZaloRefresh]:
    """Create an OA (and its app when new) authorised with a fresh token pair."""
    w = emu.world
    oa_id = str(oa_id or w.numeric_id(19))
    if oa_id in w.oas:
        raise ValueError(f"OA {oa_id} already exists")
    app_id = str(app_id or w.numeric_id(19))
    app = w.zalo_apps.get(app_id)
    if app is None:
        app = w.zalo_apps[app_id] = ZaloApp(app_id=app_id, secret=secret or w.token("", 20),
                                            oa_secret=oa_secret or w.token("", 20), redirect_uri=redirect_uri)
    else:
        app.secret = secret or app.secret
        app.oa_secret = oa_secret or app.oa_secret
        app.redirect_uri = redirect_uri or app.redirect_uri
    oa = OA(oa_id=oa_id, name=name, app_id=app_id, description=description)
    w.oas[oa_id] = oa
    tok, ref = issue_pair(emu, oa, access_token=access_token, refresh_token=refresh_token)
    return oa, tok, ref


def issue_pair(emu, oa: OA, *, access_token: str | None = None,
               refresh_token: str | None = None) -> tuple[ZaloToken, ZaloRefresh]:
    """New access token (25 h) and single-use refresh token (~3 months) on the emulator clock."""
    w, cfg, now = emu.world, emu.cfg, emu.clock.now()
    tok = ZaloToken(token=access_token or w.token("zat_", 64), oa_id=oa.oa_id, app_id=oa.app_id, issued_at=now,
                    expires_at=now + cfg.zalo_access_token_ttl_s)
    ref = ZaloRefresh(token=refresh_token or w.token("zrt_", 64), oa_id=oa.oa_id, app_id=oa.app_id,
                      issued_at=now, expires_at=now + cfg.zalo_refresh_token_ttl_s)
    w.zalo_tokens[tok.token] = tok
    w.zalo_refresh[ref.token] = ref
    return tok, ref


def token_pair_json(emu, tok: ZaloToken, ref: ZaloRefresh) -> dict:
    """Flat token answer; `expires_in` is a string like the real endpoint (B2)."""
    ttl = int(tok.expires_at - tok.issued_at)
    return {"access_token": tok.token, "refresh_token": ref.token,
            "expires_in": str(ttl) if emu.cfg.zalo_expires_in_as_string else ttl}


def add_user(emu, oa: OA, *, display_name: str, user_id: str | None = None, is_follower: bool = True,
             last_interaction: float | None = None, avatar: str | None = None, tags=None) -> ZaloUser:
    """Add (or update) a user known to the OA."""
    w = emu.world
    user_id = str(user_id or w.numeric_id(19))
    user = oa.users.get(user_id)
    if user is None:
        user = oa.users[user_id] = ZaloUser(user_id=user_id, display_name=display_name,
                                            user_id_by_app=w.numeric_id(19),
                                            avatar=avatar or f"https://s120-ava-talk.zadn.vn/emu/{user_id}.jpg")
    user.display_name = display_name or user.display_name
    user.is_follower = is_follower
    if last_interaction is not None:
        user.last_interaction = last_interaction
    if tags is not None:
        user.tags = list(tags)
    return user


def _store(emu, oa: OA, user: ZaloUser, src: int, text: str, mtype: str, attachments=None) -> ZaloMessage:
    m = ZaloMessage(message_id=emu.world.hex_id(32), user_id=user.user_id, src=src,
                    time_ms=ms(emu.clock.now()), type=mtype, text=text, seq=emu.world.next_seq(),
                    attachments=list(attachments or []))
    oa.messages.append(m)
    return m


def user_message(emu, oa: OA, user: ZaloUser, text: str, *, attachments=None) -> ZaloMessage:
    """A follower writes to the OA: counts as an interaction and fires user_send_text/_image."""
    m = _store(emu, oa, user, 1, text, "photo" if attachments else "text", attachments)
    user.last_interaction = emu.clock.now()
    event = "user_send_image" if attachments else "user_send_text"
    message = {"msg_id": m.message_id, "text": text}
    if attachments:
        message["attachments"] = attachments
    emit(emu, [event_payload(emu, oa, event, user, message=message)])
    return m


def oa_message(emu, oa: OA, user: ZaloUser, text: str, mtype: str = "text") -> ZaloMessage:
    """The OA answers a user (CS message)."""
    m = _store(emu, oa, user, 0, text, mtype)
    if emu.cfg.zalo_emit_oa_send_events:
        emit(emu, [event_payload(emu, oa, "oa_send_text", user, message={"msg_id": m.message_id, "text": text})])
    return m


def event_payload(emu, oa: OA, event_name: str, user: ZaloUser, *, message: dict | None = None,
                  at: float | None = None, source: str = "oa_profile") -> dict:
    """B7-shaped webhook body; `timestamp` is a string of epoch ms and takes part in the signature."""
    app_id = emu.webhooks.zalo.get("app_id") or oa.app_id
    ts = str(ms(at if at is not None else emu.clock.now()))
    if event_name in ("follow", "unfollow"):
        return {"oa_id": oa.oa_id, "follower": {"id": user.user_id}, "user_id_by_app": user.user_id_by_app,
                "event_name": event_name, "source": source, "app_id": app_id, "timestamp": ts}
    if event_name.startswith("oa_send"):
        sender, recipient = {"id": oa.oa_id}, {"id": user.user_id}
    else:
        sender, recipient = {"id": user.user_id}, {"id": oa.oa_id}
    body = {"app_id": app_id, "user_id_by_app": user.user_id_by_app, "event_name": event_name,
            "sender": sender, "recipient": recipient, "timestamp": ts}
    if message is not None:
        body["message"] = message
    return body


def emit(emu, payloads: list[dict], **switches) -> list[int]:
    """Send Zalo webhook deliveries if a receiver is configured."""
    return emu.webhooks.send("zalo", payloads, **switches) if emu.webhooks.configured("zalo") else []


def render_message(oa: OA, m: ZaloMessage) -> dict:
    """Message object as listrecentchat/conversation return it."""
    user = oa.users.get(m.user_id)
    uname = user.display_name if user else ""
    uavatar = user.avatar if user else ""
    oa_avatar = f"https://s160-ava-talk.zadn.vn/emu/{oa.oa_id}.jpg"
    if m.src == 1:
        ends = (m.user_id, uname, uavatar, oa.oa_id, oa.name, oa_avatar)
    else:
        ends = (oa.oa_id, oa.name, oa_avatar, m.user_id, uname, uavatar)
    out = {"src": m.src, "time": m.time_ms,
           "sent_time": datetime.fromtimestamp(m.time_ms / 1000, timezone.utc).strftime("%H:%M:%S %d/%m/%Y"),
           "from_id": ends[0], "from_display_name": ends[1], "from_avatar": ends[2],
           "to_id": ends[3], "to_display_name": ends[4], "to_avatar": ends[5],
           "message_id": m.message_id, "type": m.type, "message": m.text}
    if m.attachments:
        payload = m.attachments[0].get("payload", {})
        out.update(url=payload.get("url"), thumb=payload.get("thumbnail") or payload.get("url"))
    return out


def article_link(oa_id: str, article_id: str) -> str:
    """Public URL of an article (zalo.me host kept in data)."""
    return f"https://zalo.me/s/{oa_id}/article/{article_id}"


def now_wall() -> float:
    """Wall-clock time for accepted_at."""
    return time.time()
