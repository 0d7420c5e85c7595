"""The item model: cleaned text, bounded fields, UTC times, pseudonymous authors."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import datetime, timedelta, timezone

import pytest

from collectors.base import MAX_TEXT_CHARS, SOURCES, Batch, hash_author, make_item

WHEN = datetime(2024, 7, 1, 8, 30, tzinfo=timezone(timedelta(hours=7)))


def test_text_is_nfc_without_control_or_invisible_characters_and_capped():
    decomposed = unicodedata.normalize("NFD", "Công đoàn")
    raw = f"  {decomposed}\x00\u200b bảo\u00a0\u00a0vệ\r\n\r\n\r\n\r\nngười\tlao động\x1b  " + "a" * 30_000

    item = make_item("facebook_comment", "1_2", raw, WHEN)

    assert item.text.startswith("Công đoàn bảo vệ\n\nngười lao động a")
    assert item.text == unicodedata.normalize("NFC", item.text) and len(item.text) == MAX_TEXT_CHARS


def test_times_become_utc_and_fields_are_bounded():
    item = make_item("news_article", "https://bao.example.vn/1", "Tin", WHEN, url="javascript:alert(1)",
                     title="Tiêu đề\ncó dòng mới", author_ref=12345, account_ref="https://bao.example.vn/rss")

    assert item.created_at == datetime(2024, 7, 1, 1, 30, tzinfo=timezone.utc)
    assert item.created_at.utcoffset() == timedelta(0)
    assert item.url is None and item.title == "Tiêu đề có dòng mới" and item.author_ref == "12345"
    naive = make_item("zalo_message", "m1", "x", datetime(2024, 7, 1, 1, 30))
    assert naive.created_at.tzinfo is timezone.utc


def test_items_are_frozen_and_sources_are_checked():
    item = make_item("zalo_message", "m1", "Xin chào", WHEN)
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.text = "khác"  # type: ignore[misc]
    with pytest.raises(ValueError):
        make_item("twitter", "1", "x", WHEN)
    with pytest.raises(ValueError):
        make_item("zalo_message", "  ", "x", WHEN)
    with pytest.raises(ValueError):
        make_item("zalo_message", "x" * 600, "x", WHEN)
    assert SOURCES == ("facebook_comment", "facebook_post", "zalo_message", "news_article")
    assert Batch([item], {}).more is False


def test_author_hash_is_keyed_and_stable():
    a = hash_author("muoi-bi-mat", "facebook", "200001")

    assert a == hash_author("muoi-bi-mat", "facebook", "200001") and len(a) == 64
    assert a != hash_author("muoi-khac", "facebook", "200001")
    assert a != hash_author("muoi-bi-mat", "zalo", "200001")
    with pytest.raises(ValueError):
        hash_author("", "facebook", "200001")
