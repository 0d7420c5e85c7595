"""Vietnamese text preprocessing shared by training, prediction and explanations.

`normalize` is the only transformation on the classification hot path. It is pure
Python/regex (tens of microseconds per comment) so the whole classifier keeps its
throughput target. It maps the many spellings of one thing onto one token:

* Unicode NFC (composed diacritics; keyboards and copy/paste also produce NFD),
* case folded, but a text that SHOUTS gets an extra ``allcaps`` token (a strong
  signal for hostile comments that lower-casing would otherwise erase),
* URLs, e-mail addresses and @mentions become ``url``/``email``/``mention``;
  emoji become ``emoji1f602``-style tokens and emoticons (``:)))``, ``=]]``, ``<3``,
  and UIT-VSFC's spelled-out ``colonsmile``…) become ``emo_*`` tokens,
* letters repeated for emphasis are collapsed (``quáaaa`` → ``quá``),
* teencode and common abbreviations are expanded (``ko`` → ``không``, ``cty`` →
  ``công ty``, ``300k`` → ``300 nghìn``, ``bhxh`` → ``bảo hiểm xã hội``).

`strip_diacritics` removes tone and vowel marks (``đ`` → ``d``) so that text typed
without diacritics shares features with accented text (see classifiers.features).

`segment` (underthesea word segmentation) and `entities` (underthesea NER) are *not* on
the classification path. Measured on this machine (one core): segmentation runs at
≈3,800 short comments/s and ≈800 100-character sentences/s, NER at ≈200 sentences/s,
while the whole classifier (normalize, features, four heads, explanations) runs at
≈4,500 items/s; with segmentation in front it would drop to ≈2,100/s. In exchange,
segmented word features gained ≤0.005 F1 in cross-validation on UIT-VSFC: syllable
1–3-grams already contain every 2–3-syllable word. Segmentation earns its cost where
word boundaries are the output itself: named entities (companies, industrial parks,
provinces) for hot topics, computed for the items being grouped.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# --- teencode and abbreviations -------------------------------------------------------
# Only forms that are unambiguous in workers' chat ("k", "r", "j" are; "a", "e", "m", "t",
# "v", "ns" (nói / nhân sự), "ct" (công ty / chương trình), "dk" (được / đăng ký), "hk"
# (không / học kỳ), "tc" (tăng ca / tín chỉ), "hong" (không / hỏng) are not: the classifier learns
# those as they are). "bh" is "bảo hiểm" here, not "bây giờ": "nợ bh 1 năm".
TEENCODE: dict[str, str] = {
    # không
    "ko": "không", "k": "không", "kh": "không", "khg": "không", "kg": "không", "hok": "không",
    "hông": "không", "hem": "không", "kô": "không",
    "khong": "không", "kp": "không phải",
    # được, với, gì, rồi, vậy, thôi, luôn, nhiều, quá, biết, thích, yêu
    "đc": "được", "dc": "được", "đuợc": "được",
    "vs": "với", "j": "gì", "ji": "gì", "r": "rồi", "ròi": "rồi", "rùi": "rồi", "roài": "rồi",
    "zậy": "vậy", "dzậy": "vậy", "zạ": "dạ", "thui": "thôi", "lun": "luôn", "nhìu": "nhiều",
    "wá": "quá", "qá": "quá", "bít": "biết", "bik": "biết", "thik": "thích", "thic": "thích",
    "iu": "yêu", "ny": "người yêu", "cx": "cũng", "cg": "cũng", "đag": "đang", "dag": "đang",
    "nx": "nữa", "trc": "trước", "lm": "làm", "hnay": "hôm nay",
    "bh": "bảo hiểm", "bjo": "bây giờ", "mik": "mình", "mk": "mình",
    "mng": "mọi người", "mn": "mọi người", "ng": "người", "ntn": "như thế nào", "nt": "nhắn tin",
    "vk": "vợ", "ck": "chồng", "kq": "kết quả", "đt": "điện thoại", "sdt": "số điện thoại",
    "sđt": "số điện thoại", "tks": "cảm ơn", "thanks": "cảm ơn", "thank": "cảm ơn",
    "camon": "cảm ơn", "cám": "cảm", "oke": "ok", "okie": "ok", "oki": "ok", "okela": "ok",
    "ak": "à", "ah": "à", "uk": "ừ", "uh": "ừ", "ừk": "ừ",
    # workplace and union vocabulary
    "cty": "công ty", "cn": "công nhân", "ae": "anh em", "cv": "công việc",
    "lđ": "lao động", "nlđ": "người lao động", "nld": "người lao động",
    "bhxh": "bảo hiểm xã hội", "bhyt": "bảo hiểm y tế", "bhtn": "bảo hiểm thất nghiệp",
    "kcn": "khu công nghiệp", "cđ": "công đoàn", "lđlđ": "liên đoàn lao động",
    "hđlđ": "hợp đồng lao động", "hđ": "hợp đồng",
    # common insults written in initials (mapped onto their spelled-out form)
    "đm": "địt mẹ", "dm": "địt mẹ", "đmm": "địt mẹ mày", "dmm": "địt mẹ mày",
    "đcm": "địt con mẹ", "dcm": "địt con mẹ", "vcl": "vãi cả lồn", "vkl": "vãi cả lồn",
    "vl": "vãi lồn", "clm": "con lồn mẹ",
}

# UIT-VSFC replaced emoticons by words; map those and real emoticons onto the same tokens.
EMOTICON_WORDS: dict[str, str] = {
    "colonsmile": "emo_smile", "colonsad": "emo_sad", "colonsurprise": "emo_surprise",
    "colonlove": "emo_love", "colonsmilesmile": "emo_laugh", "coloncontemn": "emo_smile",
    "colonbigsmile": "emo_laugh", "coloncc": "emo_smile", "colonsmallsmile": "emo_smile",
    "colonlovelove": "emo_love", "colonhihi": "emo_smile", "colonsadcolon": "emo_sad",
    "colondoublesurprise": "emo_surprise", "coloncolon": " ", "doubledot": " ",
    "dotdotdot": " ", "vdotv": "vân vân", "fraction": " ", "cshrap": "c#",
}

_EMOTICONS = [
    (r"<3+", "emo_love"),
    (r"[:=;]['\-]?[)\]]+|\^\s?\^|=+\)+", "emo_smile"),
    (r"[:=]['\-]?[dDvV](?![a-zà-ỹ])|[xX][dD]+\b|:v+\b|=\]+|:\]+", "emo_laugh"),
    (r"[:=]['\-]?[(\[]+|:'\(", "emo_sad"),
    (r"@@|o\.o|O\.O|:[oO]\b", "emo_surprise"),
    (r"-_-|=\.=|\._\.", "emo_meh"),
]

_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|vn|net|org|gov|edu|info|ly|me)(?:/\S*)?\b",
                  re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")
_MENTION = re.compile(r"(?<!\w)@\w+")
_EMOTICON = re.compile("|".join(f"(?P<e{i}>{p})" for i, (p, _) in enumerate(_EMOTICONS)))
_EMOTICON_TOKENS = [token for _, token in _EMOTICONS]
# Pictographs, dingbats, symbols and flags; variation selectors and joiners are dropped.
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2190-\u21FF\u2300-\u23FF]")
_JOINERS = re.compile("[\u200d\ufe0e\ufe0f\u20e3\U0001F3FB-\U0001F3FF]")
_REPEAT = re.compile(r"(\w)\1{2,}")
_NUMBER_UNIT = re.compile(r"\b(\d+(?:[.,]\d+)?)\s?(k|tr|củ|cu)\b")
_UNITS = {"k": "nghìn", "tr": "triệu", "củ": "triệu", "cu": "triệu"}
_TOKEN = re.compile(r"\w+|[!?]")
_LETTER = re.compile(r"[^\W\d_]")

# One token per emoji character: "emoji" + lower-case hex code point.
EMOJI_PREFIX = "emoji"


def _emoji_token(match: re.Match[str]) -> str:
    return f" {EMOJI_PREFIX}{ord(match.group()):x} "


def _emoticon_token(match: re.Match[str]) -> str:
    return f" {_EMOTICON_TOKENS[int(match.lastgroup[1:])]} "  # type: ignore[index]


def _is_shouting(text: str) -> bool:
    letters = _LETTER.findall(text)
    if len(letters) < 8:
        return False
    upper = sum(1 for c in letters if c.isupper())
    return upper / len(letters) >= 0.7


def normalize(text: str) -> str:
    """Return the canonical form used for features: NFC, lower case, tokens separated by one space."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    shouting = _is_shouting(text)
    text = _URL.sub(" url ", text)
    text = _EMAIL.sub(" email ", text)
    text = _MENTION.sub(" mention ", text)
    text = _EMOTICON.sub(_emoticon_token, text)
    text = _JOINERS.sub("", text)
    text = _EMOJI.sub(_emoji_token, text)
    text = text.lower()
    text = _REPEAT.sub(r"\1", text)
    text = _NUMBER_UNIT.sub(lambda m: f"{m.group(1)} {_UNITS[m.group(2)]}", text)
    tokens = []
    last = ""
    for token in _TOKEN.findall(text):
        if token in "!?" and token == last:  # "!!!" and "???" once
            continue
        last = token
        token = EMOTICON_WORDS.get(token, token)
        tokens.append(TEENCODE.get(token, token))
    if shouting:
        tokens.append("allcaps")
    return " ".join(tokens)


