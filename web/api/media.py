"""Photo upload."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, UploadFile
from sqlalchemy.orm import Session

from db.models import Media, Role, User
from domain import access
from domain.media import store_photo
from web.deps import WebRuntime, current_user, db, runtime
from web.errors import API_ERRORS, error_responses
from web.schemas import MediaRead

router = APIRouter(prefix="/api", tags=["ảnh"], responses=API_ERRORS | error_responses(413))


@router.post("/orgs/{org_id}/media", response_model=MediaRead, status_code=201)
async def upload(org_id: int, file: UploadFile = File(...), user: User = Depends(current_user),
                 session: Session = Depends(db), rt: WebRuntime = Depends(runtime)) -> MediaRead:
    """Upload one photo (JPG/PNG/GIF, at most the configured size) for the organisation's posts."""
    org = access.get_visible_org(session, user, org_id)
    access.require_role(session, user, org, Role.editor, Role.admin)
    # Read one byte past the limit so an oversized upload is refused without loading all of it.
    data = await file.read(rt.max_photo_bytes + 1)
    media: Media = store_photo(session, org=org, actor=user, filename=file.filename or "anh", data=data,
                               media_dir=rt.media_dir, max_bytes=rt.max_photo_bytes)
    session.commit()
    return MediaRead.model_validate(media).model_copy(update={"url": f"/media/{media.stored_name}"})
