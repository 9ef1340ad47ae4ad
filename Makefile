# fuseloop: `make run` sets up and runs the default sweep; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CORES  ?= 2
STAMP  := $(VENV)/.installed

.PHONY: run test setup clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,search]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --configfile workflows/config/default.yaml

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 tests

clean:
	rm -rf $(VENV) .snakemake
