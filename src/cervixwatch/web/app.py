"""The web application: `create_app(settings)` builds it; `cervixwatch serve` runs it.

On start it migrates the database (Alembic) and loads the guideline profiles once; the app
keeps no other state in memory (rate-limit counters aside: see `settings.rate_limit_storage`),
so several processes can serve behind any proxy.

Every route passes `web.access.enforce` (its declared policy), and every access to patient
data is written to the audit log (`web.audit`) before its answer leaves.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles

from cervixwatch import __version__
from cervixwatch.access.token_cache import TokenCache
from cervixwatch.app.audit_sealing import ChainSealer
from cervixwatch.app.clinic_settings import RecentSettings
from cervixwatch.app.database import DatabaseCounters, make_engine, session_factory, upgrade
from cervixwatch.app.notify_dispatch import Notifier, NotifyConfig
from cervixwatch.knowledge import load_profiles
from cervixwatch.settings import Settings, get_settings
from cervixwatch.web.access import enforce
from cervixwatch.web.api import router as api_router
from cervixwatch.web.api.errors import answer_validation_error
from cervixwatch.web.audit import AuditLog
from cervixwatch.web.auth_routes import router as auth_router
from cervixwatch.web.cds.setup import add_cds_hooks_cors, include_cds_hooks
from cervixwatch.web.control_characters import RefuseControlCharacters
from cervixwatch.web.dicomweb import router as dicomweb_router
from cervixwatch.web.fhir import router as fhir_router
from cervixwatch.web.fhir.bulk_routes import router as fhir_bulk_router
from cervixwatch.web.fhir.history_routes import router as fhir_history_router
from cervixwatch.web.fhir.write_routes import router as fhir_write_router
from cervixwatch.web.hardening import add_hardening, mount_docs
from cervixwatch.web.hosts import add_host_check
from cervixwatch.web.limits import RequestSizeLimit
from cervixwatch.web.log_format import RequestLogContext
from cervixwatch.web.logs import install_log_scrubbing
from cervixwatch.web.metrics import RequestMetrics, RouteTemplates
from cervixwatch.web.oidc import add_oidc
from cervixwatch.web.operations import router as operations_router
from cervixwatch.web.pages import router as pages_router
from cervixwatch.web.pages.administration import router as administration_router
from cervixwatch.web.pages.intake_review import router as intake_review_router
from cervixwatch.web.pages.model_validation import router as model_validation_router
from cervixwatch.web.pages.population_audit import router as population_audit_router
from cervixwatch.web.rate_limits import RateLimiter, per_worker_warning
from cervixwatch.web.smart_app_routes import router as smart_app_router
from cervixwatch.web.smart_discovery import router as smart_router
from cervixwatch.web.smart_routes import router as smart_pages_router
from cervixwatch.web.smart_routes import token_router as smart_token_router

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"


def _local_today() -> dt.date:
    return dt.date.today()  # noqa: DTZ011 - the clinic's local calendar day is meant


def create_app(
    settings: Settings | None = None, today: Callable[[], dt.date] = _local_today
) -> FastAPI:
    """The app for `settings` (default: from the environment); `today` is the clinic's clock."""
    settings = settings or get_settings()
    install_log_scrubbing()  # logs carry ids, never patient data (issue 12, F5)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        app.state.recent_clinic_settings = RecentSettings(app.state.sessions)
        if app.state.rate_limiter.per_process:
            # The back-off's wrong passwords are counted in the database instead, so every
            # worker and host shares them (issue 12, part 5).
            app.state.rate_limiter.count_failures_in(DatabaseCounters(engine))
        if warning := per_worker_warning(settings.rate_limit_storage, settings.workers):
            log.warning(warning)  # once per worker, in its own log
        # Each worker delivers the notifications of urgent reports; claims keep two workers
        # from sending one twice (`app.notify_dispatch`).
        notifier = (
            Notifier(app.state.sessions, NotifyConfig.of(settings)).start()
            if settings.notify_in_server
            else None
        )
        # Each worker seals the audit entries appended by requests onto the chain, one at a
        # time (`app.audit_sealing`); on SQLite they are sealed as they are appended.
        sealer = ChainSealer(engine).start() if ChainSealer.needed(engine) else None
        try:
            yield
        finally:
            if notifier is not None:
                notifier.stop()
            if sealer is not None:
                sealer.stop()
            engine.dispose()

    app = FastAPI(
        title="CervixWatch",
        version=__version__,
        summary="Cervical insufficiency and preterm-birth prevention: records, assessments, "
        "worklist, FHIR R4.",
        lifespan=lifespan,
        dependencies=[Depends(enforce)],
        docs_url=None,
        redoc_url=None,
    )
    # FastAPI's own answer to a body that fails its model echoes the value given, and a JSON
    # `1e400` read as Infinity cannot be written back: it answered 500 (issue 12). The same
    # 422, with such values named instead.
    app.add_exception_handler(RequestValidationError, answer_validation_error)
    app.state.settings = settings
    app.state.today = today
    app.state.profiles = load_profiles(settings.knowledge_dir)
    app.state.rate_limiter = RateLimiter(settings.rate_limit_storage)
    app.state.token_cache = TokenCache(settings.token_cache_seconds)
    # Routes are matched in the order included, each router's routes one by one (~2 us
    # each); the FHIR router, which integrations send most requests to, goes first. No two
    # routers share a path, so the order changes nothing else.
    app.include_router(smart_router)  # SMART discovery, /fhir/.well-known before the catch-all
    app.include_router(fhir_bulk_router, prefix="/fhir")  # $export: before every FHIR path
    app.include_router(fhir_history_router, prefix="/fhir")  # before the FHIR catch-all
    app.include_router(fhir_write_router, prefix="/fhir")  # before the FHIR refusals
    app.include_router(fhir_router, prefix="/fhir")
    include_cds_hooks(app, settings)  # CDS Hooks 2.0 for EHRs (issue 14)
    app.include_router(auth_router)
    app.include_router(smart_token_router)  # SMART's token endpoint (/oauth/token)
    app.include_router(smart_pages_router)  # SMART's consent page (/oauth/authorize)
    app.include_router(smart_app_router)  # launched by an EHR (/smart/launch, /smart/callback)
    app.include_router(api_router, prefix="/api")
    app.include_router(operations_router)  # /healthz, /readyz, /metrics
    app.include_router(dicomweb_router)  # STOW-RS from reporting systems (issue 14)
    app.include_router(intake_review_router)  # device reports that matched no woman
    add_oidc(app, settings)  # single sign-on, when CERVIXWATCH_OIDC_ISSUER is set
    mount_docs(app)
    app.include_router(pages_router)
    app.include_router(administration_router)  # the admins' and auditors' pages
    app.include_router(population_audit_router)  # quality leads' and auditors' (issue 15)
    app.include_router(model_validation_router)
    # The pages' own stylesheet, scripts and vendored libraries: no CDN.
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Outermost last: the size limit sees the request first, then the control-character check
    # (issue 12, F7), and the audit log sees the answer last; a `Host` not allowed is refused
    # innermost, its 400 counted, logged and given the security headers as any answer is.
    add_host_check(app, settings)
    app.add_middleware(AuditLog)
    app.add_middleware(RefuseControlCharacters)
    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_bytes)
    add_hardening(app, settings)
    add_cds_hooks_cors(app, settings)  # outside the app-wide CORS, which lists no EHR
    # Outermost of all: every answer is counted, those of the middleware above included.
    app.add_middleware(RequestMetrics, routes=RouteTemplates(app))
    # Every line logged while a request is answered names its id (`web.log_format`).
    app.add_middleware(RequestLogContext)
    return app
