# fuseloop: `make run` sets up and runs the default sweep; `make test` sets up and runs the tests;
# `make test-cluster` runs the sweep on a real single-node SLURM (tests/cluster).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CORES  ?= 2
STAMP  := $(VENV)/.installed
SLURM_STAMP := $(VENV)/.installed-slurm

.PHONY: run test test-cluster setup clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --configfile workflows/config/default.yaml

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 tests

$(SLURM_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[slurm]'
	touch $(SLURM_STAMP)

# Starts the test cluster (installing slurm-wlm and munge when missing, as root) and always stops it afterwards.
test-cluster: $(SLURM_STAMP)
	trap 'bash tests/cluster/slurm.sh stop' EXIT; trap 'exit 130' INT TERM; \
	bash tests/cluster/slurm.sh start && \
	FUSELOOP_REQUIRE_CLUSTER=1 $(BIN)/python -m pytest tests/cluster -p no:cacheprovider

clean:
	rm -rf $(VENV) .snakemake
