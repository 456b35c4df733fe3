# Streha: the two commands a new user needs are `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PERSONS ?= 300
DEMO_SEED ?= 1

.PHONY: install install-dev run test lint format bench load faults messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.9

# --compile-bytecode: every process (each `streha` command, gunicorn worker, job worker, test
# subprocess) then reads compiled modules instead of compiling Django and the rest at start,
# which the environment's PYTHONDONTWRITEBYTECODE would otherwise make every process repeat.
$(STAMP): requirements.lock pyproject.toml | $(UV)
	$(UV) pip install --quiet --python $(BIN)/python --compile-bytecode --require-hashes -r requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

$(DEV_STAMP): requirements-dev.lock $(STAMP)
	$(UV) pip install --quiet --python $(BIN)/python --compile-bytecode --require-hashes -r requirements-dev.lock
	touch $@

## install: virtual environment, locked dependencies, compiled translations, migrated database
install: $(STAMP)
	mkdir -p var
	$(BIN)/python -m compileall -q streha
	$(BIN)/streha compiletranslations
	$(BIN)/streha migrate

install-dev: install $(DEV_STAMP)
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

## run: install, load the demo data, serve on http://127.0.0.1:8000
run: install
	$(BIN)/streha demo --persons $(DEMO_PERSONS) --seed $(DEMO_SEED)
	$(BIN)/streha serve --host $(HOST) --port $(PORT)

## test: install what the tests need (Chromium included) and run the whole suite, one pytest-xdist
## worker per core (TEST_WORKERS=0 runs it in one process); a test file stays on one worker
TEST_WORKERS ?= auto
TEST_DIST ?= loadfile
test: install-dev
	$(BIN)/pytest -n $(TEST_WORKERS) --dist $(TEST_DIST)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## messages: extract translatable strings into the .po catalogues (needs GNU gettext)
messages: install
	cd streha && ../$(BIN)/python ../manage.py makemessages -l sq -l sr_Latn -l en --no-obsolete
	cd streha && ../$(BIN)/python ../manage.py makemessages -d djangojs -l sq -l sr_Latn -l en --no-obsolete || true

## bench: every benchmark in bench/ (BENCH_DATABASE_URL=postgres://... to run them on PostgreSQL)
BENCH_SCRIPTS = $(filter-out bench/load.py bench/faults.py bench/locustfile.py,$(wildcard bench/[a-z]*.py))
bench: install-dev
	@for script in $(BENCH_SCRIPTS); do echo "== $$script"; (cd bench && ../$(BIN)/python $$(basename $$script)) || exit 1; done

## load: Locust users against gunicorn on a throw-away PostgreSQL cluster (var/bench/load.json)
load: install-dev
	cd bench && ../$(BIN)/python load.py

## faults: kills and outages during concurrent writes (var/bench/faults.json)
faults: install-dev
	cd bench && ../$(BIN)/python faults.py

clean:
	rm -rf $(VENV) var
