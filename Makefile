# `make app` and `make test` set everything up on a fresh machine (a venv in .venv), then run.
PYTHON ?= python3
VENV   ?= .venv
# Which torch, and from where. From PyPI, torch on Linux is the CUDA build (several GB); PyTorch's
# CPU index gives the small CPU-only build: `make TORCH_INDEX=https://download.pytorch.org/whl/cpu app`.
TORCH       ?= torch==2.13.0
TORCH_INDEX ?=
BIN         := $(VENV)/bin
PIP         := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: app demo reproduce test lint bench screenshot desktop-entry clean

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) $(if $(TORCH_INDEX),--index-url "$(TORCH_INDEX)") "$(TORCH)"
	$(PIP) -e ".[test,record]"
	touch $@

app: $(VENV)/.installed
	$(BIN)/minidl-gui

demo: $(VENV)/.installed
	$(BIN)/minidl train --epochs 50

reproduce: $(VENV)/.installed
	$(BIN)/minidl reproduce

test: lint
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check minidl minidl_gui tests benchmarks
	$(BIN)/ruff format --check --quiet minidl minidl_gui tests benchmarks

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/train_step.py

screenshot: $(VENV)/.installed
	$(BIN)/python -m minidl_gui.screenshot

desktop-entry: $(VENV)/.installed
	$(BIN)/minidl-gui --install-desktop-entry

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis .ruff_cache
