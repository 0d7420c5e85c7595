"""Graph write endpoints: /feed, /photos, /videos, post edit/delete (A4)."""

from __future__ import annotations

import io
import json
import re

import httpx
from PIL import Image, UnidentifiedImageError

from sandbox.fb_model import create_post, permalink
from sandbox.fields import parse_time
from sandbox.graph_common import Ctx, GraphError
from sandbox.state import Page, Photo, Post, Video, fb_time

_PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif"}
_ATTACHED_KEY = re.compile(r"^attached_media\[(\d+)\]$")


def _photo_error() -> GraphError:
    return GraphError(100, "(#100) Photos should be smaller than 4 MB and saved as JPG, PNG, GIF",
                      subcode=1366046, user_title="Can't Upload Photo",
                      user_msg="Photos should be less than 4 MB and saved as JPG, PNG, GIF.")


def validate_image(emu, data: bytes) -> tuple[str, int, int]:
    """Check size and that Pillow reads a JPEG/PNG/GIF; returns (content type, width, height)."""
    if len(data) > emu.cfg.fb_photo_max_bytes or not data:
        raise _photo_error()
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, (w, h) = img.format, img.size
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _photo_error() from None
    if fmt not in _PHOTO_FORMATS:
        raise _photo_error()
    return _PHOTO_FORMATS[fmt], w, h


def _attached_media(ctx: Ctx) -> list[str]:
    """attached_media as a JSON string, a JSON list, or form keys attached_media[0]=..."""
    raw = ctx.params.get("attached_media")
    items: list = []
    if raw is not None:
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                raise GraphError(100, "(#100) param attached_media must be an array") from None
        items = raw if isinstance(raw, list) else [raw]
    indexed = sorted((int(m.group(1)), v) for k, v in ctx.params.items() if (m := _ATTACHED_KEY.match(k)))
    items += [v for _, v in indexed]
    ids = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            try:
                item = json.loads(item)
            except ValueError:
                item = {"media_fbid": item}
        fbid = item.get("media_fbid") if isinstance(item, dict) else None
        if not fbid:
            raise GraphError(100, f"(#100) param attached_media[{i}] must be an object with media_fbid")
        ids.append(str(fbid))
    return ids


def _check_photos(ctx: Ctx, page: Page, ids: list[str]) -> list[Photo]:
    photos = []
    for i, pid in enumerate(ids):
        photo = ctx.emu.world.objects.get(pid)
        if not isinstance(photo, Photo) or photo.page_id != page.id:
            raise GraphError(100, f"(#100) param attached_media[{i}] has invalid media_fbid {pid}")
        if photo.used_in or photo.published:
            # Postiz maps 1366051 to "photos already posted".
            raise GraphError(100, "(#100) This photo has already been posted", subcode=1366051,
                             user_title="Photo Already Posted", user_msg="This photo was already used in a post.")
        photos.append(photo)
    return photos


def _previous_own_post(page: Page, scope: str) -> list[Post]:
    own = (p for p in reversed(page.posts) if p.from_id == page.id and not p.deleted)
    if scope == "any":
        return list(own)
    first = next(own, None)
    return [first] if first else []


def _check_link(ctx: Ctx, link: str | None) -> None:
    cfg = ctx.emu.cfg
    if link and any(p and p in link for p in cfg.fb_link_fail_patterns):
        raise GraphError(cfg.fb_link_error_code, f"(#{cfg.fb_link_error_code}) Error posting link: the link could "
                         "not be fetched", subcode=cfg.fb_link_error_subcode, user_title="Error Posting Link",
                         user_msg="There was a problem retrieving data for this link.")


def _schedule(ctx: Ctx) -> float | None:
    raw = ctx.params.get("scheduled_publish_time")
    if raw in (None, ""):
        return None
    cfg, now = ctx.emu.cfg, ctx.emu.clock.now()
    ts = parse_time(raw, now)
    code, sub = cfg.fb_schedule_error_code, cfg.fb_schedule_error_subcode
    if ts is None:
        raise GraphError(code, "(#100) Invalid scheduled publish time", subcode=sub)
    if ctx.bool("published", True):
        raise GraphError(100, "(#100) Cannot specify a scheduled publish time on a published post")
    if not cfg.fb_schedule_min_s <= ts - now <= cfg.fb_schedule_max_s:
        raise GraphError(code, "(#100) The specified scheduled publish time is invalid.", subcode=sub,
                         user_title="Invalid Scheduled Publish Time",
                         user_msg=f"The scheduled publish time must be between {cfg.fb_schedule_min_s // 60} "
                                  f"minutes and {cfg.fb_schedule_max_s // 86400} days from now.")
    return ts


async def publish_feed(ctx: Ctx, page: Page) -> dict:
    """POST /{page-id}/feed: text, link, scheduled and multi-photo posts."""
    published = ctx.bool("published", True)
    ctx.require_page_token(page, "publish" if published else "unpublished")
    cfg = ctx.emu.cfg
    message, link = ctx.str("message"), ctx.str("link")
    ids = _attached_media(ctx)
    if not message and not link and not ids:
        raise GraphError(100, "(#100) Missing message or attachment")
    if message and len(message) > cfg.fb_message_max_chars:
        raise GraphError(100, f"(#100) Message is too long: the length must be at most {cfg.fb_message_max_chars} "
                         "characters")
    scheduled = _schedule(ctx)
    _check_link(ctx, link)
    photos = _check_photos(ctx, page, ids)
    if cfg.fb_duplicate_check and message:
        for prev in _previous_own_post(page, cfg.fb_duplicate_scope):
            if prev.message == message and (prev.link or None) == (link or None):
                raise GraphError(506, "(#506) Duplicate status message", user_title="Duplicate Status",
                                 user_msg="This status update is identical to the last one you posted. Try "
                                          "posting something different, or delete your previous update.")
    post = create_post(ctx.emu, page, message=message, link=link, photo_ids=[p.id for p in photos],
                       published=published and scheduled is None, scheduled_at=scheduled)
    for p in photos:
        p.used_in = post.id
    return _created(ctx, {"id": post.id}, post)


