"""Control API for faults, token revocation and webhooks (/__emu/faults, /tokens, /webhooks)."""

from __future__ import annotations

from starlette.routing import Route

from sandbox.control_base import ControlError, endpoint
from sandbox.state import ZaloUser
from sandbox.webhooks import WebhookSender
from sandbox.zalo_model import emit, event_payload

FB_REVOKE_SUBCODES = (458, 459, 460, 463, 464, 467, 492)


def _special(emu, spec: dict) -> dict | None:
    """Fault kinds that are states rather than per-request rules."""
    kind = spec.get("kind")
    if kind == "policy_block":
        return {"policy_block": emu.faults.block(spec.get("page_id"), float(spec.get("duration_s", 3600)),
                                                 spec.get("subcode", emu.cfg.fb_policy_block_subcode))}
    if kind == "throttle":
        duration = float(spec.get("duration_s", 300))
        if spec.get("platform") == "zalo":
            emu.zalo_limits.force(spec.get("app_id"), duration)
            return {"throttle": {"platform": "zalo", "app_id": spec.get("app_id"), "duration_s": duration}}
        scope = spec.get("scope", "page")
        if scope not in ("app", "page"):
            raise ControlError("scope must be app or page")
        key = spec.get("page_id") if scope == "page" else spec.get("app_id")
        return {"throttle": emu.fb_limits.force(scope, key, duration, spec.get("code"))}
    if kind == "revoke_token":
        return revoke(emu, spec)
    return None


@endpoint
async def faults(emu, body, request):
    """POST adds rules (one object or {"rules": [...]}); GET lists; DELETE clears (all, or ?id=)."""
    if request.method == "GET":
        return {"rules": emu.faults.describe(), "policy_blocks": emu.faults.blocks}
    if request.method == "DELETE":
        rule_id = request.query_params.get("id") or body.get("id")
        removed = emu.faults.clear(int(rule_id) if rule_id else None)
        if not rule_id:
            emu.fb_limits.forced.clear()
            emu.zalo_limits.forced_until.clear()
        return {"removed": removed}
    specs = body.get("rules") if isinstance(body.get("rules"), list) else [body]
    out = []
    for spec in specs:
        special = _special(emu, spec)
        if special is not None:
            out.append(special)
            continue
        rule = emu.faults.add(spec)
        out.append({"id": rule.id, **emu.faults.describe()[-1]})
    return out[0] if len(out) == 1 and "rules" not in body else {"rules": out}


def revoke(emu, spec: dict) -> dict:
    """Invalidate tokens: Facebook 190 with a subcode, or Zalo -216/-220."""
    w = emu.world
    if spec.get("platform", "facebook") == "zalo":
        code = int(spec.get("code", -216))
        if code not in (-216, -220):
            raise ControlError("code must be -216 or -220")
        toks = [t for t in w.zalo_tokens.values()
                if t.token == spec.get("access_token") or (spec.get("oa_id") and t.oa_id == spec.get("oa_id"))]
        for t in toks:
            t.revoked_code = code
        return {"revoked": len(toks), "code": code}
    sub = int(spec.get("subcode", 463))
    if sub not in FB_REVOKE_SUBCODES:
        raise ControlError(f"subcode must be one of {FB_REVOKE_SUBCODES}")
    page_id = spec.get("page_id")
    toks = [t for t in w.fb_tokens.values()
            if t.token == spec.get("token") or (page_id and t.page_id == page_id)
            or (spec.get("user_id") and t.user_id == spec.get("user_id"))]
    for t in toks:
        t.revoked_subcode = sub
    return {"revoked": len(toks), "subcode": sub}


@endpoint
async def tokens_revoke(emu, body, request):
    """POST /__emu/tokens/revoke {platform, token|page_id|user_id, subcode} or {platform:"zalo", access_token|oa_id, code}."""
    return revoke(emu, body)


@endpoint
async def tokens_restore(emu, body, request):
    """POST /__emu/tokens/restore: undo every revocation."""
    for t in emu.world.fb_tokens.values():
        t.revoked_subcode = None
    for t in emu.world.zalo_tokens.values():
        t.revoked_code = None
    return {"ok": True}


# --------------------------------------------------------------------------- webhooks

@endpoint
async def webhooks_config(emu, body, request):
    """POST {facebook:{callback_url, verify_token, app_secret?}, zalo:{callback_url, app_id?, oa_secret?}, ...}."""
    hooks, cfg, out = emu.webhooks, emu.cfg, {}
    for key, cfg_key in (("retry_schedule_s", "webhook_retry_schedule_s"), ("redeliver", "webhook_redeliver"),
                         ("timeout_s", "webhook_timeout_s")):
        if key in body:
            setattr(cfg, cfg_key, body[key])
    if "facebook" in body:
        fb = dict(body["facebook"] or {})
        if fb:
            fb.setdefault("app_secret", cfg.fb_app_secret)
            fb.setdefault("verify_token", "")
        hooks.facebook = fb
        if fb.get("callback_url") and fb.pop("handshake", True):
            out["handshake"] = await hooks.handshake()
    if "zalo" in body:
        z = dict(body["zalo"] or {})
        app = emu.world.zalo_apps.get(z.get("app_id") or "") or next(iter(emu.world.zalo_apps.values()), None)
        if z and app is not None:
            z.setdefault("app_id", app.app_id)
            z.setdefault("oa_secret", app.oa_secret)
            z.setdefault("app_secret", app.secret)
        hooks.zalo = z
    out.update(facebook=hooks.facebook, zalo=hooks.zalo)
    return out


