# openscout: two commands on a fresh machine — `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install serve test check fmt unit clean bench-list fuzz bench bench-peers openapi dist

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/openscout serve

check: $(STAMP)
	$(PY) -m ruff format --check src tests
	$(PY) -m ruff check src tests
	$(PY) -m mypy

fmt: $(STAMP)
	$(PY) -m ruff format src tests
	$(PY) -m ruff check --fix src tests

# The tests in two pytest-xdist workers per core (they wait on sockets and the databases as much
# as they compute: on 2 cores, 3 min 55 s against 4 min 48 s with one worker per core), then the
# one that stops the local PostgreSQL for a moment, alone (exit status 5: it was not selected,
# as without a PostgreSQL outside CI).
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 )))
test: check
	$(PY) -m pytest -q -n $(TEST_WORKERS) -m "not stops_postgres"
	$(PY) -m pytest -q -m stops_postgres || [ $$? -eq 5 ]

# An sdist and a wheel in dist/ (the wheel built from the sdist), without network: setuptools
# comes from .venv. The egg-info of earlier builds goes first, as setuptools adds the files it
# lists. tests/packaging/ builds them the same way, installs the wheel into a fresh virtual
# environment without extras and runs it (part of `make test`).
dist: $(STAMP)
	rm -rf dist src/*.egg-info
	$(PY) -m build --no-isolation --outdir dist .

# The OpenAPI documents (v1's, v2's) are written as YAML and shipped as JSON: make the JSON from
# the YAML after editing it (a test fails while the two differ).
openapi: $(STAMP)
	$(PY) -m tests.contract.openapi_source

# Page-1 latency of list and search at 10k and 1M customers (docs/performance.md). The seeded
# databases are kept in build/bench/; the first run seeds them (several minutes).
bench-list: $(STAMP)
	$(PY) bench/list_search.py

# Load benchmark of the v1 API with wrk, next to the framework and storage ceilings measured in
# the same run (docs/performance.md): 10k and 1M customers on SQLite and PostgreSQL, under ten
# minutes once the seeded databases exist in build/bench/ and PostgreSQL (the first run seeds
# them), the PUT mix with and without a webhook, and the webhook delivery rate. BENCH_QUICK=1:
# 1k and 10k customers, under two minutes. Installs wrk when missing.
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(PY) bench/run.py

# The same PUT workload against openscout and json-server 0.17 (npm) at 1k and 10k customers.
bench-peers: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq npm; }
	$(PY) bench/peers.py

# `make test` runs schemathesis and the decoder fuzzer with bounded examples and fixed seeds;
# this runs them far longer, with a new seed each time (docs/hardening.md).
fuzz: $(STAMP)
	OPENSCOUT_SCHEMATHESIS_EXAMPLES=1000 OPENSCOUT_SCHEMATHESIS_SEED=$$(date +%s) \
	OPENSCOUT_FUZZ_EXAMPLES=20000 $(PY) -m pytest -q tests/contract tests/hardening/test_decode_fuzz.py

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
