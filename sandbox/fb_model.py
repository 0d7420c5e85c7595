"""Facebook domain operations (create Pages, posts, comments) and their Graph JSON renderings."""

from __future__ import annotations

import time

from sandbox.engagement import fb_counts
from sandbox.fields import FieldSpec, parse_fields
from sandbox.state import Comment, FbToken, FbUser, Page, Photo, Post, fb_time
from sandbox.webhooks import WebhookSender

ALL_SCOPES = frozenset({
    "pages_show_list", "pages_manage_posts", "pages_read_engagement", "pages_read_user_content",
    "pages_manage_engagement", "pages_manage_metadata", "pages_messaging", "read_insights", "publish_video",
})
DEFAULT_POST_FIELDS = parse_fields("id,message,created_time")
DEFAULT_COMMENT_FIELDS = parse_fields("id,message,created_time,from")


def permalink(post: Post) -> str:
    """Public URL of a post (the facebook.com host is kept in data on purpose)."""
    return f"https://www.facebook.com/{post.page_id}/posts/{post.local_id}"


def media_url(base: str, photo: Photo) -> str:
    """Where the photo can be fetched: stored bytes are served by the control API."""
    if photo.data is not None:
        return f"{base}/__emu/media/{photo.id}"
    return photo.url or ""


# --------------------------------------------------------------------------- creation

def create_user(emu, *, name: str = "Quản trị viên", user_id: str | None = None, token: str | None = None,
                ttl_s: float | None = None, scopes=None) -> tuple[FbUser, FbToken]:
    """A Facebook user with one user token (long-lived unless ``ttl_s`` is given)."""
    w = emu.world
    user = FbUser(id=user_id or w.numeric_id(), name=name)
    w.fb_users[user.id] = user
    return user, issue_user_token(emu, user.id, ttl_s, token=token, scopes=scopes)


def issue_user_token(emu, user_id: str, ttl_s: float | None, token: str | None = None, scopes=None) -> FbToken:
    """New user token; ttl None → the long-lived lifetime."""
    now = emu.clock.now()
    ttl = emu.cfg.fb_long_token_ttl_s if ttl_s is None else ttl_s
    tok = FbToken(token=token or emu.world.token("EAAU"), kind="user", app_id=emu.cfg.fb_app_id, issued_at=now,
                  user_id=user_id, scopes=frozenset(scopes) if scopes else ALL_SCOPES, expires_at=now + ttl)
    emu.world.fb_tokens[tok.token] = tok
    return tok


def create_page(emu, *, name: str, page_id: str | None = None, page_token: str | None = None,
                user_token: str | None = None, scopes=None, fan_count: int = 0,
                subscribed_fields=None, category: str | None = None) -> tuple[Page, FbToken]:
    """Create a Page managed by the owner of ``user_token`` (a new user when unknown)."""
    w = emu.world
    page_id = str(page_id or w.numeric_id())
    if page_id in w.objects:
        raise ValueError(f"id {page_id} already exists")
    user_tok = w.fb_tokens.get(user_token) if user_token else None
    if user_tok is None or user_tok.kind != "user":
        _, user_tok = create_user(emu, name=f"Quản trị viên {name}", token=user_token)
    scopes = frozenset(scopes) if scopes else ALL_SCOPES
    page = Page(id=page_id, name=name, page_token=page_token or w.token("EAAP"), scopes=scopes,
                fan_count=fan_count, followers_count=fan_count, subscribed_fields=list(subscribed_fields or []))
    if category:
        page.category = category
    w.pages[page.id] = page
    w.objects[page.id] = page
    w.fb_tokens[page.page_token] = FbToken(token=page.page_token, kind="page", app_id=emu.cfg.fb_app_id,
                                           issued_at=emu.clock.now(), page_id=page.id,
                                           user_id=user_tok.user_id, scopes=scopes)
    w.fb_users[user_tok.user_id].page_ids.append(page.id)
    return page, user_tok


