"""Model lifecycle and batch use: which artifact is current, train-if-absent, JSONL classification.

Library code: paths come in as arguments (entry points read them from settings).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from classifiers.model import Classifier
from classifiers.train import CURRENT, Progress, train

logger = logging.getLogger(__name__)

ERR_JSON = "Dòng không phải JSON hợp lệ"
ERR_OBJECT = "Dòng phải là một đối tượng JSON {\"id\": ..., \"text\": ...}"
ERR_TEXT = "Thiếu trường \"text\" hoặc \"text\" không phải chuỗi"
ERR_EMPTY = "Văn bản rỗng"
ERR_ENCODING = "Dòng không phải UTF-8 hợp lệ"


def current_version(models_dir: Path) -> str | None:
    """The version named by ``models_dir/current`` if its artifact exists, else None."""
    try:
        version = (Path(models_dir) / CURRENT).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not version or not (Path(models_dir) / version / "model.joblib").is_file():
        return None
    return version


def load_current(models_dir: Path) -> Classifier | None:
    """Load the current model, or None when none has been trained yet."""
    version = current_version(models_dir)
    if version is None:
        return None
    return Classifier.load(Path(models_dir) / version)


def ensure_model(datasets_dir: Path, models_dir: Path, progress: Progress | None = None) -> Classifier:
    """The current model; trains one from the datasets first if there is none (`make run`)."""
    model = load_current(models_dir)
    if model is not None:
        return model
    logger.info("no classifier model in %s: training from %s", models_dir, datasets_dir)
    path = train(Path(datasets_dir), Path(models_dir), progress=progress)
    return Classifier.load(path)


def _parse(raw: bytes, line_no: int) -> dict[str, Any]:
    """One input line → {"id", "text"} or {"id"?, "error"}."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"line": line_no, "error": ERR_ENCODING}
    try:
        obj = json.loads(line)
    except ValueError:
        return {"line": line_no, "error": ERR_JSON}
    if not isinstance(obj, dict):
        return {"line": line_no, "error": ERR_OBJECT}
    out: dict[str, Any] = {"id": obj["id"]} if "id" in obj else {"line": line_no}
    text = obj.get("text")
    if not isinstance(text, str):
        out["error"] = ERR_TEXT
    elif not text.strip():
        out["error"] = ERR_EMPTY
    else:
        out["text"] = text
    return out


def _batches(path: Path, size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    with open(path, "rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue  # blank lines are not items
            batch.append(_parse(raw.rstrip(b"\r\n"), line_no))
            if len(batch) >= size:
                yield batch
                batch = []
    if batch:
        yield batch


def classify_jsonl(classifier: Classifier, input_path: Path, output_path: Path, batch_size: int = 512,
                   thresholds: dict[str, float] | None = None) -> int:
    """Classify a JSONL file line by line (streaming, in batches); returns the number of items classified.

    Each non-blank input line gives one output line, in order: ``id`` plus
    `Prediction.to_json()`, or ``id`` (``line`` when there is no id) and ``error`` (a
    Vietnamese message) for a malformed line, a missing/non-string ``text`` or an empty text.
    """
    classified = 0
    with open(output_path, "w", encoding="utf-8") as out:
        for batch in _batches(Path(input_path), batch_size):
            todo = [row for row in batch if "text" in row]
            preds = classifier.predict([row["text"] for row in todo], thresholds=thresholds) if todo else []
            by_row = {id(row): pred for row, pred in zip(todo, preds)}
            for row in batch:
                pred = by_row.get(id(row))
                if pred is None:
                    record = row
                else:
                    record = {"id": row["id"]} if "id" in row else {"line": row["line"]}
                    record.update(pred.to_json())
                    classified += 1
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return classified
