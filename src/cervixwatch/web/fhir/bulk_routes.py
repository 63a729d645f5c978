"""FHIR Bulk Data `$export` (https://hl7.org/fhir/uv/bulkdata/export.html): the kick-off
(system, `Group/[care team id]`, `Patient`), the status URL (poll; DELETE cancels) and the
files. The export itself is `app.bulk_export`'s, written in a thread of the worker that
accepted it; its state is kept in files, so any worker answers the polls.

A job's id is the kick-off request's id, so the kick-off's audit entry (its `request_id`)
names the job; the downloads and the cancel name it in their path.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Final

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from cervixwatch.access.principal import Scope, scope_of
from cervixwatch.app import bulk_export
from cervixwatch.app.exporting import RESOURCE_TYPES
from cervixwatch.settings import Settings
from cervixwatch.web.access import CLINICIANS, ClinicalList, PrincipalDep, SignedIn, allow
from cervixwatch.web.deps import ProfilesDep, SessionsDep, SettingsDep
from cervixwatch.web.fhir.http import FhirError, FhirRoute, fhir_base, fhir_response

router = APIRouter(route_class=FhirRoute, tags=["FHIR R4 Bulk Data"])

NDJSON: Final = "application/fhir+ndjson"
#: `_outputFormat` values the IG says a server should take as NDJSON.
_OUTPUT_FORMATS: Final = frozenset({NDJSON, "application/ndjson", "ndjson"})
_PARAMETERS: Final = frozenset({"_outputFormat", "_type", "_since", "_format", "_pretty"})
#: Seconds a client is asked to wait between polls while the export runs.
RETRY_AFTER_SECONDS: Final = 2


def export_root(settings: Settings) -> Path:
    """Where exports are written (`export_dir`, else the system's temporary directory)."""
    if settings.export_dir is not None:
        return settings.export_dir
    return Path(tempfile.gettempdir()) / "cervixwatch-exports"


def _types(values: list[str]) -> frozenset[str] | None:
    if not values:
        return None
    types = {t.strip() for value in values for t in value.split(",") if t.strip()}
    unknown = sorted(types - set(RESOURCE_TYPES))
    if unknown:
        raise FhirError(
            400,
            f"_type: {', '.join(unknown)} is not a resource type this server exports "
            f"({', '.join(RESOURCE_TYPES)})",
            "not-supported",
            expression="_type",
        )
    return frozenset(types)


def _since(values: list[str]) -> dt.datetime | None:
    if not values:
        return None
    text = values[-1]
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise FhirError(
            400,
            f"_since={text!r}: expected an instant with its time zone "
            "(2026-01-31T09:00:00Z or 2026-01-31T09:00:00+01:00)",
            "value",
            expression="_since",
        )
    return moment


def _kick_off(
    request: Request,
    items: list[tuple[str, str]],
    scope: Scope,
    owner: str,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    settings: Settings,
) -> Response:
    """Check the request as the IG asks, start the job and answer 202 with its status URL."""
    prefer = request.headers.get("prefer", "")
    if "respond-async" not in {p.strip().lower() for p in prefer.replace(";", ",").split(",")}:
        raise FhirError(
            400, "$export needs the header 'Prefer: respond-async'", "required", expression="Prefer"
        )
    params: dict[str, list[str]] = {}
    for key, value in items:
        if key not in _PARAMETERS:
            raise FhirError(
                400,
                f"$export: unsupported parameter {key!r} "
                f"(supported: {', '.join(sorted(_PARAMETERS))})",
                "not-supported",
                expression=key,
            )
        params.setdefault(key, []).append(value)
    for fmt in params.get("_outputFormat", []):
        if fmt not in _OUTPUT_FORMATS:
            raise FhirError(
                400,
                f"_outputFormat={fmt!r}: only NDJSON is written "
                f"({', '.join(sorted(_OUTPUT_FORMATS))})",
                "not-supported",
                expression="_outputFormat",
            )
    wanted = bulk_export.ExportRequest(
        owner=owner,
        scope=scope,
        request=str(request.url),
        types=_types(params.get("_type", [])),
        since=_since(params.get("_since", [])),
    )
    root = export_root(settings)
    bulk_export.sweep(root)
    job_id = str(request.scope.get("state", {}).get("request_id", ""))
    bulk_export.start(
        root,
        job_id,
        sessions,
        wanted,
        profiles=profiles,
        expire_after=dt.timedelta(hours=settings.export_expire_hours),
    )
    status_url = f"{fhir_base(request)}/$export-status/{job_id}"
    return Response(status_code=202, headers={"Content-Location": status_url})


_KICK_OFF: dict[int | str, dict[str, Any]] = {
    202: {"description": "Accepted: poll the Content-Location URL"},
    400: {"description": "Bad request (OperationOutcome)"},
}


async def _items(request: Request) -> list[tuple[str, str]]:
    """The kick-off's parameters: the query's, and a POSTed Parameters resource's (each
    `valueString`, `valueCode` or `valueInstant`)."""
    items = list(request.query_params.multi_items())
    if request.method != "POST":
        return items
    body = await request.body()
    try:
        resource = orjson.loads(body) if body.strip() else None
    except orjson.JSONDecodeError as error:
        raise FhirError(400, f"not valid JSON: {error}", "invalid") from None
    if resource is None:
        return items
    if not isinstance(resource, dict) or resource.get("resourceType") != "Parameters":
        raise FhirError(400, "expected a Parameters resource (or no body)", "structure")
    for i, parameter in enumerate(resource.get("parameter") or []):
        value = None
        if isinstance(parameter, dict):
            value = next(
                (parameter[k] for k in _VALUE_KEYS if isinstance(parameter.get(k), str)), None
            )
        if value is None or not isinstance(parameter.get("name"), str):
            raise FhirError(
                400,
                "each parameter needs a name and a valueString, valueCode or valueInstant",
                "structure",
                expression=f"Parameters.parameter[{i}]",
            )
        items.append((parameter["name"], value))
    return items


_VALUE_KEYS: Final = ("valueString", "valueCode", "valueInstant")


@router.get(
    "/$export",
    summary="Bulk Data export of every woman you may see (POST: a Parameters resource)",
    responses=_KICK_OFF,
)
@router.post(
    "/$export",
    summary="Bulk Data export of every woman you may see (POST: a Parameters resource)",
    responses=_KICK_OFF,
)
@allow(ClinicalList(audit_action="export"))
async def system_export(
    request: Request,
    principal: PrincipalDep,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    settings: SettingsDep,
) -> Response:
    items = await _items(request)
    scope = scope_of(principal)
    return await run_in_threadpool(
        _kick_off, request, items, scope, principal.user_id, sessions, profiles, settings
    )


@router.get(
    "/Patient/$export",
    summary="Bulk Data export of your care teams' women (POST: a Parameters resource)",
    responses=_KICK_OFF,
)
@router.post(
    "/Patient/$export",
    summary="Bulk Data export of your care teams' women (POST: a Parameters resource)",
    responses=_KICK_OFF,
)
@allow(ClinicalList(audit_action="export"))
async def patient_export(
    request: Request,
    principal: PrincipalDep,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    settings: SettingsDep,
) -> Response:
    items = await _items(request)
    # A SMART token allowed here by a `patient/` scope exports its launch patient alone.
    scope = scope_of(principal)
    return await run_in_threadpool(
        _kick_off, request, items, scope, principal.user_id, sessions, profiles, settings
    )


@router.get(
    "/Group/{team_id}/$export",
    summary="Bulk Data export of one of your care teams (the Group's id is the team's)",
    responses={**_KICK_OFF, 404: {"description": "Not one of your care teams"}},
)
@router.post(
    "/Group/{team_id}/$export",
    summary="Bulk Data export of one of your care teams (the Group's id is the team's)",
    responses={**_KICK_OFF, 404: {"description": "Not one of your care teams"}},
)
@allow(ClinicalList(audit_action="export"))
async def group_export(
    request: Request,
    team_id: str,
    principal: PrincipalDep,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    settings: SettingsDep,
) -> Response:
    if team_id not in principal.team_ids or principal.only_patient_id is not None:
        # The same answer for another team's id as for none: ids cannot be probed.
        raise FhirError(404, f"no Group/{team_id}", "not-found")
    items = await _items(request)
    scope = Scope(frozenset({team_id}))
    return await run_in_threadpool(
        _kick_off, request, items, scope, principal.user_id, sessions, profiles, settings
    )


def _manifest(request: Request, job_id: str, written: dict[str, Any]) -> dict[str, Any]:
    """The complete status: the written manifest with the files' absolute URLs."""
    base = f"{fhir_base(request)}/$export-files/{job_id}"
    return {
        "transactionTime": written["transactionTime"],
        "request": written["request"],
        "requiresAccessToken": True,
        "output": [
            {"type": o["type"], "url": f"{base}/{o['type']}.ndjson", "count": o["count"]}
            for o in written.get("output", [])
        ],
        "error": [],
    }


@router.get("/$export-status/{job_id}", summary="Bulk Data export status (poll)")
@allow(SignedIn(CLINICIANS))
def export_status(
    request: Request, job_id: str, principal: PrincipalDep, settings: SettingsDep
) -> Response:
    root = export_root(settings)
    bulk_export.sweep(root)
    job = bulk_export.status(root, job_id, principal.user_id)
    if job.state == "running":
        return Response(
            status_code=202,
            headers={
                "X-Progress": f"{job.done} of {job.total} women",
                "Retry-After": str(RETRY_AFTER_SECONDS),
            },
        )
    if job.state == "failed":
        raise FhirError(500, job.error or "the export failed", "exception")
    assert job.manifest is not None
    assert job.expires is not None
    return fhir_response(
        request,
        _manifest(request, job_id, job.manifest),
        headers={"Expires": format_datetime(job.expires, usegmt=True)},
        media_type="application/json",
    )


@router.delete("/$export-status/{job_id}", summary="Cancel a Bulk Data export, deleting its files")
@allow(SignedIn(CLINICIANS, audit_action="export-cancel"))
def export_cancel(job_id: str, principal: PrincipalDep, settings: SettingsDep) -> Response:
    bulk_export.cancel(export_root(settings), job_id, principal.user_id)
    return Response(status_code=202)


@router.get(
    "/$export-files/{job_id}/{resource_type}.ndjson",
    summary="One NDJSON file of a complete Bulk Data export (to the account that asked)",
)
@allow(SignedIn(CLINICIANS, audit_action="export"))
def export_file(
    job_id: str, resource_type: str, principal: PrincipalDep, settings: SettingsDep
) -> Response:
    path = bulk_export.export_file(export_root(settings), job_id, principal.user_id, resource_type)
    return FileResponse(path, media_type=NDJSON)
