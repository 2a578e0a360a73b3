# Two commands for a fresh clone: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean peers

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/bms-bridge demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Independent protocol peers for the conformance tests (not needed by `make test`, which skips those
# tests with this hint when they are absent): bac-py needs Python >= 3.13, so it gets a venv of its own;
# node-opcua-client 2.140.0 runs on Node 20 (current releases declare Node >= 22.13).
PY313 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13.*/bin/python3) $(shell command -v python3.13))
NODE_OPCUA := node-opcua-client@2.140.0
peers:
	@test -x .peers/bacpy/bin/python || { test -n "$(PY313)" || { echo "peers: no Python 3.13 found (set PY313=...)"; exit 1; }; \
	  $(PY313) -m venv .peers/bacpy && .peers/bacpy/bin/pip install --quiet bac-py==1.5.7; }
	@test -d .peers/nodeopcua/node_modules/node-opcua-client || { command -v npm >/dev/null || { echo "peers: npm not found"; exit 1; }; \
	  mkdir -p .peers/nodeopcua && npm install --prefix .peers/nodeopcua --no-audit --no-fund --silent $(NODE_OPCUA); }

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache sites/*/.state
