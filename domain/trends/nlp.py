"""Lazy access to underthesea's word segmentation and NER, with a fallback when unavailable.

underthesea 6+ ships the models of ``word_tokenize`` and ``ner`` inside the wheel (checked to
work offline), but importing it costs ~1 s and ~90 MB, and some of its functions download models
on first use. So it is imported only when a hot topic has to be named, and any failure to load
turns into "no NLP" (logged once) instead of an error in the detection pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

_loaded: dict[str, Callable | None] = {}


def _load(name: str, probe: str) -> Callable | None:
    if name not in _loaded:
        try:
            import underthesea

            function = getattr(underthesea, name)
            function(probe)  # loads the model now, so a failure is seen here
            _loaded[name] = function
        except Exception as exc:  # noqa: BLE001 — any failure means "fall back"
            log.warning("underthesea %s unavailable, falling back: %s", name, exc)
            _loaded[name] = None
    return _loaded[name]


def words(text: str) -> list[str]:
    """Vietnamese words of ``text`` ("công nhân", "Nhơn Trạch"); whitespace tokens as fallback."""
    tokenize = _load("word_tokenize", "Công nhân KCN Quang Châu")
    return tokenize(text) if tokenize else text.split()


def ner_tags(text: str) -> list[tuple[str, str]]:
    """(word, BIO tag) pairs from underthesea's NER; [] if it is unavailable."""
    ner = _load("ner", "Công nhân KCN Quang Châu")
    return [(row[0], row[-1]) for row in ner(text)] if ner else []