def _fb_payloads(emu, events: list[dict], batch: bool) -> list[dict]:
    now, w = emu.clock.now(), emu.world
    payloads = []
    for ev in events:
        if "raw" in ev:
            payloads.append(ev["raw"])
            continue
        page_id = str(ev.get("page_id") or next(iter(w.pages), ""))
        kind = ev.get("type", "comment")
        if kind == "message":
            payloads.append(WebhookSender.fb_messaging(page_id, str(ev.get("sender_id") or w.numeric_id(16)),
                                                       str(ev.get("text", "")), ev.get("mid") or "m_" + w.token("", 24),
                                                       float(ev.get("time", now))))
            continue
        value = {"item": "comment" if kind == "comment" else kind, "verb": ev.get("verb", "add"),
                 "post_id": ev.get("post_id") or f"{page_id}_{w.numeric_id(16)}",
                 "from": ev.get("from") or {"id": w.numeric_id(), "name": "Người dùng Facebook"},
                 "created_time": int(ev.get("created_time", now))}
        if kind == "comment":
            post_local = value["post_id"].split("_", 1)[-1]
            value["comment_id"] = ev.get("comment_id") or f"{post_local}_{w.numeric_id(16)}"
            value["parent_id"] = ev.get("parent_id") or value["post_id"]
        if kind == "reaction":
            value["reaction_type"] = ev.get("reaction_type", "like")
        if ev.get("message") is not None:
            value["message"] = ev["message"]
        payloads.append(WebhookSender.fb_feed(page_id, [value], float(ev.get("time", now))))
    if batch and len(payloads) > 1:
        # One POST carrying every entry, as Meta does when events pile up.
        return [{"object": "page", "entry": [e for p in payloads for e in p.get("entry", [])]}]
    return payloads


def _zalo_payloads(emu, events: list[dict]) -> list[dict]:
    w, out = emu.world, []
    for ev in events:
        if "raw" in ev:
            out.append(ev["raw"])
            continue
        oa = w.oas.get(str(ev.get("oa_id") or "")) or next(iter(w.oas.values()), None)
        if oa is None:
            raise ControlError("no OA to emit for")
        uid = str(ev.get("user_id") or w.numeric_id(19))
        user = oa.users.get(uid) or ZaloUser(user_id=uid, display_name="", user_id_by_app="9" + uid[1:])
        name = ev.get("event_name", "user_send_text")
        at = float(ev["timestamp_ms"]) / 1000 if "timestamp_ms" in ev else None
        message = None
        if name not in ("follow", "unfollow"):
            message = {"msg_id": ev.get("msg_id") or w.hex_id(32)}
            if ev.get("text") is not None:
                message["text"] = ev["text"]
            if ev.get("url"):
                kind = name.replace("user_send_", "").replace("oa_send_", "")
                message["attachments"] = [{"type": kind, "payload": {"url": ev["url"], "thumbnail": ev["url"]}}]
        out.append(event_payload(emu, oa, name, user, message=message, at=at))
    return out


@endpoint
async def webhooks_emit(emu, body, request):
    """POST {platform, events:[...]|event:{...}, batch?, bad_signature?, duplicate?, out_of_order?, redeliver_until_200?}."""
    platform = body.get("platform", "facebook")
    events = body.get("events") or ([body["event"]] if body.get("event") else [])
    if not events:
        raise ControlError("events is required")
    if not emu.webhooks.configured(platform):
        raise ControlError(f"no {platform} webhook receiver configured (POST /__emu/webhooks/config)", 409)
    payloads = (_fb_payloads(emu, events, bool(body.get("batch"))) if platform == "facebook"
                else _zalo_payloads(emu, events))
    switches = dict(bad_signature=bool(body.get("bad_signature")), duplicate=bool(body.get("duplicate")),
                    out_of_order=bool(body.get("out_of_order")), redeliver=body.get("redeliver_until_200"))
    ids = (emu.webhooks.send("facebook", payloads, **switches) if platform == "facebook"
           else emit(emu, payloads, **switches))
    return {"delivery_ids": ids, "payloads": payloads}


@endpoint
async def webhooks_deliveries(emu, body, request):
    """GET /__emu/webhooks/deliveries?platform= ; DELETE clears the log."""
    if request.method == "DELETE":
        emu.webhooks.log.clear()
        return {"ok": True}
    platform = request.query_params.get("platform")
    return {"data": [d for d in emu.webhooks.log if not platform or d["platform"] == platform]}


ROUTES = [
    Route("/__emu/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/__emu/tokens/revoke", tokens_revoke, methods=["POST"]),
    Route("/__emu/tokens/restore", tokens_restore, methods=["POST"]),
    Route("/__emu/webhooks/config", webhooks_config, methods=["POST"]),
    Route("/__emu/webhooks/emit", webhooks_emit, methods=["POST"]),
    Route("/__emu/webhooks/deliveries", webhooks_deliveries, methods=["GET", "DELETE"]),
]
