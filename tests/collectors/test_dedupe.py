"""Near-duplicate fingerprints: copies of one rumour cluster, different texts do not, short texts get no keys."""

from __future__ import annotations

import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path

import pytest

from collectors import dedupe
from collectors.dedupe import NEAR_DUP_THRESHOLD, fingerprint, similarity

RUMOUR = ("Nghe nói công ty X sắp cắt giảm 500 công nhân vào tháng sau, ai làm ở đó thì chuẩn bị tinh thần đi nhé, "
          "tin từ phòng nhân sự")
COPIES = [
    # Shared with a shouted prefix, an abbreviation and a call to share.
    "NÓNG: nghe nói cty X sắp cắt giảm 500 công nhân vào tháng sau, ai làm ở đó thì chuẩn bị tinh thần đi nhé!!! "
    "Tin từ phòng nhân sự. Chia sẻ cho mọi người biết",
    # Retyped without diacritics.
    "Nghe noi cong ty X sap cat giam 500 cong nhan vao thang sau, ai lam o do thi chuan bi tinh than di nhe, "
    "tin tu phong nhan su",
    # A greeting and two inserted words.
    "Mọi người ơi, nghe nói công ty X sắp cắt giảm tới 500 công nhân vào tháng sau, ai làm ở đó thì chuẩn bị "
    "tinh thần đi nhé, tin từ phòng nhân sự đấy",
    # A link appended (tracking parameters differ between copies).
    "Nghe nói công ty X sắp cắt giảm 500 công nhân vào tháng sau, ai làm ở đó thì chuẩn bị tinh thần đi nhé, "
    "tin từ phòng nhân sự https://www.tin-don.example.vn/bai?id=1&utm_source=zalo",
]
DIFFERENT = [
    "Công ty Y thông báo tăng lương cho công nhân từ tháng sau, mỗi người thêm 300 nghìn đồng",
    "Liên đoàn lao động tỉnh tổ chức giải chạy vì sức khỏe người lao động vào chủ nhật tuần này tại công viên",
    "Công ty X tuyển thêm 500 công nhân vào tháng sau, ai có nhu cầu việc làm thì liên hệ phòng nhân sự nhé",
    "Nghe nói công ty Z sắp cho công nhân nghỉ Tết sớm, ai làm ở đó thì vui lên nhé",
]


def test_copies_of_one_rumour_are_near_duplicates_and_share_band_keys():
    original = fingerprint(RUMOUR)
    for copy in COPIES:
        fp = fingerprint(copy)
        assert similarity(original, fp) >= NEAR_DUP_THRESHOLD, copy
        assert set(original.band_keys) & set(fp.band_keys), copy  # a DB lookup by key finds it
    for a, b in combinations(COPIES, 2):
        assert similarity(fingerprint(a), fingerprint(b)) >= 0.6


def test_different_texts_on_the_same_topic_do_not_cluster():
    prints = [fingerprint(t) for t in [RUMOUR, *DIFFERENT]]
    for a, b in combinations(prints, 2):
        assert similarity(a, b) < 0.4


def test_short_texts_get_no_band_keys():
    for text in ["cảm ơn ạ", "Đúng rồi", "ok", "chuẩn luôn anh ơi", ""]:
        assert fingerprint(text).band_keys == [], text
    assert len(fingerprint("Ca đêm nên có thêm phụ cấp cho công nhân").band_keys) == dedupe.BANDS


def test_empty_text_is_similar_to_nothing():
    empty = fingerprint("!!! ???")
    assert empty.is_empty and similarity(empty, empty) == 0.0


def test_encode_decode_round_trip():
    fp = fingerprint(RUMOUR)
    raw = dedupe.encode(fp)

    back = dedupe.decode(raw)

    assert isinstance(raw, bytes) and len(raw) == 4 * dedupe.NUM_PERM
    assert back.band_keys == fp.band_keys and similarity(back, fp) == 1.0 and similarity(raw, fp) == 1.0
    assert all(len(key) <= 40 for key in fp.band_keys)
    with pytest.raises(ValueError):
        similarity(b"short", fp)


def test_fingerprints_are_identical_across_processes():
    code = f"from collectors.dedupe import fingerprint; print(fingerprint({RUMOUR!r}).minhash.hex())"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root,
                         env={"PYTHONHASHSEED": "12345", "PYTHONPATH": str(root)}).stdout.strip()

    assert out == fingerprint(RUMOUR).minhash.hex()


def test_fingerprinting_is_fast_enough_for_comment_streams():
    # Comment-length texts (15–40 words); best of three runs to ride out a busy machine.
    texts = [f"{COPIES[i % len(COPIES)]} số {i}" for i in range(2000)]
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for text in texts:
            fingerprint(text)
        best = min(best, time.perf_counter() - started)

    assert len(texts) / best >= 5000
