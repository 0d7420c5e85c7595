"""Graph account endpoints (A2), insights (A8), webhook subscriptions (A9) and Messenger (A7)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from sandbox.engagement import fb_counts
from sandbox.fb_model import ALL_SCOPES, issue_user_token
from sandbox.graph_common import Ctx, GraphError
from sandbox.graph_read import page_list
from sandbox.fields import parse_time
from sandbox.state import Comment, FbUser, Page, Post, fb_time
from sandbox.webhooks import WebhookSender

APP_NAME = "Loa Sandbox"


def _pick(out: dict, ctx: Ctx, default: str) -> dict:
    names = [f.name for f in (ctx.fields or [])] or default.split(",")
    return {"id": out["id"], **{n: out[n] for n in names if n in out and out[n] is not None}}


def _page_dict(ctx: Ctx, page: Page) -> dict:
    tok = ctx.token
    manages = tok is not None and tok.kind == "user" and page.id in ctx.emu.world.fb_users[tok.user_id].page_ids
    return {"id": page.id, "name": page.name, "category": page.category, "fan_count": page.fan_count,
            "followers_count": page.followers_count, "link": f"https://www.facebook.com/{page.id}",
            "verification_status": "not_verified",
            "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"],
            "access_token": page.page_token if manages else None}


async def page_node(ctx: Ctx, page: Page) -> dict:
    """GET /{page-id}?fields=id,name,…"""
    return _pick(_page_dict(ctx, page), ctx, "id,name")


async def user_node(ctx: Ctx, user: FbUser) -> dict:
    """GET /me with a user token."""
    return _pick({"id": user.id, "name": user.name}, ctx, "id,name")


async def accounts(ctx: Ctx, user: FbUser) -> dict:
    """GET /me/accounts: the user's Pages with their Page tokens."""
    ctx.require_scope("pages_show_list")
    pages = [ctx.emu.world.pages[p] for p in user.page_ids if p in ctx.emu.world.pages]
    rows = [_Row(p, 0.0, i) for i, p in enumerate(pages)]  # page_list orders by (created_time, seq)
    return page_list(ctx, rows, desc=False,
                     render=lambda r: _pick(_page_dict(ctx, r.obj), ctx, "id,name,access_token,category,tasks"))


class _Row:
    """Adapter giving any object the (created_time, seq) ordering page_list expects."""

    def __init__(self, obj, created_time: float, seq: int) -> None:
        self.obj, self.created_time, self.seq = obj, created_time, seq


# --------------------------------------------------------------------------- OAuth

def _check_client(ctx: Ctx) -> None:
    cfg = ctx.emu.cfg
    if ctx.str("client_id") != cfg.fb_app_id:
        raise GraphError(101, "Error validating application. Invalid application ID.")
    if ctx.str("client_secret") != cfg.fb_app_secret:
        raise GraphError(1, "Error validating client secret.")


async def oauth_access_token(ctx: Ctx) -> dict:
    """GET /oauth/access_token: client_credentials, fb_exchange_token, or code exchange."""
    emu, cfg = ctx.emu, ctx.emu.cfg
    _check_client(ctx)
    grant = ctx.str("grant_type")
    if grant == "client_credentials":
        return {"access_token": f"{cfg.fb_app_id}|{cfg.fb_app_secret}", "token_type": "bearer"}
    if grant == "fb_exchange_token":
        short = ctx.lookup_token(ctx.str("fb_exchange_token"), required=True)
        if short.kind == "page":
            return {"access_token": short.token, "token_type": "bearer"}
        long = issue_user_token(emu, short.user_id, None, scopes=short.scopes)
        return {"access_token": long.token, "token_type": "bearer", "expires_in": cfg.fb_long_token_ttl_s}
    code = ctx.str("code")
    if not code:
        raise GraphError(100, "(#100) Missing grant_type, code or fb_exchange_token")
    entry = emu.world.fb_codes.get(code)
    if entry is None:
        raise GraphError(100, "Invalid verification code format.", subcode=36007)
    user_id, expires, used = entry
    if used:
        raise GraphError(100, "This authorization code has been used.", subcode=36009)
    if expires <= emu.clock.now():
        raise GraphError(100, "This authorization code has expired.", subcode=36007)
    emu.world.fb_codes[code] = (user_id, expires, True)
    tok = issue_user_token(emu, user_id, cfg.fb_short_token_ttl_s)
    return {"access_token": tok.token, "token_type": "bearer", "expires_in": cfg.fb_short_token_ttl_s}


