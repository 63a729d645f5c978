"""Prometheus metrics (prometheus_client): requests and their latencies per route, imports,
and, read when scraped, the urgent symptom reports waiting for review (from the database)
and the age of the newest audit checkpoint (from the file of them, when one is named).

Labels name the route's template (`/api/patients/{patient_id}`), never the path asked for:
paths carry ids, a catch-all carries whatever a client typed, and a query string can hold
a name. No label or value here is patient data.

With several worker processes (`cervixwatch serve --workers N`) each process counts its own
requests; `serving.run` gives them one fresh directory (`PROMETHEUS_MULTIPROC_DIR`), set
before any worker imports prometheus_client, where each writes its counts, and a scrape of
any worker sums them all (prometheus_client's multiprocess mode). With one process the
counts are that process's own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Final

from fastapi import FastAPI
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from starlette.routing import BaseRoute, Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cervixwatch.app.notifications import notification_counts
from cervixwatch.app.operations import newest_checkpoint_taken, urgent_reports_waiting

MULTIPROCESS_VARIABLE: Final = "PROMETHEUS_MULTIPROC_DIR"
#: What a request that matched no route is counted under (a 404 for a path no route has).
UNMATCHED: Final = "(unmatched)"
_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS: Final = Counter(
    "cervixwatch_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY: Final = Histogram(
    "cervixwatch_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
IMPORTS: Final = Counter(
    "cervixwatch_imports",
    "FHIR imports (Bundles and single-resource writes), by outcome: stored, refused "
    "(a 4xx: invalid, not allowed, a conflict) or failed (a 5xx).",
    ["outcome"],
)


class RouteTemplates:
    """The full path template of each route, prefixes of included routers included (FastAPI
    hands a route the path it was declared with, without its router's prefix)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._known: dict[int, list[tuple[str, Any]]] | None = None

    def of(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:  # no route, or a mounted app (static files), which sets none
            path = scope.get("path", "")
            for mount in self.app.router.routes:
                if isinstance(mount, Mount) and path.startswith(mount.path + "/"):
                    return f"{mount.path}/{{path}}"
            return UNMATCHED
        if self._known is None:
            self._known = self._collect(self.app.router.routes)
        candidates = self._known.get(id(route))
        if not candidates:
            return UNMATCHED
        if len(candidates) == 1:
            return candidates[0][0]
        for template, pattern in candidates:  # one route included under several prefixes
            if pattern.match(scope.get("path", "")):
                return str(template)
        return str(candidates[0][0])

    @staticmethod
    def _collect(routes: Iterable[BaseRoute]) -> dict[int, list[tuple[str, Any]]]:
        known: dict[int, list[tuple[str, Any]]] = {}
        for route in routes:
            contexts = getattr(route, "effective_route_contexts", None)
            if callable(contexts):  # an included router
                pairs = [(c.path, c.original_route) for c in contexts()]
            else:
                pairs = [(getattr(route, "path", ""), route)]
            for path, original in pairs:
                pattern = compile_path(path)[0]
                known.setdefault(id(original), []).append((path, pattern))
        return known


class RequestMetrics:
    """Counts each answered request and its time by route template (pure ASGI, outermost, so
    that answers made by the other middleware, a 413, a 429 or a 503, are counted too)."""

    def __init__(self, app: ASGIApp, routes: RouteTemplates) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before it starts
        counted = False

        def count() -> None:
            nonlocal counted
            counted = True
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            route = self.routes.of(scope)
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)
            access = scope.get("state", {}).get("access")
            if getattr(access, "action", None) == "import":
                IMPORTS.labels(_import_outcome(status)).inc()

        async def send_and_count(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Counted before the answer's end is handed over: a client that has its
                # answer, and then scrapes, finds it counted.
                count()
            await send(message)

        try:
            await self.app(scope, receive, send_and_count)
        finally:
            if not counted:  # no answer, or one cut short
                count()


def _import_outcome(status: int) -> str:
    if status < 400:
        return "stored"
    return "refused" if status < 500 else "failed"


class DatabaseFigures(Collector):
    """Read from the database at each scrape, once for all workers: the urgent symptom
    reports waiting for review, and the notifications of them waiting or failed. A database
    that cannot be reached leaves the figures out (and `cervixwatch_database_up` says 0)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "cervixwatch_database_up", "Whether the database answered this scrape (1) or not (0)."
        )
        try:
            waiting = urgent_reports_waiting(self.engine)
            notifications = notification_counts(self.engine)
        except Exception:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "cervixwatch_urgent_reports_waiting",
            "Symptom reports waiting for a clinician's review on pregnancies flagged for "
            "same-day evaluation (urgent-evaluation).",
            value=waiting,
        )
        yield GaugeMetricFamily(
            "cervixwatch_notifications_waiting",
            "Notifications of urgent symptom reports waiting to be delivered (or being "
            "delivered), one per channel and recipient.",
            value=notifications.waiting,
        )
        yield GaugeMetricFamily(
            "cervixwatch_notifications_failed",
            "Notifications of urgent symptom reports given up after their last attempt.",
            value=notifications.failed,
        )


class CheckpointAge(Collector):
    """The age of the newest audit checkpoint in the file the server is told of
    (`CERVIXWATCH_AUDIT_CHECKPOINTS`): entries after it are protected by the chain's head
    alone (docs/security.md), so an alert on its age says when checkpoints stopped."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def collect(self) -> Iterator[Metric]:
        taken = newest_checkpoint_taken(self.path)
        if taken is None:
            return
        yield GaugeMetricFamily(
            "cervixwatch_audit_checkpoint_age_seconds",
            "Seconds since the newest audit checkpoint kept in CERVIXWATCH_AUDIT_CHECKPOINTS "
            "was taken.",
            value=max(0.0, time.time() - taken.timestamp()),
        )


def exposition(engine: Engine, checkpoints: Path | None = None) -> bytes:
    """The metrics in Prometheus' text format: every worker's counts (multiprocess mode) or
    this process's, the database's figures and, when a checkpoint file is named, the age of
    its newest audit checkpoint."""
    registry = CollectorRegistry()
    directory = os.environ.get(MULTIPROCESS_VARIABLE)
    if directory:
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Everything())
    registry.register(DatabaseFigures(engine))
    if checkpoints is not None:
        registry.register(CheckpointAge(checkpoints))
    return generate_latest(registry)


class _Everything(Collector):
    """This process's default registry (its counts, the process and Python collectors)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()
