"""CDS Hooks 2.0 (issue 14, part 1): discovery at /cds-services, the services at
/cds-services/{id}, their feedback at /cds-services/{id}/feedback, the rules' explanation
pages the cards link to, and the feedback report for auditors.

Each call from an EHR is authenticated by its JWT (`app.cds_auth`), not by a CervixWatch
sign-in, so these routes are `PUBLIC` to `web.access.enforce` and check the JWT themselves,
before anything else is read. A refusal is 401 (no valid JWT: missing, malformed, wrongly
signed, expired, for another URL, replayed) or 403 (an issuer or key URL not allow-listed),
with nothing stored. A hook request and its feedback are audited (`cds-<hook>`,
`cds-feedback`), the EHR recorded as the actor under its issuer's id; the cards and the
feedback are stored with that entry in one transaction.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

import orjson
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from cervixwatch.app.audit_log import AuditEntry
from cervixwatch.app.cds_auth import CdsAuthError, CdsCaller, verify_jwt
from cervixwatch.app.cds_feedback import record_feedback
from cervixwatch.app.cds_prefetch import BadHookRequest, DataUnavailable
from cervixwatch.app.cds_services import (
    SERVICES_BY_ID,
    HookCall,
    answer_hook,
    chosen_profiles,
    discovery,
    record_refusal,
)
from cervixwatch.interop.fhir_values import BundleError
from cervixwatch.web.access import PUBLIC, access_record, allow
from cervixwatch.web.audit import entry_for, recorded_by_route

router = APIRouter(tags=["CDS Hooks"])

PREFIX: Final = "/cds-services"
ACTOR_ROLE: Final = "ehr"
VIA: Final = "cds-hooks-jwt"


def base_url(request: Request) -> str:
    """The services' base as the EHR calls them (a JWT's `aud` is this and the path)."""
    configured = request.app.state.settings.cds_hooks_base_url
    return str(configured or request.base_url).rstrip("/")


def _refused(error: CdsAuthError) -> HTTPException:
    headers = (
        {"WWW-Authenticate": 'Bearer realm="cds-hooks", error="invalid_token"'}
        if error.status == 401
        else None
    )
    return HTTPException(error.status, error.detail, headers=headers)


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise CdsAuthError(401, "send the EHR's JWT as 'Authorization: Bearer <JWT>'")
    return token.strip()


async def _caller(request: Request, path: str, *, claim: bool = False) -> CdsCaller:
    """The EHR calling; with `claim`, its JWT's id is remembered here, else by the use case
    in the transaction that answers (one write per request)."""
    settings = request.app.state.settings
    try:
        return await run_in_threadpool(
            verify_jwt,
            _bearer(request),
            audience=base_url(request) + path,
            clients=settings.cds_hooks_clients,
            key_sets=request.app.state.cds_key_sets,
            sessions=request.app.state.sessions,
            now=request.app.state.cds_now(),
            claim=claim,
        )
    except CdsAuthError as error:
        raise _refused(error) from None


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise BadHookRequest("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadHookRequest("the body must be a JSON object")
    return body


def _audit(request: Request, caller: CdsCaller) -> AuditEntry:
    entry = entry_for(request, 200)
    assert entry is not None  # the action is set before the caller is checked
    return replace(entry, actor_id=caller.actor_id, actor_role=ACTOR_ROLE, via=VIA[:16])


async def _failed(
    request: Request, caller: CdsCaller, entry: AuditEntry, status: int, detail: str
) -> HTTPException:
    """A request from a trusted EHR that cannot be answered: audited with its caller, its
    JWT's id remembered (a replay is refused as one, audited by the middleware)."""
    try:
        await run_in_threadpool(
            record_refusal, request.app.state.sessions, caller, replace(entry, status=status)
        )
    except CdsAuthError as error:
        return _refused(error)
    recorded_by_route(request, status)
    return HTTPException(status, detail)


@router.get(PREFIX, summary="CDS Hooks discovery")
@allow(PUBLIC)
async def discover(request: Request) -> JSONResponse:
    """The services and their prefetch templates: no patient data, so answered without a JWT
    (an EHR's configuration tool reads it before it is set up to sign); a JWT that is sent
    must still verify, as for every call (standards.md section 3, Security)."""
    if request.headers.get("authorization"):
        await _caller(request, PREFIX, claim=True)
    return JSONResponse(discovery())


@router.post(PREFIX + "/{service_id}", summary="Call a CDS service")
@allow(PUBLIC)
async def call_service(request: Request, service_id: str) -> JSONResponse:
    service = SERVICES_BY_ID.get(service_id)
    if service is not None:  # a call to a service is audited, refused or not
        access_record(request).action = f"cds-{service.hook}"
    caller = await _caller(request, f"{PREFIX}/{service_id}")
    if service is None:
        raise HTTPException(404, f"no CDS service {service_id}")
    entry = _audit(request, caller)
    state = request.app.state
    settings = state.settings
    try:
        call = HookCall(
            service=service,
            body=await _json_body(request),
            caller=caller,
            base_url=base_url(request),
            today=state.today(),
            fetch_timeout_seconds=settings.cds_hooks_fetch_timeout_seconds,
        )
        profiles = await run_in_threadpool(
            chosen_profiles, state.sessions, state.profiles, settings.cds_hooks_guideline
        )
        answer = await run_in_threadpool(answer_hook, state.sessions, profiles, call, entry)
    except CdsAuthError as error:
        raise _refused(error) from None
    except BadHookRequest as error:
        raise await _failed(request, caller, entry, 400, str(error)) from None
    except DataUnavailable as error:
        raise await _failed(request, caller, entry, 412, str(error)) from None
    except BundleError as error:
        raise await _failed(request, caller, entry, 422, f"the EHR's FHIR data: {error}") from None
    recorded_by_route(request, 200)
    return JSONResponse(answer)


@router.post(PREFIX + "/{service_id}/feedback", summary="Feedback on a CDS service's cards")
@allow(PUBLIC)
async def feedback(request: Request, service_id: str) -> JSONResponse:
    if service_id in SERVICES_BY_ID:
        access_record(request).action = "cds-feedback"
    caller = await _caller(request, f"{PREFIX}/{service_id}/feedback")
    if service_id not in SERVICES_BY_ID:
        raise HTTPException(404, f"no CDS service {service_id}")
    entry = _audit(request, caller)
    try:
        body = await _json_body(request)
        stored = await run_in_threadpool(
            record_feedback, request.app.state.sessions, service_id, body, caller, entry
        )
    except CdsAuthError as error:
        raise _refused(error) from None
    except BadHookRequest as error:
        raise await _failed(request, caller, entry, 400, str(error)) from None
    recorded_by_route(request, 200)
    return JSONResponse({"stored": stored})
