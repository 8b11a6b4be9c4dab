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

.PHONY: run token test bench lint clean

$(STAMP): requirements.txt requirements-dev.txt cli/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet -e ./cli
	touch $(STAMP)

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

test: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; rm -rf $(TEST_RUN_DIR); exit $$status

# The benchmark runs on PostgreSQL and Redis, like production (database console_bench).
BENCH_ENV := DEBUG=false SECRET_KEY=bench-only-secret-key-as-long-as-the-production-check-asks-0123456789 FIELD_ENCRYPTION_KEYS=dGVzdC1vbmx5LWtleS0tLS0tLS0tLS0tLS0tLS0tLS0= \
	ALLOWED_HOSTS=testserver,127.0.0.1 SECURE_SSL_REDIRECT=false OUTBOUND_ALLOWED_HOSTS=127.0.0.1 \
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/console_bench \
	CELERY_BROKER_URL=redis://127.0.0.1:6379/13 CACHE_URL=rediscache://127.0.0.1:6379/12

bench: $(STAMP)
	psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'console_bench'" | grep -q 1 \
		|| psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE console_bench"
	$(BENCH_ENV) $(BIN)/python -m benchmarks $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) var .pytest_cache
