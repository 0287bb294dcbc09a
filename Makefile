# openscout: two commands on a fresh machine — `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install serve test check fmt unit clean

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

test: check
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
