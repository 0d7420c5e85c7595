"""The classifier: shared features → four linear heads → calibrated probabilities → labels + explanations.

Why this shape:

* One `FeatureExtractor` for all heads: the text is normalized and vectorised once,
  then a single sparse × dense product scores all 18 labels (4 + 8 + 3 + 3).
* Each head is a linear SVM (one-vs-rest, class-balanced) whose scores go through a
  small multinomial logistic calibrator fitted on out-of-fold scores (what
  CalibratedClassifierCV(ensemble=False) does, kept as two small arrays so prediction
  needs no scikit-learn object and the out-of-fold scores also give CV metrics and
  default thresholds for free).
* Probabilities are calibrated to the training frequencies; the *decision* uses
  per-label thresholds (`Head.thresholds`, chosen by CV on the training data to
  maximise macro-F1, overridable per label from settings), so a rare but important
  label (``toxicity.hate``, ``risk.sai_lech``) can win without being the argmax.
* Explanations are exact decompositions of the linear score of the predicted label:
  every feature's contribution is credited to the syllable(s) it came from (character
  n-grams to the syllable containing them, word n-grams shared by their syllables),
  then neighbouring syllables that pushed the label are merged into phrases. A monitor
  reads "nợ lương", "đập phá", "🤬", never "char 3-gram 'ng '".

Decision rule for one head, given probabilities ``p`` and thresholds ``t`` ("the minimum
probability for that label to be chosen"): a label *passes* when it has a threshold and
``p[label] >= t[label]``; the *fallback* is the most probable label whose threshold, if
it has one, is met.

* ``risk`` and ``toxicity`` (ordered by seriousness: kich_dong > sai_lech > buc_xuc >
  binh_thuong, hate > offensive > clean): the most serious of the passing labels and
  the fallback. A threshold raises a label above a less serious argmax, never above a
  more serious one.
* ``topic`` and ``sentiment``: the most probable passing label, else the fallback.

The model carries default thresholds (tuned by CV at training time, see `Head.thresholds`);
thresholds passed to `predict` override them label by label, and a negative value removes
a label's threshold (plain argmax rule for it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.features import FeatureExtractor
from classifiers.labels import HEADS, PRECEDENCE
from classifiers.text import display_token, normalize

MODEL_FILE = "model.joblib"
MAX_CHARS = 10_000  # longer texts are cut: an article says what it is early
EXPLAIN_TOP = 5


@dataclass(frozen=True)
class Prediction:
    """Labels, probability dicts and explanations of one text, per head."""

    labels: dict[str, str]
    proba: dict[str, dict[str, float]]
    explanations: dict[str, list[tuple[str, float]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The `loa classify` output shape (the caller adds ``id``): labels, ``<head>_proba``, explanations."""
        out: dict[str, Any] = dict(self.labels)
        for head, dist in self.proba.items():
            out[f"{head}_proba"] = {label: round(p, 4) for label, p in dist.items()}
        out["explanations"] = {head: [[term, round(score, 4)] for term, score in terms]
                               for head, terms in self.explanations.items()}
        return out


@dataclass
class Head:
    """One linear head: weights over the shared features, calibrator and default thresholds."""

    name: str
    labels: tuple[str, ...]  # the head's full label set, taxonomy order
    coef: np.ndarray  # (len(labels), n_features) float32, block scaling folded in
    intercept: np.ndarray  # (len(labels),)
    cal_coef: np.ndarray  # (len(labels), len(labels)) multinomial calibrator on the scores
    cal_intercept: np.ndarray
    thresholds: dict[str, float] = field(default_factory=dict)

    def proba_from_scores(self, scores: np.ndarray) -> np.ndarray:
        z = scores @ self.cal_coef.T + self.cal_intercept
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z


def decide(head: str, labels: Sequence[str], proba: np.ndarray, thresholds: Mapping[str, float]) -> np.ndarray:
    """Index of the chosen label per row of `proba` (see the module docstring for the rule)."""
    n = proba.shape[0]
    rows = np.arange(n)
    limit = np.array([thresholds.get(label, -1.0) for label in labels])
    has = np.array([label in thresholds for label in labels])
    meets = proba >= limit[None, :]
    passing = meets & has[None, :]
    # Most probable label whose threshold (if any) is met; the plain argmax if there is none.
    fallback = np.where(meets, proba, -1.0).argmax(axis=1)
    no_ok = ~meets.any(axis=1)
    fallback[no_ok] = proba[no_ok].argmax(axis=1)
    order = PRECEDENCE.get(head)
    if order is not None:
        candidates = passing.copy()
        candidates[rows, fallback] = True
        rank = np.array([len(order) - order.index(label) for label in labels], dtype=float)
        return np.where(candidates, rank[None, :], -1.0).argmax(axis=1)
    chosen = np.where(passing, proba, -1.0).argmax(axis=1)
    none = ~passing.any(axis=1)
    chosen[none] = fallback[none]
    return chosen


def parse_thresholds(thresholds: Mapping[str, float] | None) -> dict[str, dict[str, float]]:
    """{"risk.sai_lech": 0.35} → {"risk": {"sai_lech": 0.35}}; unknown heads/labels raise ValueError."""
    out: dict[str, dict[str, float]] = {}
    for key, value in (thresholds or {}).items():
        head, _, label = str(key).partition(".")
        if head not in HEADS or label not in HEADS[head]:
            raise ValueError(f"unknown threshold key {key!r}: expected 'head.label', e.g. 'risk.sai_lech'")
        value = float(value)
        if not value <= 1.0:
            raise ValueError(f"threshold {key!r} must be at most 1 (negative: no threshold), got {value}")
        out.setdefault(head, {})[label] = value
    return out


