"""Builders for test data with valid defaults; override only what a test cares about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from common.crypto import CredentialCipher
from db.models import Channel, OrgKind, Platform, Role, ScheduleKind, User
from domain import channels, orgs
from domain.posts import ChannelChoice, PostDraft, Schedule, approve, create_post, submit

SLOTS = [{"weekdays": [0, 1, 2, 3, 4, 5, 6], "time": "07:30"}, {"weekdays": [0, 1, 2, 3, 4, 5, 6], "time": "19:30"}]


@dataclass
class World:
    """Ids of the objects in the standard test world."""

    province: int
    district: int
    grassroots: int
    other_grassroots: int
    editor: int
    approver: int
    admin: int
    district_editor: int
    district_approver: int
    grassroots_editor: int
    other_editor: int
    fb: int
    zalo: int
    district_fb: int
    grassroots_fb: int
    other_fb: int


def make_channel(session: Session, cipher: CredentialCipher, org, *, platform=Platform.facebook_page,
                 external_id: str, name: str | None = None, token: str = "tok", refresh: str = "ref") -> Channel:
    creds = {"access_token": token}
    if platform == Platform.zalo_oa:
        creds["refresh_token"] = refresh
    return channels.connect_channel(session, org=org, platform=platform, external_id=external_id,
                                    name=name or f"Kênh {external_id}", credentials=creds, cipher=cipher,
                                    slots=SLOTS, default_cover_url="http://127.0.0.1/cover.png")


def make_user(session: Session, org, role: Role, email: str) -> User:
    user = orgs.create_user(session, email=email, full_name=email.split("@")[0])
    orgs.grant_role(session, user=user, org=org, role=role)
    return user


def build_world(session: Session, cipher: CredentialCipher) -> World:
    province = orgs.create_org(session, name="LĐLĐ tỉnh Thử Nghiệm", kind=OrgKind.tinh)
    district = orgs.create_org(session, name="LĐLĐ huyện Đông", kind=OrgKind.huyen, parent_id=province.id)
    grassroots = orgs.create_org(session, name="CĐCS Công ty May Sông Hồng", kind=OrgKind.co_so, parent_id=district.id)
    other = orgs.create_org(session, name="CĐCS Công ty Giày Tây Nam", kind=OrgKind.co_so, parent_id=district.id)
    w = World(
        province=province.id, district=district.id, grassroots=grassroots.id, other_grassroots=other.id,
        editor=make_user(session, province, Role.editor, "bientap@tinh.vn").id,
        approver=make_user(session, province, Role.approver, "duyet@tinh.vn").id,
        admin=make_user(session, province, Role.admin, "quantri@tinh.vn").id,
        district_editor=make_user(session, district, Role.editor, "bientap@huyen.vn").id,
        district_approver=make_user(session, district, Role.approver, "duyet@huyen.vn").id,
        grassroots_editor=make_user(session, grassroots, Role.editor, "bientap@may.vn").id,
        other_editor=make_user(session, other, Role.editor, "bientap@giay.vn").id,
        fb=make_channel(session, cipher, province, external_id="1001").id,
        zalo=make_channel(session, cipher, province, platform=Platform.zalo_oa, external_id="2001").id,
        district_fb=make_channel(session, cipher, district, external_id="1002").id,
        grassroots_fb=make_channel(session, cipher, grassroots, external_id="1003").id,
        other_fb=make_channel(session, cipher, other, external_id="1004").id,
    )
    return w


def make_post(session: Session, *, author_id: int, org_id: int, channel_ids: list[int], now: datetime,
              text: str = "Tin nhanh: LĐLĐ tỉnh tổ chức Tháng Công nhân.", schedule: Schedule | None = None,
              **draft_fields):
    from db.models import Organisation

    author = session.get(User, author_id)
    org = session.get(Organisation, org_id)
    draft = PostDraft(text=text, channels=[ChannelChoice(c) for c in channel_ids],
                      schedule=schedule or Schedule(ScheduleKind.now), **draft_fields)
    return create_post(session, actor=author, org=org, draft=draft, now=now)


def make_scheduled_post(session: Session, world: World, *, now: datetime, channel_ids: list[int] | None = None,
                        **kwargs):
    post = make_post(session, author_id=world.editor, org_id=world.province,
                     channel_ids=channel_ids or [world.fb], now=now, **kwargs)
    submit(session, actor=session.get(User, world.editor), post=post)
    approve(session, actor=session.get(User, world.approver), post=post, now=now)
    return post


@dataclass
class Desk:
    """Monitors added to the standard world."""

    province_monitor: int
    grassroots_monitor: int
    other_monitor: int


def build_desk(session: Session, world: World) -> Desk:
    from db.models import Membership, Organisation

    province = session.get(Organisation, world.province)
    desk = Desk(
        province_monitor=make_user(session, province, Role.monitor, "theodoi@tinh.vn").id,
        grassroots_monitor=make_user(session, session.get(Organisation, world.grassroots), Role.monitor,
                                     "theodoi@may.vn").id,
        other_monitor=make_user(session, session.get(Organisation, world.other_grassroots), Role.monitor,
                                "theodoi@giay.vn").id,
    )
    session.query(Membership).filter_by(user_id=desk.province_monitor).update({"on_duty": True})
    return desk


_item_seq = iter(range(1, 10**9))


def make_item(session: Session, *, org_id: int, text: str, risk: str = "sai_lech", topic: str = "bhxh",
              sentiment: str = "tieu_cuc", toxicity: str = "clean", score: float = 0.9, source: str = "facebook_comment",
              created_at: datetime | None = None, channel_id: int | None = None, cluster_id: int | None = None,
              external_id: str | None = None, parent_external_id: str | None = None):
    """A collected item that the classifier has already labelled."""
    from db.base import utcnow
    from db.models import Item

    now = utcnow()
    item = Item(source=source, external_id=external_id or f"ext-{next(_item_seq)}", org_id=org_id, text=text,
                created_at=created_at or now, collected_at=now, classified_at=now, model_version="test",
                risk=risk, topic=topic, sentiment=sentiment, toxicity=toxicity, risk_score=score,
                flagged=risk != "binh_thuong", channel_id=channel_id, cluster_id=cluster_id,
                parent_external_id=parent_external_id,
                proba={"risk": {risk: score}}, explanation={"risk": [["ngừng chi trả", 1.2]]})
    session.add(item)
    session.flush()
    return item
