# briefcast — the two commands that matter are `make run` and `make test`.
# Both work on a fresh machine with only python3 (>= 3.11): the virtualenv is
# created and filled from requirements.lock on first use, and refreshed when
# requirements.lock or pyproject.toml change.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.briefcast-installed

.DEFAULT_GOAL := help
.PHONY: help run test test-fast lint bench lock clean

help:
	@echo "make run    serve on http://127.0.0.1:8080/ (briefcast run): the local playground with the sample"
	@echo "            issue when no Telegram/Slack token is set, else the real bots and the dashboard"
	@echo "make test   run the test suite (PostgreSQL tests skip if no server on 127.0.0.1:5432)"
	@echo "make test-fast  the fast tier: no PostgreSQL, browser or slow process tests (pytest markers)"
	@echo "make lint   ruff check, ruff format --check, mypy --strict"
	@echo "make bench  run the benchmarks (python -m bench), if bench/ exists"
	@echo "make lock   re-pin requirements.lock from the current virtualenv"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "briefcast needs Python >= 3.11, $(PYTHON) is " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

run: $(STAMP)
	$(BIN)/briefcast run

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n auto -m "not slow and not browser and not postgres"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

bench: $(STAMP)
	@if [ -d bench ] && [ -n "$$(ls bench/*.py 2>/dev/null)" ]; then \
		$(BIN)/python -m bench; \
	else \
		echo "no benchmarks yet (bench/ is empty)"; \
	fi

lock: | $(BIN)/python
	$(BIN)/python -m pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build dist
