# CervixWatch: `make demo` and `make test` work on a fresh machine with nothing installed by hand.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION ?= 0.9.7
export UV_LINK_MODE ?= copy
UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")

.PHONY: help uv install demo test check format bench clean

help:
	@echo "make demo    install, then assess the bundled example patients"
	@echo "make test    install what the tests need, then run the whole suite"
	@echo "make check   ruff format --check, ruff check, mypy"
	@echo "make bench   run the benchmarks in benchmarks/"

# uv comes from PyPI (the only registry we can rely on); the lock file pins everything else.
uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		python3 -m pip install --quiet "uv>=$(UV_VERSION)" || \
		python3 -m pip install --quiet --user "uv>=$(UV_VERSION)" || \
		python3 -m pip install --quiet --break-system-packages "uv>=$(UV_VERSION)"

install: uv
	$(UV) sync --frozen --all-groups

demo: install
	@$(UV) run python -m cervixwatch.demo

test: install
	$(UV) run pytest

check: install
	$(UV) run ruff format --check src tests benchmarks
	$(UV) run ruff check src tests benchmarks
	$(UV) run mypy

format: install
	$(UV) run ruff format src tests benchmarks
	$(UV) run ruff check --fix src tests benchmarks

bench: install
	$(UV) run python benchmarks/assess.py

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache .hypothesis
