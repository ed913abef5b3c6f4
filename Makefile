# SIMA: `make demo` and `make test` set everything up themselves on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.sima-installed

.PHONY: demo test lint bench clean-venv

$(STAMP): pyproject.toml requirements-models.txt scripts/bootstrap.sh
	@bash scripts/bootstrap.sh $(PYTHON) $(VENV)
	@touch $@

# One spoken interview on the local stack: a simulated candidate answers through Piper → VAD → Whisper; the
# interview clock runs 3× faster than the (real-time) audio so the six phases pass in a few minutes.
demo: $(STAMP)
	$(BIN)/sima simulate --persona priya-backend-strong --time-scale 3

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
