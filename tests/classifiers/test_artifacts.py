"""Versioned artifacts: directory layout, metrics, manifest, `current`, corrections, ensure_model."""

from __future__ import annotations

import hashlib
import json
import re

from classifiers.labels import HEADS
from classifiers.model import Classifier
from classifiers.service import current_version, ensure_model, load_current
from classifiers.train import train

VERSION = re.compile(r"^\d{8}T\d{4}Z-[0-9a-f]{8}(-\d+)?$")


def test_artifact_layout_metrics_and_manifest(tiny_datasets, tiny_models):
    models, path = tiny_models
    assert path.parent == models and VERSION.match(path.name)
    assert {p.name for p in path.iterdir()} == {"model.joblib", "metrics.json", "manifest.json"}
    assert (models / "current").read_text(encoding="utf-8").strip() == path.name
    assert current_version(models) == path.name

    metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["version"] == path.name
    for head in HEADS:
        cv = metrics["heads"][head]["cv"]
        assert 0.0 <= cv["argmax"]["macro_f1"] <= 1.0 and cv["n"] > 0

    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    files = {f["path"]: f for f in manifest["files"]}
    assert set(files) == {"union-opinion/seed-a.jsonl", "union-opinion/seed-b.jsonl", "vihsd/train.csv",
                          "uit-vsfc/train/sents.txt", "uit-vsfc/train/sentiments.txt", "vfnd/train.csv"}
    for rel, entry in files.items():
        data = (tiny_datasets / rel).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert files["union-opinion/seed-a.jsonl"]["rows"] == len((tiny_datasets / "union-opinion/seed-a.jsonl")
                                                            .read_text(encoding="utf-8").splitlines())
    assert files["vihsd/train.csv"]["heads"] == ["toxicity"]
    assert manifest["corrections"]["count"] == 0
    # held-out splits are never used for training
    assert not any("dev" in p or "/val/" in p for p in files)


def test_load_predict_roundtrip(tiny_models):
    models, path = tiny_models
    model = load_current(models)
    assert model is not None and model.version == path.name
    [pred] = model.predict(["Công ty nợ tiền lương tháng này ba tháng rồi"])
    assert set(pred.labels) == set(HEADS) == set(pred.proba)
    for head, labels in HEADS.items():
        assert pred.labels[head] in labels
        assert set(pred.proba[head]) == set(labels)
        assert abs(sum(pred.proba[head].values()) - 1.0) < 1e-5
    assert model.predict([]) == []
    [empty] = model.predict([""])  # no features at all: still a valid prediction
    assert empty.explanations["risk"] == []


def test_corrections_change_the_prediction(tiny_datasets, tmp_path):
    text = "Quản lý bắt làm thêm giờ chủ nhật mà không trả tiền"
    before = Classifier.load(train(tiny_datasets, tmp_path, n_jobs=1))
    [p] = before.predict([text])
    assert p.labels["risk"] != "sai_lech" and p.labels["topic"] != "khac"

    corrections = [{"text": text, "risk": "sai_lech", "topic": "khac"},
                   {"text": "  ", "risk": "buc_xuc"},  # no text: skipped
                   {"text": "Một câu khác", "risk": "khong_co_nhan_nay"}]  # unknown label: skipped
    path = train(tiny_datasets, tmp_path, corrections=corrections, n_jobs=1)
    after = Classifier.load(path)
    [p] = after.predict([text])
    assert (p.labels["risk"], p.labels["topic"]) == ("sai_lech", "khac")
    assert after.version != before.version and current_version(tmp_path) == after.version
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["corrections"]["count"] == 3
    assert manifest["corrections"]["skipped"] == 2
    assert manifest["corrections"]["by_head"] == {"risk": 1, "topic": 1}


def test_correction_replaces_a_dataset_label(tiny_datasets, tmp_path):
    import unicodedata

    from tests.classifiers.tiny_data import seed_rows

    row = seed_rows()[0]
    variant = "  " + unicodedata.normalize("NFD", row["text"]) + " "  # same text once normalized
    path = train(tiny_datasets, tmp_path, corrections=[{"text": variant, "risk": "kich_dong"}], n_jobs=1)
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["corrections"]["replaced_rows"] == 1


def test_ensure_model_trains_only_when_absent(tiny_datasets, tmp_path):
    assert current_version(tmp_path) is None and load_current(tmp_path) is None
    stages = []
    first = ensure_model(tiny_datasets, tmp_path, progress=lambda stage, done, total: stages.append(stage))
    assert "Huấn luyện" in stages
    again = ensure_model(tiny_datasets, tmp_path)
    assert again.version == first.version
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 1
    # a `current` naming a missing artifact counts as no model
    (tmp_path / "current").write_text("20000101T0000Z-deadbeef\n", encoding="utf-8")
    assert current_version(tmp_path) is None
