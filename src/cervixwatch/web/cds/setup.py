"""Putting the CDS services into the app (`web.app.create_app` calls these two)."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI

from cervixwatch.app.cds_auth import KeySets
from cervixwatch.settings import Settings
from cervixwatch.web.cds import router as services_router
from cervixwatch.web.cds.cors import CdsHooksCors
from cervixwatch.web.cds.report import router as report_router
from cervixwatch.web.cds.rules_page import router as rules_router


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def include_cds_hooks(app: FastAPI, settings: Settings) -> None:
    """The routes, the JWK Sets fetched (kept per process) and the clock JWTs are checked by."""
    app.state.cds_key_sets = KeySets(
        settings.cds_hooks_fetch_timeout_seconds, settings.cds_hooks_jwks_cache_seconds
    )
    app.state.cds_now = _now
    app.include_router(rules_router)  # before /cds-services/{service_id}
    app.include_router(services_router)
    app.include_router(report_router)


def add_cds_hooks_cors(app: FastAPI, settings: Settings) -> None:
    """CORS for the EHR origins configured. Call it after `add_hardening`: a preflight to the
    services is answered here, before the app-wide policy, which does not list EHRs."""
    if settings.cds_hooks_origins:
        app.add_middleware(CdsHooksCors, origins=list(settings.cds_hooks_origins))
