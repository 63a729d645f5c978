"""The web application: `create_app(settings)` builds it; `cervixwatch serve` runs it.

On start it migrates the database (Alembic) and loads the guideline profiles once; the app
keeps no other state in memory, so several processes can serve behind any proxy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from cervixwatch import __version__
from cervixwatch.knowledge import load_profiles
from cervixwatch.settings import Settings, get_settings
from cervixwatch.store import make_engine, session_factory, upgrade
from cervixwatch.web.api import router as api_router
from cervixwatch.web.fhir import router as fhir_router
from cervixwatch.web.limits import RequestSizeLimit


def _local_today() -> dt.date:
    return dt.date.today()  # noqa: DTZ011 - the clinic's local calendar day is meant


def create_app(
    settings: Settings | None = None, today: Callable[[], dt.date] = _local_today
) -> FastAPI:
    """The app for `settings` (default: from the environment); `today` is the clinic's clock."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="CervixWatch",
        version=__version__,
        summary="Cervical insufficiency and preterm-birth prevention: records, assessments, "
        "worklist, FHIR R4.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.today = today
    app.state.profiles = load_profiles(settings.knowledge_dir)
    app.include_router(api_router, prefix="/api")
    app.include_router(fhir_router, prefix="/fhir")
    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_bytes)
    return app
