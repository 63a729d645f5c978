# CervixWatch's container image (docs/deployment.md, "Container"): Debian bookworm's Python
# 3.11, the locked dependencies only (uv.lock, `uv sync --frozen`: nothing is resolved anew),
# CervixWatch itself as its compiled build, run as a user without privileges.
# Build: docker build -t cervixwatch .

# The compiled build (docs/performance.md, "Compiled with mypyc"): the rules engine, the FHIR
# reader and a population run's rows compiled to C by mypyc, in a stage that has gcc and
# Python's headers (the full image of the same Python); only its wheel is kept.
FROM python:3.11-bookworm AS compiled
RUN pip install --no-cache-dir "uv==0.9.7"
ENV UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    HATCH_BUILD_HOOK_ENABLE_MYPYC=true
WORKDIR /build
COPY pyproject.toml uv.lock README.md ./
COPY src ./src
RUN uv build --out-dir /wheels

FROM python:3.11-slim-bookworm

# WeasyPrint (the clinic letter's PDF) needs Pango, HarfBuzz and a font from the system.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# uv from PyPI, the version the Makefile asks for at least.
RUN pip install --no-cache-dir "uv==0.9.7"

ENV UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PYTHONUNBUFFERED=1

WORKDIR /app
# The dependencies first (a layer that changes only with the lock file), then the app's wheel.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-default-groups --no-install-project
COPY --from=compiled /wheels /wheels
RUN uv pip install --python /app/.venv/bin/python --no-deps /wheels/cervixwatch-*.whl \
    && rm -rf /wheels

RUN useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin cervixwatch
USER cervixwatch

# Inside a container the app listens on every interface of the container; /metrics then
# answers only with CERVIXWATCH_METRICS_TOKEN (a scraper in another container is not on this
# one's loopback). Logs are JSON lines on stdout and stderr.
ENV PATH=/app/.venv/bin:$PATH \
    CERVIXWATCH_HOST=0.0.0.0 \
    CERVIXWATCH_PORT=8000 \
    CERVIXWATCH_LOG_FORMAT=json
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# Migrates the database (CERVIXWATCH_DATABASE_URL) to this version's head, then serves
# with CERVIXWATCH_WORKERS workers.
CMD ["cervixwatch", "serve"]
