# One command per chore; the same locally and in CI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := tests/browser/node_modules/.installed-stamp
DEMO_DB := demo/masthead.db
PYTEST_ARGS ?=

.PHONY: install demo test lint typecheck unit bench browser-deps clean format

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	mkdir -p demo
	@if [ ! -f $(DEMO_DB) ]; then \
		MASTHEAD_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/masthead init --demo; \
	else \
		MASTHEAD_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/masthead migrate; \
	fi
	MASTHEAD_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/masthead demo-access demo/access.env
	MASTHEAD_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/masthead serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# System tools the tests drive: Debian's chromium (browser tests), curl and jq (the API
# docs' examples), nginx (serving a static build); axe-core from npm. Installed with
# apt-get when running as root.
TEST_PACKAGES := chromium chromium-driver curl jq nginx
browser-deps: $(NODE_STAMP)
	@if [ ! -x /usr/bin/chromium ] || ! command -v jq >/dev/null || ! command -v curl >/dev/null \
		|| [ ! -x /usr/sbin/nginx ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			(apt-get install -y -q $(TEST_PACKAGES) >/dev/null 2>&1 || \
			 (apt-get update -q >/dev/null && apt-get install -y -q $(TEST_PACKAGES) >/dev/null)) \
			|| echo "could not install $(TEST_PACKAGES): the tests needing them will skip"; \
		else echo "missing chromium, curl, jq or nginx, and no root apt-get: those tests will skip"; fi; \
	fi

$(NODE_STAMP): tests/browser/package.json tests/browser/package-lock.json
	@if command -v npm >/dev/null; then \
		cd tests/browser && npm ci --silent --no-audit --no-fund && touch node_modules/.installed-stamp; \
	else echo "no npm: the accessibility checks will skip"; fi

unit: install
	$(BIN)/pytest $(PYTEST_ARGS)

test: install browser-deps lint typecheck
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

# N=10000 make bench, DURATION=5 make bench, make bench BENCH_ARGS=--quick (docs/benchmarks.md);
# the queue benchmark: QUEUE_JOBS=20000 make bench, QUEUE_BENCH_ARGS=--no-procrastinate (docs/queue.md);
# the API under a crowd of keyed writes, on both databases: API_BENCH_ARGS="--seconds 10";
# publish → verified latency at 1,000 and 10,000 posts: PUBLISH_BENCH_ARGS="--publishes 20";
# the kill loops of ops backup and rotate-edge-secret, long: KILL_ROUNDS=300 (make test: ~25).
KILL_ROUNDS ?= 300
# MCP tools/call latency on both transports: MCP_BENCH_ARGS="--calls 200 --database postgres".
# search at 10,000 posts on both databases: SEARCH_BENCH_ARGS="--posts 1000 --repeats 5".
# webhooks' event → receiver latency over 200 events: WEBHOOK_BENCH_ARGS="--database postgres".
# live serving (render cache vs a bare ASGI app vs nginx): N=10000 adds that size, LIVE_BENCH_ARGS.
# static builds against Hugo (apt-get installs hugo as root): STATIC_BENCH_ARGS="--posts 1000".
# uncached page builds in process at 10,000 posts: COLD_BENCH_ARGS="--keep /tmp/cold".
bench: install bench-deps
	$(BIN)/python -m bench $(BENCH_ARGS)
	$(BIN)/python -m bench.queue_bench $(QUEUE_BENCH_ARGS)
	for database in sqlite postgres; do \
		$(BIN)/python -m bench.api_load --database $$database --with-key --connections 100 \
			--seconds 5 $(API_BENCH_ARGS) || exit 1; \
	done
	$(BIN)/python -m bench.publish_latency $(PUBLISH_BENCH_ARGS)
	MASTHEAD_KILL_ROUNDS=$(KILL_ROUNDS) $(BIN)/pytest -q -p no:cacheprovider \
		tests/test_ops_backup.py tests/test_ops_rotate_edge_secret.py -k killed
	$(BIN)/python -m bench.mcp_latency $(MCP_BENCH_ARGS)
	$(BIN)/python -m bench.search $(SEARCH_BENCH_ARGS)
	$(BIN)/python -m bench.webhook_latency $(WEBHOOK_BENCH_ARGS)
	$(BIN)/python -m bench.live_serving $(LIVE_BENCH_ARGS)
	$(BIN)/python -m bench.static_build $(STATIC_BENCH_ARGS)
	$(BIN)/python -m bench.cold_path $(COLD_BENCH_ARGS)

# wrk, for the HTTP figures, and nginx, the live-serving yardstick (Debian's packages).
.PHONY: bench-deps
bench-deps:
	@command -v wrk >/dev/null || \
		( [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		  (apt-get install -y -q wrk >/dev/null 2>&1 || \
		   (apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null)) ) || \
		echo "wrk is missing and could not be installed: the HTTP figures will be skipped"
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || \
		( [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		  (apt-get install -y -q nginx >/dev/null 2>&1 || \
		   (apt-get update -q >/dev/null && apt-get install -y -q nginx >/dev/null)) ) || \
		echo "nginx is missing and could not be installed: the live-serving bench needs it"

clean:
	rm -rf $(VENV) tests/browser/node_modules .pytest_cache .mypy_cache .ruff_cache