_STRIP_TABLE = {ord("đ"): "d", ord("Đ"): "D"}


@lru_cache(maxsize=65536)
def _strip_word(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.translate(_STRIP_TABLE))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese tone and vowel marks: "Công đoàn" → "Cong doan" (word-cached, fast)."""
    return " ".join(_strip_word(w) for w in text.split(" "))


@lru_cache(maxsize=65536)
def display_token(token: str) -> str:
    """Human-readable form of a feature token (emoji tokens back to the emoji itself)."""
    words = []
    for word in token.split():
        if word.startswith(EMOJI_PREFIX) and len(word) > len(EMOJI_PREFIX):
            try:
                words.append(chr(int(word[len(EMOJI_PREFIX):], 16)))
                continue
            except ValueError:
                pass
        words.append(_TOKEN_NAMES_VI.get(word, word))
    return " ".join(words)


_TOKEN_NAMES_VI = {
    "allcaps": "(VIẾT HOA toàn bộ)", "url": "(đường link)", "mention": "(gắn tên người)",
    "email": "(email)", "emo_smile": ":)", "emo_laugh": ":D", "emo_sad": ":(",
    "emo_love": "<3", "emo_surprise": "@@", "emo_meh": "-_-",
}


def segment(text: str) -> str:
    """underthesea word segmentation, words joined by "_" ("công_nhân nợ lương")."""
    from underthesea import word_tokenize

    return word_tokenize(unicodedata.normalize("NFC", text), format="text")


# --- named entities -----------------------------------------------------------------
_ENTITY_TYPES = ("ORG", "LOC", "PER")
_ORG_WORDS = {"công ty", "cty", "tập đoàn", "tổng công ty", "nhà máy", "xí nghiệp", "tnhh", "cp", "mtv",
              "cổ phần", "hợp tác xã", "tm", "dv", "sx", "xnk"}
_PARK_WORDS = {"kcn", "khu công nghiệp", "ccn", "cụm công nghiệp", "kcx", "khu chế xuất"}
# Fallback when the NER model cannot be loaded: capitalised names after an organisation word.
_NAME = r"(?:[A-ZÀ-Ỹ0-9][\w&.-]*)(?:\s+[A-ZÀ-Ỹ0-9][\w&.-]*)*"
_ORG_RE = re.compile(rf"\b(?:Công ty|Cty|CTY|Tập đoàn|Nhà máy)(?:\s+(?:TNHH|CP|cổ phần|MTV|TM|DV))*\s+{_NAME}")
_PARK_RE = re.compile(rf"\b(?:KCN|Khu công nghiệp|CCN|Cụm công nghiệp|KCX)\s+{_NAME}")


def entities(text: str) -> list[tuple[str, str]]:
    """Organisations, locations and persons in `text`: ``[(surface, "ORG"|"LOC"|"PER"), ...]``.

    Uses underthesea's NER (a CRF model shipped inside the wheel, so it works offline).
    Its tags are repaired for our domain: "Công ty TNHH" before a tagged name makes the
    span an ORG, "KCN" + name is one LOC. If the NER model cannot be loaded, a regex
    fallback finds "Công ty/Cty … Name" and "KCN … Name". ≈200 sentences/s: call it for
    items grouped into hot topics, not for every classified item. Order of appearance,
    no duplicates.
    """
    text = unicodedata.normalize("NFC", text or "")
    found: list[tuple[str, str]] = []
    for line in filter(None, (line.strip() for line in text.splitlines())):
        tagged = _ner(line)
        if tagged is None:
            found += [(m.group(), "ORG") for m in _ORG_RE.finditer(line)]
            found += [(m.group(), "LOC") for m in _PARK_RE.finditer(line)]
        else:
            found += _spans([(item[0], item[-1]) for item in tagged])
    return list(dict.fromkeys(found))


def _ner(line: str) -> list | None:
    """underthesea's NER tags, or None when its model cannot be loaded (missing files)."""
    try:
        from underthesea import ner

        return ner(line)
    except (ImportError, OSError, RuntimeError):  # pragma: no cover - only without the model files
        return None


