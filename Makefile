# The two commands a newcomer needs: `make run` and `make test`. Both set up everything first.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_LEADS ?= 20000
PORT ?= 8000
export CLOSEDLOOP_DATA_DIR ?= $(CURDIR)/var
SECRET_KEY_FILE := $(CLOSEDLOOP_DATA_DIR)/secret_key

.PHONY: run test install browser lint clean

$(BIN)/closedloop: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "closedloop needs Python 3.11 ($(PYTHON))"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(BIN)/closedloop

install: $(BIN)/closedloop

# A secret key made on this machine the first time, kept in the data folder, never committed.
$(SECRET_KEY_FILE):
	mkdir -p $(CLOSEDLOOP_DATA_DIR)
	umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > $@

run: export CLOSEDLOOP_SECRET_KEY_FILE ?= $(SECRET_KEY_FILE)
run: install $(SECRET_KEY_FILE)
	$(BIN)/closedloop migrate
	$(BIN)/closedloop demo --leads $(DEMO_LEADS) --if-empty
	$(BIN)/closedloop serve --port $(PORT)

# Debian's chromium drives the browser tests (Playwright cannot download its own here).
browser:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium chromium-driver; }

test: install browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff, the import-linter contracts (pyproject.toml [tool.importlinter]) and mypy.
lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache
