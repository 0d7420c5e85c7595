"""Organisations and places named in a text: "Công ty TNHH …", "KCN Quang Châu", "Bắc Giang".

Two sources, merged:

* Prefix heuristics (always on): a head word — Công ty/Cty/Tập đoàn (+ TNHH/CP/MTV/Cổ phần),
  KCN/Khu công nghiệp/KCX, tỉnh/huyện/quận/thị xã/thành phố — followed by capitalised words,
  plus the names of Vietnam's provinces (the 63 used until 2025, which people still write).
  They are precise on the names a union desk cares about, which underthesea's NER splits or
  mislabels ("Giày Da Phúc Thịnh" as a person, "KCN" and "Quang Châu" as two places).
* underthesea's ``ner`` (domain.trends.nlp; works offline) adds other places and
  organisations, kept only when every word of the span is capitalised — that drops its
  frequent false positives on lowercase chat ("anh em", "tháng sau BHXH"). If the model cannot
  be loaded the heuristics alone are used.

NER costs milliseconds per text, so callers run it on a topic's representatives, not the stream.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from domain.trends import nlp
from domain.trends.text import STOPWORDS

PROVINCES: tuple[str, ...] = (
    "An Giang", "Bà Rịa - Vũng Tàu", "Bà Rịa", "Vũng Tàu", "Bắc Giang", "Bắc Kạn", "Bạc Liêu",
    "Bắc Ninh", "Bến Tre", "Bình Định", "Bình Dương", "Bình Phước", "Bình Thuận", "Cà Mau",
    "Cần Thơ", "Cao Bằng", "Đà Nẵng", "Đắk Lắk", "Đắk Nông", "Điện Biên", "Đồng Nai",
    "Đồng Tháp", "Gia Lai", "Hà Giang", "Hà Nam", "Hà Nội", "Hà Tĩnh", "Hải Dương", "Hải Phòng",
    "Hậu Giang", "Hòa Bình", "Hưng Yên", "Khánh Hòa", "Kiên Giang", "Kon Tum", "Lai Châu",
    "Lâm Đồng", "Lạng Sơn", "Lào Cai", "Long An", "Nam Định", "Nghệ An", "Ninh Bình",
    "Ninh Thuận", "Phú Thọ", "Phú Yên", "Quảng Bình", "Quảng Nam", "Quảng Ngãi", "Quảng Ninh",
    "Quảng Trị", "Sóc Trăng", "Sơn La", "Tây Ninh", "Thái Bình", "Thái Nguyên", "Thanh Hóa",
    "Thừa Thiên Huế", "Huế", "Tiền Giang", "TP.HCM", "TP HCM", "Hồ Chí Minh", "Sài Gòn",
    "Trà Vinh", "Tuyên Quang", "Vĩnh Long", "Vĩnh Phúc", "Yên Bái",
)
ORG_HEADS = {("công", "ty"): "Công ty", ("cty",): "Công ty", ("tập", "đoàn"): "Tập đoàn"}
ORG_FORMS = {"tnhh": "TNHH", "mtv": "MTV", "cp": "CP", "cổ": "Cổ", "phần": "phần", "liên": "Liên", "doanh": "doanh"}
PARK_HEADS = {("kcn",): "KCN", ("khu", "công", "nghiệp"): "KCN", ("kcx",): "KCX", ("khu", "chế", "xuất"): "KCX"}
ADMIN_HEADS = {("tỉnh",): "tỉnh", ("huyện",): "huyện", ("quận",): "quận", ("thị", "xã"): "thị xã",
               ("thành", "phố"): "thành phố"}
# Capitalised words NER returns that are not names of a place or organisation for the desk.
NER_IGNORED = frozenset({"bhxh", "bhyt", "kcn", "lđlđ", "công đoàn", "vssid", "tết", "clip", "ad", "cty", "công ty",
                         "tập đoàn"})
# Words NER glues to the front of a name when a sentence starts with them.
LEADING_NOISE = frozenset({"bên", "vụ", "phía", "chỗ", "ở", "tại", "nghe", "nói", "thấy", "xem", "clip", "chia",
                           "sẻ", "nóng", "thật", "chán", "cho", "hỏi", "anh", "chị", "em", "cả", "các", "mọi"})
MAX_NAME_WORDS = 6

_WORD = re.compile(r"TP\.\s?HCM|\w+|[^\w\s]", re.IGNORECASE)
# Old-style tone placement ("Thanh Hoá") folded to the modern one ("Thanh Hóa") for matching.
_TONE_STYLE = {"oá": "óa", "oà": "òa", "oả": "ỏa", "oã": "õa", "oạ": "ọa", "uý": "úy", "uỳ": "ùy",
               "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy", "oé": "óe", "oè": "òe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe"}
_OLD_TONE = re.compile(rf"(?:{'|'.join(_TONE_STYLE)})\b", re.IGNORECASE)  # only word-final: "hoá", not "đoàn"
_PROVINCE_WORDS = sorted((tuple(p.split()) for p in PROVINCES), key=len, reverse=True)


def _fold_tone(text: str) -> str:
    return _OLD_TONE.sub(lambda m: _TONE_STYLE[m.group(0).lower()], text)


def _is_name_word(word: str) -> bool:
    """A word (each of its syllables) that can be part of a proper name: capitalised, or an
    all-caps/alphanumeric code. "Nghe nói" (capitalised only because it starts a sentence) is not."""
    return all(s[:1].isupper() or (s[:1].isdigit() and any(ch.isalpha() for ch in s)) for s in word.split())


def _match_head(words: list[str], i: int, heads) -> tuple[int, tuple[str, ...]] | None:
    lowered = [w.lower() for w in words[i:i + 3]]
    for head in heads:
        if tuple(lowered[: len(head)]) == head:
            return len(head), head
    return None


def _province_at(words: list[str], i: int) -> tuple[str, ...] | None:
    return next((p for p in _PROVINCE_WORDS if tuple(words[i:i + len(p)]) == p), None)


def _name_after(words: list[str], j: int, province_ends: bool) -> list[str]:
    """The name words from ``j`` on: capitalised words, plus a lowercase non-stopword between two
    of them ("Điện tử Minh Quang"); stops before another entity's head and, for a park or an
    administrative unit, before a province name ("KCN VSIP Bình Dương" → "KCN VSIP" + "Bình
    Dương"; a company may well be called "Dệt May Hòa Bình")."""
    name: list[str] = []
    while j < len(words) and len(name) < MAX_NAME_WORDS:
        word = words[j]
        if _match_head(words, j, (*ORG_HEADS, *PARK_HEADS)) or (province_ends and name and _province_at(words, j)):
            break
        lower_link = (
            name and word.isalpha() and word.islower() and word not in STOPWORDS
            and j + 1 < len(words) and _is_name_word(words[j + 1])
        )
        if not (_is_name_word(word) or lower_link):
            break
        name.append(word)
        j += 1
    return name


def heuristic_entities(text: str) -> list[str]:
    """Entities found by the prefix rules and the province list, in order of appearance."""
    words = _WORD.findall(_fold_tone(unicodedata.normalize("NFC", text)))
    found: list[str] = []
    i = 0
    while i < len(words):
        if hit := _match_head(words, i, ORG_HEADS):
            j = i + hit[0]
            forms = []
            while j < len(words) and words[j].lower() in ORG_FORMS:
                forms.append(ORG_FORMS[words[j].lower()])
                j += 1
            name = _name_after(words, j, province_ends=False)
            if name:
                found.append(" ".join([ORG_HEADS[hit[1]], *forms, *name]))
                i = j + len(name)
                continue
        if hit := _match_head(words, i, PARK_HEADS):
            name = _name_after(words, i + hit[0], province_ends=True)
            if name:
                found.append(" ".join([PARK_HEADS[hit[1]], *name]))
                i += hit[0] + len(name)
                continue
        if hit := _match_head(words, i, ADMIN_HEADS):
            name = _name_after(words, i + hit[0], province_ends=True)
            if name:
                place = " ".join(name)
                found.append(place if place in PROVINCES else f"{ADMIN_HEADS[hit[1]]} {place}")
                i += hit[0] + len(name)
                continue
        if province := _province_at(words, i):
            found.append(" ".join(province))
            i += len(province)
            continue
        i += 1
    return found


def ner_entities(text: str) -> list[str]:
    """Capitalised LOC/ORG spans from underthesea's NER ([] if the model is unavailable)."""
    spans: list[list[str]] = []
    inside = False
    for word, tag in nlp.ner_tags(text):
        kind = tag[2:]
        if kind in ("LOC", "ORG") and tag.startswith("I-") and inside:
            spans[-1].append(word)
        elif kind in ("LOC", "ORG"):
            spans.append([word])
            inside = True
        else:
            inside = False
    names = []
    for span in spans:
        words = " ".join(span).split()
        while words and words[0].lower() in LEADING_NOISE:  # "Bên Yên Phong": capital of a sentence start
            words = words[1:]
        name = " ".join(words)
        if words and _is_name_word(name) and name.lower() not in NER_IGNORED:
            names.append(name)
    return names


def entities(text: str) -> list[str]:
    """Organisations and places named in ``text``, heuristic names first, without repeats.

    >>> entities("Cty TNHH Giày Da Phúc Thịnh ở KCN Quang Châu, Bắc Giang nợ lương")
    ['Công ty TNHH Giày Da Phúc Thịnh', 'KCN Quang Châu', 'Bắc Giang']
    """
    return list(_entities(text))


@lru_cache(maxsize=4096)  # a topic's representatives stay the same for many passes
def _entities(text: str) -> tuple[str, ...]:
    found = heuristic_entities(text)
    covered = " | ".join(found).lower()
    for name in ner_entities(text):
        if name.lower() not in covered:
            found.append(name)
            covered += " | " + name.lower()
    return tuple(dict.fromkeys(found))
