"""A week of known activity in the standard test world, and the figures a digest must show for it.

Week W = 2026-W40 (Mon 28/09 – Sun 04/10/2026, local); the digest is built on Monday 05/10 08:00 local.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import (Campaign, Channel, DigestRecipient, DigestSettings, HotTopic, HotTopicPoint, Item, PlanTarget,
                       Post, PostMetric, PostStatus, PostTarget, ReviewStatus, TargetKind, TargetStatus)
from domain.periods import Week

WEEK = Week(2026, 40)
NOW = datetime(2026, 10, 5, 1, 0, tzinfo=UTC)  # Monday 08:00 in Hà Nội
SCRIPT = "<script>alert('x')</script>"


def at(day: int, hour: int = 9) -> datetime:
    """Day ``day`` (0 = Monday) of WEEK at ``hour`` local, in UTC."""
    return WEEK.start_utc + timedelta(days=day, hours=hour)


def publication(s: Session, *, org_id: int, channel_id: int, author_id: int, when: datetime, text: str,
                title: str | None = None, campaign_id: int | None = None, metrics: tuple | None = None,
                failed: str | None = None) -> PostTarget:
    """A post published (or failed) on one channel at ``when``; ``metrics`` = (views, reach, reactions, comments,
    shares) stores an insights reading."""
    post = Post(org_id=org_id, author_id=author_id, text=text, title=title, campaign_id=campaign_id,
                status=PostStatus.failed if failed else PostStatus.published, created_at=when - timedelta(hours=1),
                updated_at=when)
    s.add(post)
    s.flush()
    target = PostTarget(post_id=post.id, channel_id=channel_id, scheduled_at=when, due_at=when,
                        idempotency_key=uuid.uuid4().hex, attempts=1, created_at=when - timedelta(hours=1),
                        updated_at=when)
    if failed:
        target.status, target.last_error = TargetStatus.failed, failed
    else:
        target.status, target.published_at = TargetStatus.published, when
        target.external_id, target.external_url = f"ext_{uuid.uuid4().hex[:12]}", "https://www.facebook.com/p/1"
    s.add(target)
    s.flush()
    if metrics is not None:
        views, reach, reactions, comments, shares = metrics
        from db.models import Channel

        ch = s.get(Channel, channel_id)
        s.add(PostMetric(target_id=target.id, post_id=post.id, channel_id=channel_id, org_id=ch.org_id,
                         platform=ch.platform, published_at=when, views=views, reach=reach, reactions=reactions,
                         comments=comments, shares=shares,
                         engagement=sum(v or 0 for v in (reactions, comments, shares)), fetched_at=when,
                         next_fetch_at=None, fetches=1))
    return target


def item(s: Session, *, org_id: int, risk: str, when: datetime, text: str = "Bình luận thử nghiệm",
         status: ReviewStatus = ReviewStatus.new, reviewed_after: timedelta | None = None,
         human_risk: str | None = None) -> Item:
    """A classified item created at ``when``; reviewed ``reviewed_after`` later when given."""
    it = Item(source="facebook_comment", external_id=f"t-{uuid.uuid4().hex}", org_id=org_id, text=text,
              created_at=when, collected_at=when, classified_at=when, model_version="test", risk=risk,
              topic="tien_luong", sentiment="tieu_cuc", toxicity="clean", risk_score=0.9,
              flagged=(human_risk or risk) != "binh_thuong", review_status=status,
              human_labels={"risk": human_risk} if human_risk else None,
              reviewed_at=when + reviewed_after if reviewed_after else None)
    s.add(it)
    s.flush()
    return it


@dataclass
class Seeded:
    """Ids and the figures the digest of WEEK for the province must show."""

    province: int
    district: int
    grassroots: int
    top_text: str = "Công đoàn tỉnh trao 500 suất quà cho công nhân khó khăn"
    campaign: str = "Tháng Công nhân 2026"
    posts_week: int = 7  # publications in WEEK: 5 Facebook, 2 Zalo
    posts_previous: int = 2
    views_week: int = 0
    engagement_week: int = 0
    flagged: dict = field(default_factory=lambda: {"buc_xuc": 3, "sai_lech": 2, "kich_dong": 1})
    grievances_open: int = 3  # 2 of WEEK (one was dismissed) + 1 older
    grievances_new: int = 2
    topic_label: str = "Nợ lương tại Công ty May Sông Hồng"
    failed_reason: str = ("Facebook từ chối vì nội dung trùng với bài vừa đăng trên Trang; "
                          "hãy sửa nội dung rồi đăng lại.")
    recipients: tuple = ("lanhdao@tinh.vn", "chutich@tinh.vn")
    target_ids: dict = field(default_factory=dict)


def seed_week(s: Session, w) -> Seeded:  # noqa: ANN001 - tests.factories.World
    """Activity of WEEK (and the week before) in the standard world."""
    sd = Seeded(province=w.province, district=w.district, grassroots=w.grassroots)
    # The world's channels were connected before the plan's period began.
    s.execute(update(Channel).values(created_at=datetime(2026, 6, 1, tzinfo=UTC)))
    camp = Campaign(org_id=w.province, name=sd.campaign)
    s.add(camp)
    s.flush()
    metrics = [  # (views, reach, reactions, comments, shares)
        (5200, 3600, 410, 52, 37),  # top: 499
        (1800, 1200, 90, 12, 5),
        (900, 600, 20, 3, 1),
        (700, None, None, None, 9),  # Zalo: views and shares only
        (300, None, None, None, 2),
        (400, 300, 15, 2, 0),
        (250, 170, 8, 1, 0),
    ]
    pub = [
        (w.province, w.fb, 0, sd.top_text, camp.id),
        (w.province, w.fb, 1, "Hướng dẫn đoàn viên tra cứu quá trình đóng bảo hiểm xã hội", camp.id),
        (w.province, w.fb, 3, "Lịch tiếp công dân của Chủ tịch LĐLĐ tỉnh tháng 10", None),
        (w.province, w.zalo, 1, "Bản tin Công đoàn tuần 40", None),
        (w.province, w.zalo, 4, "Thông báo nghỉ lễ", None),
        (w.district, w.district_fb, 2, "LĐLĐ huyện Đông tổ chức đối thoại với công nhân", None),
        (w.grassroots, w.grassroots_fb, 5, "CĐCS May Sông Hồng tổ chức sinh nhật tháng cho công nhân", None),
    ]
    for (org, channel, day, text, campaign), m in zip(pub, metrics, strict=True):
        publication(s, org_id=org, channel_id=channel, author_id=w.editor, when=at(day), text=text,
                    campaign_id=campaign, metrics=m)
    sd.views_week = sum(m[0] for m in metrics)
    sd.engagement_week = sum(sum(v or 0 for v in m[2:]) for m in metrics)
    for day in (-5, -3):  # the week before: two on the province page
        publication(s, org_id=w.province, channel_id=w.fb, author_id=w.editor, when=at(day), text="Tin tuần trước")
    publication(s, org_id=w.province, channel_id=w.fb, author_id=w.editor, when=at(2, 15),
                text=f"Bài lỗi {SCRIPT}", failed=sd.failed_reason)

    # Opinion desk: W has 3 grievances (1 dismissed, 1 relabelled to it), 2 rumours, 1 incitement, 4 ordinary.
    item(s, org_id=w.grassroots, risk="buc_xuc", when=at(0, 10), text="Công ty nợ lương hai tháng chưa trả",
         status=ReviewStatus.confirmed, reviewed_after=timedelta(hours=3))
    item(s, org_id=w.province, risk="buc_xuc", when=at(1, 10), text="Bị cắt phụ cấp chuyên cần",
         status=ReviewStatus.dismissed, reviewed_after=timedelta(hours=30))
    item(s, org_id=w.district, risk="sai_lech", human_risk="buc_xuc", when=at(2, 10),
         text="Ca đêm làm quá 12 tiếng mà không trả tăng ca", reviewed_after=timedelta(hours=2))
    item(s, org_id=w.province, risk="sai_lech", when=at(3, 8), text=f"Nghe nói BHXH ngừng chi trả {SCRIPT}")
    item(s, org_id=w.other_grassroots, risk="sai_lech", when=at(4, 8), text="Công đoàn thu 2% lương để chia nhau",
         status=ReviewStatus.escalated, reviewed_after=timedelta(hours=20))
    item(s, org_id=w.province, risk="kich_dong", when=at(5, 8), text="Anh em nghỉ hết đập phá xưởng")
    for day in range(4):
        item(s, org_id=w.province, risk="binh_thuong", when=at(day, 12), text="Cảm ơn công đoàn")
    item(s, org_id=w.province, risk="sai_lech", when=at(-4), text="Tin đồn tuần trước")
    item(s, org_id=w.grassroots, risk="buc_xuc", when=at(-20), text="Phản ánh cũ về bếp ăn",
         status=ReviewStatus.confirmed, reviewed_after=timedelta(hours=50))

    s.add(HotTopic(scope=f"org:{w.province}", org_id=w.province, key="no-luong-may", label=sd.topic_label,
                   keywords=["nợ lương", "may sông hồng", "tăng ca"], entities=["Công ty May Sông Hồng"],
                   representative_ids=[], started_at=at(0, 11), last_seen_at=at(1, 18), ended_at=at(2, 0),
                   peak_score=7.5, item_count=23))
    s.flush()
    topic_id = s.scalar(select(HotTopic.id).where(HotTopic.key == "no-luong-may"))
    for hours, count in ((2, 9), (6, 31), (20, 23)):  # detection passes: items of the last hour
        s.add(HotTopicPoint(hot_topic_id=topic_id, at=at(0, 11) + timedelta(hours=hours), count=count,
                            baseline=1.5, score=4.0))

    sd.target_ids["cdcs"] = _target(s, w.province, TargetKind.cdcs_channel_pct,
                                    "100% CĐCS xây dựng trang Fanpage, Zalo do đơn vị mình quản lý", 100)
    sd.target_ids["posts"] = _target(s, w.province, TargetKind.posts_per_channel_week,
                                     "Mỗi kênh của LĐLĐ tỉnh đăng ít nhất 2 bài/tuần", 2)
    sd.target_ids["handled"] = _target(s, w.province, TargetKind.flagged_handled_pct,
                                       "Thông tin sai lệch, xấu độc được xử lý trong 24 giờ", 90, params={"hours": 24})
    sd.target_ids["manual"] = _target(s, w.province, TargetKind.manual,
                                      "Tập huấn nghiệp vụ truyền thông cho cán bộ công đoàn", 2, manual=None)
    s.add(DigestSettings(org_id=w.province, enabled=True, weekday=0, hour=7))
    for email in sd.recipients:
        s.add(DigestRecipient(org_id=w.province, email=email, name=email.split("@")[0]))
    s.flush()
    return sd


def _target(s: Session, org_id: int, kind: TargetKind, title: str, threshold: float, *, params: dict | None = None,
            manual: float | None = None) -> int:
    from datetime import date

    t = PlanTarget(org_id=org_id, kind=kind, title=title, period_start=date(2026, 7, 1), period_end=date(2026, 12, 31),
                   threshold=threshold, comparison=">=", params=params or {}, manual_value=manual)
    s.add(t)
    s.flush()
    return t.id