def create_post(emu, page: Page, *, message: str | None, link: str | None = None, photo_ids=(),
                published: bool = True, scheduled_at: float | None = None, from_id: str | None = None,
                from_name: str | None = None, status_type: str | None = None, video_id: str | None = None,
                created_time: float | None = None) -> Post:
    """Store a post; accepted_at is wall time at this very moment (the benchmark measures lateness)."""
    accepted_at = time.time()
    w = emu.world
    created = created_time if created_time is not None else (scheduled_at or emu.clock.now())
    if status_type is None:
        status_type = ("added_photos" if photo_ids else "added_video" if video_id
                       else "shared_story" if link else "mobile_status_update")
    post = Post(id=f"{page.id}_{w.numeric_id(16)}", page_id=page.id, seq=w.next_seq(), message=message,
                link=link, created_time=created, accepted_at=accepted_at, published=published,
                from_id=from_id or page.id, from_name=from_name or page.name, photo_ids=list(photo_ids),
                video_id=video_id, scheduled_at=scheduled_at, updated_time=created, status_type=status_type)
    page.posts.append(post)
    w.objects[post.id] = post
    if published and emu.cfg.fb_webhook_page_posts:
        value = {"from": {"id": post.from_id, "name": post.from_name}, "post_id": post.id,
                 "created_time": int(created), "item": "photo" if photo_ids else "status", "verb": "add",
                 "published": 1}
        if message:
            value["message"] = message
        if link:
            value["link"] = link
        emit_feed(emu, page, value)
    return post


def add_comment(emu, post: Post, *, message: str, from_id: str, from_name: str, parent_id: str | None = None,
                attachment_url: str | None = None) -> Comment:
    """Store a comment or reply (replies to replies attach to the top-level comment, as on Facebook)."""
    w = emu.world
    if parent_id:
        parent = w.objects.get(parent_id)
        if isinstance(parent, Comment) and parent.parent_id:
            parent_id = parent.parent_id
    c = Comment(id=f"{post.local_id}_{w.numeric_id(16)}", post_id=post.id, seq=w.next_seq(), message=message,
                from_id=from_id, from_name=from_name, created_time=emu.clock.now(), parent_id=parent_id,
                attachment_url=attachment_url)
    post.comments.append(c)
    w.objects[c.id] = c
    emit_comment(emu, c, "add")
    return c


def emit_comment(emu, c: Comment, verb: str) -> None:
    """Feed webhook for a comment change (add / edited / remove / hide / unhide)."""
    post = emu.world.objects.get(c.post_id)
    page = emu.world.pages.get(post.page_id) if post else None
    if page is None:
        return
    value = {"from": {"id": c.from_id, "name": c.from_name},
             "post": {"id": post.id, "status_type": post.status_type, "is_published": True,
                      "permalink_url": permalink(post), "updated_time": fb_time(post.updated_time)},
             "message": c.message, "post_id": post.id, "comment_id": c.id, "created_time": int(c.created_time),
             "item": "comment", "parent_id": c.parent_id or post.id, "verb": verb}
    emit_feed(emu, page, value)


def emit_feed(emu, page: Page, value: dict) -> None:
    """Send a feed change if a receiver is configured and the Page subscribed the app."""
    if not emu.webhooks.configured("facebook"):
        return
    if emu.cfg.fb_webhooks_require_subscription and "feed" not in page.subscribed_fields:
        return
    emu.webhooks.send("facebook", [WebhookSender.fb_feed(page.id, [value], emu.clock.now())])


# --------------------------------------------------------------------------- rendering

def _summary_edge(spec: FieldSpec, total: int, extra: dict) -> dict:
    edge: dict = {"data": []}
    if spec.modifiers.get("summary") not in (None, "false", "0"):
        edge["summary"] = {"total_count": total, **extra}
    return edge


