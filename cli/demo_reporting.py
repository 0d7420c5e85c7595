"""Demo data for the weekly digest, targets and reports (`loa demo`): eight weeks of history for the demo province.

Published posts with their insights, a failed post, opinion items with the desk's decisions, a hot
topic, the plan's targets for the year and the leaders' digest address. The history posts never went to
the sandbox, so their insights are stored as final readings (Loa will not ask the sandbox about them);
posts published by `make run` itself are read from the sandbox as usual. Idempotent: each week is
seeded once, so running `loa demo` in a later week adds that week.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.base import utcnow
from db.models import (Campaign, Channel, DigestSettings, HotTopic, Item, Organisation, Platform, Post, PostMetric,
                       PostStatus, PostTarget, ReviewStatus, TargetKind, TargetStatus, User)
from db.session import session_scope
from domain.digest.send import configure
from domain.periods import Period, Week
from domain.targets import add_target, targets_of

WEEKS = 8
CAMPAIGNS = ("Chăm lo Tết Sum vầy 2027", "Tuyên truyền Bộ luật Lao động")
POSTS = [
    "LĐLĐ tỉnh trao {n} suất quà cho đoàn viên có hoàn cảnh khó khăn",
    "Hướng dẫn đoàn viên tra cứu quá trình đóng bảo hiểm xã hội trên điện thoại",
    "Tư vấn pháp luật miễn phí cho công nhân tại Nhà văn hoá lao động tỉnh",
    "Khai mạc hội thao công nhân viên chức lao động năm nay với {n} vận động viên",
    "Công đoàn đối thoại với doanh nghiệp về tiền lương, thưởng cuối năm",
    "Bản tin Công đoàn tuần: chính sách mới về lương tối thiểu vùng",
    "Đăng ký chuyến xe mùa xuân đưa công nhân về quê đón Tết",
]
GRIEVANCES = ["Công ty chậm đóng bảo hiểm xã hội mấy tháng rồi", "Xưởng may nợ tiền tăng ca tháng trước",
              "Bếp ăn ca đêm cơm nguội, anh em phản ánh mãi không sửa", "Bị cắt phụ cấp chuyên cần không báo trước"]
RUMOURS = ["Nghe nói BHXH sắp ngừng chi trả lương hưu, rút hết đi kẻo mất",
           "Công đoàn thu 2% lương để chia nhau, đừng đóng nữa"]
INCITEMENT = ["Anh em nghỉ hết ngày mai, kéo ra chặn đường cho bọn nó biết tay"]


def seed_reporting(factory: sessionmaker[Session], province_id: int, *, now: datetime | None = None) -> Iterator[str]:
    """Seed what is missing; yields lines to print."""
    now = now or utcnow()
    current = Week.containing(now)
    with session_scope(factory) as s:
        fb, zalo = (s.scalar(select(Channel.id).where(Channel.org_id == province_id, Channel.platform == p))
                    for p in (Platform.facebook_page, Platform.zalo_oa))
        editor = s.scalar(select(User.id).where(User.email == "bientap@demo.loa.vn"))
        monitor = s.scalar(select(User.id).where(User.email == "theodoi@demo.loa.vn"))
        grassroots = s.scalar(select(Organisation.id).where(Organisation.path.startswith(f"/{province_id}/"),
                                                            Organisation.kind == "co_so"))
        campaigns = [_campaign(s, province_id, name) for name in CAMPAIGNS]
        added = 0
        for back in range(WEEKS - 1, -1, -1):
            week = current.shift(-back)
            if s.scalar(select(Post.id).where(Post.client_request_id == f"demo-history-{week.label}-0")):
                continue
            _seed_week(s, week, now=now, province=province_id, grassroots=grassroots or province_id, fb=fb,
                       zalo=zalo, editor=editor, monitor=monitor, campaigns=campaigns)
            added += 1
        if s.get(DigestSettings, province_id) is None:
            configure(s, province_id, add=["lanhdao@demo.loa.vn"], weekday=0, hour=7)
        if not targets_of(s, province_id):
            _targets(s, province_id, now)
    yield ""
    yield (f"Thư tổng hợp tuần: đã có {WEEKS} tuần dữ liệu mẫu ({added} tuần vừa thêm), 6 chỉ tiêu năm "
           f"{current.monday.year}; lanhdao@demo.loa.vn nhận thư thứ Hai 07:00 (var/mail khi chạy make run).")
    yield f"  Xem trước thư tuần này: {preview_command(province_id, current)}"


def preview_command(province_id: int, week: Week) -> str:
    return f"loa digest --org {province_id} --week {week.label} --preview var/digest-{week.label}.html"


def demo_preview_hint(factory: sessionmaker[Session], now: datetime | None = None) -> str | None:
    """The preview command for the demo province, or None when there is no demo."""
    from cli.demo import PROVINCE

    with session_scope(factory) as s:
        province_id = s.scalar(select(Organisation.id).where(Organisation.name == PROVINCE,
                                                             Organisation.parent_id.is_(None)))
    return preview_command(province_id, Week.containing(now or utcnow())) if province_id else None


def _campaign(s: Session, org_id: int, name: str) -> int:
    found = s.scalar(select(Campaign.id).where(Campaign.org_id == org_id, Campaign.name == name))
    if found:
        return found
    c = Campaign(org_id=org_id, name=name, description="Chiến dịch mẫu")
    s.add(c)
    s.flush()
    return c.id


def _seed_week(s: Session, week: Week, *, now: datetime, province: int, grassroots: int, fb: int, zalo: int,
               editor: int | None, monitor: int | None, campaigns: list[int]) -> None:
    rng = random.Random(week.label)

    def moment(day: int, hour: float) -> datetime | None:
        at = week.start_utc + timedelta(days=day, hours=hour)
        return at if at < now else None

    n = 0
    for channel, platform, count in ((fb, Platform.facebook_page, rng.randint(2, 4)),
                                     (zalo, Platform.zalo_oa, rng.randint(1, 2))):
        if channel is None:
            continue
        for _ in range(count):
            when = moment(rng.randint(0, 6), rng.choice([7.5, 9, 11, 15, 19.5]))
            if when is None:
                continue
            text = rng.choice(POSTS).format(n=rng.choice([200, 350, 500, 1200]))
            camp = rng.choice([None, None, *campaigns])
            target = _publication(s, org_id=province, channel_id=channel, author_id=editor, when=when, text=text,
                                  campaign_id=camp, key=f"demo-history-{week.label}-{n}")
            views = rng.randint(300, 6000)
            reactions = None if platform == Platform.zalo_oa else int(views * rng.uniform(0.02, 0.08))
            comments = None if platform == Platform.zalo_oa else rng.randint(0, 60)
            shares = int(views * rng.uniform(0.002, 0.01))
            s.add(PostMetric(target_id=target.id, post_id=target.post_id, channel_id=channel, org_id=province,
                             platform=platform, published_at=when, views=views,
                             reach=None if platform == Platform.zalo_oa else int(views * 0.7), reactions=reactions,
                             comments=comments, shares=shares,
                             engagement=(reactions or 0) + (comments or 0) + shares, fetched_at=now,
                             next_fetch_at=None, fetches=1))
            n += 1
    if fb is not None and rng.random() < 0.5 and (when := moment(2, 15)) is not None:
        _publication(s, org_id=province, channel_id=fb, author_id=editor, when=when,
                     text="Thông báo lịch trực Tết của cơ quan LĐLĐ tỉnh", key=f"demo-history-{week.label}-failed",
                     failed="Facebook từ chối vì nội dung trùng với bài vừa đăng trên Trang; hãy sửa nội dung "
                            "rồi đăng lại.")
    for i in range(rng.randint(6, 16)):
        when = moment(rng.randint(0, 6), rng.uniform(6, 23))
        if when is None:
            continue
        risk, text = rng.choice([("buc_xuc", rng.choice(GRIEVANCES))] * 3 + [("sai_lech", rng.choice(RUMOURS))] * 2
                                + [("kich_dong", INCITEMENT[0]), ("binh_thuong", "Cảm ơn công đoàn đã hỗ trợ")] * 1)
        decided = when + timedelta(hours=rng.choice([1, 3, 6, 20, 30, 60]))
        status = ReviewStatus.new
        if risk != "binh_thuong" and decided < now and rng.random() < 0.8:
            status = ReviewStatus.dismissed if rng.random() < 0.7 else (
                ReviewStatus.escalated if risk == "kich_dong" else ReviewStatus.confirmed)
        s.add(Item(source="facebook_comment", external_id=f"demo-history:{week.label}:{i}",
                   org_id=rng.choice([province, grassroots]), channel_id=fb, text=text, created_at=when,
                   collected_at=when, classified_at=when, model_version="demo", risk=risk,
                   topic="bhxh" if "bảo hiểm" in text.lower() else "tien_luong", sentiment="tieu_cuc",
                   toxicity="clean", risk_score=0.85 if risk != "binh_thuong" else 0.1,
                   flagged=risk != "binh_thuong", review_status=status,
                   reviewed_by=monitor if status != ReviewStatus.new else None,
                   reviewed_at=decided if status != ReviewStatus.new else None))
    start = moment(1, 8)
    if start is not None and (week.number % 2 == 0 or week == Week.containing(now)):
        s.add(HotTopic(scope=f"org:{province}", org_id=province, key=f"demo-{week.label}",
                       label="Chậm đóng bảo hiểm xã hội tại Khu công nghiệp Demo",
                       keywords=["bảo hiểm", "chậm đóng", "khu công nghiệp"], entities=["KCN Demo"],
                       representative_ids=[], started_at=start, last_seen_at=min(now, start + timedelta(hours=30)),
                       ended_at=None if start + timedelta(hours=30) > now else start + timedelta(hours=30),
                       peak_score=6.0, item_count=rng.randint(12, 40)))


def _publication(s: Session, *, org_id: int, channel_id: int, author_id: int | None, when: datetime, text: str,
                 key: str, campaign_id: int | None = None, failed: str | None = None) -> PostTarget:
    post = Post(org_id=org_id, author_id=author_id, text=text, campaign_id=campaign_id, client_request_id=key,
                status=PostStatus.failed if failed else PostStatus.published, created_at=when - timedelta(hours=2),
                updated_at=when, approved_at=when - timedelta(hours=1))
    s.add(post)
    s.flush()
    target = PostTarget(post_id=post.id, channel_id=channel_id, scheduled_at=when, due_at=when, attempts=1,
                        idempotency_key=uuid.uuid4().hex, created_at=when - timedelta(hours=2), updated_at=when)
    if failed:
        target.status, target.last_error = TargetStatus.failed, failed
    else:
        target.status, target.published_at, target.external_id = TargetStatus.published, when, f"demo:{key}"
    s.add(target)
    s.flush()
    return target


def _targets(s: Session, org_id: int, now: datetime) -> None:
    year = Week.containing(now).monday.year
    period = Period(date(year, 1, 1), date(year, 12, 31))
    plan = "Kế hoạch truyền thông Công đoàn (mẫu)"
    add_target(s, org_id=org_id, kind=TargetKind.cdcs_channel_pct, period=period, threshold=100, plan_ref=plan,
               title="100% CĐCS xây dựng trang Fanpage, Zalo do đơn vị mình quản lý")
    add_target(s, org_id=org_id, kind=TargetKind.posts_per_channel_week, period=period, threshold=2, plan_ref=plan,
               title="Mỗi kênh của LĐLĐ tỉnh đăng ít nhất 2 bài/tuần")
    add_target(s, org_id=org_id, kind=TargetKind.flagged_handled_pct, period=period, threshold=90, plan_ref=plan,
               params={"hours": 24}, title="Phát hiện, xử lý thông tin sai lệch, xấu độc trong 24 giờ (≥ 90%)")
    add_target(s, org_id=org_id, kind=TargetKind.published_posts, period=period, threshold=150, plan_ref=plan,
               params={"subtree": True}, title="Đăng ít nhất 150 tin, bài trên các kênh của các cấp công đoàn")
    add_target(s, org_id=org_id, kind=TargetKind.digital_products_pct, period=period, threshold=50, plan_ref=plan,
               manual_value=120, params={"subtree": True},
               title="Tỉ trọng sản phẩm truyền thông trên nền tảng số chiếm 50% tổng số sản phẩm truyền thông")
    add_target(s, org_id=org_id, kind=TargetKind.manual, period=period, threshold=2, plan_ref=plan, manual_value=1,
               params={"unit": "lần"}, title="Tập huấn nâng cao năng lực truyền thông cho cán bộ công đoàn 02 lần/năm")
