# The two commands: `make run` (set up and run the app) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PYTHONUNBUFFERED := 1

.PHONY: install install-dev run test test-fast lint browser proxy bench bench-network migrate messages screenshots

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

## screenshots: the guides' pictures in docs/screenshots/, taken by the browser test that checks those pages
## (tests/test_screenshots.py; `make test` runs it too, writing them to a temporary folder). The pages' icons
## are emoji, hence Debian's emoji font.
screenshots: $(VENV)/.requirements-dev var/secret_key browser
	@fc-list 2>/dev/null | grep -qi emoji || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q fonts-noto-color-emoji; }
	SCREENSHOTS=1 $(PY) -m pytest tests/test_screenshots.py -q

## proxy: Debian's nginx for the deployment tests (they run the shipped site, deploy/nginx/potato.conf), when missing
proxy:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { $(SUDO) apt-get update -q && \
		{ $(SUDO) apt-get install -y -q nginx-light || $(SUDO) apt-get install -y -q nginx; }; }

lint: $(VENV)/.requirements-dev
	$(PY) -m ruff check .

PG_URL ?= postgres://postgres@127.0.0.1:5432/potato
# The tiers (markers in pyproject.toml; tests/conftest.py marks `database`, `processes` and `browser` from fixtures)
FAST_TIER := not tensorflow and not browser and not processes
SQLITE_TIER := database and not database_agnostic and not tensorflow and not browser

## test-fast: the tests that need no TensorFlow, browser or service process (about a minute and a half)
test-fast: $(VENV)/.requirements-dev var/secret_key
	$(PY) -m pytest -m "$(FAST_TIER)" --durations=10

## test: lint; the whole suite once on PostgreSQL (DATABASE_URL, or the local one on 127.0.0.1:5432 when it
## answers: production's database, as on CI), else on SQLite; then the database-touching tests again on SQLite
## (what `make run` uses), with workers but without TensorFlow, the browser or what is `database_agnostic`
test: $(VENV)/.requirements-dev var/secret_key browser proxy lint
	@url="$$DATABASE_URL"; \
	if [ -z "$$url" ] && $(PY) -c "import psycopg; psycopg.connect('$(PG_URL)'.rsplit('/', 1)[0] + '/postgres', connect_timeout=2).close()" 2>/dev/null; then \
		url=$(PG_URL); \
	fi; \
	case "$$url" in \
	""|sqlite*) \
		echo "== the whole suite on SQLite (no PostgreSQL answers on 127.0.0.1:5432; set DATABASE_URL to use one) =="; \
		$(PY) -m pytest --durations=25 ;; \
	*) \
		echo "== the whole suite on $$url =="; \
		DATABASE_URL=$$url $(PY) -m pytest --durations=25 || exit 1; \
		echo "== the database-touching tests again on SQLite =="; \
		env -u DATABASE_URL $(PY) -m pytest -m "$(SQLITE_TIER)" --durations=10 ;; \
	esac

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
