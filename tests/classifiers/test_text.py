"""Preprocessing: NFC, case, URLs/mentions/emoji, teencode, diacritics, segmentation, entities."""

from __future__ import annotations

import unicodedata

from classifiers.text import (
    display_token,
    entities,
    normalize,
    segment,
    strip_diacritics,
)


def test_nfc_and_case():
    decomposed = unicodedata.normalize("NFD", "Công Đoàn Cơ Sở")
    assert decomposed != "Công Đoàn Cơ Sở"
    assert normalize(decomposed) == "công đoàn cơ sở"
    assert normalize("Công Đoàn Cơ Sở") == normalize(decomposed)


def test_teencode_and_abbreviations():
    assert normalize("Cty nợ lương mà ko ai giải quyết") == "công ty nợ lương mà không ai giải quyết"
    assert normalize("ae cn đc thưởng 300k với 1tr") == "anh em công nhân được thưởng 300 nghìn với 1 triệu"
    assert normalize("đóng bhxh ở kcn") == "đóng bảo hiểm xã hội ở khu công nghiệp"
    # single letters are ambiguous and stay as they are
    assert normalize("a e ơi") == "a e ơi"


def test_urls_mentions_emoji_emoticons():
    out = normalize("Xem https://vnexpress.net/abc?x=1 nhé @Nam 😂😂 :))) <3")
    assert out.split() == ["xem", "url", "nhé", "mention", "emoji1f602", "emoji1f602", "emo_smile", "emo_love"]
    assert display_token("emoji1f602") == "😂"
    # UIT-VSFC spelled its emoticons out; they meet the real ones
    assert normalize("thầy vui tính colonsmile") == "thầy vui tính emo_smile"


def test_repeats_punctuation_and_shouting():
    assert normalize("đẹp quááá!!!! thậttttt???") == "đẹp quá ! thật ?"
    assert normalize("ĐỪNG TIN BỌN LỪA ĐẢO NÀY").endswith("allcaps")
    assert "allcaps" not in normalize("Đừng tin lời đồn")


def test_strip_diacritics():
    assert strip_diacritics("Công đoàn Đà Nẵng trả lương") == "Cong doan Da Nang tra luong"
    assert strip_diacritics(normalize("di lam o cty")) == "di lam o cong ty"


def test_empty_text():
    assert normalize("") == ""
    assert normalize("   ") == ""


def test_segment_joins_words():
    out = segment("Công nhân khu công nghiệp được tăng lương")
    assert "Công_nhân" in out.split()
    assert "tăng" in out


def test_entities_organisations_and_places():
    found = entities("Công ty TNHH May mặc Tân Phú Hưng ở KCN Yên Phong, Bắc Ninh nợ lương công nhân")
    assert ("Công ty TNHH May mặc Tân Phú Hưng", "ORG") in found
    assert ("KCN Yên Phong", "LOC") in found
    assert ("Bắc Ninh", "LOC") in found
    assert entities("") == []
