# `make test` and `make run` build .venv with pip when it is missing; nothing else is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORES ?= all
# Data sets without files under the data root are downloaded where their source answers, else left
# out with a warning; `run` and `reference` ask the sources again each time (--forcerun sources). RUN_CONFIG passes workflow settings, e.g. RUN_CONFIG="datasets=[digits,mnist]".
RUN_CONFIG ?=
CONFIG_ARGS = $(if $(strip $(RUN_CONFIG)),--config $(RUN_CONFIG))

.PHONY: install test run smoke reference slurm-check lint bench clean-results

$(BIN)/qubocnn: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/qubocnn

test: install
	$(BIN)/pytest -q

# A lock left by a hard stop (power loss, OOM killer) is removed when no Snakemake process runs here;
# the script then prints --rerun-incomplete, so the jobs the stop cut short run again.
UNLOCK := flags=$$($(BIN)/python workflow/scripts/unlock_stale.py $(BIN)/snakemake) &&

run: install
	$(UNLOCK) $(BIN)/snakemake --cores $(CORES) --keep-going --forcerun sources $(CONFIG_ARGS) $$flags

smoke: install
	$(UNLOCK) $(BIN)/snakemake --cores $(CORES) smoke $$flags

# Maintainers: rewrite the committed reference (results/full/, figures/, paper/tables/) from the runs
# of `make run` and `make smoke`; it refuses a run that left out data sets.
reference: install
	$(UNLOCK) $(BIN)/snakemake --cores $(CORES) reference reference_smoke --forcerun sources $(CONFIG_ARGS) $$flags

# The SLURM profile for real: a one-node SLURM cluster on this machine runs the smoke study (as root).
slurm-check: install
	bash workflow/scripts/slurm_local_cluster.sh $(BIN)/python

lint: install
	$(BIN)/snakemake --lint

bench: install
	$(BIN)/python benchmarks/anneal_speed.py
