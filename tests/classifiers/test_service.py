"""`classify_jsonl`: streaming, ids kept, malformed lines reported in Vietnamese, never a crash."""

from __future__ import annotations

import json

from classifiers.service import (
    ERR_EMPTY,
    ERR_ENCODING,
    ERR_JSON,
    ERR_OBJECT,
    ERR_TEXT,
    classify_jsonl,
    load_current,
)


def test_classify_jsonl_with_malformed_lines(tiny_models, tmp_path):
    models, _ = tiny_models
    model = load_current(models)
    src = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "a1", "text": "Công ty nợ tiền lương ba tháng rồi"}, ensure_ascii=False).encode(),
        b'{"id": "a2", "text": ',                      # truncated JSON
        b"",                                           # blank line: skipped
        json.dumps({"id": 3}).encode(),                # no text
        json.dumps({"id": "a4", "text": 42}).encode(),  # text not a string
        json.dumps({"id": "a5", "text": "   "}).encode(),  # empty text
        b"[1, 2]",                                     # not an object
        b'{"id": "a7", "text": "\xff\xfe"}',           # not UTF-8
        json.dumps({"text": "Cảm ơn công đoàn đã hỗ trợ thưởng Tết"}, ensure_ascii=False).encode(),  # no id
    ]
    src.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out.jsonl"
    assert classify_jsonl(model, src, out, batch_size=2) == 2
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 8
    ok = rows[0]
    assert ok["id"] == "a1"
    for head in ("risk", "topic", "sentiment", "toxicity"):
        assert isinstance(ok[head], str) and isinstance(ok[f"{head}_proba"], dict)
    assert rows[1] == {"line": 2, "error": ERR_JSON}
    assert rows[2] == {"id": 3, "error": ERR_TEXT}
    assert rows[3] == {"id": "a4", "error": ERR_TEXT}
    assert rows[4] == {"id": "a5", "error": ERR_EMPTY}
    assert rows[5] == {"line": 7, "error": ERR_OBJECT}
    assert rows[6] == {"line": 8, "error": ERR_ENCODING}
    assert rows[7]["line"] == 9 and "risk" in rows[7] and "error" not in rows[7]


def test_classify_jsonl_empty_file(tiny_models, tmp_path):
    model = load_current(tiny_models[0])
    src = tmp_path / "empty.jsonl"
    src.write_text("", encoding="utf-8")
    assert classify_jsonl(model, src, tmp_path / "out.jsonl") == 0
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == ""
