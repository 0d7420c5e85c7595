# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Browser tests drive Debian's Chromium (tests/browser.py installs it with apt when missing): Playwright's
# own browser downloads are never used, whatever installs or imports it.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run test bench install clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-run whenever pyproject.toml changes (new dependencies, test extras such as playwright and schemathesis).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

.env: | $(STAMP)
	$(BIN)/python -m cli.devenv > .env
	@echo "Đã tạo .env cho chạy cục bộ (khoá mã hoá mới, sandbox thay cho Facebook/Zalo)."

# Starts sandbox + API + Celery worker + beat on SQLite and prints where to open them.
run: $(STAMP) .env
	$(BIN)/loa db upgrade
	$(BIN)/loa train --if-missing
	$(BIN)/loa demo
	$(BIN)/loa run

# Uses the real PostgreSQL and Redis on 127.0.0.1 (CI=true makes a missing server a failure); includes the
# browser journeys in tests/e2e (marker e2e) and the schemathesis fuzzing of the API.
test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/publish.py --posts 10000 --channels 200 --workers 2 --chaos
	$(BIN)/python bench/classify.py
	$(BIN)/python bench/ingest.py --items 100000
	$(BIN)/python bench/hot_topics.py --seed 1
	$(BIN)/python bench/digest.py --orgs 500 --weeks 52
	$(BIN)/python bench/web.py --items 1000000 --posts 50000

clean:
	rm -rf $(VENV) var .pytest_cache
