# Two commands do all the set-up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The first time takes a minute or two: pip says what it fetches as it goes.
$(STAMP): $(BIN)/python pyproject.toml
	@echo "Installation des dépendances de Maillon (une à deux minutes la première fois)…"
	$(BIN)/pip install --disable-pip-version-check -e '.[test]'
	@echo "Dépendances installées."
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/maillon demo $(DEMO_ARGS)

# Both cores (pytest-xdist), a file's tests on one worker (they share module fixtures: live nodes).
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile $(TEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
