# The commands a newcomer needs. CI (.ci/run) calls the same targets.
PYTHON3 ?= python3
VENV ?= .venv
PYTHON := $(VENV)/bin/python
# Local runs are development runs: a secret key is generated under var/ (see opengov/settings.py).
export DEBUG ?= true

.PHONY: run stack test lint format messages install

$(VENV)/.runtime: requirements.txt
	$(PYTHON3) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.dev

# A local .env, so that manage.py commands typed by hand also run in development mode.
.env:
	printf '# Local development settings; see .env.example for every variable.\nDEBUG=true\n' > $@

run: $(VENV)/.runtime .env
	$(PYTHON) manage.py migrate --noinput
	$(PYTHON) manage.py load_reference_data
	$(PYTHON) manage.py runserver 127.0.0.1:8000

# The deployment's processes without Docker (bin/stack): gunicorn, a Celery worker and Celery beat, after
# collectstatic and the migrations, on the local PostgreSQL and Redis unless DATABASE_URL and REDIS_URL
# say otherwise. Ctrl-C stops them all. docs/operations.md says more.
STACK_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/opengov
STACK_REDIS_URL ?= redis://127.0.0.1:6379/0
stack: $(VENV)/.runtime .env
	DATABASE_URL="$${DATABASE_URL:-$(STACK_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(STACK_REDIS_URL)}" \
		exec $(PYTHON) bin/stack

test: $(VENV)/.dev
	@# The npm tools of the tests (axe-core for the browser tests, the compose and Dockerfile linters), when npm
	@# is there and package-lock.json is newer than what is installed (see README: Browser tests).
	@if [ package-lock.json -nt node_modules/.package-lock.json ] && command -v npm >/dev/null; then npm ci --no-audit --no-fund; fi
	$(PYTHON) -m pytest

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PYTHON) manage.py makemigrations --check --dry-run

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Needs GNU gettext; the compiled catalogues are committed so that a fresh machine does not.
messages: $(VENV)/.dev
	$(PYTHON) manage.py makemessages --locale fr --ignore ".venv/*" --ignore "node_modules/*" --ignore "tests/*" --no-obsolete --no-location
	$(PYTHON) manage.py compilemessages --locale fr --ignore ".venv/*"
