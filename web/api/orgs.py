"""Organisations, members, campaigns, notifications and the signed-in user."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import InvalidInput
from db.models import Campaign, Notification, Organisation, Role, User
from domain import access, audit, orgs
from web.deps import current_user, db
from web.errors import API_ERRORS
from web.schemas import CampaignCreate, CampaignRead, MemberCreate, NotificationRead, OrgCreate, OrgRead, UserRead

router = APIRouter(prefix="/api", tags=["tổ chức"], responses=API_ERRORS)


@router.get("/me")
def me(user: User = Depends(current_user)) -> dict:
    """The signed-in user and their roles."""
    return {"id": user.id, "email": user.email, "full_name": user.full_name,
            "roles": [{"org_id": m.org_id, "role": m.role.value} for m in user.memberships]}


@router.get("/orgs", response_model=list[OrgRead])
def list_orgs(user: User = Depends(current_user), session: Session = Depends(db)) -> list[Organisation]:
    """Every organisation the user can see (their own and all below)."""
    ids = access.visible_org_ids(session, user)
    return list(session.scalars(select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.path)))


@router.post("/orgs", response_model=OrgRead, status_code=201)
def create_org(body: OrgCreate, user: User = Depends(current_user), session: Session = Depends(db)) -> Organisation:
    """Create a sub-organisation (administrator of the parent)."""
    if body.parent_id is None:
        raise InvalidInput("Tổ chức cấp tỉnh chỉ tạo được bằng lệnh quản trị `loa org create`.")
    parent = access.get_visible_org(session, user, body.parent_id)
    access.require_role(session, user, parent, Role.admin)
    org = orgs.create_org(session, name=body.name, kind=body.kind, parent_id=parent.id, actor=user)
    session.commit()
    return org


@router.get("/orgs/{org_id}", response_model=OrgRead)
def get_org(org_id: int, user: User = Depends(current_user), session: Session = Depends(db)) -> Organisation:
    """One organisation."""
    return access.get_visible_org(session, user, org_id)


@router.post("/orgs/{org_id}/members", response_model=UserRead, status_code=201)
def add_member(org_id: int, body: MemberCreate, user: User = Depends(current_user),
               session: Session = Depends(db)) -> User:
    """Give a person (created if new) a role in the organisation (administrator)."""
    org = access.get_visible_org(session, user, org_id)
    access.require_role(session, user, org, Role.admin)
    member = session.scalar(select(User).where(User.email == body.email.strip().lower()))
    if member is None:
        member = orgs.create_user(session, email=body.email, full_name=body.full_name, actor=user)
    orgs.grant_role(session, user=member, org=org, role=body.role, actor=user)
    session.commit()
    return member


@router.get("/orgs/{org_id}/campaigns", response_model=list[CampaignRead])
def list_campaigns(org_id: int, user: User = Depends(current_user), session: Session = Depends(db)) -> list:
    """Campaigns of the organisation and of its ancestors (posts may be tagged with either)."""
    org = access.get_visible_org(session, user, org_id)
    return list(session.scalars(select(Campaign).where(Campaign.org_id.in_(org.ancestor_ids()))
                                .order_by(Campaign.created_at.desc())))


@router.post("/orgs/{org_id}/campaigns", response_model=CampaignRead, status_code=201)
def create_campaign(org_id: int, body: CampaignCreate, user: User = Depends(current_user),
                    session: Session = Depends(db)) -> Campaign:
    """Create a campaign such as "Tháng Công nhân 2027" (editor or administrator)."""
    org = access.get_visible_org(session, user, org_id)
    access.require_role(session, user, org, Role.editor, Role.admin)
    if session.scalar(select(Campaign.id).where(Campaign.org_id == org.id, Campaign.name == body.name.strip())):
        raise InvalidInput(f"Chiến dịch \"{body.name}\" đã tồn tại.")
    try:
        starts = date.fromisoformat(body.starts_on) if body.starts_on else None
        ends = date.fromisoformat(body.ends_on) if body.ends_on else None
    except ValueError as exc:
        raise InvalidInput("Ngày bắt đầu/kết thúc cần dạng YYYY-MM-DD.") from exc
    if starts and ends and ends < starts:
        raise InvalidInput("Ngày kết thúc phải sau ngày bắt đầu.")
    campaign = Campaign(org_id=org.id, name=body.name.strip(), description=body.description, starts_on=starts,
                        ends_on=ends)
    session.add(campaign)
    session.flush()
    audit.record(session, entity_type="campaign", entity_id=campaign.id, action="create", actor=user, org_id=org.id)
    session.commit()
    return campaign


@router.get("/notifications", response_model=list[NotificationRead])
def notifications(user: User = Depends(current_user), session: Session = Depends(db)) -> list:
    """The user's notifications, newest first."""
    return list(session.scalars(select(Notification).where(Notification.user_id == user.id)
                                .order_by(Notification.id.desc()).limit(100)))
