# `make test` and `make run` build .venv with pip when it is missing; nothing else is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORES ?= all
# Data sets whose files are not under the data root are left out (with a warning); use
# `make run RUN_CONFIG=download=true` on a machine with internet to fetch them instead.
RUN_CONFIG ?= missing_data=skip

.PHONY: install test run smoke reference lint bench clean-results

$(BIN)/qubocnn: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/qubocnn

test: install
	$(BIN)/pytest -q

# A lock left by a hard stop (power loss, OOM killer) is removed when no Snakemake process runs here.
UNLOCK := $(BIN)/python workflow/scripts/unlock_stale.py $(BIN)/snakemake

run: install
	$(UNLOCK)
	$(BIN)/snakemake --cores $(CORES) --keep-going --config $(RUN_CONFIG)

smoke: install
	$(UNLOCK)
	$(BIN)/snakemake --cores $(CORES) smoke

# Maintainers: rewrite the committed reference (results/full/, figures/, paper/tables/) from the runs
# of `make run` and `make smoke`; it refuses a run that left out data sets.
reference: install
	$(UNLOCK)
	$(BIN)/snakemake --cores $(CORES) reference reference_smoke --config $(RUN_CONFIG)

lint: install
	$(BIN)/snakemake --lint

bench: install
	$(BIN)/python benchmarks/anneal_speed.py
