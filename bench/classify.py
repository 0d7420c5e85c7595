"""Classifier benchmark: train on the train splits, report on the held-out dev/val splits.

    python bench/classify.py [--datasets DIR] [--jobs 2]

* ``vihsd_dev_macro_f1``: toxicity head (trained on ViHSD train) on ViHSD dev.
* ``vsfc_val_sentiment_weighted_f1``: sentiment head (UIT-VSFC train + seed) on UIT-VSFC val.
* ``seed_cv_risk_macro_f1``: 5-fold stratified CV over the union-opinion seed a+b; each fold
  retrains the shared features and the risk head (seed of the other folds + VFND) from scratch.
* ``items_per_s_per_core``: the whole prediction path (normalize, features, all four heads,
  calibration, thresholds, explanations) in one process pinned to one thread, batches of 512,
  over the dev/val/seed texts. Word segmentation is *not* on that path (see classifiers/text.py);
  its own rate and the rate the path would have with it are reported beside it.
* ``model_rss_mb``: resident memory of a fresh process that loaded the model and classified a batch.

Dev/val splits are only used here, for reporting; hyper-parameters were chosen by CV on train.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers import datasets
from classifiers.labels import HEADS

SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def f1(y: list[str], pred: list[str], labels: tuple[str, ...], average: str) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, pred, labels=list(labels), average=average, zero_division=0))


def report(y: list[str], pred: list[str], labels: tuple[str, ...]) -> str:
    from sklearn.metrics import classification_report

    return classification_report(y, pred, labels=list(labels), digits=3, zero_division=0)


def seed_cv(root: Path, jobs: int, folds: int = 5) -> dict:
    """Risk (and topic) macro-F1 over the seed by stratified k-fold; features refitted per fold."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from classifiers.train import build, collect

    rows, _ = datasets.seed_rows(root)
    y = [r["risk"] for r in rows]
    risk_pred: list[str] = [""] * len(rows)
    topic_pred: list[str] = [""] * len(rows)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    for k, (train_idx, test_idx) in enumerate(splitter.split(np.zeros(len(rows)), y), start=1):
        t0 = time.monotonic()
        data = collect(root, seed_rows=[rows[i] for i in train_idx])
        model, _ = build(data, n_jobs=jobs, only=("risk", "topic"))
        preds = model.predict([rows[i]["text"] for i in test_idx], explain=False)
        for i, p in zip(test_idx, preds):
            risk_pred[i], topic_pred[i] = p.labels["risk"], p.labels["topic"]
        log(f"seed CV fold {k}/{folds}: {time.monotonic() - t0:.1f} s")
    log("seed CV risk:\n" + report(y, risk_pred, HEADS["risk"]))
    topics = [r["topic"] for r in rows]
    return {"risk_macro_f1": f1(y, risk_pred, HEADS["risk"], "macro"),
            "topic_macro_f1": f1(topics, topic_pred, HEADS["topic"], "macro")}


SPEED_SCRIPT = r"""
import json, sys, time, os, psutil
sys.path.insert(0, sys.argv[1])
proc = psutil.Process()
base = proc.memory_info().rss
from classifiers.model import Classifier
model = Classifier.load(sys.argv[2])
texts = json.load(open(sys.argv[3], encoding="utf-8"))
model.predict(texts[:512])
rss = proc.memory_info().rss
def rate(explain):
    t0 = time.perf_counter()
    for i in range(0, len(texts), 512):
        model.predict(texts[i:i + 512], explain=explain)
    return len(texts) / (time.perf_counter() - t0)
with_expl = rate(True)
without = rate(False)
rss = max(rss, proc.memory_info().rss)
from classifiers.text import segment
sample = texts[:800]
segment(sample[0])
t0 = time.perf_counter()
for t in sample:
    segment(t)
seg = len(sample) / (time.perf_counter() - t0)
print(json.dumps({"items_per_s": with_expl, "items_per_s_no_explanations": without, "segment_per_s": seg,
                  "rss_mb": rss / 2**20}))
"""


