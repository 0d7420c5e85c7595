"""Readers for the shared datasets, mapped onto Loa's heads.

The datasets are read in place from a configurable folder (never copied into the repo).
Each reader returns `Examples` (texts + labels of one head) and the `DataFile`s it read,
so a trained artifact can record exactly which files (sha256, rows) it was built from.

Mapping (see the README of the datasets folder and docs/opinion-taxonomy.md):

* ViHSD (0 clean, 1 offensive, 2 hate)          → ``toxicity``
* UIT-VSFC sentiment (0 neg, 1 neu, 2 pos)       → ``sentiment`` (student feedback: other domain)
* VFND (1 fake, 0 real)                          → ``risk``: ``sai_lech`` / ``binh_thuong``
* union-opinion seed a + b                       → ``risk``, ``topic``, ``sentiment``
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

VIHSD_LABELS = {"0": "clean", "1": "offensive", "2": "hate"}
VSFC_SENTIMENT = {"0": "tieu_cuc", "1": "trung_tinh", "2": "tich_cuc"}
VFND_RISK = {"1": "sai_lech", "0": "binh_thuong"}
SEED_FILES = ("union-opinion/seed-a.jsonl", "union-opinion/seed-b.jsonl")


@dataclass(frozen=True)
class DataFile:
    """One dataset file as used for training (recorded in the artifact's manifest)."""

    path: str  # relative to the datasets folder
    sha256: str
    rows: int


@dataclass
class Examples:
    """Texts and labels of one head; `weights` are 1.0 except for monitors' corrections."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    files: list[DataFile] = field(default_factory=list)

    def add(self, text: str, label: str, weight: float = 1.0) -> None:
        self.texts.append(text)
        self.labels.append(label)
        self.weights.append(weight)

    def extend(self, other: Examples) -> Examples:
        self.texts += other.texts
        self.labels += other.labels
        self.weights += other.weights
        self.files += [f for f in other.files if f not in self.files]
        return self

    def __len__(self) -> int:
        return len(self.texts)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _record(root: Path, path: Path, rows: int) -> DataFile:
    return DataFile(path=path.relative_to(root).as_posix(), sha256=_sha256(path), rows=rows)


def _read_csv(root: Path, rel: str, text_col: str, label_col: str, mapping: dict[str, str]) -> Examples:
    path = root / rel
    out = Examples()
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            label = mapping.get((row.get(label_col) or "").strip())
            text = row.get(text_col) or ""
            if label and text.strip():
                out.add(text, label)
    out.files.append(_record(root, path, len(out)))
    return out


def vihsd(root: Path, split: str = "train") -> Examples:
    """ViHSD comments → toxicity labels (``split``: train or dev)."""
    return _read_csv(root, f"vihsd/{split}.csv", "free_text", "label_id", VIHSD_LABELS)


def vfnd(root: Path) -> Examples:
    """VFND news/posts → risk ``sai_lech`` (fake) or ``binh_thuong`` (real)."""
    return _read_csv(root, "vfnd/train.csv", "text", "label", VFND_RISK)


def vsfc(root: Path, split: str = "train") -> Examples:
    """UIT-VSFC student feedback → sentiment labels (``split``: train or val)."""
    folder = root / "uit-vsfc" / split
    sents = (folder / "sents.txt").read_text(encoding="utf-8").splitlines()
    labels = (folder / "sentiments.txt").read_text(encoding="utf-8").splitlines()
    if len(sents) != len(labels):
        raise ValueError(f"{folder}: sents.txt and sentiments.txt differ in length")
    out = Examples()
    for text, label in zip(sents, labels):
        if text.strip() and label.strip() in VSFC_SENTIMENT:
            out.add(text, VSFC_SENTIMENT[label.strip()])
    out.files += [_record(root, folder / "sents.txt", len(sents)), _record(root, folder / "sentiments.txt", len(labels))]
    return out


def seed_rows(root: Path, files: tuple[str, ...] = SEED_FILES) -> tuple[list[dict], list[DataFile]]:
    """The union-opinion seed as dicts (text, source, risk, topic, sentiment)."""
    rows: list[dict] = []
    recorded = []
    for rel in files:
        path = root / rel
        n = 0
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    rows.append(json.loads(line))
                    n += 1
        recorded.append(_record(root, path, n))
    return rows, recorded


def from_rows(rows: list[dict], head: str, weight: float = 1.0) -> Examples:
    """Examples of `head` from seed-like dicts (rows without that head are skipped)."""
    out = Examples()
    for row in rows:
        text, label = row.get("text"), row.get(head)
        if isinstance(text, str) and text.strip() and isinstance(label, str) and label:
            out.add(text, label, weight)
    return out
