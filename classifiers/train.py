"""Training: datasets + monitors' corrections → a versioned artifact directory.

``train()`` writes ``models_dir/<version>/`` with ``model.joblib``, ``metrics.json``
(5-fold out-of-fold metrics per head) and ``manifest.json`` (every dataset file with
its sha256 and row count, the corrections used), then points ``models_dir/current``
at it. The directory is built under a temporary name and renamed, and ``current`` is
replaced atomically, so a reader never sees a half-written model.

Per head (data mapping in `classifiers.datasets`):

* ``toxicity``: ViHSD train.
* ``sentiment``: UIT-VSFC train + the seed's sentiment labels.
* ``risk``: the seed + VFND (fake → ``sai_lech``, real → ``binh_thuong``), VFND at half
  weight: it teaches what a fabricated *article* looks like without drowning the
  seed's short posts (a seed-only model never sees a fake news article).
* ``topic``: the seed.

Corrections (``{"text": ..., "risk": ..., ...}``, any subset of heads) are added to
the heads they label with weight `CORRECTION_WEIGHT`, and replace dataset rows with
the same normalized text for that head (a monitor's relabel wins).

Hyper-parameters in `HEAD_CONFIGS` were chosen by 5-fold CV on the training splits
only (never on ViHSD dev or UIT-VSFC val, which bench/classify.py uses for reporting).
Every artifact's metrics.json holds its own out-of-fold scores.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from classifiers import datasets
from classifiers.datasets import DataFile, Examples
from classifiers.features import FeatureExtractor
from classifiers.labels import HEADS
from classifiers.model import Classifier, Head, decide
from classifiers.text import normalize

Progress = Callable[[str, int, int], None]

CORRECTION_WEIGHT = 3.0
VFND_WEIGHT = 0.5
CV_FOLDS = 5
CURRENT = "current"


@dataclass(frozen=True)
class HeadConfig:
    """How one head is trained. `block_scale` weights the feature blocks (w, s, c)."""

    C: float
    block_scale: dict[str, float] = field(default_factory=dict)
    objective: str = "macro"  # F1 averaging that the default thresholds maximise


# Chosen by 5-fold CV on the training data (out-of-fold argmax F1, class-balanced LinearSVC):
#   toxicity  C ∈ {0.2, 0.3, 0.5} × char weight {1, 0.6} × stripped weight {1, 0.5}: 0.648–0.659 macro
#   sentiment C ∈ {0.3, 0.5, 1.0} × char weight {1, 0.6}: 0.900–0.904 weighted (VSFC rows 0.905–0.909)
#   risk      C ∈ {1, 3, 10} × char weight {0, 0.3, 0.5}: 0.908–0.923 macro (VFND weight 0.5 > 1.0)
#   topic     C ∈ {1, 3, 10} × char weight {0, 0.3, 1}: 0.777–0.800 macro
# Neighbours differ by ≤ 0.005, so these are a good region rather than sharp optima. Character
# n-grams help the big noisy comment sets and hurt the 1,000-row seed heads a little. Tried and
# dropped: NB-SVM, logistic regression, negation marking (no CV gain), segmented-word features
# (+0.005 on VSFC, not worth halving throughput), an MLP (too slow to train here).
HEAD_CONFIGS: dict[str, HeadConfig] = {
    "risk": HeadConfig(C=3.0, block_scale={"c": 0.5}),
    "topic": HeadConfig(C=3.0, block_scale={"c": 0.3}),
    "sentiment": HeadConfig(C=1.0, block_scale={"c": 0.6}, objective="weighted"),
    "toxicity": HeadConfig(C=0.3, block_scale={"c": 0.6}),
}
SEED_SENTIMENT_WEIGHT = 1.0


# --- data ------------------------------------------------------------------------------------
@dataclass
class TrainingData:
    """Examples per head, with the group ("vihsd", "seed", "correction", …) of every row."""

    heads: dict[str, Examples]
    groups: dict[str, list[str]]
    files: list[tuple[DataFile, list[str]]]  # file and the heads it feeds
    corrections: dict


def _tag(examples: Examples, group: str) -> tuple[Examples, list[str]]:
    return examples, [group] * len(examples)


def collect(datasets_dir: Path, corrections: Iterable[dict] = (), seed_rows: list[dict] | None = None,
            progress: Progress | None = None) -> TrainingData:
    """Read the datasets (and corrections) into per-head examples.

    ``seed_rows`` replaces the union-opinion seed (bench/classify.py uses it for 5-fold CV).
    """
    root = Path(datasets_dir)
    steps = 5
    tick = progress or (lambda *_: None)
    tick("Đọc dữ liệu", 0, steps)
    if seed_rows is None:
        seed_rows, seed_files = datasets.seed_rows(root)
    else:
        seed_files = []
    tick("Đọc dữ liệu", 1, steps)
    vihsd = datasets.vihsd(root, "train")
    tick("Đọc dữ liệu", 2, steps)
    vsfc = datasets.vsfc(root, "train")
    tick("Đọc dữ liệu", 3, steps)
    vfnd = datasets.vfnd(root)
    tick("Đọc dữ liệu", 4, steps)
    vfnd.weights = [VFND_WEIGHT] * len(vfnd)

    parts: dict[str, list[tuple[Examples, list[str]]]] = {
        "risk": [_tag(datasets.from_rows(seed_rows, "risk"), "seed"), _tag(vfnd, "vfnd")],
        "topic": [_tag(datasets.from_rows(seed_rows, "topic"), "seed")],
        "sentiment": [_tag(vsfc, "vsfc"), _tag(datasets.from_rows(seed_rows, "sentiment", SEED_SENTIMENT_WEIGHT),
                                              "seed")],
        "toxicity": [_tag(vihsd, "vihsd")],
    }
    files = [(f, ["risk", "topic", "sentiment"]) for f in seed_files]
    files += [(f, ["toxicity"]) for f in vihsd.files] + [(f, ["sentiment"]) for f in vsfc.files]
    files += [(f, ["risk"]) for f in vfnd.files]

    corrected, info = _corrections(corrections)
    heads: dict[str, Examples] = {}
    groups: dict[str, list[str]] = {}
    for head, pieces in parts.items():
        fixed = corrected.get(head, {})
        ex, grp = Examples(), []
        for examples, tags in pieces:
            for text, label, weight, tag in zip(examples.texts, examples.labels, examples.weights, tags):
                if fixed and normalize(text) in fixed:
                    info["replaced_rows"] += 1
                    continue
                ex.add(text, label, weight)
                grp.append(tag)
        for text, label in fixed.values():
            ex.add(text, label, CORRECTION_WEIGHT)
            grp.append("correction")
        heads[head], groups[head] = ex, grp
    tick("Đọc dữ liệu", steps, steps)
    return TrainingData(heads=heads, groups=groups, files=files, corrections=info)


def _corrections(corrections: Iterable[dict]) -> tuple[dict[str, dict[str, tuple[str, str]]], dict]:
    """Valid corrections per head, keyed by normalized text (the last one wins)."""
    per_head: dict[str, dict[str, tuple[str, str]]] = {}
    digest = hashlib.sha256()
    count = skipped = 0
    for row in corrections:
        count += 1
        text = row.get("text") if isinstance(row, dict) else None
        if not isinstance(text, str) or not text.strip():
            skipped += 1
            continue
        used = False
        for head, labels in HEADS.items():
            label = row.get(head)
            if label is None:
                continue
            if label in labels:
                per_head.setdefault(head, {})[normalize(text)] = (text, label)
                used = True
        skipped += not used
        digest.update(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str).encode())
    info = {"count": count, "skipped": skipped, "sha256": digest.hexdigest(), "replaced_rows": 0,
            "by_head": {h: len(v) for h, v in per_head.items()}}
    return per_head, info


# --- one head --------------------------------------------------------------------------------
def _scores(model, X: sp.csr_matrix, n_labels: int) -> np.ndarray:
    """Decision scores in head-label order (columns for classes absent from training: -5)."""
    raw = model.decision_function(X)
    out = np.full((X.shape[0], n_labels), -5.0)
    if raw.ndim == 1:  # two classes seen
        out[:, model.classes_[1]] = raw
        out[:, model.classes_[0]] = -raw
    else:
        out[:, model.classes_] = raw
    return out


def _fit_svm(X: sp.csr_matrix, y: np.ndarray, w: np.ndarray, C: float):
    from sklearn.svm import LinearSVC

    if len(np.unique(y)) < 2:
        raise ValueError("a head needs at least two labels in its training data")
    return LinearSVC(C=C, class_weight="balanced", random_state=0).fit(X, y, sample_weight=w)


def _f1(y: np.ndarray, pred: np.ndarray, n_labels: int, average: str = "macro") -> float:
    """Macro/weighted F1 over the labels present in `y` (fast: used inside threshold search)."""
    present = np.bincount(y, minlength=n_labels) > 0
    tp = np.bincount(y[pred == y], minlength=n_labels).astype(float)
    fp = np.bincount(pred, minlength=n_labels) - tp
    fn = np.bincount(y, minlength=n_labels) - tp
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros(n_labels), where=denom > 0)
    if average == "weighted":
        support = np.bincount(y, minlength=n_labels)
        return float((f1 * support).sum() / support.sum())
    return float(f1[present].mean())


def tune_thresholds(head: str, labels: Sequence[str], proba: np.ndarray, y: np.ndarray,
                    average: str = "macro") -> dict[str, float]:
    """Per-label minimum probabilities that maximise out-of-fold F1 (coordinate ascent, 2 rounds).

    The most frequent label keeps the argmax rule; a threshold is only kept when it
    improves F1 by at least 0.001 (noise on small heads is larger than that).
    """
    k = len(labels)
    majority = int(np.bincount(y, minlength=k).argmax())
    grid = np.round(np.arange(0.05, 0.651, 0.025), 3)
    chosen: dict[str, float] = {}
    best = _f1(y, decide(head, labels, proba, chosen), k, average)
    for _ in range(2):
        for j, label in enumerate(labels):
            if j == majority or not (y == j).any():
                continue
            current = chosen.pop(label, None)
            base = _f1(y, decide(head, labels, proba, chosen), k, average)
            top, top_t = base, None
            for t in grid:
                f = _f1(y, decide(head, labels, proba, {**chosen, label: float(t)}), k, average)
                if f > top + 1e-9:
                    top, top_t = f, float(t)
            if top_t is not None and top >= base + 0.001:
                chosen[label] = top_t
                best = top
            elif current is not None and base < best:
                chosen[label] = current
            else:
                best = base
    return chosen


def _calibrator(scores: np.ndarray, y: np.ndarray, w: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression on the K decision scores → (coef K×K, intercept K)."""
    from sklearn.linear_model import LogisticRegression

    present = np.unique(y)
    coef = np.zeros((k, k))
    intercept = np.full(k, -30.0)  # labels never seen stay at probability ≈ 0
    if len(present) == 1:
        intercept[present[0]] = 0.0
        return coef, intercept
    lr = LogisticRegression(C=10.0, max_iter=1000).fit(scores, y, sample_weight=w)
    if len(present) == 2:
        coef[present[1]], intercept[present[1]] = lr.coef_[0], lr.intercept_[0]
        intercept[present[0]] = 0.0
    else:
        coef[lr.classes_], intercept[lr.classes_] = lr.coef_, lr.intercept_
    return coef, intercept


