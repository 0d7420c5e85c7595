"""Validating and storing uploaded photos."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from common.errors import InvalidInput
from db.models import Media, Organisation, User

ALLOWED_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "GIF": ("image/gif", "gif")}
MAX_PIXELS = 40_000_000  # refuse decompression bombs long before Pillow's own limit


def store_photo(session: Session, *, org: Organisation, actor: User | None, filename: str, data: bytes,
                media_dir: Path, max_bytes: int) -> Media:
    """Check that ``data`` is a JPEG/PNG/GIF no larger than ``max_bytes`` and store it by hash."""
    safe_name = Path(filename or "anh").name[:200]
    if not data:
        raise InvalidInput(f"Tệp \"{safe_name}\" trống.")
    if len(data) > max_bytes:
        raise InvalidInput(f"Ảnh \"{safe_name}\" nặng {len(data) / 1048576:.1f} MB, vượt giới hạn "
                           f"{max_bytes / 1048576:.0f} MB.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise InvalidInput(f"Ảnh \"{safe_name}\" có kích thước quá lớn ({width}×{height}).")
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInput(f"Tệp \"{safe_name}\" không phải ảnh hợp lệ (chỉ nhận JPG, PNG, GIF).") from exc
    if fmt not in ALLOWED_FORMATS:
        raise InvalidInput(f"Định dạng ảnh {fmt} không được hỗ trợ (chỉ nhận JPG, PNG, GIF).")
    content_type, ext = ALLOWED_FORMATS[fmt]
    digest = hashlib.sha256(data).hexdigest()
    stored_name = f"{digest}.{ext}"
    media_dir.mkdir(parents=True, exist_ok=True)
    path = media_dir / stored_name
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    media = Media(org_id=org.id, sha256=digest, filename=safe_name, stored_name=stored_name,
                  content_type=content_type, size=len(data), width=width, height=height,
                  created_by_id=actor.id if actor else None)
    session.add(media)
    session.flush()
    return media
