# The two commands of the README: `make run` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test lint typecheck pytest mock-llm clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(INSTALLED)

install: $(INSTALLED)

## Migrate the embedded SQLite database, then serve the example agents on port 8000 in dev
## mode (no API keys; see the README to run with keys).
run: $(INSTALLED)
	$(BIN)/agenthost db upgrade
	$(BIN)/agenthost serve --dev-mode

## Lint, type-check and run the whole test suite.
test: lint typecheck pytest

lint: $(INSTALLED)
	$(BIN)/ruff check src tests examples
	$(BIN)/ruff format --check src tests examples

typecheck: $(INSTALLED)
	$(BIN)/mypy

pytest: $(INSTALLED)
	$(BIN)/pytest

## The OpenAI-compatible mock LLM on port 8100.
mock-llm: $(INSTALLED)
	$(BIN)/agenthost mock-llm

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
