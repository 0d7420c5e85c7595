"""The real model (trained once on the shared train splits): quality floors, explanations, thresholds.

Floors sit a little under what bench/classify.py measured (ViHSD dev 0.656, UIT-VSFC val
weighted 0.909, seed risk CV ≈0.92, VFND CV accuracy ≈0.89) so a regression shows up here.
"""

from __future__ import annotations

import json

from sklearn.metrics import f1_score

from classifiers import datasets
from classifiers.labels import HEADS, TOXICITY_LABELS
from classifiers.text import display_token, normalize

FLAGGED = [
    "Công ty nợ lương công nhân hai tháng rồi mà không ai giải quyết, anh em vay mượn khắp nơi",
    "Anh em nghỉ hết đi, kéo nhau ra đập phá xưởng cho bọn nó biết tay",
    "Chính thức từ tháng sau bảo hiểm xã hội ngừng chi trả lương hưu, rút hết đi kẻo mất",
    "Thằng giám đốc khốn nạn, đồ súc vật 🤬",
]


def test_quality_floors_on_held_out_splits(shared_datasets, full_model, full_model_dir):
    dev = datasets.vihsd(shared_datasets, "dev")
    pred = [p.labels["toxicity"] for p in full_model.predict(dev.texts, explain=False)]
    assert f1_score(dev.labels, pred, labels=list(TOXICITY_LABELS), average="macro") >= 0.63

    val = datasets.vsfc(shared_datasets, "val")
    pred = [p.labels["sentiment"] for p in full_model.predict(val.texts, explain=False)]
    assert f1_score(val.labels, pred, labels=list(HEADS["sentiment"]), average="weighted") >= 0.89

    metrics = json.loads((full_model_dir / "metrics.json").read_text(encoding="utf-8"))["heads"]
    assert metrics["risk"]["cv_by_source"]["seed"]["argmax"]["macro_f1"] >= 0.89
    assert metrics["risk"]["cv_by_source"]["vfnd"]["argmax"]["accuracy"] >= 0.8
    assert metrics["topic"]["cv"]["argmax"]["macro_f1"] >= 0.75


def test_obvious_cases(full_model):
    preds = full_model.predict(FLAGGED + ["Cảm ơn công đoàn đã tổ chức chuyến xe về quê ăn Tết"])
    assert [p.labels["risk"] for p in preds[:3]] == ["buc_xuc", "kich_dong", "sai_lech"]
    assert preds[0].labels["topic"] == "tien_luong" and preds[2].labels["topic"] == "bhxh"
    assert preds[3].labels["toxicity"] in ("offensive", "hate")
    assert preds[4].labels["risk"] == "binh_thuong" and preds[4].labels["sentiment"] == "tich_cuc"


def test_explanations_are_words_of_the_text(full_model):
    for text, pred in zip(FLAGGED, full_model.predict(FLAGGED)):
        words = {display_token(w) for w in normalize(text).split()}
        for head in HEADS:
            terms = pred.explanations[head]
            assert len(terms) <= 5
            scores = [s for _, s in terms]
            assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
            for phrase, _ in terms:
                assert set(phrase.split()) <= words, (head, phrase, text)
        assert pred.explanations["risk"], text  # every flag is explained
    [insult] = full_model.predict([FLAGGED[3]])
    found = " ".join(phrase for phrase, _ in insult.explanations["toxicity"])
    assert "khốn nạn" in found or "súc vật" in found


def test_thresholds_override_the_argmax(full_model):
    text = ["Cho mình hỏi thủ tục nhận quà Tết ở đâu ạ"]
    [plain] = full_model.predict(text)
    assert plain.labels["risk"] == "binh_thuong"
    [forced] = full_model.predict(text, thresholds={"risk.sai_lech": 0.0})
    assert forced.labels["risk"] == "sai_lech" and forced.proba == plain.proba
    [both] = full_model.predict(text, thresholds={"risk.sai_lech": 0.0, "risk.kich_dong": 0.0})
    assert both.labels["risk"] == "kich_dong"  # precedence
