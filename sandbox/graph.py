"""Fake https://graph.facebook.com mounted at /graph: entry point, routing, budgets, usage headers."""

from __future__ import annotations

import asyncio
import logging
import re

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sandbox import graph_misc as misc
from sandbox import graph_publish as pub
from sandbox import graph_read as read
from sandbox.graph_common import Ctx, GraphError, unknown_object
from sandbox.responses import json_response
from sandbox.state import Comment, FbUser, Page, Photo, Post, Video

log = logging.getLogger("sandbox.graph")
_VERSION = re.compile(r"^v\d+\.\d+$")


async def _photo_comments(ctx, obj):
    return await (read.list_comments(ctx, obj) if ctx.method == "GET" else read.create_comment(ctx, obj))


async def _video_node(ctx, video):
    return pub.video_node(ctx, video)


# (object type, edge, method) -> (handler, required scope, is a write on the Page)
ROUTES = {
    (Page, None, "GET"): (misc.page_node, None, False),
    (Page, "feed", "GET"): (lambda c, p: read.list_posts(c, p, "feed"), "pages_read_engagement", False),
    (Page, "published_posts", "GET"): (lambda c, p: read.list_posts(c, p, "published_posts"),
                                       "pages_read_engagement", False),
    (Page, "posts", "GET"): (lambda c, p: read.list_posts(c, p, "posts"), "pages_read_engagement", False),
    (Page, "scheduled_posts", "GET"): (lambda c, p: read.list_posts(c, p, "scheduled_posts"),
                                       "pages_read_engagement", False),
    (Page, "feed", "POST"): (pub.publish_feed, "pages_manage_posts", True),
    (Page, "photos", "POST"): (pub.upload_photo, "pages_manage_posts", True),
    (Page, "videos", "POST"): (pub.upload_video, "pages_manage_posts", True),
    (Page, "insights", "GET"): (misc.insights, "read_insights", False),
    (Page, "subscribed_apps", "GET"): (misc.subscribed_apps, None, False),
    (Page, "subscribed_apps", "POST"): (misc.subscribed_apps, None, False),
    (Page, "subscribed_apps", "DELETE"): (misc.subscribed_apps, None, False),
    (Page, "messages", "POST"): (misc.send_message, "pages_messaging", True),
    (Page, "conversations", "GET"): (misc.conversations, "pages_messaging", False),
    (Post, None, "GET"): (read.post_node, "pages_read_engagement", False),
    (Post, None, "POST"): (pub.edit_post, "pages_manage_posts", True),
    (Post, None, "DELETE"): (pub.delete_post, "pages_manage_posts", True),
    (Post, "comments", "GET"): (read.list_comments, "pages_read_user_content", False),
    (Post, "comments", "POST"): (read.create_comment, "pages_manage_engagement", True),
    (Post, "insights", "GET"): (misc.insights, "read_insights", False),
    (Photo, None, "GET"): (read.photo_node, None, False),
    (Photo, "comments", "GET"): (_photo_comments, "pages_read_user_content", False),
    (Photo, "comments", "POST"): (_photo_comments, "pages_manage_engagement", True),
    (Video, None, "GET"): (_video_node, None, False),
    (Comment, None, "GET"): (read.comment_node, "pages_read_user_content", False),
    (Comment, None, "POST"): (read.update_comment, "pages_manage_engagement", True),
    (Comment, None, "DELETE"): (read.delete_comment, "pages_manage_engagement", True),
    (Comment, "comments", "GET"): (read.list_comments, "pages_read_user_content", False),
    (Comment, "comments", "POST"): (read.create_comment, "pages_manage_engagement", True),
    (FbUser, None, "GET"): (misc.user_node, None, False),
    (FbUser, "accounts", "GET"): (misc.accounts, "pages_show_list", False),
}


