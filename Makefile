# The two commands a new user needs are `make run` and `make test`; everything else is optional.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run dev test lint format install install-dev bench bench-smoke

## run: install, migrate, create the first admin, serve on http://$HOST:$PORT with gunicorn
run: install
	$(MANAGE) migrate --noinput
	$(MANAGE) ensure_admin
	$(MANAGE) collectstatic --noinput --verbosity 0
	exec $(MANAGE) serve

## dev: an autoreloading development server (REST and websockets) with DEBUG on
dev: install
	$(MANAGE) migrate --noinput
	$(MANAGE) ensure_admin
	DEBUG=true $(BIN)/uvicorn chat_project.asgi:application --reload --host "$${HOST:-127.0.0.1}" --port "$${PORT:-3000}"

## test: install the dev dependencies and run the whole suite (pass ARGS="-k login" to narrow it)
test: install-dev
	$(BIN)/pytest $(ARGS)

## lint: ruff, the formatter, mypy, the layers (import-linter), the migration check, the OpenAPI schema (no warnings) and the deployment check
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	$(MANAGE) makemigrations --check --dry-run
	$(MANAGE) spectacular --validate --fail-on-warn --file /dev/null
	DEBUG=false $(MANAGE) check --deploy --fail-level WARNING

## bench: the hot endpoints against a bare Django ceiling at 10k and 1M messages (PostgreSQL, Redis, wrk)
bench: install-dev
	$(BIN)/python bench/run.py

## bench-smoke: the same harness for a few seconds a scenario, to prove it works
bench-smoke: install-dev
	$(BIN)/python bench/run.py --smoke

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable '.[dev]'
	touch $@ $(VENV)/.installed
