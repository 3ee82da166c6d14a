# keyturn: `make demo` runs the sandbox, `make test` runs every check. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.keyturn-installed

.PHONY: setup n8n postgres demo lint test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

n8n: setup
	$(PY) -m keyturn.sandbox.install

demo: n8n
	$(VENV)/bin/keyturn sandbox

# The journal's PostgreSQL tests need a PostgreSQL server binary (Debian's package).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null)

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts
	$(VENV)/bin/mypy src
	$(VENV)/bin/lint-imports

test: n8n postgres lint
	$(PY) -m pytest

bench: n8n
	$(PY) benchmarks/inventory.py
	$(PY) benchmarks/zero_downtime.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
