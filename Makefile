# The two front doors: `make run` and `make test`. Both build what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
SIMULATOR_PORT ?= 8001

# Embedded defaults for local use: SQLite and a filesystem broker under var/, the simulator as the cloud.
RUN_ENV := DEBUG=true GEMINIDB_SIMULATOR_URL=http://127.0.0.1:$(SIMULATOR_PORT) SIMULATOR_PORT=$(SIMULATOR_PORT) WEB_PORT=$(PORT)
# Tests run with DEBUG off, like production, with throwaway secrets. The simulator and the tests'
# stub servers listen on 127.0.0.1 over plain http: the one host the console may call that way.
# Each run gets its own cache and broker folders, so two runs side by side never share a queue.
TEST_RUN_DIR = $(CURDIR)/var/test-run-$$$$
TEST_CACHE_URL ?= filecache://$(TEST_RUN_DIR)/cache
TEST_ENV = CACHE_URL=$(TEST_CACHE_URL) CELERY_BROKER_FOLDER=$(TEST_RUN_DIR)/broker TEST_SQLITE_PATH=$(TEST_RUN_DIR)/test.sqlite3 DEBUG=false SECRET_KEY=test-only-secret-key-as-long-as-the-production-check-asks-0123456789 FIELD_ENCRYPTION_KEYS=dGVzdC1vbmx5LWtleS0tLS0tLS0tLS0tLS0tLS0tLS0= SECURE_SSL_REDIRECT=false OUTBOUND_ALLOWED_HOSTS=127.0.0.1

.PHONY: run token test bench lint clean lock typecheck prod-local messages

# Installs exactly the lock file: every transitive dependency pinned with its hashes (pip and
# setuptools too, so the CLI's editable install needs nothing from outside the lock).
$(STAMP): requirements.lock requirements-dev.lock cli/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e ./cli
	touch $(STAMP)

# Regenerates both lock files from requirements*.txt (after editing them; commit all four), for
# Python 3.11 on Linux, with pip-tools from a throwaway venv. Pins already locked stay unless
# the edit needs them moved; `make lock LOCK_ARGS=--upgrade` moves everything to the newest.
LOCK_VENV := var/pip-tools
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock:
	test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install --quiet pip-tools==7.6.2; }
	$(PIP_COMPILE) --output-file requirements.lock requirements.txt
	$(PIP_COMPILE) --constraint requirements.lock --output-file requirements-dev.lock requirements-dev.txt

run: $(STAMP)
	mkdir -p var
	$(RUN_ENV) $(BIN)/python manage.py migrate --no-input
	$(RUN_ENV) $(BIN)/python manage.py seed_demo
	@echo
	@echo "  GeminiDB Backup Console: http://127.0.0.1:$(PORT)"
	@echo "  Sign in as admin, operator or viewer; password: demo-console"
	@echo "  Simulated cloud (GeminiDB simulator): http://127.0.0.1:$(SIMULATOR_PORT)"
	@echo "  Ctrl-C stops everything."
	@echo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(RUN_ENV) $(BIN)/honcho --procfile Procfile.dev start

# An API token for a demo user of `make run` (operator by default), printed alone: export GDBC_TOKEN=$$(make -s token)
TOKEN_USER ?= operator
token: $(STAMP)
	@$(RUN_ENV) $(BIN)/python manage.py create_api_token $(TOKEN_USER) --name "make token"

# Translations: updates every German catalogue from the code (English is the source language),
# then compiles them. Each app keeps its own in <app>/locale; templates/, webapp/ and the
# JavaScript go to locale/. Commit the .po and .mo files together (tests/test_i18n.py checks).
MESSAGES_ARGS := --locale de --add-location file --ignore node_modules --ignore var --ignore tests \
	--ignore benchmarks --ignore simulator --ignore cli --ignore docs
messages: $(STAMP)
	DEBUG=true $(BIN)/python manage.py makemessages $(MESSAGES_ARGS)
	DEBUG=true $(BIN)/python manage.py makemessages --domain djangojs $(MESSAGES_ARGS)
	DEBUG=true $(BIN)/python manage.py compilemessages --ignore .venv --ignore node_modules --ignore var

# axe-core for the browser tests' accessibility checks, exactly as package-lock.json pins it.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