def _spans(tagged: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """BIO tags → spans, extended left over organisation words and merged after "KCN"."""
    spans: list[list] = []  # [start, end, kind]
    for i, (_, tag) in enumerate(tagged):
        kind = tag[2:]
        if kind not in _ENTITY_TYPES:
            continue
        if tag.startswith("I-") and spans and spans[-1][1] == i and spans[-1][2] == kind:
            spans[-1][1] = i + 1
        else:
            spans.append([i, i + 1, kind])
    result = []
    for n, (start, end, kind) in enumerate(spans):
        words = [w for w, _ in tagged]
        if " ".join(words[start:end]).lower() in _PARK_WORDS and n + 1 < len(spans) and spans[n + 1][0] == end:
            spans[n + 1][0] = start  # "KCN" + "Yên Phong": one location
            continue
        while start > 0 and tagged[start - 1][1] == "O" and words[start - 1].lower() in _ORG_WORDS:
            start -= 1
            kind = "ORG"
        if words[start].lower() in _ORG_WORDS:
            kind = "ORG"
        while kind != "ORG" and end - start > 1 and words[start].islower():
            start += 1  # "chủ tịch LĐLĐ", "tỉnh Bình Dương": keep the name itself
        result.append((" ".join(words[start:end]), kind))
    return result
