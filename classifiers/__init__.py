"""Vietnamese text classification for the opinion desk.

`text` (normalisation, diacritics, segmentation, entities) → `features` (one shared sparse
extraction) → `model` (four calibrated linear heads: risk, topic, sentiment, toxicity, with
explanations) ← `train` (datasets + monitors' corrections → versioned artifacts);
`service` (current model, train-if-absent, JSONL batch classification); `labels` (taxonomy).
"""