test: $(STAMP) $(NODE_STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; rm -rf $(TEST_RUN_DIR); exit $$status

# The console as production runs it, on this machine's PostgreSQL and Redis: gunicorn with DEBUG
# off, static files collected and served by whitenoise, worker and beat as separate processes,
# the simulator as the cloud. Plain http on localhost; throwaway secrets in var/prod-local.env.
PROD_PORT ?= 8200
PROD_SIMULATOR_PORT ?= 8201
PROD_DATABASE ?= console_prod_local
PROD_ENV := DEBUG=false ALLOWED_HOSTS=127.0.0.1,localhost SECURE_SSL_REDIRECT=false \
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(PROD_DATABASE) \
	CELERY_BROKER_URL=redis://127.0.0.1:6379/10 CACHE_URL=rediscache://127.0.0.1:6379/11 \
	STATIC_ROOT=$(CURDIR)/var/prod-local/static PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/var/prod-local/metrics \
	GEMINIDB_SIMULATOR_URL=http://127.0.0.1:$(PROD_SIMULATOR_PORT) ALLOW_DEMO_MODE_IN_PRODUCTION=true \
	WEB_PORT=$(PROD_PORT) SIMULATOR_PORT=$(PROD_SIMULATOR_PORT)
# Each recipe line reads the generated secrets first.
PROD_SHELL_ENV = set -a && . ./var/prod-local.env && set +a && $(PROD_ENV)

var/prod-local.env: | $(STAMP)
	mkdir -p var/prod-local
	umask 077 && { \
		echo "SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')"; \
		echo "FIELD_ENCRYPTION_KEYS=$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"; \
		echo "METRICS_TOKEN=$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(32))')"; \
	} > $@.tmp && mv $@.tmp $@

prod-local: $(STAMP) var/prod-local.env
	psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = '$(PROD_DATABASE)'" | grep -q 1 \
		|| psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE $(PROD_DATABASE)"
	$(PROD_SHELL_ENV) $(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(PROD_SHELL_ENV) $(BIN)/python manage.py migrate --no-input
	$(PROD_SHELL_ENV) $(BIN)/python manage.py seed_demo
	@echo
	@echo "  GeminiDB Backup Console (production-like): http://127.0.0.1:$(PROD_PORT)"
	@echo "  Sign in as admin, operator or viewer; password: demo-console"
	@echo "  Metrics: curl -H \"Authorization: Bearer \$$METRICS_TOKEN\" (var/prod-local.env) http://127.0.0.1:$(PROD_PORT)/metrics"
	@echo "  Ctrl-C stops everything."
	@echo
	rm -rf var/prod-local/metrics && mkdir -p var/prod-local/metrics
	$(PROD_SHELL_ENV) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --procfile Procfile.prod start

# The benchmark runs on PostgreSQL and Redis, like production (database console_bench). Two
# benchmarks side by side need their own database and Redis numbers: BENCH_DATABASE=… BENCH_REDIS_DBS="9 8".
BENCH_DATABASE ?= console_bench
BENCH_REDIS_DBS ?= 13 12
BENCH_ENV = DEBUG=false SECRET_KEY=bench-only-secret-key-as-long-as-the-production-check-asks-0123456789 FIELD_ENCRYPTION_KEYS=dGVzdC1vbmx5LWtleS0tLS0tLS0tLS0tLS0tLS0tLS0= \
	ALLOWED_HOSTS=testserver,127.0.0.1 SECURE_SSL_REDIRECT=false OUTBOUND_ALLOWED_HOSTS=127.0.0.1 \
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(BENCH_DATABASE) \
	CELERY_BROKER_URL=redis://127.0.0.1:6379/$(word 1,$(BENCH_REDIS_DBS)) CACHE_URL=rediscache://127.0.0.1:6379/$(word 2,$(BENCH_REDIS_DBS))

bench: $(STAMP)
	psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = '$(BENCH_DATABASE)'" | grep -q 1 \
		|| psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE $(BENCH_DATABASE)"
	$(BENCH_ENV) $(BIN)/python -m benchmarks $(BENCH_ARGS)

# `make soak` (not part of the tests): the console as production runs it (gunicorn, two workers,
# beat) for SOAK_MINUTES under a steady stream of backup requests, the simulated cloud misbehaving;
# reports lost and duplicated backups and whether memory, connections, outboxes, tables or Redis
# grow (benchmarks/soak.py). Its own database, recreated empty, and Redis numbers, flushed.
# A smoke run: make soak SOAK_MINUTES=3.
SOAK_MINUTES ?= 30
SOAK_DATABASE ?= console_soak
SOAK_REDIS_DBS ?= 7 8
SOAK_OUTPUT ?= docs/soak.md
SOAK_ENV = DEBUG=false SECRET_KEY=soak-only-secret-key-as-long-as-the-production-check-asks-0123456789 FIELD_ENCRYPTION_KEYS=dGVzdC1vbmx5LWtleS0tLS0tLS0tLS0tLS0tLS0tLS0= \
	ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=false OUTBOUND_ALLOWED_HOSTS=127.0.0.1 \
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(SOAK_DATABASE) \
	CELERY_BROKER_URL=redis://127.0.0.1:6379/$(word 1,$(SOAK_REDIS_DBS)) CACHE_URL=rediscache://127.0.0.1:6379/$(word 2,$(SOAK_REDIS_DBS))

.PHONY: soak
soak: $(STAMP)
	psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $(SOAK_DATABASE) WITH (FORCE)"
	psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $(SOAK_DATABASE)"
	redis-cli -n $(word 1,$(SOAK_REDIS_DBS)) flushdb
	redis-cli -n $(word 2,$(SOAK_REDIS_DBS)) flushdb
	$(SOAK_ENV) $(BIN)/python -m benchmarks.soak --minutes $(SOAK_MINUTES) --output $(SOAK_OUTPUT) $(SOAK_ARGS)

# mypy with django-stubs on the app packages ([tool.mypy] in pyproject.toml). Its Django plugin
# loads the settings, so it runs with the tests' environment.
typecheck: $(STAMP)
	$(TEST_ENV) $(BIN)/mypy

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) var .pytest_cache node_modules
