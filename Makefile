# Two entry points that work on a fresh machine with only python3:
#   make demo   set up .venv and run the embedded benchmark on the synthetic world (tiny preset)
#   make test   set up .venv and run the test suite (what CI runs)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.bench3d-installed

.PHONY: setup demo test bench clean setup-openmmlab test-openmmlab

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

# Optional extra: mmdetection3d interop (export, plugin, cross-checks). mmcv 2.1.0 has no CPU wheel: built from
# source once (CFLAGS=-g0: Python's -g debug info roughly doubles the compile time of every file and is not
# needed in the library), then pip's wheel cache reuses it. mmdet3d goes in without its declared
# dependencies (open3d and lyft's plotting stack are not needed to import it); the extra lists what it imports.
OPENMMLAB := $(VENV)/.openmmlab-installed
setup-openmmlab: $(OPENMMLAB)

$(OPENMMLAB): $(STAMP) constraints-openmmlab.txt
	$(BIN)/python -m pip install -q -c constraints.txt -c constraints-openmmlab.txt setuptools wheel
	MMCV_WITH_OPS=1 FORCE_CUDA=0 CFLAGS=-g0 $(BIN)/python -m pip install -q --no-build-isolation \
		-c constraints.txt -c constraints-openmmlab.txt mmengine mmcv
	$(BIN)/python -m pip install -q --no-deps -c constraints-openmmlab.txt mmdet3d lyft-dataset-sdk
	$(BIN)/python -m pip install -q -c constraints.txt -c constraints-openmmlab.txt -e ".[openmmlab]"
	touch $@

test-openmmlab: setup-openmmlab
	$(BIN)/python -m pytest -q tests_openmmlab --durations=10

bench: setup
	$(BIN)/python -m pytest -q -m benchmark --benchmark-enable

clean:
	rm -rf $(VENV) data reports/* results/*