class Classifier:
    """Loa's four-head text classifier. Build it with `classifiers.train.train`; use `predict`."""

    def __init__(self, extractor: FeatureExtractor, heads: dict[str, Head], version: str = "dev",
                 info: dict[str, Any] | None = None) -> None:
        self.extractor = extractor
        self.heads = heads
        self.version = version
        self.info = info or {}
        self._stack()

    def _stack(self) -> None:
        """All heads' weights in one (n_labels_total, n_features) matrix: one product scores everything."""
        self._names = list(self.heads)
        self._W = np.vstack([self.heads[h].coef for h in self._names]).astype(np.float32)
        self._b = np.concatenate([self.heads[h].intercept for h in self._names]).astype(np.float32)
        bounds = np.cumsum([0] + [len(self.heads[h].labels) for h in self._names])
        self._slices = {h: slice(int(bounds[i]), int(bounds[i + 1])) for i, h in enumerate(self._names)}

    # -- persistence -------------------------------------------------------------------
    def save(self, path: Path | str) -> Path:
        """Write the model file (`path` is a file, or a directory that gets ``model.joblib``)."""
        import joblib

        path = Path(path)
        if path.is_dir():
            path = path / MODEL_FILE
        state = {"format": 1, "version": self.version, "info": self.info, "extractor": self.extractor,
                 "heads": self.heads}
        joblib.dump(state, path, compress=3)
        return path

    @classmethod
    def load(cls, path: Path | str) -> Classifier:
        """Load a model file or an artifact directory (``<models_dir>/<version>/``)."""
        import joblib

        path = Path(path)
        if path.is_dir():
            path = path / MODEL_FILE
        state = joblib.load(path)
        if not isinstance(state, dict) or state.get("format") != 1:
            raise ValueError(f"{path}: not a Loa classifier model")
        return cls(state["extractor"], state["heads"], state["version"], state.get("info"))

    # -- prediction -----------------------------------------------------------------------
    def predict(self, texts: list[str], thresholds: dict[str, float] | None = None,
                explain: bool = True) -> list[Prediction]:
        """Labels, probabilities and (unless ``explain=False``) explanations for each text.

        ``thresholds`` ("head.label" → minimum probability; negative: none) override the
        model's defaults label by label; see the module docstring for the decision rule.
        """
        if not texts:
            return []
        overrides = parse_thresholds(thresholds)
        normalized = [normalize(t[:MAX_CHARS] if isinstance(t, str) else "") for t in texts]
        batch = self.extractor.transform(normalized, with_occurrences=explain)
        X = batch.matrix if explain else batch
        scores = np.asarray(X @ self._W.T) + self._b
        labels: dict[str, np.ndarray] = {}
        probas: dict[str, np.ndarray] = {}
        for name in self._names:
            head = self.heads[name]
            p = head.proba_from_scores(scores[:, self._slices[name]])
            probas[name] = p
            limits = {label: t for label, t in {**head.thresholds, **overrides.get(name, {})}.items() if t >= 0}
            labels[name] = decide(name, head.labels, p, limits)
        explanations = {name: self._explain(batch, name, labels[name]) for name in self._names} if explain else {}
        out = []
        for i in range(len(texts)):
            out.append(Prediction(
                labels={h: self.heads[h].labels[labels[h][i]] for h in self._names},
                proba={h: dict(zip(self.heads[h].labels, map(float, probas[h][i]))) for h in self._names},
                explanations={h: explanations[h][i] for h in explanations},
            ))
        return out

    def _explain(self, batch: Any, name: str, chosen: np.ndarray) -> list[list[tuple[str, float]]]:
        """Per text, the phrases whose features pushed the chosen label's score up the most."""
        occ = batch.occurrences
        W = self._W[self._slices[name]]
        contrib = occ.value * W[chosen[occ.doc], occ.feature]
        # Spread each occurrence over the syllables it covers (1 for char n-grams and unigrams).
        token = np.repeat(occ.token, occ.span) + _ramp(occ.span)
        share = np.repeat(contrib / occ.span, occ.span)
        per_token = np.bincount(token, weights=share, minlength=batch.n_tokens)
        result = []
        for d, tokens in enumerate(batch.tokens):
            start = batch.token_offsets[d]
            result.append(_phrases(tokens, per_token[start:start + len(tokens)]))
        return result

    def describe(self) -> str:
        return json.dumps({"version": self.version, "heads": {h: list(v.labels) for h, v in self.heads.items()},
                           "n_features": self.extractor.n_features}, ensure_ascii=False)


def _ramp(span: np.ndarray) -> np.ndarray:
    """[0, 0..1, 0..2] for span lengths [1, 2, 3]: the position inside each repeated span."""
    total = int(span.sum())
    starts = np.repeat(np.cumsum(span) - span, span)
    return np.arange(total) - starts


def _phrases(tokens: Sequence[str], scores: np.ndarray, top: int = EXPLAIN_TOP) -> list[tuple[str, float]]:
    """Merge runs (≤ 4) of syllables with clearly positive credit into phrases; the `top` strongest first."""
    if len(tokens) == 0:
        return []
    credit = scores.tolist()
    floor = max(1e-3, 0.1 * max(credit))
    positive = [i for i, c in enumerate(credit) if c > floor]
    if not positive:
        return []
    runs: list[tuple[float, int, int]] = []
    start = prev = positive[0]
    total = credit[start]
    for i in positive[1:]:
        if i == prev + 1 and i - start < 4:
            total += credit[i]
        else:
            runs.append((total, start, prev))
            start, total = i, credit[i]
        prev = i
    runs.append((total, start, prev))
    runs.sort(reverse=True)
    out: dict[str, float] = {}
    for total, a, b in runs:
        out.setdefault(display_token(" ".join(tokens[a:b + 1])), total)
        if len(out) == top:
            break
    return list(out.items())