def render_post(emu, post: Post, specs, *, base: str, page_viewer: bool) -> dict:
    """Graph JSON for a post restricted to ``specs`` (default id,message,created_time)."""
    specs = specs or DEFAULT_POST_FIELDS
    out: dict = {"id": post.id}
    w, cfg = emu.world, emu.cfg
    for spec in specs:
        n = spec.name
        if n == "message" and post.message is not None:
            out[n] = post.message
        elif n == "created_time":
            out[n] = fb_time(post.created_time)
        elif n == "updated_time":
            out[n] = fb_time(post.updated_time)
        elif n == "permalink_url":
            out[n] = permalink(post)
        elif n == "status_type":
            out[n] = post.status_type
        elif n == "is_published":
            out[n] = post.is_live(emu.clock.now())
        elif n == "scheduled_publish_time" and post.scheduled_at:
            out[n] = int(post.scheduled_at)
        elif n == "link" and post.link:
            out[n] = post.link
        elif n == "from":
            out[n] = {"id": post.from_id, "name": post.from_name}
        elif n == "full_picture" and post.photo_ids:
            out[n] = media_url(base, w.objects[post.photo_ids[0]])
        elif n == "attachments":
            att = _attachments(emu, post, base)
            if att:
                out[n] = {"data": att}
        elif n == "shares" and (fb_counts(emu, post).shares or not cfg.fb_shares_omit_zero):
            out[n] = {"count": fb_counts(emu, post).shares}
        elif n in ("reactions", "likes"):
            out[n] = _summary_edge(spec, fb_counts(emu, post).reactions,
                                   {"viewer_reaction": "NONE"} if n == "reactions" else {})
        elif n == "comments":
            visible = [c for c in post.comments if not c.deleted and c.parent_id is None]
            edge = _summary_edge(spec, len(visible), {"order": "ranked", "can_comment": True})
            limit = int(spec.modifiers.get("limit", 25) or 0)
            edge["data"] = [render_comment(emu, c, spec.sub, page_viewer=page_viewer) for c in visible[:limit]]
            out[n] = edge
    return out


def _attachments(emu, post: Post, base: str) -> list:
    w = emu.world
    photos = [w.objects[p] for p in post.photo_ids if p in w.objects]

    def photo_att(p: Photo) -> dict:
        src = media_url(base, p)
        return {"type": "photo", "media_type": "photo", "url": f"https://www.facebook.com/photo/?fbid={p.id}",
                "media": {"image": {"src": src, "width": p.width, "height": p.height}},
                "target": {"id": p.id, "url": f"https://www.facebook.com/photo/?fbid={p.id}"}}

    if len(photos) == 1:
        return [photo_att(photos[0])]
    if photos:
        return [{"type": "album", "media_type": "album", "url": permalink(post),
                 "subattachments": {"data": [photo_att(p) for p in photos]}, "target": {"id": post.local_id}}]
    if post.video_id:
        return [{"type": "video_inline", "media_type": "video", "target": {"id": post.video_id}}]
    if post.link:
        return [{"type": "share", "media_type": "link", "url": post.link, "unshimmed_url": post.link,
                 "title": post.link, "target": {"url": post.link}}]
    return []


def render_comment(emu, c: Comment, specs, *, page_viewer: bool) -> dict:
    """Graph JSON for a comment; `from` only for the Page's own token when so configured."""
    specs = specs or DEFAULT_COMMENT_FIELDS
    post = emu.world.objects.get(c.post_id)
    out: dict = {"id": c.id}
    replies = [r for r in post.comments if r.parent_id == c.id and not r.deleted] if post else []
    for spec in specs:
        n = spec.name
        if n == "message":
            out[n] = c.message
        elif n == "created_time":
            out[n] = fb_time(c.created_time)
        elif n == "from" and (page_viewer or not emu.cfg.fb_comment_from_requires_page_token
                              or (post and c.from_id == post.page_id)):
            out[n] = {"id": c.from_id, "name": c.from_name}
        elif n == "parent" and c.parent_id:
            out[n] = {"id": c.parent_id}
        elif n == "comment_count":
            out[n] = len(replies)
        elif n == "like_count":
            out[n] = c.like_count
        elif n == "is_hidden":
            out[n] = c.is_hidden
        elif n == "can_hide":
            out[n] = bool(post) and c.from_id != post.page_id
        elif n in ("can_remove", "can_comment"):
            out[n] = True
        elif n == "user_likes":
            out[n] = False
        elif n == "message_tags":
            out[n] = []
        elif n == "attachment" and c.attachment_url:
            out[n] = {"type": "photo", "url": c.attachment_url, "media": {"image": {"src": c.attachment_url}}}
        elif n == "permalink_url" and post:
            out[n] = f"{permalink(post)}?comment_id={c.id.split('_', 1)[1]}"
        elif n == "comments":
            edge = _summary_edge(spec, len(replies), {"order": "chronological", "can_comment": True})
            limit = int(spec.modifiers.get("limit", 25) or 0)
            edge["data"] = [render_comment(emu, r, spec.sub, page_viewer=page_viewer) for r in replies[:limit]]
            out[n] = edge
    return out
