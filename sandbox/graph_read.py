"""Graph read endpoints and comment moderation: feeds, post/photo/comment nodes, comments (A5, A6)."""

from __future__ import annotations

from sandbox.fb_model import add_comment, emit_comment, media_url, render_comment, render_post
from sandbox.fields import paginate, parse_time
from sandbox.graph_common import Ctx, GraphError
from sandbox.state import Comment, Page, Photo, Post, fb_time


def _limit(ctx: Ctx) -> int:
    cfg = ctx.emu.cfg
    return max(0, min(ctx.int("limit", cfg.fb_default_limit), cfg.fb_max_limit))


def page_list(ctx: Ctx, items: list, *, desc: bool, render) -> dict:
    """Cursor-paginate ``items`` (any order) and render the current page."""
    items = sorted(items, key=lambda o: (o.created_time, o.seq), reverse=desc)
    try:
        res = paginate(items, lambda o: (float(o.created_time), o.seq), desc=desc, limit=_limit(ctx),
                       after=ctx.str("after"), before=ctx.str("before"), base_url=ctx.self_url,
                       query=ctx.query_for_links(), inject_empty=ctx.emu.cfg.fb_inject_empty_page)
    except ValueError:
        raise GraphError(100, "(#100) The after/before cursor is invalid") from None
    out: dict = {"data": [render(o) for o in res.data]}
    if res.paging:
        out["paging"] = res.paging
    return out


def _time_filter(ctx: Ctx, items: list) -> list:
    now = ctx.emu.clock.now()
    since, until = parse_time(ctx.params.get("since"), now), parse_time(ctx.params.get("until"), now)
    if ctx.params.get("since") not in (None, "") and since is None:
        raise GraphError(100, "(#100) The parameter since is not a valid date")
    if since is not None:
        items = [p for p in items if p.created_time >= since]
    if until is not None:
        items = [p for p in items if p.created_time <= until]
    return items


async def list_posts(ctx: Ctx, page: Page, edge: str) -> dict:
    """GET /{page-id}/feed|published_posts|posts|scheduled_posts, newest first."""
    now = ctx.emu.clock.now()
    if edge == "scheduled_posts":
        ctx.require_page_token(page)
        items = [p for p in page.posts if not p.deleted and not p.is_live(now) and p.scheduled_at]
    elif edge == "feed":
        items = [p for p in page.posts if p.is_live(now)]
    else:
        items = [p for p in page.posts if p.from_id == page.id and p.is_live(now)]
    items = _time_filter(ctx, items)
    specs, viewer = ctx.fields, ctx.page_viewer(page)
    return page_list(ctx, items, desc=True,
                     render=lambda p: render_post(ctx.emu, p, specs, base=ctx.base, page_viewer=viewer))


def _visible(ctx: Ctx, post: Post) -> None:
    """Unpublished/deleted posts exist only for their own Page."""
    if post.deleted or (not post.is_live(ctx.emu.clock.now()) and not ctx.page_viewer(ctx.page)):
        raise GraphError(100, f"Unsupported get request. Object with ID '{post.id}' does not exist",
                         subcode=33, err_type="GraphMethodException")


async def post_node(ctx: Ctx, post: Post) -> dict:
    """GET /{post-id}."""
    _visible(ctx, post)
    return render_post(ctx.emu, post, ctx.fields, base=ctx.base, page_viewer=ctx.page_viewer(ctx.page))


async def photo_node(ctx: Ctx, photo: Photo) -> dict:
    """GET /{photo-id}."""
    out = {"id": photo.id, "created_time": fb_time(photo.created_time), "name": photo.caption,
           "images": [{"source": media_url(ctx.base, photo), "width": photo.width, "height": photo.height}],
           "link": f"https://www.facebook.com/photo/?fbid={photo.id}", "published": photo.published,
           "post_id": photo.post_id or photo.used_in}
    fields = ctx.fields
    if fields:
        out = {"id": photo.id, **{f.name: out[f.name] for f in fields if f.name in out}}
    return {k: v for k, v in out.items() if v is not None}


