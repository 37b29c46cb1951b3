# Two commands on a fresh machine: `make demo` and `make test`.
# `setup` is idempotent: it installs what is missing and nothing else.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PACKAGES := slapd ldap-utils postgresql chromium redis-server
export AIRFLOW_HOME ?= $(CURDIR)/.airflow

.PHONY: setup system-packages test lint demo bench airflow distributed clean

setup: system-packages $(STAMP)

# slapd/ldap-utils for the LDAP sandbox, postgresql for the audit-store tests and the distributed
# run's metadata database, redis-server for its Celery broker, chromium for the browser test of
# the Provisioning page (without root it is skipped, saying so; CI runs as root).
system-packages:
	@missing=""; \
	command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ] || missing="$$missing slapd"; \
	command -v ldapsearch >/dev/null 2>&1 || missing="$$missing ldap-utils"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then missing="$$missing chromium"; \
	  else echo "chromium is not installed: the browser test will be skipped (apt-get install chromium)"; fi; \
	fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing system packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	  else \
	    echo "Missing system packages:$$missing"; \
	    echo "Install them (Debian/Ubuntu: sudo apt-get install$$missing) and run make again."; \
	    exit 1; \
	  fi; \
	fi

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip==26.3" 2>&1 | { grep -v "is ignored: it is neither" || true; }
	# (the filter hides pip's notes about local index folders this machine does not have)
	$(BIN)/pip install -q -r requirements-dev.txt -c constraints.txt 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Two test processes even on two cores: most tests wait on servers and subprocesses (slapd, the
# emulators, Airflow). Each process has its own servers and Airflow home (tests/fixtures).
TEST_WORKERS ?= 2

test: setup lint
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist worksteal

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

demo: setup
	$(BIN)/python -m sandbox.demo

# the DAG on the CeleryExecutor: two workers, Redis, PostgreSQL, run folders on S3 (also part of `test`)
distributed: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider -s tests/distributed

bench: setup
	$(BIN)/python -m bench.run --scenario all

airflow: setup
	$(BIN)/python -m sandbox.airflow_standalone

clean:
	rm -rf $(VENV) .airflow .demo bench/out