def _folds(y: np.ndarray, n_folds: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    smallest = np.bincount(y)[np.bincount(y) > 0].min()
    if smallest >= n_folds:
        return list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    return list(KFold(min(n_folds, len(y)), shuffle=True, random_state=seed).split(np.zeros(len(y))))


@dataclass
class HeadJob:
    """Everything needed to train one head on rows of the shared feature matrix."""

    name: str
    X: sp.csr_matrix  # block-scaled rows of this head
    y: np.ndarray
    w: np.ndarray
    groups: list[str]
    config: HeadConfig
    scale: np.ndarray
    folds: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)


def _finish_head(job: HeadJob, oof: np.ndarray, final) -> tuple[Head, dict]:
    labels = HEADS[job.name]
    k = len(labels)
    cal_coef, cal_intercept = _calibrator(oof, job.y, job.w, k)
    head = Head(job.name, labels, coef=np.zeros((k, job.X.shape[1]), dtype=np.float32), intercept=np.zeros(k),
                cal_coef=cal_coef, cal_intercept=cal_intercept)
    proba = head.proba_from_scores(oof.copy())
    head.thresholds = tune_thresholds(job.name, labels, proba, job.y, job.config.objective)
    final_scores_coef = np.zeros((k, job.X.shape[1]), dtype=np.float32)
    intercept = np.full(k, -5.0)
    coef = final.coef_
    if coef.shape[0] == 1:  # two classes: scores s and -s
        final_scores_coef[final.classes_[1]], intercept[final.classes_[1]] = coef[0], final.intercept_[0]
        final_scores_coef[final.classes_[0]], intercept[final.classes_[0]] = -coef[0], -final.intercept_[0]
    else:
        final_scores_coef[final.classes_], intercept[final.classes_] = coef, final.intercept_
    head.coef = (final_scores_coef * job.scale[None, :]).astype(np.float32)  # fold block scaling in
    head.intercept = intercept
    return head, _metrics(job, labels, proba, head.thresholds)


