# keyturn: `make demo` runs the sandbox, `make test` runs every check. Both install what they need:
# `make demo` keyturn alone (its runtime dependencies), `make test` also every extra and the test
# and lint tools, on top of the same editable install in $(VENV).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.keyturn-runtime
DEV := $(VENV)/.keyturn-dev

.PHONY: setup setup-dev n8n n8n-matrix postgres browser demo lint test bench dist clean

setup: $(RUNTIME)

setup-dev: $(DEV)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# keyturn and its runtime dependencies: what `make demo` needs (no extras, no dev tools).
$(RUNTIME): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

# Everything `make test` needs: keyturn[dev] (every extra, pytest, mypy, ruff, moto, build...).
# It includes the runtime install, so it marks that one done too.
$(DEV): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@ $(RUNTIME)

n8n: setup
	$(PY) -m keyturn.sandbox.install

# The other n8n versions the suite proves (1.x, an early 2.x, the newest that installs): their
# installs start in the background, so they overlap the pinned install and the first tests.
n8n-matrix: setup
	$(PY) -m keyturn.sandbox.install --matrix-in-background

demo: n8n
	$(VENV)/bin/keyturn sandbox

# The journal's PostgreSQL tests need a PostgreSQL server binary (Debian's package).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null)

# The dashboard's tests drive a real headless Chromium (Debian's packages, with its driver).
browser:
	@command -v chromedriver >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null)

lint: setup-dev
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts
	$(VENV)/bin/mypy src
	$(VENV)/bin/lint-imports

test: setup-dev n8n-matrix n8n postgres browser lint
	$(PY) -m pytest

bench: setup-dev n8n
	$(PY) benchmarks/inventory.py
	$(PY) benchmarks/zero_downtime.py
	$(PY) benchmarks/startup.py

# The wheel (without the sandbox) and the sdist (everything), in dist/.
dist: setup-dev
	$(PY) -m build --outdir dist .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
