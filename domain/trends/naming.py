"""How a hot topic is shown: representative items, keyword phrases, entities and a short label.

Keywords are phrases, not loose syllables: the sample texts are split into words (underthesea
``word_tokenize``), and words joined by topic bigrams form a phrase, so a phrase never starts or
ends inside a word ("nhân Nhơn Trạch" becomes "công nhân Nhơn Trạch", "ngừng chi" becomes
"ngừng chi trả"). Long stretches are cut at their weakest link into phrases of at most
``MAX_PHRASE`` words and stopwords are trimmed from the ends. Phrases are ranked by how many
sample texts contain them × the mean burst strength of their terms × √syllables (a longer
phrase says more), and shown in the spelling most texts use.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

from domain.trends import nlp
from domain.trends.entities import PROVINCES
from domain.trends.text import STOPWORDS, display, fingerprint, fold_accents, normalise

MAX_PHRASE = 4  # words
NEAR_DUPLICATE = 0.8  # token-set Jaccard above which two representatives say the same thing


def representatives(items: Sequence, weights: dict[str, float], n: int) -> list:
    """Up to ``n`` items closest (cosine) to the weighted centroid, with distinct texts.

    ``items`` have ``.terms`` and ``.text``. Near-duplicates are skipped first and only used if
    there are not enough distinct items, because five copies of one share teach the desk little.
    """
    if not items:
        return []
    centroid: Counter[str] = Counter()
    for item in items:
        for term in item.terms & weights.keys():
            centroid[term] += weights[term]
    norm_c = math.sqrt(sum(v * v for v in centroid.values())) or 1.0

    def cosine(item) -> float:
        shared = item.terms & weights.keys()
        dot = sum(weights[t] * centroid[t] for t in shared)
        norm_i = math.sqrt(sum(weights[t] ** 2 for t in shared)) or 1.0
        return dot / (norm_i * norm_c)

    ranked = sorted(items, key=lambda it: (-cosine(it), str(it.id)))
    chosen, spare, seen = [], [], set()
    for item in ranked:
        key = fingerprint(item.text)
        if key in seen:
            continue
        seen.add(key)
        if any(_jaccard(item.terms, other.terms) > NEAR_DUPLICATE for other in chosen):
            spare.append(item)
        else:
            chosen.append(item)
        if len(chosen) == n:
            break
    return (chosen + spare)[:n]


@dataclass
class _Phrase:
    syllables: tuple[str, ...]
    surfaces: Counter[str] = field(default_factory=Counter)
    texts: int = 0


def keywords(weights: dict[str, float], texts: Sequence[str], limit: int = 6) -> list[str]:
    """Keyword phrases of a topic, best first, in the spelling most texts use ("Phúc Thịnh")."""
    phrases: dict[tuple[str, ...], _Phrase] = {}
    for text in texts:
        seen: dict[tuple[str, ...], str] = {}
        for run in _word_runs(text):
            for piece in _hot_pieces(run, weights):
                seen.setdefault(tuple(s for _, syl in piece for s in syl), " ".join(w for w, _ in piece))
        for key, surface in seen.items():
            phrase = phrases.setdefault(key, _Phrase(key))
            phrase.surfaces[surface] += 1
            phrase.texts += 1

    def strength(p: _Phrase) -> float:  # longer phrases say more: "ngừng việc" over "lan"
        syl = p.syllables
        parts = [t for t in (*syl, *(f"{a} {b}" for a, b in pairwise(syl))) if t in weights]
        return p.texts * math.sqrt(len(syl)) * sum(weights[t] for t in parts) / len(parts) if parts else 0.0

    if not phrases:  # the topic's bigrams all straddle word boundaries: show its strongest terms
        return [display(t) for t, _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]
    chosen: list[_Phrase] = []
    for phrase in sorted(phrases.values(), key=lambda p: (-strength(p), p.syllables)):
        text = " ".join(phrase.syllables)
        if not any(_contains(" ".join(c.syllables), text) or _contains(text, " ".join(c.syllables)) for c in chosen):
            chosen.append(phrase)
        if len(chosen) == limit:
            break
    return [_spelling(p) for p in chosen]


def _spelling(phrase: _Phrase) -> str:
    """The most common surface form; a capital only due to starting a sentence does not count."""
    votes: Counter[str] = Counter()
    for surface, n in phrase.surfaces.items():
        lowered = surface[:1].lower() + surface[1:]
        votes[lowered if lowered in phrase.surfaces else surface] += n
    surface = max(votes, key=lambda s: (votes[s], s))
    return display(surface) if surface.islower() else surface


@lru_cache(maxsize=4096)  # the same representatives are named pass after pass
def _word_runs(text: str) -> list[list[tuple[str, list[str]]]]:
    """Runs of (surface word, normalised syllables) between punctuation marks and numbers."""
    runs: list[list[tuple[str, list[str]]]] = [[]]
    for word in nlp.words(text):
        syllables = normalise(word).split()
        if syllables and all(s.isalpha() for s in syllables):
            runs[-1].append((word, syllables))
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def _hot_pieces(run: list[tuple[str, list[str]]], weights: dict[str, float]) -> list[list[tuple[str, list[str]]]]:
    """Maximal stretches of words joined by topic bigrams (or holding a topic term), trimmed.

    A stretch must contain a word that holds a topic term itself: two common words whose only
    link is a bigram across their boundary ("công nhân" + "công ty" via "nhân công") are not a
    keyword."""
    owner = [k for k, (_, syl) in enumerate(run) for _ in syl]
    flat = [s for _, syl in run for s in syl]
    hot_word = [any(s in weights for s in syl) or any(f"{a} {b}" in weights for a, b in pairwise(syl))
                for _, syl in run]
    linked = [False] * len(run)  # word k is joined to word k+1 by a topic bigram
    for i in range(len(flat) - 1):
        if owner[i] != owner[i + 1] and f"{flat[i]} {flat[i + 1]}" in weights:
            linked[owner[i]] = True
    pieces, k = [], 0
    while k < len(run):
        if not (hot_word[k] or linked[k]):
            k += 1
            continue
        j = k
        while j < len(run) - 1 and linked[j]:
            j += 1
        if any(hot_word[k:j + 1]):
            pieces.extend(_split(run[k:j + 1], weights))
        k = j + 1
    return [t for piece in pieces if (t := _trim(piece))]


def _split(words: list[tuple[str, list[str]]], weights: dict[str, float]) -> list[list[tuple[str, list[str]]]]:
    """Cut a stretch longer than MAX_PHRASE words at its weakest link between words, recursively."""
    if len(words) <= MAX_PHRASE:
        return [words]
    links = [weights.get(f"{words[k][1][-1]} {words[k + 1][1][0]}", 0.0) for k in range(len(words) - 1)]
    cut = min(range(1, len(links) - 1), key=lambda k: links[k]) + 1
    return _split(words[:cut], weights) + _split(words[cut:], weights)


def _trim(words: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """Drop words made only of stopwords from both ends."""
    start, end = 0, len(words)
    while start < end and all(s in STOPWORDS for s in words[start][1]):
        start += 1
    while end > start and all(s in STOPWORDS for s in words[end - 1][1]):
        end -= 1
    return words[start:end]


def _contains(longer: str, shorter: str) -> bool:
    return f" {shorter} " in f" {longer} "


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def topic_entities(texts: Sequence[str], extract: Callable[[str], list[str]], limit: int = 4) -> list[str]:
    """Entities named by enough of a topic's sample texts, most mentioned first.

    Spellings without accents count for the accented one ("KCN Quang Chau" → "KCN Quang Châu"),
    and short forms for a longer name with the same head whose words contain theirs
    ("Công ty Phúc Thịnh", "Phúc Thịnh" → "Công ty TNHH Giày Da Phúc Thịnh"). An entity must
    appear in at least two texts and a tenth of the sample: one passer-by's province is not the
    story's.
    """
    spellings: dict[str, Counter[str]] = {}
    for text in texts:
        for name in set(extract(text)):
            spellings.setdefault(fold_accents(name).lower(), Counter())[name] += 1
    counts: Counter[str] = Counter()
    for variants in spellings.values():
        best = max(variants, key=lambda n: (n != fold_accents(n), variants[n], n))
        counts[best] = sum(variants.values())
    names = sorted(counts, key=lambda e: (-len(e.split()), e))
    for short in sorted(counts, key=lambda e: len(e.split())):
        longer = next((n for n in names if n != short and _same_entity(short, n)), None)
        if longer:
            counts[longer] += counts.pop(short)
            names.remove(short)
    needed = max(2, math.ceil(0.1 * len(texts)))
    return [e for e, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= needed][:limit]


def _head(words: list[str]) -> int:
    """Number of head words ("Cong ty", "KCN", "huyen": accents folded) before the name proper."""
    if words[0] in ("Cong", "Tap"):
        return 2
    return 1 if words[0] in ("KCN", "KCX", "tinh", "huyen", "quan") else 0


def _same_entity(short: str, long: str) -> bool:
    """``short`` names the same thing as ``long``: same head (or none) and a subset of its name."""
    s, lo = fold_accents(short).split(), fold_accents(long).split()
    hs, hl = _head(s), _head(lo)
    same_head = hs == 0 or s[:hs] == lo[:hl]
    return len(s) < len(lo) and same_head and bool(s[hs:]) and set(s[hs:]) <= set(lo[hl:])


def same_organisation(names: Sequence[str], others: Sequence[str]) -> bool:
    """Whether two entity lists share an organisation (a company, or a bare name that is not a
    province); places alone do not make two stories one."""
    def organisations(entity_list: Sequence[str]) -> list[str]:
        return [e for e in entity_list if _head(fold_accents(e).split()) != 1 and e not in PROVINCES]

    return any(a == b or _same_entity(a, b) or _same_entity(b, a)
               for a in organisations(names) for b in organisations(others))


def label(keyword_list: Sequence[str], entity_list: Sequence[str]) -> str:
    """Short Vietnamese name: two keyword phrases that mostly repeat no entity, then two entities."""
    named = set(normalise(" ".join(entity_list[:2])).split())
    phrases = []
    for phrase in keyword_list:
        syllables = normalise(phrase).split()
        if sum(s in named for s in syllables) * 2 < len(syllables):
            phrases.append(phrase)
    text = ", ".join(phrases[:2])
    text = text[:1].upper() + text[1:]
    if entity_list:
        text = f"{text} – {', '.join(entity_list[:2])}" if text else ", ".join(entity_list[:2])
    return text
