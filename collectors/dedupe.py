"""Near-duplicate fingerprints, so one rumour copied across groups becomes one cluster.

Text is normalised (NFC, lower case, Vietnamese diacritics removed — copies are often retyped
without them — common chat abbreviations expanded, links reduced to their host) and split into
words. The set of 2-word shingles (more tolerant of an inserted word than 3-word ones) is
summarised by a MinHash (datasketch, fixed seed and permutation scheme, so fingerprints made by
different processes and releases compare). LSH banding turns it into ``band_keys``: two texts whose
estimated Jaccard similarity is at least ``NEAR_DUP_THRESHOLD`` share at least one key with
probability ≈ 99 % (25 bands of 5 rows), so a database finds candidates with an equality lookup
on any key, then confirms them with ``similarity``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash

NEAR_DUP_THRESHOLD = 0.7
# Below this many words a text ("cảm ơn ạ", "đúng rồi") is too generic to be a rumour: no keys.
MIN_WORDS = 5
SHINGLE_WORDS = 2
NUM_PERM = 128
BANDS, ROWS = 25, 5  # uses the first 125 of 128 values; P(candidate | J=0.7) ≈ 0.99, J=0.3 ≈ 0.06
SEED = 20_240_601
# Pinned explicitly: datasketch's default scheme changed in 2.0 and would silently change every key.
SCHEME = "affine32"
KEY_VERSION = "1"
_DTYPE = np.dtype("<u4")
_EMPTY = np.uint32(0xFFFFFFFF)

_URL = re.compile(r"https?://(?:www\.)?([^/\s?#]+)\S*", re.IGNORECASE)
_WORD = re.compile(r"\w+")
# Common chat abbreviations (after accent removal), so "cty" and "công ty" shingle alike. Only
# unambiguous ones: "cn" (công nhân / chủ nhật) and "kg" (không / kilogram) are left alone.
_ABBREVIATIONS = {"cty": "cong ty", "ko": "khong", "k": "khong", "khg": "khong", "hok": "khong",
                  "dc": "duoc", "mn": "moi nguoi", "mng": "moi nguoi", "ae": "anh em", "ng": "nguoi",
                  "nc": "nuoc", "bn": "bao nhieu", "j": "gi", "r": "roi", "ntn": "nhu the nao"}
# Permutation coefficients are generated once and shared by every MinHash (creating them is
# the costliest part of MinHash()).
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


@dataclass(frozen=True)
class Fingerprint:
    """MinHash of a text (``minhash``: NUM_PERM little-endian uint32, 512 bytes) and its LSH band keys."""

    band_keys: list[str]
    minhash: bytes

    @property
    def is_empty(self) -> bool:
        """True for a text without words: it is similar to nothing."""
        return _values(self.minhash) is None


def normalise(text: str) -> str:
    """Lower-case, accent-free, link-reduced form of ``text`` used for shingling."""
    text = unicodedata.normalize("NFC", text).lower()
    text = _URL.sub(lambda m: " " + m.group(1) + " ", text)
    text = text.replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def shingles(words: list[str]) -> set[bytes]:
    """Word n-grams (n = SHINGLE_WORDS; the whole text when shorter) as UTF-8 bytes."""
    if len(words) < SHINGLE_WORDS:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i:i + SHINGLE_WORDS]).encode() for i in range(len(words) - SHINGLE_WORDS + 1)}


def fingerprint(text: str) -> Fingerprint:
    """Fingerprint of ``text``; texts shorter than MIN_WORDS words get no band keys."""
    words = [w for token in _WORD.findall(normalise(text)) for w in _ABBREVIATIONS.get(token, token).split()]
    grams = shingles(words)
    if not grams:
        return Fingerprint([], np.full(NUM_PERM, _EMPTY, dtype=_DTYPE).tobytes())
    mh = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_PERMUTATIONS, scheme=SCHEME)
    mh.update_batch(list(grams))
    values = np.asarray(mh.hashvalues, dtype=_DTYPE)
    keys = band_keys(values) if len(words) >= MIN_WORDS else []
    return Fingerprint(keys, values.tobytes())


def encode(fp: Fingerprint) -> bytes:
    """What to store for a fingerprint (the band keys can be recomputed from it)."""
    return fp.minhash


def decode(raw: bytes) -> Fingerprint:
    """A stored ``encode`` value back as a Fingerprint, band keys recomputed from the MinHash."""
    values = _values(bytes(raw))
    return Fingerprint(band_keys(values) if values is not None else [], bytes(raw))


def band_keys(values: np.ndarray) -> list[str]:
    """One short key per LSH band: ``"<version><band:02d><hash of the band's rows>"``."""
    raw = values[:BANDS * ROWS].astype(_DTYPE).tobytes()
    step = ROWS * _DTYPE.itemsize
    return [f"{KEY_VERSION}{band:02d}" + hashlib.blake2b(raw[band * step:(band + 1) * step],
                                                        digest_size=8).hexdigest()
            for band in range(BANDS)]


def similarity(a: Fingerprint | bytes, b: Fingerprint | bytes) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets (0.0 when either is empty)."""
    va, vb = _values(a), _values(b)
    if va is None or vb is None:
        return 0.0
    return float(np.count_nonzero(va == vb)) / NUM_PERM


def is_near_duplicate(a: Fingerprint | bytes, b: Fingerprint | bytes,
                      threshold: float = NEAR_DUP_THRESHOLD) -> bool:
    """True when the estimated similarity reaches ``threshold``."""
    return similarity(a, b) >= threshold


def _values(fp: Fingerprint | bytes) -> np.ndarray | None:
    raw = fp.minhash if isinstance(fp, Fingerprint) else bytes(fp)
    if len(raw) != NUM_PERM * _DTYPE.itemsize:
        raise ValueError("not a fingerprint of this version")
    values = np.frombuffer(raw, dtype=_DTYPE)
    return None if bool(np.all(values == _EMPTY)) else values
