"""The operator's endpoints: `/healthz` (the process answers), `/readyz` (it can serve: the
database answers and is migrated to this version's head) and `/metrics` (Prometheus).

None of them touches patient data, so none writes an audit entry (a probe every few seconds
would otherwise fill the log with entries about no one). `/healthz` and `/readyz` are open
to anyone, as load balancers and orchestrators call them unsigned; they say only "ok" or
what is not ready. `/metrics` shows counts only, but how busy a clinic is and which routes
it uses are the operator's business: it answers a scraper that sends
`Authorization: Bearer <CERVIXWATCH_METRICS_TOKEN>`, or, with no token set, a scraper on
this host's loopback that did not come through a proxy (no `X-Forwarded-For`, `Forwarded` or
`X-Real-IP`); anyone else gets 403. (docs/deployment.md, "Monitoring".)
"""

from __future__ import annotations

import ipaddress
from typing import Any, Final

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from cervixwatch.access.credentials import same_secret
from cervixwatch.app.operations import readiness
from cervixwatch.web.access import PUBLIC, allow
from cervixwatch.web.metrics import exposition

router = APIRouter(tags=["operations"])

#: Seconds a client is asked to wait before trying again while the service is not ready.
RETRY_AFTER_SECONDS: Final = 5
_PROXY_HEADERS: Final = ("x-forwarded-for", "forwarded", "x-real-ip")


@router.get("/healthz")
@allow(PUBLIC)
def healthz() -> dict[str, str]:
    """The process is up and answering (it asks nothing of the database)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={
        200: {"description": "Ready: the database answers and is at this version's head."},
        503: {
            "description": "Not ready: the database cannot be reached, or is not at the head.",
            "headers": {"Retry-After": {"description": "Seconds to wait before asking again."}},
        },
    },
)
@allow(PUBLIC)
async def readyz(request: Request) -> JSONResponse:
    """200 when the database answers and is at the schema this version migrates to; else
    503 with `Retry-After`, saying which (never the database's address or error)."""
    found = await run_in_threadpool(readiness, request.app.state.engine)
    body: dict[str, Any] = {
        "status": "ready" if found.ready else "not ready",
        "database": "ok" if found.database else "unreachable",
    }
    if found.database:
        body["migrations"] = "head" if found.migrated else "not at head"
    if found.ready:
        return JSONResponse(body, headers={"Cache-Control": "no-store"})
    return JSONResponse(
        body,
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus' text format.",
            "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
        },
        403: {"description": "Neither the metrics token nor a loopback scraper."},
    },
)
@allow(PUBLIC)  # no user's sign-in: the scraper's own check is `_may_scrape`
def metrics(request: Request) -> Response:
    """Prometheus' text format: counts and latencies by route template, imports, urgent
    symptom reports waiting, the audit checkpoint's age. No patient data."""
    if not _may_scrape(request):
        raise HTTPException(
            403,
            "metrics are served with the metrics token (CERVIXWATCH_METRICS_TOKEN), or without "
            "one to this host's loopback only",
        )
    return Response(
        exposition(request.app.state.engine, request.app.state.settings.audit_checkpoints),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )


def _may_scrape(request: Request) -> bool:
    token = request.app.state.settings.metrics_token
    if token is not None:
        scheme, _, sent = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and same_secret(sent.strip(), token.get_secret_value())
    if any(name in request.headers for name in _PROXY_HEADERS):
        return False
    client = request.client
    if client is None:
        return False
    try:
        return ipaddress.ip_address(client.host).is_loopback
    except ValueError:
        return False
