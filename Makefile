# Matrica — `make run` serves the demo, `make test` runs the whole suite (SQLite and PostgreSQL side by side).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
HTMX := app/static/vendor/htmx.min.js

.PHONY: run test test-sqlite test-postgres system-deps lint-imports install install-dev assets migrate demo i18n-extract i18n-update i18n-compile clean mutation

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Front-end files come from the npm registry, pinned by package-lock.json, served from app/static.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

$(HTMX): node_modules/.package-lock.json
	mkdir -p app/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $(HTMX)
	cp node_modules/axe-core/axe.min.js app/static/vendor/axe.min.js

assets: $(HTMX)

# Compiled catalogues (.mo) are build products; the .po files are the source.
i18n-compile: install
	$(BIN)/pybabel compile -d translations

migrate: install i18n-compile
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) demo

run: install assets demo
	@echo
	@echo "Matrica is serving on http://$(HOST):$(PORT)/  (Ctrl+C stops it)"
	@$(FLASK) demo | tail -n +2
	@echo
	@# a consumer of background jobs (exports) beside the web server; both stop together
	$(FLASK) worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	MATRICA_SESSION_COOKIE_SECURE=false MATRICA_REMEMBER_COOKIE_SECURE=false \
	$(BIN)/gunicorn --no-control-socket --workers 2 --threads 4 --bind $(HOST):$(PORT) \
	  --access-logfile - wsgi:app

# Chromium and its driver, npm and a PostgreSQL server: installed or started when missing.
system-deps:
	@tools/system-deps.sh

# The layer contracts (pyproject.toml, [tool.importlinter]).
lint-imports: install-dev
	$(BIN)/lint-imports

# The SQLite and PostgreSQL runs side by side, one per core; each one's output is printed
# whole when it ends, and either failing fails the target.
test: system-deps install-dev assets i18n-compile lint-imports
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite: install-dev assets i18n-compile
	$(BIN)/python -m pytest -q

# PostgreSQL run: a missing server is loud; under CI=true it fails the build. The browser tests
# run once, in the SQLite run: what Chromium shows does not depend on the database, and every
# request they make is also made by the web tests, which run here too.
test-postgres: install-dev assets i18n-compile
	@if $(BIN)/python -c "import sys, psycopg; psycopg.connect(sys.argv[1].replace('+psycopg', ''), connect_timeout=3).close()" "$(PG_URL)" 2>/dev/null; then \
	  DATABASE_URL="$(PG_URL)" $(BIN)/python -m pytest -q -m "not browser"; \
	else \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	  echo "!!! PostgreSQL does not answer at $(PG_URL)"; \
	  echo "!!! The PostgreSQL half of the suite did NOT run."; \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	  if [ "$${CI:-}" = "true" ]; then exit 1; fi; \
	fi

# Mutation testing of the four modules the house issue names (not part of `make test`):
# prints each module's share of mutants the tests kill, and the survivors.
mutation: install-dev
	$(BIN)/python tools/mutation.py --list-survivors

i18n-extract: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot --no-location --sort-output --project=Matrica --copyright-holder=Matrica . app/templates/_macros

i18n-update: i18n-extract
	$(BIN)/python tools/i18n.py update

clean:
	rm -rf $(VENV) node_modules app/static/vendor
