"""Thresholds and precedence: the decision rule of classifiers.model.decide."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.labels import HEADS, RISK_LABELS, is_flagged
from classifiers.model import Prediction, decide, parse_thresholds

RISK = RISK_LABELS  # binh_thuong, buc_xuc, sai_lech, kich_dong


def pick(head, proba, thresholds):
    labels = HEADS[head]
    return labels[int(decide(head, labels, np.array([proba]), thresholds)[0])]


def test_argmax_without_thresholds():
    assert pick("risk", [0.6, 0.2, 0.15, 0.05], {}) == "binh_thuong"
    assert pick("sentiment", [0.2, 0.3, 0.5], {}) == "tieu_cuc"


def test_threshold_flags_a_label_that_is_not_the_argmax():
    proba = [0.55, 0.05, 0.36, 0.04]
    assert pick("risk", proba, {}) == "binh_thuong"
    assert pick("risk", proba, {"sai_lech": 0.35}) == "sai_lech"
    assert pick("risk", proba, {"sai_lech": 0.4}) == "binh_thuong"


def test_precedence_when_several_pass():
    proba = [0.2, 0.4, 0.3, 0.1]
    assert pick("risk", proba, {"sai_lech": 0.25}) == "sai_lech"  # beats the argmax buc_xuc
    assert pick("risk", proba, {"sai_lech": 0.25, "kich_dong": 0.1}) == "kich_dong"
    # the argmax counts as passing: a lower-precedence threshold does not override it
    assert pick("risk", [0.1, 0.2, 0.6, 0.1], {"buc_xuc": 0.15}) == "sai_lech"
    assert pick("toxicity", [0.5, 0.3, 0.2], {"offensive": 0.25, "hate": 0.2}) == "hate"


def test_most_probable_passing_label_for_heads_without_precedence():
    assert pick("sentiment", [0.5, 0.3, 0.2], {"trung_tinh": 0.25, "tieu_cuc": 0.15}) == "trung_tinh"


def test_a_threshold_is_also_a_minimum_for_the_argmax():
    assert pick("sentiment", [0.5, 0.3, 0.2], {"tich_cuc": 0.9}) == "trung_tinh"
    assert pick("risk", [0.35, 0.4, 0.2, 0.05], {"buc_xuc": 0.5}) == "binh_thuong"
    # every label thresholded and none met: the argmax
    assert pick("toxicity", [0.5, 0.3, 0.2], {"clean": 0.9, "offensive": 0.9, "hate": 0.9}) == "clean"


def test_parse_thresholds():
    assert parse_thresholds({"risk.sai_lech": 0.35, "toxicity.hate": "0.3"}) == {
        "risk": {"sai_lech": 0.35}, "toxicity": {"hate": 0.3}}
    assert parse_thresholds(None) == {}
    assert parse_thresholds({"toxicity.offensive": -1}) == {"toxicity": {"offensive": -1.0}}
    for bad in ({"risk.unknown": 0.3}, {"sai_lech": 0.3}, {"nohead.x": 0.1}, {"risk.sai_lech": 2}):
        with pytest.raises(ValueError):
            parse_thresholds(bad)


def test_prediction_json_shape():
    p = Prediction(labels={"risk": "buc_xuc", "topic": "tien_luong", "sentiment": "tieu_cuc", "toxicity": "clean"},
                   proba={"risk": {"binh_thuong": 0.1, "buc_xuc": 0.812345, "sai_lech": 0.05, "kich_dong": 0.037655}},
                   explanations={"risk": [("nợ lương", 1.23456)]})
    out = p.to_json()
    assert out["risk"] == "buc_xuc" and out["toxicity"] == "clean"
    assert out["risk_proba"]["buc_xuc"] == 0.8123
    assert out["explanations"] == {"risk": [["nợ lương", 1.2346]]}


def test_is_flagged():
    assert not is_flagged("binh_thuong")
    assert all(is_flagged(r) for r in RISK[1:])
    assert not is_flagged(None)
