"""Demo data for `make run`: an organisation tree, one user per role, sandbox channels, a post."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import select

from common.crypto import CredentialCipher
from common.settings import Settings
from db.base import utcnow
from db.models import Channel, Feed, Organisation, OrgKind, Platform, Role, ScheduleKind, User
from db.session import make_engine, make_sessionmaker, session_scope
from domain import channels, orgs
from domain.accounts import set_password
from domain.posts import ChannelChoice, PostDraft, Schedule, approve, create_post, submit

PROVINCE = "LĐLĐ tỉnh Demo"
# Every demo user signs in to the web app with this password (the demo only; README says so).
DEMO_PASSWORD = "loa-demo-2027"
USERS = [
    ("quantri@demo.loa.vn", "Quản trị Demo", Role.admin, "province"),
    ("bientap@demo.loa.vn", "Biên tập Demo", Role.editor, "province"),
    ("duyet@demo.loa.vn", "Lãnh đạo duyệt bài Demo", Role.approver, "province"),
    ("theodoi@demo.loa.vn", "Theo dõi dư luận Demo", Role.monitor, "province"),
    ("lanhdao@demo.loa.vn", "Lãnh đạo Demo", Role.viewer, "province"),
    ("bientap.coso@demo.loa.vn", "Biên tập CĐCS Demo", Role.editor, "grassroots"),
]
SLOTS = [{"weekdays": [0, 1, 2, 3, 4], "time": "07:30"}, {"weekdays": [0, 1, 2, 3, 4, 5, 6], "time": "19:30"}]
DEMO_TEXT = ("Loa xin chào! Đây là bài đăng thử của LĐLĐ tỉnh Demo: Tháng Công nhân 2027 với chủ đề "
             "\"Đoàn viên Công đoàn được chăm lo, bảo vệ\" bắt đầu từ ngày 1/5. Chúc anh chị em "
             "người lao động một tháng nhiều niềm vui. ({at})")


def seed(settings: Settings) -> Iterator[str]:
    """Create the demo once (idempotent), then queue a fresh demo post; yields lines to print."""
    from sandbox.demo import DEMO

    factory = make_sessionmaker(make_engine(settings.database_url))
    cipher = CredentialCipher.from_setting(settings.secret_keys.get_secret_value())
    with session_scope(factory) as s:
        province = s.scalar(select(Organisation).where(Organisation.name == PROVINCE, Organisation.parent_id.is_(None)))
        if province is None:
            province = orgs.create_org(s, name=PROVINCE, kind=OrgKind.tinh)
            district = orgs.create_org(s, name="LĐLĐ huyện Demo", kind=OrgKind.huyen, parent_id=province.id)
            grassroots = orgs.create_org(s, name="CĐCS Công ty TNHH May Demo", kind=OrgKind.co_so,
                                         parent_id=district.id)
            where = {"province": province, "grassroots": grassroots}
            for email, name, role, org_key in USERS:
                user = orgs.create_user(s, email=email, full_name=name)
                membership = orgs.grant_role(s, user=user, org=where[org_key], role=role)
                membership.on_duty = role == Role.monitor  # receives the alert emails
            page, oa = DEMO["facebook"]["pages"][0], DEMO["zalo"]["oas"][0]
            channels.connect_channel(s, org=province, platform=Platform.facebook_page, external_id=page["page_id"],
                                     name=page["name"], credentials={"access_token": page["page_token"]},
                                     cipher=cipher, slots=SLOTS)
            channels.connect_channel(s, org=province, platform=Platform.zalo_oa, external_id=oa["oa_id"],
                                     name=oa["name"], cipher=cipher, slots=SLOTS,
                                     credentials={"access_token": oa["access_token"],
                                                  "refresh_token": oa["refresh_token"]},
                                     default_cover_url=_demo_cover(settings))
            s.add(Feed(org_id=province.id, name="Tin tức người lao động (sandbox)", interval_s=60,
                       url=f"http://127.0.0.1:{settings.sandbox_port}/feeds/tin-tuc.xml"))
        yield f"Người dùng mẫu (mật khẩu web: {DEMO_PASSWORD}) và mã API (mã mới mỗi lần chạy):"
        for email, _name, role, org_key in USERS:
            user = s.scalar(select(User).where(User.email == email))
            if user.password_hash is None:
                set_password(s, user=user, password=DEMO_PASSWORD)
            yield f"  {role.value:9} {email:28} {orgs.issue_token(s, user=user, name='demo')}"
        fb = s.scalar(select(Channel).where(Channel.org_id == province.id, Channel.platform == Platform.facebook_page))
        editor = s.scalar(select(User).where(User.email == "bientap@demo.loa.vn"))
        approver = s.scalar(select(User).where(User.email == "duyet@demo.loa.vn"))
        at = utcnow() + timedelta(minutes=1)
        from domain.scheduling import to_local

        draft = PostDraft(text=DEMO_TEXT.format(at=to_local(at).strftime("%H:%M:%S %d/%m/%Y")),
                          channels=[ChannelChoice(fb.id)], schedule=Schedule(ScheduleKind.exact, at=at))
        post = create_post(s, actor=editor, org=province, draft=draft, now=utcnow())
        submit(s, actor=editor, post=post)
        approve(s, actor=approver, post=post, now=utcnow())
        yield (f"Bài đăng thử #{post.id} đã được duyệt, sẽ lên Trang \"{fb.name}\" lúc "
               f"{to_local(at).strftime('%H:%M:%S')} (giờ Hà Nội).")
        page = DEMO["facebook"]["pages"][0]["page_id"]
        sb = f"http://127.0.0.1:{settings.sandbox_port}"
        yield ""
        yield "Theo dõi dư luận: thử một bình luận trên Trang demo (webhook → phân loại → hàng đợi duyệt):"
        yield (f"  curl -s -X POST {sb}/__emu/comments -H 'Content-Type: application/json' -d "
               f"'{{\"post_id\": \"<id bài trên trang {page}, xem {sb}/__emu/posts>\", "
               f"\"message\": \"Nghe nói BHXH sắp ngừng chi trả lương hưu, rút hết đi kẻo mất\"}}'")
        yield (f"  curl -s {settings.public_base_url}/api/items -H 'Authorization: Bearer <mã của theodoi@demo.loa.vn>'")
        yield f"  Tin mới cho nguồn tin cục bộ: POST {sb}/__emu/feed {{\"title\": ..., \"summary\": ...}}"

    # Reporting (issue 5): eight weeks of history, the plan's targets and the leaders' digest address.
    from cli.demo_reporting import seed_reporting

    yield from seed_reporting(factory, province.id)


def _demo_cover(settings: Settings) -> str:
    """Draw a plain cover image for the demo Zalo OA and return its public URL."""
    from PIL import Image, ImageDraw

    settings.media_dir.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (1200, 630), (0, 91, 170))
    ImageDraw.Draw(image).rectangle((60, 60, 1140, 570), outline=(255, 255, 255), width=8)
    image.save(settings.media_dir / "demo-cover.png", "PNG")
    return f"{settings.public_base_url.rstrip('/')}/media/demo-cover.png"
