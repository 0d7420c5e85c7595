"""One sparse feature extraction shared by the four heads.

Input is `text.normalize` output (space-separated tokens). Three blocks of TF-IDF
features, fitted once on the union of all training texts:

* ``w`` — syllable 1–3-grams of the normalized text. Vietnamese words are 1–3
  syllables, so these contain every word a segmenter would find ("công nhân",
  "bảo hiểm xã hội") plus its neighbours, without the segmenter's cost.
* ``s`` — 1–2-grams of the same syllables without diacritics, so "luong" (typed
  without marks) meets "lương".
* ``c`` — character 1–5-grams inside each syllable (padded with spaces, like
  scikit-learn's ``char_wb``): misspellings, obfuscated insults, unseen inflections.

Each head may scale the blocks differently (`block_scale`); since the models are
linear, that scaling is folded into their coefficients and costs nothing at
prediction time. Sublinear TF, smoothed IDF and one L2 norm per text, as
scikit-learn's TfidfVectorizer would do, but written here because a per-syllable
cache of feature ids makes transform ≈3× faster than a Python analyzer callable and
because explanations need to know which syllable each character n-gram came from.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from classifiers.text import strip_diacritics

BLOCKS = ("w", "s", "c")
_CACHE_LIMIT = 300_000
_CHUNK = 4096


@dataclass(frozen=True)
class Occurrences:
    """One entry per feature occurrence in a batch (parallel arrays)."""

    doc: np.ndarray  # which text
    feature: np.ndarray  # feature id
    token: np.ndarray  # first syllable, as an index into the batch's concatenated syllables
    span: np.ndarray  # number of syllables covered (1, or n for a word n-gram)
    value: np.ndarray  # the occurrence's share of the text's TF-IDF value for that feature


@dataclass(frozen=True)
class Batch:
    """Features of a batch plus what explanations need to credit them to syllables."""

    matrix: sp.csr_matrix
    occurrences: Occurrences
    tokens: list[list[str]]
    token_offsets: np.ndarray
    n_tokens: int


def _block(term: str) -> int:
    """0 word n-gram ("w công nhân"), 1 stripped ("s cong nhan"), 2 char n-gram ("ông", or "w " ending a syllable)."""
    if len(term) > 2 and term[1] == " ":
        return 0 if term[0] == "w" else 1 if term[0] == "s" else 2
    return 2


def _char_grams(token: str, lo: int, hi: int) -> list[str]:
    padded = f" {token} "
    size = len(padded)
    return [padded[i:i + n] for n in range(lo, min(hi, size) + 1) for i in range(size - n + 1)]


class FeatureExtractor:
    """Fitted vocabulary + IDF; `transform` gives an L2-normalised CSR float32 matrix."""

    def __init__(self, word_ngrams: tuple[int, int] = (1, 3), stripped_ngrams: tuple[int, int] = (1, 2),
                 char_ngrams: tuple[int, int] = (1, 5), min_df: int = 2) -> None:
        self.word_ngrams = word_ngrams
        self.stripped_ngrams = stripped_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.vocabulary: dict[str, int] = {}
        self.idf = np.zeros(0, dtype=np.float32)
        self.block_of = np.zeros(0, dtype=np.int8)  # index into BLOCKS per feature
        self._token_cache: dict[str, tuple[list[int], str]] = {}

    # -- terms ---------------------------------------------------------------
    def _ngrams(self, tokens: Sequence[str], stripped: Sequence[str]) -> list[tuple[str, int, int]]:
        """Multi-syllable terms as (term, first syllable, length); unigrams belong to `_token_terms`."""
        out = []
        for prefix, seq, (lo, hi) in (("w ", tokens, self.word_ngrams), ("s ", stripped, self.stripped_ngrams)):
            for n in range(max(lo, 2), hi + 1):
                out += [(prefix + " ".join(seq[i:i + n]), i, n) for i in range(len(seq) - n + 1)]
        return out

    def _token_terms(self, token: str) -> list[str]:
        """Features owned by one syllable: its unigram, stripped unigram and char n-grams."""
        stripped = strip_diacritics(token)
        terms = []
        if self.word_ngrams[0] <= 1:
            terms.append("w " + token)
        if self.stripped_ngrams[0] <= 1:
            terms.append("s " + stripped)
        terms += _char_grams(token, *self.char_ngrams)
        return terms

    def terms(self, normalized: str) -> list[str]:
        """All feature strings of one normalized text (with repeats)."""
        tokens = normalized.split()
        stripped = [strip_diacritics(t) for t in tokens]
        out = []
        for token in tokens:
            out += self._token_terms(token)
        return out + [term for term, _, _ in self._ngrams(tokens, stripped)]

    # -- fit / transform ---------------------------------------------------------
    def fit(self, normalized_texts: Iterable[str]) -> FeatureExtractor:
        df: Counter[str] = Counter()
        n_docs = 0
        owned: dict[str, list[str]] = {}  # per-syllable terms, computed once per distinct syllable
        for text in normalized_texts:
            tokens = text.split()
            terms: set[str] = set()
            for token in tokens:
                hit = owned.get(token)
                if hit is None:
                    hit = owned[token] = self._token_terms(token)
                terms.update(hit)
            terms.update(term for term, _, _ in self._ngrams(tokens, [strip_diacritics(t) for t in tokens]))
            df.update(terms)
            n_docs += 1
        kept = sorted(t for t, c in df.items() if c >= self.min_df)
        self.vocabulary = {t: i for i, t in enumerate(kept)}
        counts = np.array([df[t] for t in kept], dtype=np.float64)
        self.idf = (np.log((1 + n_docs) / (1 + counts)) + 1).astype(np.float32)
        self.block_of = np.array([_block(t) for t in kept], dtype=np.int8)
        self._token_cache = {}
        return self

    @property
    def n_features(self) -> int:
        return len(self.vocabulary)

    def token_features(self, token: str) -> tuple[list[int], str]:
        """(feature ids owned by `token`, its diacritic-free form); cached."""
        hit = self._token_cache.get(token)
        if hit is None:
            vocab = self.vocabulary
            ids = [vocab[t] for t in self._token_terms(token) if t in vocab]
            hit = (ids, strip_diacritics(token))
            if len(self._token_cache) > _CACHE_LIMIT:
                self._token_cache.clear()
            self._token_cache[token] = hit
        return hit

    def transform(self, normalized_texts: Sequence[str], with_occurrences: bool = False) -> Batch | sp.csr_matrix:
        """TF-IDF matrix of the texts; with ``with_occurrences`` a `Batch` that also says which
        syllables each feature occurrence came from (for explanations)."""
        if not with_occurrences and len(normalized_texts) > _CHUNK:
            return sp.vstack([self.transform(normalized_texts[i:i + _CHUNK])
                              for i in range(0, len(normalized_texts), _CHUNK)], format="csr")
        vocab = self.vocabulary
        indices: list[int] = []
        owner: list[int] = []  # syllable position of each occurrence (first syllable for n-grams)
        span: list[int] = []  # how many syllables the occurrence covers
        indptr = [0]
        all_tokens: list[list[str]] = []
        for text in normalized_texts:
            tokens = text.split()
            stripped = []
            for pos, token in enumerate(tokens):
                ids, bare = self.token_features(token)
                indices += ids
                stripped.append(bare)
                if with_occurrences:
                    owner += [pos] * len(ids)
                    span += [1] * len(ids)
            for term, pos, n in self._ngrams(tokens, stripped):
                idx = vocab.get(term)
                if idx is not None:
                    indices.append(idx)
                    if with_occurrences:
                        owner.append(pos)
                        span.append(n)
            indptr.append(len(indices))
            if with_occurrences:
                all_tokens.append(tokens)
        n_docs = len(normalized_texts)
        ind = np.asarray(indices, dtype=np.int64)
        doc = np.repeat(np.arange(n_docs, dtype=np.int64), np.diff(np.asarray(indptr, dtype=np.int64)))
        keys, inverse, counts = np.unique(doc * max(self.n_features, 1) + ind, return_inverse=True,
                                          return_counts=True)
        rows = keys // max(self.n_features, 1)
        cols = (keys % max(self.n_features, 1)).astype(np.int32)
        data = ((1 + np.log(counts)) * self.idf[cols]).astype(np.float32)
        norms = np.sqrt(np.bincount(rows, weights=data.astype(np.float64) ** 2, minlength=n_docs))
        norms[norms == 0] = 1
        data /= norms[rows].astype(np.float32)
        row_ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_docs))])
        X = sp.csr_matrix((data, cols, row_ptr), shape=(n_docs, self.n_features))
        if not with_occurrences:
            return X
        offsets = np.concatenate([[0], np.cumsum([len(t) for t in all_tokens])]).astype(np.int64)
        occurrences = Occurrences(
            doc=doc, feature=ind,
            token=offsets[doc] + np.asarray(owner, dtype=np.int64),
            span=np.asarray(span, dtype=np.int64),
            value=(data[inverse] / counts[inverse]).astype(np.float32),
        )
        return Batch(matrix=X, occurrences=occurrences, tokens=all_tokens, token_offsets=offsets,
                     n_tokens=int(offsets[-1]))

    def fit_transform(self, normalized_texts: Sequence[str]) -> sp.csr_matrix:
        return self.fit(normalized_texts).transform(normalized_texts)  # type: ignore[return-value]

    def block_vector(self, scale: dict[str, float]) -> np.ndarray:
        """Per-feature multiplier for a head's block scaling, e.g. {"c": 0.5}."""
        return np.array([scale.get(b, 1.0) for b in BLOCKS], dtype=np.float32)[self.block_of]

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_token_cache"] = {}
        return state
