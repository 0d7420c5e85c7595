"""Plan targets measured from Loa's own data: each kind, its status, and the SQLite path."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from common.crypto import CredentialCipher, generate_key
from common.errors import InvalidInput
from db.models import PlanTarget, TargetKind
from db.session import make_engine, make_sessionmaker, session_scope
from domain.periods import Period, parse_period
from domain.targets import MET, NOT_MET, UNMEASURABLE, add_target, measure, measure_all, set_manual_value
from tests.digest.seed import seed_week
from tests.factories import build_world

AS_OF = date(2026, 10, 4)  # the seeded week's Sunday
H2 = Period(date(2026, 7, 1), date(2026, 12, 31))


def _results(session, org_id):
    return {r.target_id: r for r in measure_all(session, org_id, as_of=AS_OF)}


def test_each_measurable_kind_against_the_seeded_data(factory, seeded, world):
    with session_scope(factory) as s:
        r = _results(s, seeded.province)
        ids = seeded.target_ids
        assert (r[ids["cdcs"]].actual, r[ids["cdcs"]].status) == (100.0, MET)
        assert r[ids["cdcs"]].detail.startswith("2/2 CĐCS có kênh đang hoạt động")
        # 5 posts on the Facebook page and 2 on the Zalo OA over 96 days (13.7 weeks): the Zalo OA is weakest.
        assert (r[ids["posts"]].actual, r[ids["posts"]].status) == (0.1, NOT_MET)
        assert "0/2 kênh đạt; kênh thấp nhất: Kênh 2001" in r[ids["posts"]].detail
        assert (r[ids["handled"]].actual, r[ids["handled"]].status) == (25.0, NOT_MET)
        assert (r[ids["manual"]].actual, r[ids["manual"]].status) == (None, UNMEASURABLE)
        assert all(x.in_progress for x in r.values())

        published = add_target(s, org_id=seeded.province, kind=TargetKind.published_posts, title="", period=H2,
                               threshold=8, params={"subtree": True})
        digital = add_target(s, org_id=seeded.province, kind=TargetKind.digital_products_pct,
                             title="Tỉ trọng sản phẩm truyền thông trên nền tảng số chiếm 50%", period=H2, threshold=50)
        own = add_target(s, org_id=seeded.province, kind=TargetKind.published_posts, title="", period=H2, threshold=8)
        assert measure(s, published, as_of=AS_OF).actual == 9.0  # 7 this week + 2 the week before, whole tree
        assert measure(s, published, as_of=AS_OF).status == MET
        assert measure(s, own, as_of=AS_OF).actual == 7.0  # the province's own channels only
        assert measure(s, digital, as_of=AS_OF).status == UNMEASURABLE
        set_manual_value(s, digital.id, 20, "Báo cáo của Ban Tuyên giáo")
        assert (measure(s, digital, as_of=AS_OF).actual, measure(s, digital, as_of=AS_OF).status) == (35.0, NOT_MET)
        set_manual_value(s, ids["manual"], 2)
        assert measure(s, s.get(PlanTarget, ids["manual"]), as_of=AS_OF).status == MET


def test_at_most_targets_and_finished_periods(factory, seeded):
    with session_scope(factory) as s:
        few_failures = add_target(s, org_id=seeded.province, kind=TargetKind.manual, title="Không quá 2 bài lỗi",
                                  period=parse_period("2026-Q3"), threshold=2, comparison="<=", manual_value=1)
        r = measure(s, few_failures, as_of=date(2027, 1, 10))
        assert (r.status, r.in_progress, r.target_vi) == (MET, False, "≤ 2")


def test_targets_are_validated(factory, world):
    with session_scope(factory) as s:
        with pytest.raises(InvalidInput, match="tỷ lệ phải từ 0 đến 100"):
            add_target(s, org_id=world.province, kind=TargetKind.cdcs_channel_pct, title="", period=H2, threshold=120)
        with pytest.raises(InvalidInput, match="Số giờ"):
            add_target(s, org_id=world.province, kind=TargetKind.flagged_handled_pct, title="", period=H2,
                       threshold=90, params={"hours": 0})
        t = add_target(s, org_id=world.province, kind=TargetKind.cdcs_channel_pct, title="", period=H2, threshold=100)
        with pytest.raises(InvalidInput, match="tự đo"):
            set_manual_value(s, t.id, 5)
        with pytest.raises(InvalidInput, match="ở sau"):
            Period(date(2026, 12, 31), date(2026, 7, 1))
        assert s.scalar(select(func.count()).select_from(PlanTarget)) == 1


def test_targets_measure_the_same_on_sqlite(sqlite_url):
    factory = make_sessionmaker(make_engine(sqlite_url))
    with session_scope(factory) as s:
        w = build_world(s, CredentialCipher([generate_key()]))
        seeded = seed_week(s, w)
    with session_scope(factory) as s:
        r = _results(s, seeded.province)
        assert [(r[i].actual, r[i].status) for i in seeded.target_ids.values()] == [
            (100.0, MET), (0.1, NOT_MET), (25.0, NOT_MET), (None, UNMEASURABLE)]


def test_periods_parse_like_the_plans_say_them():
    assert parse_period("2027-H1") == Period(date(2027, 1, 1), date(2027, 6, 30))
    assert parse_period("2027") == Period(date(2027, 1, 1), date(2027, 12, 31))
    assert parse_period("2027-q4") == Period(date(2027, 10, 1), date(2027, 12, 31))
    assert parse_period("2027-01-15:2027-02-14").days == 31
    with pytest.raises(InvalidInput, match="không hợp lệ"):
        parse_period("nửa đầu năm")
    assert Period(date(2027, 1, 1), date(2027, 6, 30)).clipped(date(2027, 3, 1)).end == date(2027, 3, 1)
    assert Period(date(2027, 1, 1), date(2027, 6, 30)).end_utc - Period(date(2027, 1, 1), date(2027, 6, 30)).start_utc \
        == timedelta(days=181)
