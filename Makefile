# The two commands that matter: `make demo` runs the product, `make test` passes the tests.
# Both bootstrap .venv from scratch on a machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install demo test lint lab bench clean

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "cxlab needs Python 3.11 or newer: run make with PYTHON=/path/to/python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/cxlab demo

lint: install
	$(BIN)/ruff check .

test: install lint
	$(BIN)/python -m pytest -n 2 --dist loadfile tests platform/cxlab survey_server scheduled
	$(BIN)/python -m pytest -p no:xdist --nbval-lax --nbval-sanitize-with notebooks/nbval_sanitize.cfg notebooks/

# JupyterLab refuses to start as root without --allow-root (containers, a VM's only user).
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: install
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ROOT) $(LAB_ARGS)

bench: install
	$(BIN)/python benchmarks/seed.py
	$(BIN)/python benchmarks/store.py
	$(BIN)/python benchmarks/analysis.py
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/dashboard.py
	$(BIN)/python benchmarks/dashboard_memory.py

clean:
	rm -rf $(VENV) var .pytest_cache
