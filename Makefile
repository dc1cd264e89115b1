# The two commands a new user needs are `make run` and `make test`; everything else is optional.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run dev test lint format install install-dev bench bench-smoke port-free

## run: check the port, install, migrate, create the first admin, serve on http://$HOST:$PORT with gunicorn
run: port-free install
	$(MANAGE) migrate --noinput
	$(MANAGE) ensure_admin
	$(MANAGE) collectstatic --noinput --verbosity 0
	exec $(MANAGE) serve

## dev: an autoreloading development server (REST and websockets) with DEBUG on
dev: port-free install
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

# A busy HOST:PORT is found before anything is installed or migrated: the check runs on the
# system's Python, with the standard library only, since the virtualenv may not exist yet.
port-free:
	@$(PYTHON) -m chat_project.serving.ports

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# pip shows its progress to a person at a terminal, and keeps quiet in a log.
PIP_INSTALL = $(BIN)/pip install $$([ -t 1 ] || echo --quiet) --editable

$(VENV)/.installed: pyproject.toml
	@echo "Installing the dependencies into $(VENV)/ (the first run takes a minute)"
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	@$(PIP_INSTALL) .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml
	@echo "Installing the dependencies and the development tools into $(VENV)/ (the first run takes a minute or two)"
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	@$(PIP_INSTALL) '.[dev]'
	@touch $@ $(VENV)/.installed
