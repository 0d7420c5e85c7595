"""Zalo Article API (B5), broadcast of articles (B4) and uploads."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from sandbox.engagement import zalo_counts
from sandbox.state import Article, ArticleJob
from sandbox.zalo import ZaloError, ZCtx, invalid
from sandbox.zalo_model import article_link, ms, now_wall

_BLOCK_TYPES = {"text": "content", "image": "url", "video": "url"}


def _validate(ctx: ZCtx, a: dict, *, creating: bool) -> None:
    cfg = ctx.emu.cfg
    kind = a.get("type", "normal")
    if kind not in ("normal", "video"):
        raise invalid("type")
    required = list(cfg.zalo_article_required) if kind == "normal" else ["title", "video_id", "avatar"]
    for name in required:
        if creating and a.get(name) in (None, "", [], {}):
            raise invalid(name, "required")
    for name, limit in (("title", cfg.zalo_title_max), ("author", cfg.zalo_author_max),
                        ("description", cfg.zalo_description_max)):
        value = a.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            raise invalid(name, f"maximum length is {limit} characters")
    cover = a.get("cover")
    if kind == "normal" and cover is not None:
        if not isinstance(cover, dict) or cover.get("cover_type") not in ("photo", "video"):
            raise invalid("cover", "cover_type must be photo or video")
        if cover["cover_type"] == "photo" and not cover.get("photo_url"):
            raise invalid("cover.photo_url")
        if cover["cover_type"] == "video" and not cover.get("video_id"):
            raise invalid("cover.video_id")
    body = a.get("body")
    if kind == "normal" and body is not None:
        if not isinstance(body, list):
            raise invalid("body")
        for i, block in enumerate(body):
            if not isinstance(block, dict) or block.get("type") not in _BLOCK_TYPES:
                raise invalid(f"body[{i}].type")
            if not block.get(_BLOCK_TYPES[block["type"]]):
                raise invalid(f"body[{i}].{_BLOCK_TYPES[block['type']]}")
    for name in ("status", "comment"):
        if a.get(name) is not None and a[name] not in ("show", "hide"):
            raise invalid(name)


def _job(ctx: ZCtx, article: Article) -> dict:
    w = ctx.emu.world
    job = ArticleJob(token=w.hex_id(48), article_id=article.id, polls_left=ctx.emu.cfg.zalo_article_verify_polls)
    w.article_jobs[job.token] = job
    return {"token": job.token}


async def create(ctx: ZCtx) -> dict:
    """POST /v2.0/article/create → data.token (a job handle; nothing is published yet)."""
    emu, oa, p = ctx.emu, ctx.oa, ctx.params
    _validate(ctx, p, creating=True)
    quota = emu.cfg.zalo_article_quota
    if quota is not None and oa.articles_created >= quota:
        raise ZaloError(-223, "The OA has reached the quota for creating articles")
    accepted_at = now_wall()
    now, w = emu.clock.now(), emu.world
    # Without `status` the article stays hidden (1-src, B5).
    article = Article(id=w.hex_id(32), oa_id=oa.oa_id, seq=w.next_seq(), type=p.get("type", "normal"),
                      title=p.get("title") or "", author=p.get("author") or "", description=p.get("description") or "",
                      cover=p.get("cover") or {}, body=p.get("body") or [], status=p.get("status") or "hide",
                      comment=p.get("comment") or "show", created=now, updated=now, accepted_at=accepted_at,
                      video_id=p.get("video_id"))
    if article.type == "video":
        article.cover = {"cover_type": "photo", "photo_url": p.get("avatar")}
    # Zalo processes the article by itself after a while, whether or not anyone polls verify.
    delay = emu.cfg.zalo_article_processing_s
    if delay is not None:
        article.ready_at = now + max(0.0, float(delay))
    oa.articles[article.id] = article
    w.articles[article.id] = article
    oa.articles_created += 1
    return _job(ctx, article)


async def verify(ctx: ZCtx) -> dict:
    """POST /v2.0/article/verify {token}: -214 for the first N polls, then the article id.

    N is ``zalo_article_verify_polls`` (per token, independent of the clock); answering the id also
    marks the article processed if the processing time has not run out yet (see EmuConfig).
    """
    job = ctx.emu.world.article_jobs.get(str(ctx.params.get("token") or ""))
    if job is None or ctx.emu.world.articles[job.article_id].oa_id != ctx.oa.oa_id:
        raise invalid("token")
    if job.polls_left > 0:
        job.polls_left -= 1
        raise ZaloError(-214, "Article is being processed")
    article = ctx.emu.world.articles[job.article_id]
    article.processed = True
    mode = ctx.emu.cfg.zalo_verify_id_field
    if mode == "article_id":
        return {"article_id": article.id}
    if mode == "both":
        return {"id": article.id, "article_id": article.id}
    return {"id": article.id}


def _article(ctx: ZCtx, key: str = "id") -> Article:
    a = ctx.oa.articles.get(str(ctx.params.get(key) or ""))
    if a is None or a.removed:
        raise invalid(key)
    return a


def _media(ctx: ZCtx, a: Article) -> dict:
    counts = zalo_counts(ctx.emu, a)
    return {"id": a.id, "type": a.type, "title": a.title, "author": a.author, "status": a.status,
            "total_view": counts.views, "total_share": counts.shares, "create_date": ms(a.created),
            "update_date": ms(a.updated), "thumb": a.cover.get("photo_url", ""), "link": article_link(a.oa_id, a.id)}


async def getslice(ctx: ZCtx) -> dict:
    """GET /v2.0/article/getslice?offset&limit&type → data.medias + data.total (processed articles only)."""
    kind, now = ctx.params.get("type", "normal"), ctx.emu.clock.now()
    offset = ctx.int("offset", 0)
    limit = ctx.count("limit", 10, ctx.emu.cfg.zalo_article_slice_max)
    rows = sorted((a for a in ctx.oa.articles.values() if a.is_processed(now) and not a.removed and a.type == kind),
                  key=lambda a: a.seq, reverse=True)
    return {"medias": [_media(ctx, a) for a in rows[offset:offset + limit]], "total": len(rows)}


async def getdetail(ctx: ZCtx) -> dict:
    """GET /v2.0/article/getdetail?id=…"""
    a = _article(ctx)
    if not a.is_processed(ctx.emu.clock.now()):
        raise ZaloError(-214, "Article is being processed")
    out = _media(ctx, a)
    out.update(description=a.description, cover=a.cover, body=a.body, comment=a.comment,
               oa_id=a.oa_id, share_url=out["link"])
    if a.video_id:
        out["video_id"] = a.video_id
    return out


async def update(ctx: ZCtx) -> dict:
    """POST /v2.0/article/update: same body as create plus `id`; returns a new job token."""
    a = _article(ctx)
    _validate(ctx, {**ctx.params, "type": a.type}, creating=False)
    for name in ("title", "author", "description", "cover", "body", "status", "comment"):
        if name in ctx.params:
            setattr(a, name, ctx.params[name])
    a.updated = ctx.emu.clock.now()
    return _job(ctx, a)


async def remove(ctx: ZCtx) -> dict:
    """POST /v2.0/article/remove {id}."""
    a = _article(ctx)
    a.removed = True
    return {}


async def broadcast(ctx: ZCtx) -> dict:
    """POST /v2.0/oa/message: only an article attachment can be broadcast (B4)."""
    cfg, oa = ctx.emu.cfg, ctx.oa
    recipient, message = ctx.params.get("recipient") or {}, ctx.params.get("message")
    if not isinstance(message, dict):
        raise invalid("message")
    attachment = message.get("attachment")
    if not attachment:
        if isinstance(recipient, dict) and recipient.get("user_id"):
            # Sending CS text through v2.0 was shut down; the path survives only for broadcast.
            raise ZaloError(-240, "The MessageV2 API has been shut down; use /v3.0/oa/message/cs")
        raise ZaloError(cfg.zalo_broadcast_text_error, "message is invalid: only an article can be broadcast")
    target = recipient.get("target") if isinstance(recipient, dict) else None
    if target is not None and not isinstance(target, dict):
        raise invalid("recipient.target")
    payload = attachment.get("payload") if isinstance(attachment, dict) else None
    if not isinstance(payload, dict) or payload.get("template_type") != "media":
        raise invalid("message.attachment.payload.template_type", "must be media")
    elements = payload.get("elements")
    if not isinstance(elements, list) or len(elements) != 1 or not isinstance(elements[0], dict):
        raise invalid("message.attachment.payload.elements")
    el = elements[0]
    if el.get("media_type") != "article":
        raise invalid("media_type", "only article can be broadcast")
    a = oa.articles.get(str(el.get("attachment_id") or ""))
    if a is None or a.removed or not a.is_processed(ctx.emu.clock.now()):
        raise invalid("attachment_id")
    if a.status != "show" and cfg.zalo_broadcast_hidden_article_error:
        raise invalid("attachment_id", "the article is hidden")
    w = ctx.emu.world
    record = {"message_id": w.hex_id(32), "article_id": a.id, "title": a.title, "target": target or {},
              "accepted_at": now_wall(), "created": ctx.emu.clock.now()}
    oa.broadcasts.append(record)
    return {"message_id": record["message_id"]}


# --------------------------------------------------------------------------- uploads

def _upload(ctx: ZCtx, kind: str) -> dict:
    cfg = ctx.emu.cfg
    if "file" not in ctx.files:
        raise invalid("file", "missing")
    name, _, data = ctx.files["file"]
    limit = {"image": cfg.zalo_upload_image_max, "gif": cfg.zalo_upload_gif_max, "file": cfg.zalo_upload_file_max,
             "video": 50 * 1024 * 1024}[kind]
    if not data or len(data) > limit:
        raise invalid("file", f"maximum size is {limit} bytes")
    if kind in ("image", "gif"):
        allowed = ("JPEG", "PNG") if kind == "image" else ("GIF",)
        try:
            with Image.open(io.BytesIO(data)) as img:
                fmt = img.format
                img.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise invalid("file", "not an image") from None
        if fmt not in allowed:
            raise invalid("file", f"format must be {'/'.join(allowed)}")
    elif kind == "file" and not name.lower().endswith((".pdf", ".doc", ".docx")):
        raise invalid("file", "only pdf, doc and docx are accepted")
    ident = ctx.emu.world.hex_id(40)
    ctx.oa.uploads[ident] = {"type": kind, "name": name, "size": len(data), "created": ctx.emu.clock.now(),
                             "polls": ctx.emu.cfg.zalo_article_verify_polls}
    return {"token": ident} if kind in ("file", "video") else {"attachment_id": ident}


async def upload_image(ctx: ZCtx) -> dict:
    """POST /v2.0/oa/upload/image (jpg/png ≤ 1 MB) → attachment_id."""
    return _upload(ctx, "image")


async def upload_gif(ctx: ZCtx) -> dict:
    """POST /v2.0/oa/upload/gif → attachment_id."""
    return _upload(ctx, "gif")


async def upload_file(ctx: ZCtx) -> dict:
    """POST /v2.0/oa/upload/file (pdf/doc/docx ≤ 5 MB) → token."""
    return _upload(ctx, "file")


async def prepare_video(ctx: ZCtx) -> dict:
    """POST /v2.0/article/upload_video/preparevideo (multipart) → token."""
    return _upload(ctx, "video")


async def verify_video(ctx: ZCtx) -> dict:
    """GET /v2.0/article/upload_video/verify?token= → status 3 (converting) then 1 (ready)."""
    up = ctx.oa.uploads.get(str(ctx.params.get("token") or ""))
    if up is None or up["type"] != "video":
        raise invalid("token")
    if up["polls"] > 0:
        up["polls"] -= 1
        return {"status": 3, "convert_percent": 50, "status_message": "converting"}
    up.setdefault("video_id", ctx.emu.world.hex_id(32))
    return {"status": 1, "convert_percent": 100, "video_id": up["video_id"], "video_name": up["name"],
            "video_size": up["size"], "status_message": "ready"}