def _metrics(job: HeadJob, labels: Sequence[str], proba: np.ndarray, thresholds: dict[str, float]) -> dict:
    k = len(labels)
    argmax = proba.argmax(axis=1)
    tuned = decide(job.name, labels, proba, thresholds)
    groups = np.array(job.groups)

    def report(mask: np.ndarray) -> dict:
        y = job.y[mask]
        return {"n": int(mask.sum()),
                "argmax": {"macro_f1": round(_f1(y, argmax[mask], k), 4),
                           "weighted_f1": round(_f1(y, argmax[mask], k, "weighted"), 4),
                           "accuracy": round(float((argmax[mask] == y).mean()), 4)},
                "thresholds": {"macro_f1": round(_f1(y, tuned[mask], k), 4),
                               "weighted_f1": round(_f1(y, tuned[mask], k, "weighted"), 4),
                               "accuracy": round(float((tuned[mask] == y).mean()), 4)}}

    out = {"cv_folds": len(job.folds), "examples": len(job.y),
           "labels": {labels[i]: int(c) for i, c in enumerate(np.bincount(job.y, minlength=k))},
           "thresholds": thresholds, "C": job.config.C, "block_scale": job.config.block_scale,
           "cv": report(np.ones(len(job.y), dtype=bool)),
           "note": "out-of-fold predictions; 'thresholds' uses thresholds tuned on these same folds (optimistic)"}
    if len(set(job.groups)) > 1:
        out["cv_by_source"] = {g: report(groups == g) for g in sorted(set(job.groups))}
    return out


