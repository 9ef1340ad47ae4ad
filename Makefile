# fuseloop: `make run` sets up and runs the default sweep; `make test` sets up, lints (ruff, mypy) and runs the tests;
# `make test-cluster` runs the sweep on a real single-node SLURM (tests/cluster).
# .venv uses Python 3.12 when the machine has it (scripts/find_python.sh): the hwcomponents energy models behind
# the derived energy tables need it; `make PYTHON=python3.11` builds without them.
PYTHON ?= $(shell scripts/find_python.sh)
VENV   := .venv
BIN    := $(VENV)/bin
CORES  ?= 2
STAMP  := $(VENV)/.installed
SLURM_STAMP := $(VENV)/.installed-slurm

.PHONY: run test lint test-cluster setup clean

$(STAMP): pyproject.toml
	@if [ -x $(BIN)/python ] && [ "$$($(BIN)/python -c 'import sys; print(sys.version_info[:2])')" != \
	     "$$($(PYTHON) -c 'import sys; print(sys.version_info[:2])')" ]; then \
	    echo "$(VENV) is not $(PYTHON)'s version: recreating it"; rm -rf $(VENV); fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,search]'
	$(BIN)/python -m estimation.install
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/fuseloop run --cores $(CORES)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
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