def _created(ctx: Ctx, body: dict, post: Post | None) -> dict:
    fields = ctx.fields or []
    if post and any(f.name == "permalink_url" for f in fields):
        body["permalink_url"] = permalink(post)
    return body


async def upload_photo(ctx: Ctx, page: Page) -> dict:
    """POST /{page-id}/photos with multipart `source` or `url`; unpublished photos feed attached_media."""
    published = ctx.bool("published", True)
    ctx.require_page_token(page)
    emu, cfg = ctx.emu, ctx.emu.cfg
    caption = ctx.str("caption") or ctx.str("message")
    url = ctx.str("url")
    data = None
    if "source" in ctx.files:
        data = ctx.files["source"][2]
        ctype, w, h = validate_image(emu, data)
    elif url:
        if any(p and p in url for p in cfg.fb_photo_url_fail_patterns):
            raise GraphError(324, "(#324) Missing or invalid image file")
        ctype, w, h = "image/jpeg", 0, 0
        if cfg.fb_photo_url_mode == "fetch":
            try:
                r = await emu.webhooks.client().get(url)
            except httpx.HTTPError:
                raise GraphError(324, "(#324) Missing or invalid image file") from None
            if r.status_code != 200:
                raise GraphError(324, "(#324) Missing or invalid image file")
            data = r.content
            ctype, w, h = validate_image(emu, data)
    else:
        raise GraphError(324, "(#324) Requires upload file")
    photo = Photo(id=emu.world.numeric_id(16), page_id=page.id, published=published,
                  created_time=emu.clock.now(), caption=caption, url=url, data=data, content_type=ctype,
                  width=w, height=h)
    emu.world.objects[photo.id] = photo
    if not published:
        return {"id": photo.id}
    post = create_post(emu, page, message=caption, photo_ids=[photo.id], status_type="added_photos")
    photo.used_in = photo.post_id = post.id
    return _created(ctx, {"id": photo.id, "post_id": post.id}, post)


async def upload_video(ctx: Ctx, page: Page) -> dict:
    """POST /{page-id}/videos: file_url, multipart source, or the resumable start/transfer/finish phases."""
    ctx.require_page_token(page)
    emu, cfg = ctx.emu, ctx.emu.cfg
    phase = ctx.str("upload_phase")
    if phase == "start":
        size = ctx.int("file_size", 0)
        video = _new_video(ctx, page, failed=False)
        return {"video_id": video.id, "upload_session_id": emu.world.numeric_id(), "start_offset": "0",
                "end_offset": str(size)}
    if phase == "transfer":
        start = ctx.int("start_offset", 0)
        chunk = ctx.files.get("video_file_chunk", ("", "", b""))[2]
        end = str(start + len(chunk))
        return {"start_offset": end, "end_offset": end}
    if phase == "finish":
        return {"success": True}
    file_url = ctx.str("file_url")
    if not file_url and "source" not in ctx.files:
        raise GraphError(100, "(#100) Requires file_url or source")
    text = " ".join(filter(None, [file_url, ctx.str("title"), ctx.str("description")]))
    failed = any(p and p in text for p in cfg.fb_video_fail_patterns)
    video = _new_video(ctx, page, failed=failed)
    video.file_url = file_url
    return {"id": video.id}


def _new_video(ctx: Ctx, page: Page, *, failed: bool) -> Video:
    emu = ctx.emu
    video = Video(id=emu.world.numeric_id(16), page_id=page.id, created_time=emu.clock.now(),
                  title=ctx.str("title"), description=ctx.str("description"),
                  polls_left=emu.cfg.fb_video_processing_polls, failed=failed)
    emu.world.objects[video.id] = video
    if ctx.bool("published", True) and not failed:
        post = create_post(emu, page, message=video.description, video_id=video.id, status_type="added_video")
        video.post_id = post.id
    return video


def video_node(ctx: Ctx, video: Video) -> dict:
    """GET /{video-id}: status moves processing → ready (or error) as it is polled."""
    if video.polls_left > 0:
        video.polls_left -= 1
        state, progress = "processing", 50
    else:
        state, progress = ("error", 0) if video.failed else ("ready", 100)
    phase = "error" if state == "error" else ("complete" if state == "ready" else "in_progress")
    out = {"id": video.id, "title": video.title, "description": video.description,
           "created_time": fb_time(video.created_time), "post_id": video.post_id,
           "status": {"video_status": state, "processing_progress": progress,
                      "uploading_phase": {"status": "complete"}, "processing_phase": {"status": phase},
                      "publishing_phase": {"status": "complete" if state == "ready" else "not_started"}}}
    fields = ctx.fields
    if fields:
        out = {"id": video.id, **{f.name: out[f.name] for f in fields if f.name in out}}
    return out


async def edit_post(ctx: Ctx, post: Post) -> dict:
    """POST /{post-id}: change the message."""
    page = ctx.emu.world.pages[post.page_id]
    ctx.require_page_token(page)
    message = ctx.str("message")
    if message is not None:
        post.message = message
        post.updated_time = ctx.emu.clock.now()
    return {"success": True}


async def delete_post(ctx: Ctx, post: Post) -> dict:
    """DELETE /{post-id}."""
    page = ctx.emu.world.pages[post.page_id]
    ctx.require_page_token(page)
    post.deleted = True
    return {"success": True}