def fit_heads(X: sp.csr_matrix, rows: dict[str, np.ndarray], data: TrainingData, extractor: FeatureExtractor,
              n_jobs: int = 2, progress: Progress | None = None, configs: dict[str, HeadConfig] | None = None,
              only: Sequence[str] | None = None) -> tuple[dict[str, Head], dict]:
    """Train every head (or those in `only`: CV folds + final fit) on its rows of the shared matrix `X`."""
    configs = configs or HEAD_CONFIGS
    jobs = []
    for name in only or HEADS:
        ex = data.heads[name]
        scale = extractor.block_vector(configs[name].block_scale)
        Xh = X[rows[name]]
        Xh = Xh.multiply(scale[None, :]).tocsr() if (scale != 1).any() else Xh
        y = np.array([HEADS[name].index(label) for label in ex.labels], dtype=np.int64)
        job = HeadJob(name, Xh.astype(np.float64), y, np.asarray(ex.weights, dtype=np.float64),
                      data.groups[name], configs[name], scale)
        job.folds = _folds(y, CV_FOLDS)
        jobs.append(job)

    tasks = [(job, i) for job in jobs for i in range(len(job.folds) + 1)]
    # Biggest fits first so the two workers finish together.
    tasks.sort(key=lambda t: -t[0].X.nnz)
    done = 0
    total = len(tasks)
    if progress:
        progress("Huấn luyện", 0, total)

    def run(task: tuple[HeadJob, int]):
        job, i = task
        if i == len(job.folds):
            return _fit_svm(job.X, job.y, job.w, job.config.C)
        train_idx, test_idx = job.folds[i]
        model = _fit_svm(job.X[train_idx], job.y[train_idx], job.w[train_idx], job.config.C)
        return _scores(model, job.X[test_idx], len(HEADS[job.name]))

    results: dict[tuple[str, int], object] = {}
    with ThreadPoolExecutor(max_workers=max(1, n_jobs)) as pool:  # liblinear releases the GIL
        for task, result in zip(tasks, pool.map(run, tasks)):
            results[(task[0].name, task[1])] = result
            done += 1
            if progress:
                progress("Huấn luyện", done, total)

    heads, metrics = {}, {}
    for job in jobs:
        oof = np.zeros((len(job.y), len(HEADS[job.name])))
        for i, (_, test_idx) in enumerate(job.folds):
            oof[test_idx] = results[(job.name, i)]
        heads[job.name], metrics[job.name] = _finish_head(job, oof, results[(job.name, len(job.folds))])
    return heads, metrics


