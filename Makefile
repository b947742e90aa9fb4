# crosspost: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO ?= demo-home
# checked by mypy --strict (config in pyproject.toml [tool.mypy])
TYPED := pipeline/store pipeline/publishing

.PHONY: setup demo test lint format pandoc bench bench-quick reliability clean

$(BIN)/crosspost: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/crosspost

setup: $(BIN)/crosspost

# The main job on the embedded default: SQLite, a static site and an outbox, no accounts.
demo: setup
	rm -rf $(DEMO)
	$(BIN)/crosspost init $(DEMO)
	cp examples/*.md examples/*.txt examples/*.html examples/*.docx $(DEMO)/inbox/
	$(BIN)/crosspost --home $(DEMO) run --once
	@echo "site: $(DEMO)/site/index.html (feeds: feed.atom, feed.json)   outbox: $(DEMO)/outbox/   status: $(BIN)/crosspost --home $(DEMO) status"
	@echo "open it: xdg-open $(DEMO)/site/index.html   or serve it: python3 -m http.server -d $(DEMO)/site 8000"

# The whole test suite (starts its own WordPress, Ghost and Bluesky PDS on 127.0.0.1).
test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict $(TYPED)
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict $(TYPED)

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# pandoc is the conversion peer; the scheduler section also uses PostgreSQL on 127.0.0.1:5432
pandoc:
	@command -v pandoc >/dev/null || (apt-get update -q && apt-get install -y -q --no-install-recommends pandoc) \
		|| echo "pandoc could not be installed: the conversion section runs without its peer"

bench: setup pandoc
	$(BIN)/python -m bench.run

bench-quick: setup pandoc
	$(BIN)/python -m bench.run --quick

# The full reliability runs behind docs/RELIABILITY.md (about 30 minutes; CI runs smaller
# versions of each inside `make test`): 380 SIGKILLs, every fault on every platform, 10
# minutes of fuzzing every reader.
reliability: setup
	$(BIN)/python -m bench.crash_matrix --kills 380 --backlog 24
	$(BIN)/python -m bench.faults
	$(BIN)/python -m bench.fuzz_readers --minutes 10
	CROSSPOST_TEST_RACE_REPS=50 $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/test_daemon_supervision.py -k racing

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
