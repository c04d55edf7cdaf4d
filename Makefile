# The README's two commands: `make demo` runs the service on the bundled demo corpus,
# `make test` runs the linters (`make lint`) and then the whole test suite. Both set up .venv
# first (idempotent): the demo installs only what serving needs, the tests add their extra
# (ruff included) and Debian's Chromium before pytest runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= .demo-data
CHROMIUM := /usr/bin/chromium
# apt-get as root, else through sudo (a developer's machine).
APT := $(shell [ "$$(id -u)" = 0 ] && echo apt-get || echo sudo apt-get)

.PHONY: demo test setup chromium lint typecheck

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamps: reinstall when pyproject.toml changes.
$(VENV)/.serve: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.serve

setup: $(VENV)/.test

# Browser tests drive Debian's Chromium; install it here, never from inside the tests.
chromium:
	@[ -x $(CHROMIUM) ] || { DEBIAN_FRONTEND=noninteractive $(APT) update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(APT) install -y -qq chromium chromium-driver; }

demo: $(VENV)/.serve
	PAPERBOY_DATA_DIR=$(DEMO_DIR) $(BIN)/paperboy demo

# Lint before the tests: ruff's rules (pyproject.toml, [tool.ruff.lint]), then its formatter
# in check mode (it changes nothing; `ruff format` does).
lint: $(VENV)/.test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The type check ([tool.mypy] in pyproject.toml: strict on the store and search); `make test`
# runs it before pytest.
typecheck: $(VENV)/.test
	$(BIN)/mypy

# pytest exits 5 when it collects no tests: that is a broken suite, never a pass.
test: $(VENV)/.test chromium lint typecheck
	$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status