async def debug_token(ctx: Ctx) -> dict:
    """GET /debug_token?input_token=…&access_token=APPID|SECRET."""
    ctx.authenticate()
    raw = ctx.str("input_token")
    if not raw:
        raise GraphError(100, "(#100) The parameter input_token is required")
    cfg = ctx.emu.cfg
    data: dict = {"app_id": cfg.fb_app_id, "application": APP_NAME}
    try:
        tok = ctx.lookup_token(raw, required=True)
    except GraphError as e:
        known = ctx.emu.world.fb_tokens.get(raw)
        data.update(is_valid=False, scopes=[], error={"code": 190, "message": e.message, "subcode": e.subcode})
        if known:
            data.update(type=known.kind.upper(), user_id=known.user_id, issued_at=int(known.issued_at),
                        expires_at=int(known.expires_at or 0))
        return {"data": data}
    data.update(type=tok.kind.upper(), is_valid=True, issued_at=int(tok.issued_at),
                expires_at=int(tok.expires_at or 0), data_access_expires_at=int(tok.issued_at + 90 * 86400),
                scopes=sorted(tok.scopes or ALL_SCOPES),
                granular_scopes=[{"scope": s, **({"target_ids": [tok.page_id]} if tok.page_id else {})}
                                 for s in sorted(tok.scopes or ALL_SCOPES)])
    if tok.user_id:
        data["user_id"] = tok.user_id
    if tok.page_id:
        data["profile_id"] = tok.page_id
    return {"data": data}


# --------------------------------------------------------------------------- insights

