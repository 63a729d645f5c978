"""The versions of a resource (issue 11, part 4): `GET /{type}/{id}/_history` (a history
Bundle, newest first; `_since`, `_count`) and `GET /{type}/{id}/_history/{vid}` (vread).

Who may ask: whoever may read the resource (a resource since deleted: whoever may read its
woman's records); each request is audited as a read. The versions are `app.versions`'.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from cervixwatch.app.exporting import RESOURCE_TYPES
from cervixwatch.app.version_meta import VERSIONED_TYPES, instant
from cervixwatch.app.versions import (
    HistoryEntry,
    instance_history,
    owner_of_versions,
    read_version,
)
from cervixwatch.web.access import PatientData, allow
from cervixwatch.web.deps import SessionsDep, SettingsDep
from cervixwatch.web.fhir.http import (
    FHIR_JSON,
    FhirError,
    FhirRoute,
    fhir_base,
    fhir_response,
    query_params,
    whole_number,
)

router = APIRouter(route_class=FhirRoute, tags=["FHIR R4"])

_OUTCOME: dict[str, Any] = {"content": {FHIR_JSON: {"schema": {"type": "object"}}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "A FHIR resource", **_OUTCOME},
    400: {"description": "Bad request (OperationOutcome)", **_OUTCOME},
    404: {"description": "Not found (OperationOutcome)", **_OUTCOME},
    406: {"description": "Only JSON is served (OperationOutcome)", **_OUTCOME},
}


def locate_versions(session: Session, params: Mapping[str, str]) -> str | None:
    """The woman whose resource's versions are asked for (for the access policy)."""
    resource_type, resource_id = params.get("resource_type", ""), params.get("resource_id", "")
    if resource_type not in VERSIONED_TYPES:
        served = resource_type in RESOURCE_TYPES
        raise FhirError(
            404,
            f"{resource_type} resources have no versions on this server"
            if served
            else f"{resource_type!r} is not a resource type this server serves",
            "not-supported",
        )
    return owner_of_versions(session, resource_type, resource_id)


def since_instant(text: str) -> dt.datetime:
    """`_since`: a FHIR instant (a dateTime with its zone), or a day (from its start, UTC)."""
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), dt.UTC)
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if when.tzinfo is None:
            raise ValueError(text)
    except ValueError:
        raise FhirError(
            400,
            f"_since={text!r}: expected an instant with its time zone "
            "(2026-03-02T07:15:00Z) or a day (2026-03-02)",
            "value",
            expression="_since",
        ) from None
    return when


_CHANGES = {
    "create": ("POST", "201 Created"),
    "update": ("PUT", "200 OK"),
    "delete": ("DELETE", "204 No Content"),
}


def history_entry(base: str, kind: str, resource_id: str, entry: HistoryEntry) -> dict[str, Any]:
    """A history Bundle's entry: the version (none for a deletion), the request that made it
    and its response (R4 3.1.0.11.2: `request` and `response` in every entry)."""
    method, status = _CHANGES[entry.change]
    out: dict[str, Any] = {"fullUrl": f"{base}/{kind}/{resource_id}"}
    if entry.resource is not None:
        out["resource"] = entry.resource
    out["request"] = {
        "method": method,
        "url": kind if method == "POST" else f"{kind}/{resource_id}",
    }
    out["response"] = {
        "status": status,
        "etag": entry.version.etag,
        "lastModified": instant(entry.version.last_updated),
    }
    return out


@router.get(
    "/{resource_type}/{resource_id}/_history",
    summary="Every version of a resource, newest first (a history Bundle)",
    responses=_RESPONSES,
)
@allow(PatientData("read", locate_versions))
def history(
    request: Request,
    resource_type: str,
    resource_id: str,
    sessions: SessionsDep,
    settings: SettingsDep,
) -> Response:
    params = query_params(request, frozenset({"_since", "_count", "_offset"}), "history")
    since = since_instant(params["_since"][-1]) if "_since" in params else None
    count = whole_number(
        params.get("_count"), "_count", settings.page_size, 1, settings.max_page_size
    )
    offset = whole_number(params.get("_offset"), "_offset", 0, 0, 10**9)
    with sessions() as session:
        entries = instance_history(session, resource_type, resource_id, since=since)
    base = fhir_base(request)
    here = f"{base}/{resource_type}/{resource_id}/_history"
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("_offset",)]
    links = [{"relation": "self", "url": f"{here}?{urlencode(kept)}".rstrip("?")}]
    if offset + count < len(entries):
        following = [(k, v) for k, v in kept if k != "_count"]
        following += [("_count", str(count)), ("_offset", str(offset + count))]
        links.append({"relation": "next", "url": f"{here}?{urlencode(following)}"})
    page = entries[offset : offset + count]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "history",
        "total": len(entries),
        "link": links,
    }
    if page:  # no empty arrays in FHIR JSON
        bundle["entry"] = [history_entry(base, resource_type, resource_id, e) for e in page]
    return fhir_response(request, bundle)


@router.get(
    "/{resource_type}/{resource_id}/_history/{version_id}",
    summary="A resource as it was at a version (vread)",
    responses={**_RESPONSES, 410: {"description": "Deleted (OperationOutcome)", **_OUTCOME}},
)
@allow(PatientData("read", locate_versions))
def vread(
    request: Request,
    resource_type: str,
    resource_id: str,
    version_id: str,
    sessions: SessionsDep,
) -> Response:
    query_params(request, frozenset(), "vread")
    with sessions() as session:
        resource = read_version(session, resource_type, resource_id, version_id)
    return fhir_response(request, resource)
