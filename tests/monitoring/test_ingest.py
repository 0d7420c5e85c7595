"""Storing collected items on PostgreSQL: exact de-duplication, near-duplicate clusters, edits, concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from collectors.base import make_item
from collectors.ingest import Origin, store
from db.base import utcnow
from db.models import Cluster, Item
from db.session import session_scope

SALT = "test-salt"
RUMOUR = "Nóng: từ tháng sau BHXH sẽ ngừng chi trả lương hưu cho người về hưu sớm, mọi người rút hết tiền đi kẻo mất"
COPIES = [
    RUMOUR,
    "NÓNG: Từ tháng sau BHXH sẽ ngừng chi trả lương hưu cho người về hưu sớm, mọi người rút hết tiền đi kẻo mất!!!",
    "nong tu thang sau bhxh se ngung chi tra luong huu cho nguoi ve huu som, moi nguoi rut het tien di keo mat",
    "Anh em ơi nóng: từ tháng sau BHXH sẽ ngừng chi trả lương hưu cho người về hưu sớm, mn rút hết tiền đi kẻo mất",
]


def _items(texts, prefix="c", source="facebook_comment"):
    now = utcnow()
    return [make_item(source, f"{prefix}{i}", t, now - timedelta(minutes=i), author_ref=f"user{i}",
                      parent_external_id="110_1") for i, t in enumerate(texts)]


def test_same_platform_id_is_stored_once(factory, world):
    batch = _items(["Cảm ơn công đoàn đã tổ chức chuyến xe Tết cho công nhân", "Cho hỏi thủ tục nhận quà Tết ở đâu ạ"])
    with session_scope(factory) as s:
        first = store(s, batch, Origin(org_id=world.province, channel_id=world.fb), salt=SALT)
    with session_scope(factory) as s:
        again = store(s, batch + batch, Origin(org_id=world.province, channel_id=world.fb), salt=SALT)
    assert len(first.new_ids) == 2 and first.duplicates == 0
    assert again.new_ids == [] and again.duplicates == 2
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 2
        authors = list(s.scalars(select(Item.author_hash)))
    assert all(a and len(a) == 64 and "user" not in a for a in authors)  # only the salted hash is kept


def test_copies_of_one_rumour_become_one_cluster_with_a_spread_count(factory, world):
    other = "Công ty TNHH May Sông Hồng thông báo lịch nghỉ Tết Nguyên đán cho toàn thể công nhân viên năm nay"
    with session_scope(factory) as s:
        store(s, _items(COPIES[:2] + [other], "a"), Origin(org_id=world.grassroots), salt=SALT)
    with session_scope(factory) as s:  # later copies, in another union's group, join the same cluster
        store(s, _items(COPIES[2:], "b"), Origin(org_id=world.other_grassroots), salt=SALT)
    with session_scope(factory) as s:
        rumour_clusters = set(s.scalars(select(Item.cluster_id).where(Item.text != other)))
        assert len(rumour_clusters) == 1 and None not in rumour_clusters
        cluster = s.get(Cluster, rumour_clusters.pop())
        assert cluster.size == 4
        other_cluster = s.scalar(select(Item.cluster_id).where(Item.text == other))
        assert other_cluster != cluster.id


def test_short_texts_join_no_cluster(factory, world):
    with session_scope(factory) as s:
        store(s, _items(["Cảm ơn ạ", "Cảm ơn ạ!", "Đúng rồi"]), Origin(org_id=world.province), salt=SALT)
        assert list(s.scalars(select(Item.cluster_id))) == [None, None, None]


def test_an_edited_comment_is_classified_again(factory, world):
    with session_scope(factory) as s:
        [item_id] = store(s, _items(["Cảm ơn công đoàn đã hỗ trợ anh em công nhân khó khăn"]),
                          Origin(org_id=world.province), salt=SALT).new_ids
        s.get(Item, item_id).classified_at = utcnow()
    edited = _items(["Công đoàn toàn bọn ăn bám, anh em đừng tin, nghỉ hết đi"])
    with session_scope(factory) as s:
        result = store(s, edited, Origin(org_id=world.province), salt=SALT)
    assert result.edited == 1 and result.new_ids == []
    with session_scope(factory) as s:
        item = s.get(Item, item_id)
        assert item.text.startswith("Công đoàn toàn bọn") and item.classified_at is None


def test_two_workers_storing_the_same_batch_store_it_once(factory, world):
    batch = _items([f"Phản ánh số {i}: công ty chưa đóng bảo hiểm xã hội cho công nhân tháng này" for i in range(200)])
    barrier = threading.Barrier(2)

    def worker():
        barrier.wait()
        with session_scope(factory) as s:
            store(s, batch, Origin(org_id=world.province), salt=SALT)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 200


def test_concurrent_batches_growing_the_same_clusters_do_not_deadlock(factory, world):
    """Two webhook deliveries copying the same two rumours in opposite orders (found by bench/ingest.py)."""
    other = "Tin nóng: nhà máy sắp đóng cửa, chủ doanh nghiệp đã bỏ trốn về nước, lương tháng này mất trắng rồi"
    with session_scope(factory) as s:
        store(s, _items([RUMOUR, other], "seed"), Origin(org_id=world.province), salt=SALT)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker(name: str, texts: list[str]) -> None:
        barrier.wait()
        try:
            for round_ in range(15):
                with session_scope(factory) as s:
                    store(s, _items(texts, f"{name}-{round_}-"), Origin(org_id=world.province), salt=SALT)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=("a", [RUMOUR + "!", other + "!"])),
               threading.Thread(target=worker, args=("b", [other + " mn ơi", RUMOUR + " mn ơi"]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_scope(factory) as s:
        assert sorted(s.scalars(select(Cluster.size))) == [31, 31]


def test_another_organisations_item_with_the_same_id_is_never_edited(factory, world):
    with session_scope(factory) as s:
        [mine] = store(s, _items(["Bài báo gốc của tỉnh về chế độ thai sản cho lao động nữ"], "n",
                                 source="news_article"), Origin(org_id=world.province), salt=SALT).new_ids
    with session_scope(factory) as s:
        other = store(s, _items(["Nội dung khác do một nguồn tin lạ gửi với cùng mã bài"], "n", source="news_article"),
                      Origin(org_id=world.other_grassroots), salt=SALT)
    assert other.edited == 0 and other.new_ids == []
    with session_scope(factory) as s:
        item = s.get(Item, mine)
        assert item.text.startswith("Bài báo gốc") and item.org_id == world.province
