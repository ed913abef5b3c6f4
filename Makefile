# SIMA: `make demo` and `make test` set everything up themselves on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.sima-installed

.PHONY: demo test lint bench clean-venv

$(STAMP): pyproject.toml requirements-models.txt scripts/bootstrap.sh
	@bash scripts/bootstrap.sh $(PYTHON) $(VENV)
	@touch $@

demo: $(STAMP)
	$(BIN)/sima plan --role backend --seniority mid --simulate --answer-seconds 45

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/sima banks validate
	$(BIN)/sima banks lint --strict

bench: $(STAMP)
	$(BIN)/python -m bench

clean-venv:
	rm -rf $(VENV)