def _post_of(ctx: Ctx, obj) -> Post:
    w = ctx.emu.world
    if isinstance(obj, Post):
        return obj
    if isinstance(obj, Photo):
        post = w.objects.get(obj.post_id or obj.used_in or "")
    else:
        post = w.objects.get(obj.post_id)
    if not isinstance(post, Post):
        raise GraphError(100, "(#100) This object does not support comments", subcode=33)
    return post


async def list_comments(ctx: Ctx, obj) -> dict:
    """GET /{object-id}/comments with filter, order, summary, limit, fields."""
    post = _post_of(ctx, obj)
    _visible(ctx, post)
    filt = ctx.str("filter", "toplevel")
    order = ctx.str("order", "chronological")
    if filt not in ("toplevel", "stream") or order not in ("chronological", "reverse_chronological", "ranked"):
        raise GraphError(100, "(#100) Invalid filter or order")
    live = [c for c in post.comments if not c.deleted]
    if isinstance(obj, Comment):
        items = [c for c in live if c.parent_id == obj.id]
    elif filt == "toplevel":
        items = [c for c in live if c.parent_id is None]
    else:
        items = live
    specs, viewer = ctx.fields, ctx.page_viewer(ctx.page)
    out = page_list(ctx, items, desc=order == "reverse_chronological",
                    render=lambda c: render_comment(ctx.emu, c, specs, page_viewer=viewer))
    if ctx.bool("summary", False):
        out["summary"] = {"order": order, "total_count": len(items), "can_comment": True}
    return out


async def create_comment(ctx: Ctx, obj) -> dict:
    """POST /{post-id}/comments or /{comment-id}/comments as the Page."""
    post = _post_of(ctx, obj)
    page = ctx.emu.world.pages[post.page_id]
    ctx.require_page_token(page, "comment")
    message, attachment = ctx.str("message"), ctx.str("attachment_url")
    if not message and not attachment:
        raise GraphError(100, "(#100) Missing message or attachment")
    parent = obj.id if isinstance(obj, Comment) else None
    c = add_comment(ctx.emu, post, message=message or "", from_id=page.id, from_name=page.name,
                    parent_id=parent, attachment_url=attachment)
    return {"id": c.id}


async def comment_node(ctx: Ctx, c: Comment) -> dict:
    """GET /{comment-id}."""
    if c.deleted:
        raise GraphError(100, f"Unsupported get request. Object with ID '{c.id}' does not exist", subcode=33,
                         err_type="GraphMethodException")
    return render_comment(ctx.emu, c, ctx.fields, page_viewer=ctx.page_viewer(ctx.page))


async def update_comment(ctx: Ctx, c: Comment) -> dict:
    """POST /{comment-id}: is_hidden=true/false, or a new message."""
    post = _post_of(ctx, c)
    page = ctx.emu.world.pages[post.page_id]
    ctx.require_page_token(page, "comment")
    if c.deleted:
        raise GraphError(100, "(#100) The comment has been deleted", subcode=33)
    if "is_hidden" in ctx.params:
        hide = ctx.bool("is_hidden", False)
        if c.from_id == page.id:
            # can_hide is false for the Page's own comments.
            raise GraphError(100, "(#100) Cannot hide a comment made by the Page itself")
        if hide != c.is_hidden:
            c.is_hidden = hide
            emit_comment(ctx.emu, c, "hide" if hide else "unhide")
    message = ctx.str("message")
    if message is not None and message != c.message:
        c.message = message
        emit_comment(ctx.emu, c, "edited")
    return {"success": True}


async def delete_comment(ctx: Ctx, c: Comment) -> dict:
    """DELETE /{comment-id}."""
    post = _post_of(ctx, c)
    ctx.require_page_token(ctx.emu.world.pages[post.page_id], "comment")
    if c.deleted:
        raise GraphError(100, f"Unsupported delete request. Object with ID '{c.id}' does not exist", subcode=33,
                         err_type="GraphMethodException")
    c.deleted = True
    emit_comment(ctx.emu, c, "remove")
    return {"success": True}