def _metric_value(emu, name: str, post: Post | None, page: Page) -> object:
    posts = [post] if post else [p for p in page.posts if not p.deleted]
    counts = [fb_counts(emu, p) for p in posts]
    views = sum(c.views for c in counts)
    reactions = sum(c.reactions for c in counts)
    if name in ("post_reactions_by_type_total",):
        return {"like": reactions}
    if name == "post_clicks_by_type":
        return {"other clicks": reactions // 2, "link clicks": reactions // 3}
    if "unique" in name:
        return sum(c.unique_views for c in counts)
    if "click" in name:
        return reactions // 2
    if "follow" in name:
        return page.followers_count
    if "engagement" in name:
        return reactions + sum(len(p.comments) for p in posts) + sum(c.shares for c in counts)
    return views


async def insights(ctx: Ctx, obj, metric_path: str | None = None) -> dict:
    """GET /{post-id|page-id}/insights: one invalid or deprecated metric fails the whole call.

    Post metrics are lifetime totals (one value, no paging). Page metrics by day cover the
    ``since``/``until`` window (default: the last two days, at most 90 days) and page like Graph's:
    ``previous`` and ``next`` are the same query over the window before and after.
    """
    ctx.require_scope("read_insights")
    cfg, emu = ctx.emu.cfg, ctx.emu
    raw = metric_path or ctx.str("metric") or ""
    if raw.startswith("["):
        try:
            metrics = [str(m) for m in json.loads(raw)]
        except ValueError:
            metrics = []
    else:
        metrics = [m.strip() for m in raw.split(",") if m.strip()]
    if not metrics:
        raise GraphError(3001, "Invalid query", subcode=1504028, user_title="No Metric Specified",
                         user_msg="No metric was specified to be fetched. Please specify one or more metrics.")
    is_post = isinstance(obj, Post)
    prefix = "post_" if is_post else "page_"
    for m in metrics:
        if m in cfg.fb_deprecated_metrics or m not in cfg.fb_valid_metrics or not m.startswith(prefix):
            raise GraphError(100, "(#100) The value must be a valid insights metric",
                             user_msg=f"The metric {m} is not a valid insights metric.")
    page = emu.world.pages[obj.page_id if is_post else obj.id]
    now = emu.clock.now()
    period = ctx.str("period") or ("lifetime" if is_post else "day")
    data = []
    since = until = None
    if not is_post and period != "lifetime":
        until = _ts(ctx, "until", now)
        since = _ts(ctx, "since", until - 2 * 86400)
        if until - since > 90 * 86400:
            raise GraphError(100, "(#100) There cannot be more than 90 days (7776000 s) between since and until")
    for m in metrics:
        value = _metric_value(emu, m, obj if is_post else None, page)
        if since is None:
            values = [{"value": value}]
        else:
            days = max(1, int((until - since) // 86400))
            values = [{"value": value if isinstance(value, dict) else value // days,
                       "end_time": fb_time(since + (i + 1) * 86400)} for i in range(days)]
        data.append({"name": m, "period": period, "values": values, "title": m.replace("_", " ").title(),
                     "description": f"Emulated value of {m}", "id": f"{obj.id}/insights/{m}/{period}"})
    if since is None:
        return {"data": data}
    span = until - since
    return {"data": data, "paging": {"previous": _window_url(ctx, since - span, since),
                                     "next": _window_url(ctx, until, until + span)}}


def _window_url(ctx: Ctx, since: float, until: float) -> str:
    """The same insights query over another since/until window (Graph's time-based paging)."""
    base = ctx.self_url.split("?", 1)[0]
    params = {k: v for k, v in ctx.params.items()
              if k not in ("since", "until") and isinstance(v, str)}
    params.update(since=str(int(since)), until=str(int(until)))
    return f"{base}?{urlencode(params)}"


def _ts(ctx: Ctx, name: str, default: float) -> float:
    v = parse_time(ctx.params.get(name), ctx.emu.clock.now())
    return default if v is None else v


# --------------------------------------------------------------------------- webhooks / messenger

async def subscribed_apps(ctx: Ctx, page: Page) -> dict:
    """GET/POST/DELETE /{page-id}/subscribed_apps (needs the Page token and pages_manage_metadata)."""
    ctx.require_page_token(page, "metadata")
    ctx.require_scope("pages_manage_metadata")
    if ctx.method == "GET":
        if not page.subscribed_fields:
            return {"data": []}
        return {"data": [{"category": "Business", "link": "https://loa.invalid/", "name": APP_NAME,
                          "id": ctx.emu.cfg.fb_app_id, "subscribed_fields": list(page.subscribed_fields)}]}
    if ctx.method == "DELETE":
        page.subscribed_fields = []
        return {"success": True}
    raw = ctx.params.get("subscribed_fields")
    fields = raw if isinstance(raw, list) else [f.strip() for f in str(raw or "").split(",") if f.strip()]
    if not fields:
        raise GraphError(100, "(#100) The parameter subscribed_fields is required")
    page.subscribed_fields = sorted(set(page.subscribed_fields) | {str(f) for f in fields})
    return {"success": True}


def record_user_message(emu, page: Page, sender_id: str, sender_name: str, text: str) -> dict:
    """A Messenger message from a user to the Page (control API); fires the messaging webhook."""
    now = emu.clock.now()
    conv = page.conversations.setdefault(sender_id, {"name": sender_name, "messages": [], "seq": emu.world.next_seq()})
    msg = {"mid": "m_" + emu.world.token("", 32), "text": text, "from_id": sender_id, "created": now,
           "from_page": False}
    conv["messages"].append(msg)
    conv["last_user"] = now
    if emu.webhooks.configured("facebook") and (not emu.cfg.fb_webhooks_require_subscription
                                                or "messages" in page.subscribed_fields):
        emu.webhooks.send("facebook", [WebhookSender.fb_messaging(page.id, sender_id, text, msg["mid"], now)])
    return msg


async def send_message(ctx: Ctx, page: Page) -> dict:
    """POST /{page-id}/messages: reply to a PSID inside the 24 h window, or a private reply to a comment."""
    ctx.require_page_token(page, "messaging")
    ctx.require_scope("pages_messaging")
    emu = ctx.emu
    recipient, message = ctx.params.get("recipient"), ctx.params.get("message")
    try:
        recipient = json.loads(recipient) if isinstance(recipient, str) else recipient
        message = json.loads(message) if isinstance(message, str) else message
    except ValueError:
        raise GraphError(100, "(#100) recipient and message must be JSON objects") from None
    if not isinstance(recipient, dict) or not isinstance(message, dict) or not message.get("text"):
        raise GraphError(100, "(#100) Param recipient and message[text] are required")
    now = emu.clock.now()
    outside = GraphError(10, "(#10) This message is sent outside of allowed window.", subcode=2018278)
    if recipient.get("comment_id"):
        c = emu.world.objects.get(str(recipient["comment_id"]))
        if not isinstance(c, Comment) or c.private_replied or now - c.created_time > 7 * 86400:
            raise outside
        c.private_replied = True
        psid, name = c.from_id, c.from_name
    else:
        psid = str(recipient.get("id") or "")
        conv = page.conversations.get(psid)
        tagged = ctx.str("messaging_type") == "MESSAGE_TAG"
        window = 7 * 86400 if tagged else emu.cfg.fb_messenger_window_s
        if conv is None or now - conv.get("last_user", 0) > window:
            raise outside
        name = conv["name"]
    conv = page.conversations.setdefault(psid, {"name": name, "messages": [], "seq": emu.world.next_seq()})
    msg = {"mid": "m_" + emu.world.token("", 32), "text": message["text"], "from_id": page.id, "created": now,
           "from_page": True}
    conv["messages"].append(msg)
    return {"recipient_id": psid, "message_id": msg["mid"]}


async def conversations(ctx: Ctx, page: Page) -> dict:
    """GET /{page-id}/conversations (messages newest first inside each conversation)."""
    ctx.require_page_token(page, "messaging")
    ctx.require_scope("pages_messaging")

    def render(row: _Row) -> dict:
        psid, conv = row.obj
        name = conv["name"]
        msgs = [{"id": m["mid"], "message": m["text"], "created_time": fb_time(m["created"]),
                 "from": {"id": m["from_id"], "name": page.name if m["from_page"] else name}}
                for m in reversed(conv["messages"][-25:])]
        return {"id": f"t_{psid}", "updated_time": fb_time(row.created_time),
                "participants": {"data": [{"id": psid, "name": name}, {"id": page.id, "name": page.name}]},
                "messages": {"data": msgs}}

    rows = [_Row((k, v), v["messages"][-1]["created"] if v["messages"] else 0.0, v["seq"])
            for k, v in page.conversations.items()]
    return page_list(ctx, rows, desc=True, render=render)

