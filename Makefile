# Two entry points that work on a fresh machine with only python3:
#   make demo   set up .venv and run the embedded benchmark on the synthetic world (tiny preset)
#   make test   set up .venv and run the test suite (what CI runs)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.bench3d-installed

.PHONY: setup demo test bench clean

setup: $(STAMP)

# Idempotent: rebuilt only when the dependency declarations change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: setup
	$(BIN)/bench3d demo

test: setup
	$(BIN)/python -m pytest -q -n auto --dist worksteal --durations=25

bench: setup
	$(BIN)/python -m pytest -q -m benchmark --benchmark-enable

clean:
	rm -rf $(VENV) data reports/* results/*