def build(data: TrainingData, n_jobs: int = 2, progress: Progress | None = None,
          configs: dict[str, HeadConfig] | None = None, only: Sequence[str] | None = None) -> tuple[Classifier, dict]:
    """Fit the shared features and the four heads (or those in `only`) on `data`; returns the classifier and metrics.

    The features are always fitted on every head's texts, so a partial build sees the same vocabulary.
    """
    tick = progress or (lambda *_: None)
    unique: dict[str, int] = {}
    rows: dict[str, np.ndarray] = {}
    for name in HEADS:
        rows[name] = np.array([unique.setdefault(t, len(unique)) for t in data.heads[name].texts], dtype=np.int64)
    texts = list(unique)
    normalized = []
    step = 2000
    for i in range(0, len(texts), step):
        normalized += [normalize(t) for t in texts[i:i + step]]
        tick("Chuẩn hoá văn bản", min(i + step, len(texts)), len(texts))
    tick("Trích đặc trưng", 0, 2)
    extractor = FeatureExtractor().fit(normalized)
    tick("Trích đặc trưng", 1, 2)
    X = extractor.transform(normalized)
    tick("Trích đặc trưng", 2, 2)
    heads, metrics = fit_heads(X, rows, data, extractor, n_jobs=n_jobs, progress=progress, configs=configs,
                               only=only)
    return Classifier(extractor, heads), metrics


# --- artifacts ---------------------------------------------------------------------------------
def _manifest(data: TrainingData, datasets_dir: Path, version: str, configs: dict[str, HeadConfig]) -> dict:
    import sklearn

    return {
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "datasets_dir": str(datasets_dir),
        "files": [{**asdict(f), "heads": heads} for f, heads in data.files],
        "corrections": data.corrections,
        "heads": {h: {"examples": len(ex), "by_source": dict(Counter(data.groups[h]))} for h, ex in data.heads.items()},
        "config": {"heads": {h: asdict(c) for h, c in configs.items()}, "correction_weight": CORRECTION_WEIGHT,
                   "vfnd_weight": VFND_WEIGHT, "seed_sentiment_weight": SEED_SENTIMENT_WEIGHT, "cv_folds": CV_FOLDS},
        "software": {"python": platform.python_version(), "numpy": np.__version__, "scikit-learn": sklearn.__version__,
                     "classifiers_sha256": code_fingerprint()},
    }


def code_fingerprint() -> str:
    """sha256 of the classifier's source files: the same data trained by different code gets a new hash."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _version(data: TrainingData, configs: dict[str, HeadConfig]) -> str:
    digest = hashlib.sha256()
    for f, _ in data.files:
        digest.update(f"{f.path}:{f.sha256}:{f.rows}\n".encode())
    digest.update(data.corrections["sha256"].encode())
    digest.update(json.dumps({h: asdict(c) for h, c in configs.items()}, sort_keys=True).encode())
    digest.update(code_fingerprint().encode())
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%MZ")
    return f"{stamp}-{digest.hexdigest()[:8]}"


def publish(models_dir: Path, version: str) -> None:
    """Point ``models_dir/current`` at `version` (atomic replace of a one-line text file)."""
    tmp = models_dir / f".{CURRENT}.{uuid.uuid4().hex}"
    tmp.write_text(version + "\n", encoding="utf-8")
    os.replace(tmp, models_dir / CURRENT)


def train(datasets_dir: Path, models_dir: Path, corrections: Iterable[dict] = (),
          progress: Progress | None = None, n_jobs: int | None = None) -> Path:
    """Train all heads from the datasets and corrections; write and publish a new artifact.

    Returns the new ``models_dir/<version>/`` directory. ``n_jobs`` (default 2, or
    ``LOA_TRAIN_JOBS``) threads fit the CV folds.
    """
    started = time.monotonic()
    datasets_dir, models_dir = Path(datasets_dir), Path(models_dir)
    n_jobs = n_jobs or int(os.environ.get("LOA_TRAIN_JOBS", "2"))
    data = collect(datasets_dir, corrections, progress=progress)
    classifier, metrics = build(data, n_jobs=n_jobs, progress=progress)

    version = _version(data, HEAD_CONFIGS)
    models_dir.mkdir(parents=True, exist_ok=True)
    final = models_dir / version
    n = 1
    while final.exists():  # same data retrained within the same minute
        n += 1
        final = models_dir / f"{version}-{n}"
    version = final.name
    classifier.version = version
    manifest = _manifest(data, datasets_dir, version, HEAD_CONFIGS)
    tmp = models_dir / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        classifier.save(tmp)
        report = {"version": version, "train_seconds": round(time.monotonic() - started, 1), "heads": metrics}
        (tmp / "metrics.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    publish(models_dir, version)
    if progress:
        progress("Lưu mô hình", 1, 1)
    return final
