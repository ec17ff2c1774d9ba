# `make app` and `make test` set everything up on a fresh machine (a venv in .venv), then run.
PYTHON ?= python3
VENV   ?= .venv
# A CPU build of torch; on a CUDA machine use e.g. `make TORCH=torch app`.
TORCH  ?= torch==2.13.0
BIN    := $(VENV)/bin

.PHONY: app demo reproduce test lint bench screenshot clean

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "$(TORCH)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[gui,test]"
	touch $@

app: $(VENV)/.installed
	$(BIN)/minidl-gui

demo: $(VENV)/.installed
	$(BIN)/minidl train --epochs 50

reproduce: $(VENV)/.installed
	$(BIN)/minidl reproduce

test: $(VENV)/.installed
	$(BIN)/ruff check minidl minidl_gui tests benchmarks
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/train_step.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis .ruff_cache