def speed_and_memory(model_dir: Path, texts: list[str]) -> dict:
    """Run the prediction path in a fresh single-threaded process (one core) and measure it."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fh:
        json.dump(texts, fh, ensure_ascii=False)
    try:
        out = subprocess.run([sys.executable, "-c", SPEED_SCRIPT, str(ROOT), str(model_dir), fh.name],
                             env={**os.environ, **SINGLE_THREAD}, capture_output=True, text=True, check=True)
    finally:
        os.unlink(fh.name)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", type=Path,
                    default=Path(os.environ.get("LOA_DATASETS_DIR", "/work/shared/datasets")))
    ap.add_argument("--jobs", type=int, default=2, help="threads for training (CV folds)")
    ap.add_argument("--skip-seed-cv", action="store_true")
    args = ap.parse_args()
    root: Path = args.datasets

    from tqdm import tqdm

    from classifiers.model import Classifier
    from classifiers.train import train

    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, leave=False)
        bar.total = total
        bar.n = done
        bar.refresh()

    with tempfile.TemporaryDirectory(prefix="loa-bench-") as tmp:
        log(f"training on the train splits of {root}")
        t0 = time.monotonic()
        model_dir = train(root, Path(tmp), progress=progress, n_jobs=args.jobs)
        for bar in bars.values():
            bar.close()
        train_s = time.monotonic() - t0
        log(f"trained {model_dir.name} in {train_s:.1f} s")
        model = Classifier.load(model_dir)
        metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))

        dev = datasets.vihsd(root, "dev")
        pred = [p.labels["toxicity"] for p in model.predict(dev.texts, explain=False)]
        vihsd_macro = f1(dev.labels, pred, HEADS["toxicity"], "macro")
        log(f"ViHSD dev ({len(dev)}): macro-F1 {vihsd_macro:.4f}\n" + report(dev.labels, pred, HEADS["toxicity"]))

        val = datasets.vsfc(root, "val")
        pred = [p.labels["sentiment"] for p in model.predict(val.texts, explain=False)]
        vsfc_weighted = f1(val.labels, pred, HEADS["sentiment"], "weighted")
        vsfc_macro = f1(val.labels, pred, HEADS["sentiment"], "macro")
        log(f"UIT-VSFC val ({len(val)}): weighted-F1 {vsfc_weighted:.4f}, macro-F1 {vsfc_macro:.4f}\n"
            + report(val.labels, pred, HEADS["sentiment"]))

        seed_rows, _ = datasets.seed_rows(root)
        texts = dev.texts + val.texts + [r["text"] for r in seed_rows]
        log(f"throughput and memory: {len(texts)} texts, one process, one thread")
        speed = speed_and_memory(model_dir, texts)
        with_seg = 1 / (1 / speed["items_per_s"] + 1 / speed["segment_per_s"])
        log(f"{speed['items_per_s']:.0f} items/s with explanations, {speed['items_per_s_no_explanations']:.0f} "
            f"without; underthesea word segmentation alone {speed['segment_per_s']:.0f}/s "
            f"(path with it: {with_seg:.0f}/s); RSS {speed['rss_mb']:.0f} MB")

    cv = {"risk_macro_f1": None, "topic_macro_f1": None}
    if not args.skip_seed_cv:
        log("seed 5-fold CV (features + risk/topic heads retrained per fold)")
        cv = seed_cv(root, args.jobs)
        log(f"seed CV risk macro-F1 {cv['risk_macro_f1']:.4f}, topic macro-F1 {cv['topic_macro_f1']:.4f}")

    risk_cv = metrics["heads"]["risk"].get("cv_by_source", {}).get("vfnd", {})
    result = {
        "vihsd_dev_macro_f1": round(vihsd_macro, 4),
        "vsfc_val_sentiment_weighted_f1": round(vsfc_weighted, 4),
        "seed_cv_risk_macro_f1": None if cv["risk_macro_f1"] is None else round(cv["risk_macro_f1"], 4),
        "items_per_s_per_core": round(speed["items_per_s"]),
        "model_rss_mb": round(speed["rss_mb"], 1),
        "vsfc_val_sentiment_macro_f1": round(vsfc_macro, 4),
        "seed_cv_topic_macro_f1": None if cv["topic_macro_f1"] is None else round(cv["topic_macro_f1"], 4),
        "vfnd_cv_risk_accuracy": risk_cv.get("thresholds", {}).get("accuracy"),
        "items_per_s_per_core_no_explanations": round(speed["items_per_s_no_explanations"]),
        "segment_items_per_s": round(speed["segment_per_s"]),
        "items_per_s_per_core_if_segmented": round(with_seg),
        "train_seconds": round(train_s, 1),
        "model_version": model_dir.name,
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
