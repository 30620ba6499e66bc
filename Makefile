# The two commands: `make run` (set up and run the app) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PYTHONUNBUFFERED := 1

.PHONY: install install-dev run test lint browser bench bench-network migrate messages

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.requirements: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.requirements-dev: requirements-dev.txt requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.requirements

## install: venv, requirements, secret key, database, static files, the shipped model (idempotent)
install: $(VENV)/.requirements var/secret_key migrate

var/secret_key: | $(PY)
	mkdir -p var
	umask 077 && $(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

migrate:
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py register_default_model

## run: install, then Redis (embedded unless REDIS_URL), gunicorn, Celery workers and beat
run: install
	$(PY) manage.py runstack

## browser: Debian's chromium for the browser tests, when missing
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

lint: $(VENV)/.requirements-dev
	$(PY) -m ruff check .

PG_URL ?= postgres://postgres@127.0.0.1:5432/potato

## test: the whole suite (lint, unit, integration with Redis + a Celery worker, browser), on SQLite
## (or DATABASE_URL), then once more on the local PostgreSQL when one answers on 127.0.0.1:5432
test: $(VENV)/.requirements-dev var/secret_key browser lint
	$(PY) -m pytest
	@if [ -n "$$DATABASE_URL" ]; then exit 0; fi; \
	if $(PY) -c "import psycopg; psycopg.connect('$(PG_URL)'.rsplit('/', 1)[0] + '/postgres', connect_timeout=2).close()" 2>/dev/null; then \
		echo "== the whole suite again on PostgreSQL ($(PG_URL)) =="; \
		DATABASE_URL=$(PG_URL) $(PY) -m pytest; \
	else \
		echo "No PostgreSQL on 127.0.0.1:5432: the PostgreSQL pass is skipped (set DATABASE_URL to run on one)"; \
	fi

## bench: inference and upload-to-diagnosis latency, memory, cold start
bench: $(VENV)/.requirements-dev
	$(PY) benchmarks/inference.py

## bench-network: the upload page's weight and submit-to-diagnosis time on a throttled "Slow 3G" link
bench-network: $(VENV)/.requirements-dev browser
	$(PY) benchmarks/slow_network.py

## messages: refresh locale/*/django.po from the code and templates, then compile the .mo files
## (committed, so installing needs no gettext; this needs GNU gettext: apt-get install gettext)
messages:
	$(PY) manage.py makemessages -l cgg -l rw --add-location file --ignore ".venv/*" --ignore "var/*" \
		--ignore "training/*" --ignore "tests/*" --ignore "benchmarks/*" --ignore "staticfiles/*"
	$(PY) manage.py compilemessages -l cgg -l rw
