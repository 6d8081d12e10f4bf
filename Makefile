# make run   — Temporal dev server (UI on :8233) + worker, sample data under var/
# make test  — lint (ruff, and hadolint on the Dockerfile), types, and the whole test suite
#              (time-skipping Temporal, SQLite, and PostgreSQL too when TEST_DATABASE_URL is set)
# make bench — benchmarks (not part of make test)
# make chaos — kill workers, the server and the whole stack, take providers and mail down, storm
#              intake; asserts nothing is lost or done twice (not part of make test; ~2 minutes)
# make fuzz  — the adversarial suite at full size: 10,000 generated requests at the public doors

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck pytest bench chaos fuzz lock clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m dev.local_stack

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

typecheck: $(STAMP)
	$(BIN)/mypy rights workflows activities client stores api dev worker.py starter.py logs.py bench

pytest: $(STAMP)
	$(BIN)/pytest

fuzz: $(STAMP)
	FUZZ_EXAMPLES=2000 SCHEMATHESIS_EXAMPLES=200 $(BIN)/pytest -q -s \
		tests/test_fuzz_doors.py tests/test_schemathesis.py

bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

chaos: $(STAMP)
	$(BIN)/python -m bench.chaos $(CHAOS_ARGS)

lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable --exclude privacy-rights > requirements.lock

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
