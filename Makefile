# The school–family portal. `make demo` runs it; `make test` tests it. Nothing but Python 3.11 needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
DEMO_ADDR ?= 127.0.0.1:8000
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_bench

.DEFAULT_GOAL := help
.PHONY: help install demo test bench lint format messages check migrate

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "Python 3.11 is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

install: $(INSTALLED) ## Create .venv and install the portal with its test tools

migrate: $(INSTALLED)
	@mkdir -p var
	$(PY) manage.py migrate --no-input

demo: migrate ## Run the portal on http://127.0.0.1:8000 with a demo school (SQLite, console SMS)
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver $(DEMO_ADDR)

test: $(INSTALLED) ## Run the whole test suite (Postgres and Redis when DATABASE_URL/REDIS_URL are set)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(INSTALLED) ## Run the benchmarks in bench/ against Postgres (BENCH_DATABASE_URL)
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/run.py

lint: $(INSTALLED) ## ruff: lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(INSTALLED) ## ruff: fix what it can and format
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: $(INSTALLED) ## Refresh the gettext catalogs in locale/
	$(PY) manage.py makemessages --all --add-location=file --ignore='.venv/*' --ignore='var/*' --ignore='tests/*' --ignore='bench/*'
	$(PY) manage.py compilemessages --ignore='.venv/*'

check: $(INSTALLED) ## Migrations and catalogs are up to date; Django's system checks pass
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check
	@if command -v xgettext >/dev/null; then \
	  $(PY) manage.py makemessages --all --add-location=file --ignore='.venv/*' --ignore='var/*' --ignore='tests/*' --ignore='bench/*' >/dev/null && \
	  git diff --quiet -- locale/ || { git diff --stat -- locale/; echo "catalogs are out of date: run make messages, translate, commit"; exit 1; }; \
	else echo "catalog check skipped: gettext is not installed"; fi
