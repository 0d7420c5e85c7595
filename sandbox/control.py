"""Control API under /__emu: world setup, faults, clock, inspection (JSON in, JSON out)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox import control_faults
from sandbox.control_base import ControlError, endpoint
from sandbox.engagement import fb_counts, pin_fb, pin_zalo, zalo_counts
from sandbox.fb_model import add_comment, create_page, create_post, issue_user_token, permalink
from sandbox.graph_misc import record_user_message
from sandbox.state import Article, Post, fb_time
from sandbox.zalo_model import add_user, article_link, create_oa, issue_pair, token_pair_json, user_message
from sandbox.zalo_oauth import mint_code


def _page(emu, page_id) -> object:
    page = emu.world.pages.get(str(page_id or ""))
    if page is None:
        raise ControlError(f"unknown page_id {page_id!r}", 404)
    return page


def _oa(emu, oa_id) -> object:
    oa = emu.world.oas.get(str(oa_id or ""))
    if oa is None:
        raise ControlError(f"unknown oa_id {oa_id!r}", 404)
    return oa


# --------------------------------------------------------------------------- general

@endpoint
async def reset(emu, body, request):
    """POST /__emu/reset {seed?, demo?}."""
    kwargs = {"seed": body["seed"]} if "seed" in body else {}
    emu.reset(demo=body.get("demo"), **kwargs)
    return {"ok": True, "seed": emu.seed}


@endpoint
async def config(emu, body, request):
    """GET/POST /__emu/config: read or change behaviour knobs."""
    if request.method == "POST":
        unknown = emu.cfg.update(body)
        if unknown:
            raise ControlError(f"unknown config keys: {unknown}")
    return emu.cfg.as_dict()


@endpoint
async def clock(emu, body, request):
    """POST /__emu/clock {advance_s} or {set_offset_s}; GET returns the emulator time."""
    if "advance_s" in body:
        emu.clock.advance(float(body["advance_s"]))
    if "set_offset_s" in body:
        emu.clock.set_offset(float(body["set_offset_s"]))
    return {"now": emu.clock.now(), "offset_s": emu.clock.offset_s}


@endpoint
async def stats(emu, body, request):
    """GET /__emu/stats: request counters and object counts."""
    w = emu.world
    return {"calls": dict(emu.calls), "pages": len(w.pages), "oas": len(w.oas),
            "posts": sum(len(p.posts) for p in w.pages.values()), "articles": len(w.articles),
            "clock": emu.clock.now(), "fault_rules": len(emu.faults.rules)}


# --------------------------------------------------------------------------- Facebook

def page_json(emu, page, user_tok=None) -> dict:
    """A Page as the control API returns it (with its tokens)."""
    tok = emu.world.fb_tokens[page.page_token]
    user = emu.world.fb_users.get(tok.user_id or "")
    user_token = user_tok.token if user_tok else next(
        (t.token for t in emu.world.fb_tokens.values() if t.kind == "user" and t.user_id == tok.user_id), None)
    return {"id": page.id, "page_id": page.id, "name": page.name, "page_token": page.page_token,
            "access_token": page.page_token, "user_id": tok.user_id, "user_name": user.name if user else None,
            "user_token": user_token, "subscribed_fields": list(page.subscribed_fields),
            "scopes": sorted(page.scopes), "link": f"https://www.facebook.com/{page.id}"}


@endpoint
async def pages(emu, body, request):
    """POST /__emu/pages {name, page_id?, page_token?, user_token?, scopes?, subscribed_fields?, call_budget?}; GET lists."""
    if request.method == "GET":
        return {"data": [page_json(emu, p) for p in emu.world.pages.values()]}
    if not body.get("name"):
        raise ControlError("name is required")
    page, user_tok = create_page(emu, name=body["name"], page_id=body.get("page_id"),
                                 page_token=body.get("page_token"), user_token=body.get("user_token"),
                                 scopes=body.get("scopes"), fan_count=int(body.get("fan_count", 0)),
                                 subscribed_fields=body.get("subscribed_fields"), category=body.get("category"))
    if body.get("call_budget") is not None:
        emu.cfg.fb_page_budgets[page.id] = int(body["call_budget"])
    return page_json(emu, page, user_tok)


def post_json(emu, p: Post) -> dict:
    """A Facebook post for /__emu/posts."""
    now = emu.clock.now()
    return {"platform": "facebook", "id": p.id, "page_id": p.page_id, "message": p.message, "title": None,
            "link": p.link, "photo_ids": list(p.photo_ids), "video_id": p.video_id, "accepted_at": p.accepted_at,
            "created_time": fb_time(p.created_time), "created_ts": p.created_time, "published": p.is_live(now),
            "scheduled_publish_time": int(p.scheduled_at) if p.scheduled_at else None,
            "status_type": p.status_type, "from": {"id": p.from_id, "name": p.from_name},
            "permalink_url": permalink(p), "deleted": p.deleted, "reactions": fb_counts(emu, p).reactions,
            "shares": fb_counts(emu, p).shares, "views": fb_counts(emu, p).views,
            "comments": sum(1 for c in p.comments if not c.deleted)}


def article_json(emu, a: Article) -> dict:
    """A Zalo article for /__emu/posts (`processed` computed from the emulator clock)."""
    processed = a.is_processed(emu.clock.now())
    return {"platform": "zalo", "id": a.id, "page_id": a.oa_id, "oa_id": a.oa_id, "message": a.description,
            "title": a.title, "link": article_link(a.oa_id, a.id), "photo_ids": [],
            "cover_url": a.cover.get("photo_url"), "accepted_at": a.accepted_at, "created_time": fb_time(a.created),
            "created_ts": a.created, "published": processed and a.status == "show" and not a.removed,
            "processed": processed, "status": a.status, "removed": a.removed, "type": a.type,
            "total_view": zalo_counts(emu, a).views, "total_share": zalo_counts(emu, a).shares}


@endpoint
async def posts(emu, body, request):
    """GET /__emu/posts?platform=&page_id= (oa_id too): every post/article, oldest accepted first."""
    q = request.query_params
    platform, owner = q.get("platform"), q.get("page_id") or q.get("oa_id")
    out = []
    if platform in (None, "", "facebook"):
        for page in emu.world.pages.values():
            if not owner or page.id == owner:
                out += [post_json(emu, p) for p in page.posts]
    if platform in (None, "", "zalo"):
        for oa in emu.world.oas.values():
            if not owner or oa.oa_id == owner:
                out += [article_json(emu, a) for a in oa.articles.values()]
    out.sort(key=lambda d: d["accepted_at"])
    return {"data": out, "count": len(out)}


def _post(emu, post_id) -> Post:
    post = emu.world.objects.get(str(post_id or ""))
    if not isinstance(post, Post):
        raise ControlError(f"unknown post_id {post_id!r}", 404)
    return post


@endpoint
async def comments(emu, body, request):
    """POST /__emu/comments {post_id, message, from:{id,name}, parent_id?}: a visitor comments (webhook)."""
    if request.method == "GET":
        post = _post(emu, request.query_params.get("post_id"))
        return {"data": [{"id": c.id, "message": c.message, "from": {"id": c.from_id, "name": c.from_name},
                          "parent_id": c.parent_id, "is_hidden": c.is_hidden, "deleted": c.deleted}
                         for c in post.comments]}
    post = _post(emu, body.get("post_id"))
    sender = body.get("from") or {}
    parent = body.get("parent_id")
    if parent and parent not in emu.world.objects:
        raise ControlError(f"unknown parent_id {parent!r}", 404)
    c = add_comment(emu, post, message=str(body.get("message") or ""),
                    from_id=str(sender.get("id") or emu.world.numeric_id()),
                    from_name=str(sender.get("name") or "Người dùng Facebook"), parent_id=parent,
                    attachment_url=body.get("attachment_url"))
    return {"id": c.id, "post_id": post.id, "parent_id": c.parent_id, "created_time": fb_time(c.created_time)}


@endpoint
async def visitor_posts(emu, body, request):
    """POST /__emu/visitor_posts {page_id, message, from:{id,name}, link?}: shows up in /feed only."""
    page = _page(emu, body.get("page_id"))
    sender = body.get("from") or {}
    post = create_post(emu, page, message=body.get("message"), link=body.get("link"),
                       from_id=str(sender.get("id") or emu.world.numeric_id()),
                       from_name=str(sender.get("name") or "Người dùng Facebook"))
    return post_json(emu, post)


@endpoint
async def engagement(emu, body, request):
    """POST /__emu/engagement {post_id|article_id, reactions?, shares?, views?}."""
    if body.get("article_id"):
        a = emu.world.articles.get(str(body["article_id"]))
        if a is None:
            raise ControlError("unknown article_id", 404)
        pin_zalo(emu, a, body)
        return article_json(emu, a)
    post = _post(emu, body.get("post_id"))
    pin_fb(emu, post, body)
    return post_json(emu, post)


@endpoint
async def fb_codes(emu, body, request):
    """POST /__emu/fb/codes {user_id | user_token}: a Facebook Login code for /oauth/access_token."""
    user_id = body.get("user_id")
    if not user_id and body.get("user_token") in emu.world.fb_tokens:
        user_id = emu.world.fb_tokens[body["user_token"]].user_id
    if user_id not in emu.world.fb_users:
        raise ControlError("unknown user", 404)
    code = emu.world.token("AQ", 60)
    emu.world.fb_codes[code] = (user_id, emu.clock.now() + emu.cfg.fb_code_ttl_s, False)
    return {"code": code, "user_id": user_id}


@endpoint
async def fb_user_token(emu, body, request):
    """POST /__emu/fb/user_tokens {user_id, ttl_s?}: mint a user token (short-lived when ttl_s is given)."""
    if body.get("user_id") not in emu.world.fb_users:
        raise ControlError("unknown user", 404)
    tok = issue_user_token(emu, body["user_id"], body.get("ttl_s"))
    return {"access_token": tok.token, "expires_at": tok.expires_at}


@endpoint
async def fb_messages(emu, body, request):
    """POST /__emu/fb/messages {page_id, sender_id?, sender_name?, text}: a Messenger message (webhook)."""
    page = _page(emu, body.get("page_id"))
    sender = str(body.get("sender_id") or emu.world.numeric_id(16))
    msg = record_user_message(emu, page, sender, str(body.get("sender_name") or "Người dùng Messenger"),
                              str(body.get("text") or ""))
    return {"mid": msg["mid"], "sender_id": sender}


# --------------------------------------------------------------------------- Zalo

def oa_json(emu, oa, tok=None, ref=None) -> dict:
    """An OA as the control API returns it (with app credentials and, when new, its token pair)."""
    app = emu.world.zalo_apps[oa.app_id]
    out = {"oa_id": oa.oa_id, "name": oa.name, "app_id": oa.app_id, "secret": app.secret,
           "oa_secret": app.oa_secret, "followers": len(oa.users)}
    if tok:
        out.update(token_pair_json(emu, tok, ref), access_token_expires_at=tok.expires_at)
    return out


@endpoint
async def oas(emu, body, request):
    """POST /__emu/oas {name, oa_id?, app_id?, secret?, oa_secret?, access_token?, refresh_token?}; GET lists."""
    if request.method == "GET":
        return {"data": [oa_json(emu, oa) for oa in emu.world.oas.values()]}
    if not body.get("name"):
        raise ControlError("name is required")
    oa, tok, ref = create_oa(emu, name=body["name"], oa_id=body.get("oa_id"), app_id=body.get("app_id"),
                             secret=body.get("secret"), oa_secret=body.get("oa_secret"),
                             access_token=body.get("access_token"), refresh_token=body.get("refresh_token"),
                             description=body.get("description", ""), redirect_uri=body.get("redirect_uri"))
    return oa_json(emu, oa, tok, ref)


@endpoint
async def zalo_tokens(emu, body, request):
    """POST /__emu/zalo/tokens {oa_id}: a fresh token pair (as if an admin re-consented)."""
    oa = _oa(emu, body.get("oa_id"))
    tok, ref = issue_pair(emu, oa)
    return {**token_pair_json(emu, tok, ref), "access_token_expires_at": tok.expires_at}


@endpoint
async def zalo_codes(emu, body, request):
    """POST /__emu/zalo/codes {oa_id, code_challenge?, code_challenge_method?}: an authorization code."""
    _oa(emu, body.get("oa_id"))
    code = mint_code(emu, body["oa_id"], body.get("code_challenge"), body.get("code_challenge_method", "S256"))
    return {"code": code.code, "oa_id": code.oa_id, "expires_at": code.expires_at}


@endpoint
async def zalo_users(emu, body, request):
    """POST /__emu/zalo/users {oa_id, display_name, user_id?, is_follower?, last_interaction_ago_s?, tags?}."""
    oa = _oa(emu, body.get("oa_id"))
    ago = body.get("last_interaction_ago_s")
    user = add_user(emu, oa, display_name=str(body.get("display_name") or "Người theo dõi"),
                    user_id=body.get("user_id"), is_follower=bool(body.get("is_follower", True)),
                    last_interaction=emu.clock.now() - float(ago) if ago is not None else None, tags=body.get("tags"))
    return {"user_id": user.user_id, "user_id_by_app": user.user_id_by_app, "display_name": user.display_name}


@endpoint
async def zalo_messages(emu, body, request):
    """POST /__emu/zalo/messages {oa_id, user_id, text, display_name?, image_url?}: follower writes (webhook)."""
    oa = _oa(emu, body.get("oa_id"))
    uid = str(body.get("user_id") or "")
    user = oa.users.get(uid) or add_user(emu, oa, user_id=uid or None,
                                         display_name=str(body.get("display_name") or "Người theo dõi"))
    atts = [{"type": "image", "payload": {"url": body["image_url"], "thumbnail": body["image_url"]}}] \
        if body.get("image_url") else None
    m = user_message(emu, oa, user, str(body.get("text") or ""), attachments=atts)
    return {"message_id": m.message_id, "user_id": user.user_id, "time": m.time_ms}


@endpoint
async def zalo_broadcasts(emu, body, request):
    """GET /__emu/zalo/broadcasts?oa_id=."""
    owner = request.query_params.get("oa_id")
    return {"data": [{**b, "oa_id": oa.oa_id} for oa in emu.world.oas.values()
                     if not owner or oa.oa_id == owner for b in oa.broadcasts]}


async def media(request: Request) -> Response:
    """GET /__emu/media/{id}: bytes of an uploaded photo (full_picture points here)."""
    photo = request.app.state.emu.world.objects.get(request.path_params["photo_id"])
    if photo is None or getattr(photo, "data", None) is None:
        return Response(b"", 404)
    return Response(photo.data, media_type=photo.content_type)


@endpoint
async def index(emu, body, request):
    """GET /__emu: every control route with its one-line description."""
    return {"routes": [{"path": r.path, "methods": sorted(r.methods - {"HEAD"}),
                        "doc": (r.endpoint.__doc__ or "").strip()} for r in ROUTES]}


ROUTES = [
    Route("/__emu", index, methods=["GET"]),
    Route("/__emu/reset", reset, methods=["POST"]),
    Route("/__emu/config", config, methods=["GET", "POST"]),
    Route("/__emu/clock", clock, methods=["GET", "POST"]),
    Route("/__emu/stats", stats, methods=["GET"]),
    Route("/__emu/pages", pages, methods=["GET", "POST"]),
    Route("/__emu/posts", posts, methods=["GET"]),
    Route("/__emu/comments", comments, methods=["GET", "POST"]),
    Route("/__emu/visitor_posts", visitor_posts, methods=["POST"]),
    Route("/__emu/engagement", engagement, methods=["POST"]),
    Route("/__emu/fb/codes", fb_codes, methods=["POST"]),
    Route("/__emu/fb/user_tokens", fb_user_token, methods=["POST"]),
    Route("/__emu/fb/messages", fb_messages, methods=["POST"]),
    Route("/__emu/oas", oas, methods=["GET", "POST"]),
    Route("/__emu/zalo/tokens", zalo_tokens, methods=["POST"]),
    Route("/__emu/zalo/codes", zalo_codes, methods=["POST"]),
    Route("/__emu/zalo/users", zalo_users, methods=["POST"]),
    Route("/__emu/zalo/messages", zalo_messages, methods=["POST"]),
    Route("/__emu/zalo/broadcasts", zalo_broadcasts, methods=["GET"]),
    Route("/__emu/media/{photo_id}", media, methods=["GET"]),
    *control_faults.ROUTES,
]
