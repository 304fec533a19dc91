# fleetweb task runner. `make run` and `make test` work on a fresh Debian machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Tests run against the real services on this machine.
TEST_DATABASE_URL ?= mysql://root@127.0.0.1:3306/fleetweb
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test install install-dev lint typecheck audit worker beat bench cluster-demo clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	scripts/system-deps.sh run
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

install: $(BIN)/.installed

## Run the server on the embedded default (SQLite, no Redis), over HTTPS on :8443.
run: install
	FLEETWEB_EMBEDDED=true $(BIN)/python manage.py setup_embedded
	FLEETWEB_EMBEDDED=true $(BIN)/granian --interface wsgi --host 0.0.0.0 --port 8443 --workers 1 \
		--blocking-threads 32 --ssl-certificate var/tls/server.crt --ssl-keyfile var/tls/server.key \
		fleetweb.wsgi:application

## Run the whole test suite against MariaDB and Redis (started if down).
test: install
	scripts/system-deps.sh test
	scripts/services.sh
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) SECRET_KEY=test-only CELERY_TASK_ALWAYS_EAGER=true \
		$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	FLEETWEB_EMBEDDED=true $(BIN)/mypy .

## Known vulnerabilities in dependencies (pip-audit) and a static security scan (bandit).
audit: install
	$(BIN)/python scripts/audit.py

## Benchmark: private MariaDB + Redis, granian, Celery, the agent simulator; writes bench/RESULTS.md.
bench: install
	scripts/system-deps.sh test
	$(BIN)/python -m bench.run

## Two app nodes behind nginx (TLS), the simulator through it, one node killed mid-run.
cluster-demo: install
	scripts/system-deps.sh test
	$(BIN)/python -m bench.cluster_demo

worker: install
	# Deliveries wait on SIEMs (network I/O): more processes than destinations keeps a stalled
	# SIEM from holding up the others.
	$(BIN)/celery -A fleetweb worker -l info --concurrency $${WORKER_CONCURRENCY:-8}

beat: install
	$(BIN)/celery -A fleetweb beat -l info

clean:
	rm -rf $(VENV) db.sqlite3 var
