# The README's two commands: `make demo` runs the service on the bundled demo corpus,
# `make test` runs the whole test suite. Both set up .venv first (idempotent).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= .demo-data

.PHONY: demo test setup

$(BIN)/paperboy: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/paperboy

setup: $(BIN)/paperboy

demo: setup
	PAPERBOY_DATA_DIR=$(DEMO_DIR) $(BIN)/paperboy demo

# pytest exits 5 when it collects no tests: that is a broken suite, never a pass.
test: setup
	$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status
