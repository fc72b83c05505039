# Resonance: `make demo` and `make test` are the two commands a new user needs.
# Everything installs itself: Debian packages for Postgres 15 + pgTAP + pg_cron (via `resonance db up`),
# and a virtualenv with the Python stack.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RESONANCE := $(BIN)/resonance
SQL_TESTS := $(sort $(wildcard db/tests/*.sql))

.PHONY: install db migrate test pgtap pgtap-supabase pytest test-citus lint demo bench clean-db

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

db: install
	$(RESONANCE) db up

migrate: db
	$(RESONANCE) migrate

test: migrate
	$(MAKE) --no-print-directory pgtap pgtap-supabase pytest lint

pgtap: migrate
	pg_prove --failures -d "$$($(RESONANCE) db url)" $(SQL_TESTS)

# The same suite where users deploy: a new Supabase-like project (Supabase's own init scripts
# replayed), migrated as the non-superuser postgres, migrated again (must change nothing), tested
# as postgres.
pgtap-supabase: install
	$(RESONANCE) db supabase reset
	$(RESONANCE) migrate --database-url "$$($(RESONANCE) db supabase url)"
	$(RESONANCE) migrate --database-url "$$($(RESONANCE) db supabase url)" --require-no-op
	pg_prove --failures -d "$$($(RESONANCE) db supabase url)" $(SQL_TESTS)

pytest: db
	$(BIN)/pytest

# The invariants on a local Citus cluster (docs/scaling.md); also collected by `pytest` above. Builds
# Citus once from ../shared/vendor when it is not installed; skipped, with the reason, without either.
test-citus: install
	$(BIN)/pytest tests/citus

# Python: errors (syntax, undefined names) in every file; the full rule set and the format check on the
# modules that follow them (PY_STRICT; a module joins when its owner formats it); mypy per pyproject.
PY_STRICT := services/resonance/bot services/resonance/db tests/fakediscord tests/bot_support.py \
	$(wildcard tests/test_bot_*.py)

lint: install
	$(BIN)/sqlfluff lint db/ --processes 2 --disable-progress-bar
	$(BIN)/squawk db/migrations/*.sql
	$(BIN)/ruff check --select E9,F63,F7,F82 services tests
	$(BIN)/ruff check $(PY_STRICT)
	$(BIN)/ruff format --check $(PY_STRICT)
	$(BIN)/mypy

demo: migrate
	$(RESONANCE) simulate $(DEMO_ARGS)

bench: migrate
	$(RESONANCE) bench $(BENCH_ARGS)

clean-db: install
	$(RESONANCE) db down
	rm -rf .resonance
