"""Turning an OutgoingPost into a Zalo OA article (platform-apis.md B5)."""

from __future__ import annotations

import re
import unicodedata

from common.errors import Rejected
from publishers.base import OutgoingPost
from platforms.zalo_errors import PLATFORM

# Field limits from a single third-party source; Zalo answers -201 when they are exceeded.
MAX_TITLE = 150
MAX_AUTHOR = 50
MAX_DESCRIPTION = 300

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def _clip(text: str, limit: int) -> str:
    """Cut at a word boundary and add an ellipsis when ``text`` is longer than ``limit``."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:-") + "…"


def _reject(message: str, code: str) -> Rejected:
    return Rejected(message, platform=PLATFORM, platform_code=code)


def article_title(post: OutgoingPost) -> str:
    """The article title: ``post.title``, else the first line of the text clipped to 150 characters."""
    if post.title and post.title.strip():
        title = unicodedata.normalize("NFC", post.title.strip())
        if len(title) > MAX_TITLE:
            raise _reject(f"Tiêu đề bài viết Zalo dài {len(title)} ký tự, vượt giới hạn {MAX_TITLE} ký tự.",
                          "title_too_long")
        return title
    for line in unicodedata.normalize("NFC", post.text or "").splitlines():
        if line.strip():
            return _clip(" ".join(line.split()), MAX_TITLE)
    raise _reject("Bài viết Zalo cần có tiêu đề hoặc nội dung để làm tiêu đề.", "missing_title")


def build_article(post: OutgoingPost, *, author: str) -> dict:
    """The JSON body of ``POST /v2.0/article/create``; raises Rejected when Zalo would refuse it."""
    text = unicodedata.normalize("NFC", (post.text or "").replace("\r\n", "\n")).strip()
    missing_url = [p.path for p in post.photos if not p.url]
    if missing_url:
        # Zalo article images are fetched by URL; a local file alone cannot be used.
        raise _reject("Ảnh trong bài viết Zalo phải có địa chỉ công khai (URL); ảnh chưa có địa chỉ: "
                      + ", ".join(missing_url[:3]) + ".", "photo_without_url")
    cover = post.photos[0].url if post.photos else post.cover_url
    if not cover:
        raise _reject("Bài viết Zalo cần ảnh bìa: hãy đính kèm ít nhất một ảnh hoặc đặt ảnh bìa mặc định "
                      "cho kênh Zalo.", "missing_cover")
    title = article_title(post)
    body: list[dict] = [{"type": "text", "content": para.strip()}
                        for para in _PARAGRAPH_BREAK.split(text) if para.strip()]
    if post.link:
        body.append({"type": "text", "content": post.link})
    body.extend({"type": "image", "url": photo.url, "caption": ""} for photo in post.photos)
    if not body:
        raise _reject("Bài viết Zalo cần có nội dung hoặc ảnh.", "empty_article")
    article = {
        "type": "normal",
        "title": title,
        "description": _clip(" ".join(text.split()) or title, MAX_DESCRIPTION),
        "cover": {"cover_type": "photo", "photo_url": cover, "status": "show"},
        "body": body,
        # Without status "show" Zalo keeps the article hidden.
        "status": "show",
        "comment": "show",
    }
    if author.strip():
        article["author"] = _clip(author.strip(), MAX_AUTHOR)
    return article