def _page_of(emu, obj) -> Page | None:
    if isinstance(obj, Page):
        return obj
    page_id = getattr(obj, "page_id", None)
    if page_id is None and isinstance(obj, Comment):
        post = emu.world.objects.get(obj.post_id)
        page_id = getattr(post, "page_id", None)
    return emu.world.pages.get(page_id) if page_id else None


async def dispatch(ctx: Ctx):
    """Resolve node and edge, enforce token, budget, policy block and permission, run the handler."""
    emu, segs, method = ctx.emu, ctx.segs, ctx.method
    if segs[:2] == ["oauth", "access_token"]:
        return await misc.oauth_access_token(ctx)
    if segs == ["debug_token"]:
        return await misc.debug_token(ctx)
    tok = ctx.authenticate()
    node_id = segs[0]
    if node_id == "me":
        obj = emu.world.pages.get(tok.page_id) if tok.kind == "page" else emu.world.fb_users.get(tok.user_id or "")
    else:
        obj = emu.world.objects.get(node_id) or emu.world.fb_users.get(node_id)
    if obj is None:
        raise unknown_object(node_id, method)
    page = _page_of(emu, obj) or (emu.world.pages.get(tok.page_id) if tok.page_id else None)
    ctx.page = page
    page_key = page.id if page else None
    throttled = emu.fb_limits.check(tok.app_id, page_key, tok.kind)
    if throttled:
        code, message = throttled
        # The wait comes back in X-Business-Use-Case-Usage (estimated_time_to_regain_access, minutes).
        raise GraphError(code, message, status=emu.cfg.fb_throttle_http_status)
    emu.fb_limits.record(tok.app_id, page_key)
    edge = segs[1] if len(segs) > 1 else None
    if isinstance(obj, Post) and edge == "insights" and len(segs) > 2:
        return await misc.insights(ctx, obj, segs[2])
    route = ROUTES.get((type(obj), edge, method))
    if route is None:
        if edge is None:
            raise unknown_object(node_id, method)
        raise GraphError(100, f"(#100) Tried accessing nonexisting field ({edge}) on node type "
                         f"({type(obj).__name__})")
    handler, scope, writes = route
    if writes and page is not None:
        block = emu.faults.blocked(page.id)
        if block:
            raise GraphError(368, None, subcode=block[1], user_title="You're Temporarily Blocked",
                             user_msg="It looks like you were misusing this feature by going too fast.")
    ctx.require_scope(scope)
    return await handler(ctx, obj)


async def graph_entry(request: Request) -> Response:
    """Every /graph/... request: faults first, then dispatch, then usage headers."""
    emu = request.app.state.emu
    emu.calls["facebook"] += 1
    path = request.path_params.get("path", "")
    method = request.method
    decision = await emu.faults.before("facebook", method, "/" + path)
    if decision.response is not None:
        return decision.response
    segs = [s for s in path.split("/") if s]
    version = segs.pop(0) if segs and _VERSION.match(segs[0]) else ""
    ctx = Ctx(emu, request, version, segs)
    try:
        if not segs:
            raise GraphError(100, "(#100) Missing node id")
        await ctx.load()
        result = await dispatch(ctx)
        resp = result if isinstance(result, Response) else json_response(result)
    except GraphError as e:
        resp = json_response(e.body(), e.status)
    except HTTPException as e:  # unreadable multipart body
        resp = json_response(GraphError(100, f"(#100) Invalid request body: {e.detail}").body(), 400)
    except Exception:  # noqa: BLE001 - an emulator bug must still look like Graph's unknown error
        log.exception("graph handler failed")
        resp = json_response(GraphError(1, "An unknown error occurred").body(), 500)
    tok = ctx.token
    resp.headers.update(emu.fb_limits.headers(tok.app_id if tok else emu.cfg.fb_app_id,
                                              ctx.page.id if ctx.page else None, tok.kind if tok else "page"))
    if decision.hang_after_s:
        # "Applied but response lost": the work is done, the client times out waiting.
        await asyncio.sleep(decision.hang_after_s)
    return resp
