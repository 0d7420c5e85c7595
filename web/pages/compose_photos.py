"""Photos on the compose page: shrink phone photos to what the platforms take, store them, make thumbnails.

The platforms' limits are those of ``domain.content`` (Zalo takes photos up to 1 MB, Facebook 4 MB).
Shrinking re-encodes a large JPEG/PNG to at most 2048 px and, when it can, under Zalo's 1 MB; it also
drops EXIF metadata (a phone photo's GPS position among it). GIFs are kept as they are (animation).
Validation itself stays in ``domain.media.store_photo``: anything Pillow cannot read is passed to it
untouched so the person sees its Vietnamese message.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from common.errors import InvalidInput
from db.models import Media, Organisation, User
from domain.content import MAX_PHOTOS, ZALO_MAX_PHOTO_BYTES
from domain.media import MAX_PIXELS, store_photo

MAX_EDGE = 2048
STEPS = ((2048, 85), (1600, 80), (1280, 75))  # (longest edge, JPEG quality) tried in turn to fit 1 MB
RAW_LIMIT = 12 * 1024 * 1024  # what we accept from a phone before shrinking
THUMB_EDGE = 320
THUMB_DIR = "thumbs"


@dataclass(frozen=True)
class Upload:
    """One file as the browser sent it."""

    filename: str
    data: bytes


def shrink(data: bytes) -> bytes:
    """A smaller JPEG/PNG when ``data`` is larger than the platforms like; otherwise ``data`` unchanged."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt, size = probe.format, probe.size
        if fmt not in ("JPEG", "PNG") or size[0] * size[1] > MAX_PIXELS:
            return data
        if max(size) <= MAX_EDGE and len(data) <= ZALO_MAX_PHOTO_BYTES:
            return data
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            im = ImageOps.exif_transpose(im)
            keep_png = fmt == "PNG" and ("A" in im.getbands() or im.mode == "P")
            best = data
            for edge, quality in STEPS:
                copy = im.copy()
                copy.thumbnail((edge, edge))
                out = io.BytesIO()
                if keep_png:
                    copy.save(out, "PNG", optimize=True)
                else:
                    copy.convert("RGB").save(out, "JPEG", quality=quality, optimize=True, progressive=True)
                candidate = out.getvalue()
                if len(candidate) < len(best):
                    best = candidate
                if len(best) <= ZALO_MAX_PHOTO_BYTES:
                    break
            return best
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return data  # store_photo explains what is wrong with it


def thumbnail_url(media_dir: Path, media: Media) -> str:
    """The URL of a small preview of ``media`` (made on first use), or of the photo itself."""
    thumb = media_dir / THUMB_DIR / f"{media.sha256}.jpg"
    if not thumb.exists():
        try:
            with Image.open(media_dir / media.stored_name) as im:
                im = ImageOps.exif_transpose(im)
                im.thumbnail((THUMB_EDGE, THUMB_EDGE))
                thumb.parent.mkdir(parents=True, exist_ok=True)
                tmp = thumb.with_suffix(".tmp")
                im.convert("RGB").save(tmp, "JPEG", quality=80)
                tmp.replace(thumb)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            return f"/media/{media.stored_name}"
    return f"/media/{THUMB_DIR}/{thumb.name}"


async def read_uploads(files: list, *, limit: int = RAW_LIMIT) -> list[Upload]:
    """The non-empty uploaded files, each read up to ``limit`` bytes (more is refused with a clear message)."""
    uploads = []
    for f in files:
        if not getattr(f, "filename", None):
            continue
        data = await f.read(limit + 1)
        name = Path(f.filename).name[:200]
        if len(data) > limit:
            raise InvalidInput(f"Ảnh \"{name}\" nặng hơn {limit // 1048576} MB; hãy chọn ảnh nhỏ hơn.")
        if data:
            uploads.append(Upload(name, data))
    return uploads


def store_uploads(session: Session, *, org: Organisation, actor: User, uploads: list[Upload], kept: int,
                  media_dir: Path, max_bytes: int, auto_shrink: bool) -> list[Media]:
    """Validate and store the uploads (after ``kept`` photos already on the post)."""
    if kept + len(uploads) > MAX_PHOTOS:
        raise InvalidInput(f"Mỗi bài đăng tối đa {MAX_PHOTOS} ảnh (đã chọn {kept + len(uploads)}).")
    stored = []
    for up in uploads:
        data = shrink(up.data) if auto_shrink else up.data
        media = store_photo(session, org=org, actor=actor, filename=up.filename, data=data, media_dir=media_dir,
                            max_bytes=max_bytes)
        thumbnail_url(media_dir, media)
        stored.append(media)
    return stored
