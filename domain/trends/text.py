"""Text normalisation and term extraction for trend counting.

Terms are Vietnamese *syllable* unigrams and bigrams rather than underthesea word segments:
a bigram of syllables covers most two-syllable words ("lương hưu", "ngộ độc") and the
boundaries between words ("ngừng chi", "chi trả"), it costs microseconds per item instead of
milliseconds (the whole stream is counted, NER only runs on a topic's few representatives),
and it behaves the same on the informal, badly punctuated text workers write.

Bigrams never cross punctuation or numbers ("Bắc Giang, anh em" gives no "giang anh"; "nợ
lương 2 tháng" gives no "lương tháng"). Common chat abbreviations are expanded and a few long
forms folded to the acronyms everybody uses, so "cty"/"công ty", "khu công nghiệp"/"KCN" and
"bảo hiểm xã hội"/"BHXH" count as the same thing.
"""

from __future__ import annotations

import re
import unicodedata

# Chat spellings → standard form (whole tokens only).
ABBREVIATIONS: dict[str, str] = {
    "cty": "công ty", "ct": "công ty", "ko": "không", "k": "không", "kh": "không", "hok": "không",
    "khong": "không", "dc": "được", "đc": "được", "cn": "công nhân", "nlđ": "người lao động",
    "nld": "người lao động", "lđ": "lao động", "ng": "người", "vs": "với", "j": "gì",
    "bh": "bảo hiểm", "tp": "thành phố", "ae": "anh em", "mn": "mọi người", "mng": "mọi người",
}
# Long forms → the acronym (applied to the lowercased text before tokenising).
FOLDED_PHRASES: tuple[tuple[str, str], ...] = (
    ("khu công nghiệp", "kcn"),
    ("khu chế xuất", "kcx"),
    ("bảo hiểm xã hội", "bhxh"),
    ("bảo hiểm y tế", "bhyt"),
    ("liên đoàn lao động", "lđlđ"),
)
# Acronyms shown in upper case in keywords and labels.
ACRONYMS: dict[str, str] = {
    a: a.upper() for a in ("bhxh", "bhyt", "bhtn", "kcn", "kcx", "tnhh", "mtv", "lđlđ", "cđcs", "nlđ", "vssid")
}

# Function words, pronouns, particles, chat fillers and time deictics ("hôm nay", "tối nay"),
# plus the unaccented spelling of the commonest ones ("oi", "khong"): never a term on their own
# (a bigram survives if one of its syllables is not in this list: "bị nợ", "không trả").
_STOPWORD_LIST = """
    à ạ á ai anh em chị bác bạn mình tôi tui tao mày nó họ chúng ta các cái những một này kia đó
    đấy ấy nọ và với của là thì mà có không chưa chẳng chả được bị cho để do vì nên nếu khi lúc
    đã đang sẽ vẫn còn cũng lại rồi nữa mới vừa rất quá lắm hơn nhất như thế vậy nào gì sao
    đâu bao nhiêu mấy ơi nhé nha nhỉ hả hở ư ừ vâng dạ ok đi thôi chứ luôn ra vào lên xuống về ở
    tại trong ngoài trên dưới từ đến tới theo qua bằng hay hoặc nhưng tuy cả mọi người ta
    đây kìa nhá nhen hen hông hem ý chắc cùng nhau đều chỉ riêng
    nay hôm tối sáng trưa chiều
    oi nhe nha a ah uh thi la ma cua va voi duoc khong roi nua cung nhung cac mot nay hom toi
    ty tnhh mtv cp
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORD_LIST.split())

_TOKEN = re.compile(r"\w+|[^\w\s]")
_FOLDED = tuple((re.compile(rf"\b{long_form}\b"), acronym) for long_form, acronym in FOLDED_PHRASES)


def normalise(text: str) -> str:
    """Lowercase NFC text with abbreviations expanded and long forms folded to acronyms."""
    text = unicodedata.normalize("NFC", text).lower()
    words = [ABBREVIATIONS.get(tok, tok) for tok in _TOKEN.findall(text)]
    text = " ".join(words)
    for long_form, acronym in _FOLDED:
        text = long_form.sub(acronym, text)
    return text


def segments(text: str) -> list[list[str]]:
    """Runs of word tokens between punctuation marks and numbers (bigrams stay inside a run)."""
    runs: list[list[str]] = [[]]
    for tok in normalise(text).split():
        if tok.isalpha():
            runs[-1].append(tok)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def terms(text: str) -> frozenset[str]:
    """The set of terms of a text: non-stopword syllables and bigrams not made of two stopwords."""
    found: set[str] = set()
    for run in segments(text):
        for i, tok in enumerate(run):
            if tok not in STOPWORDS and len(tok) > 1:
                found.add(tok)
            if i + 1 < len(run) and not (tok in STOPWORDS and run[i + 1] in STOPWORDS):
                found.add(f"{tok} {run[i + 1]}")
    return frozenset(found)


def display(phrase: str) -> str:
    """A term or phrase as shown to people: acronyms in upper case."""
    return " ".join(ACRONYMS.get(tok, tok) for tok in phrase.split())


def fingerprint(text: str) -> str:
    """Text reduced to its words: two items with the same fingerprint are the same text."""
    return " ".join(tok for run in segments(text) for tok in run)


def fold_accents(text: str) -> str:
    """Text without Vietnamese diacritics ("Phúc Thịnh" → "Phuc Thinh"), as people type in a hurry."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def ascii_slug(text: str, limit: int = 40) -> str:
    """ASCII slug of a Vietnamese phrase for readable keys ("ngừng chi trả" → "ngung-chi-tra")."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold_accents(text).lower()).strip("-")
    return slug[:limit].rstrip("-") or "chu-de"
