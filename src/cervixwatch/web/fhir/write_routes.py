"""The FHIR R4 write interactions: transaction and batch Bundles at the base URL, and create
(POST), update (PUT, by id or by condition) and delete (DELETE) of one resource.

Every write is one import (`app.importing.import_bundle`): an instance interaction is a
transaction of one entry, a batch is a transaction per entry. Conditions (`ifNoneExist`,
`If-None-Exist`, `PUT Type?search`, conditional references) are resolved first
(`conditional.resolve`) against what the caller may see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any, Final
from urllib.parse import parse_qsl, urlencode

import orjson
from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from cervixwatch.access.principal import Principal, Scope, scope_of
from cervixwatch.app.assessment_fhir import Profiles
from cervixwatch.app.exporting import (
    RESOURCE_TYPES,
    owner_of_resource,
    read_resource,
    search,
)
from cervixwatch.app.importing import (
    EntryResult,
    Imported,
    InvalidBundle,
    import_bundle,
)
from cervixwatch.app.patient_identity import Sender
from cervixwatch.interop.fhir_entries import UnreadableBundle, bundle_entries, load_bundle
from cervixwatch.settings import Settings
from cervixwatch.web.access import (
    ClinicalList,
    PatientData,
    PrincipalDep,
    allow,
    audit_patient,
)
from cervixwatch.web.audit import entry_for, recorded_by_route
from cervixwatch.web.deps import (
    ProfilesDep,
    SessionsDep,
    SettingsDep,
    TodayDep,
)
from cervixwatch.web.fhir.conditional import Resolved, resolve
from cervixwatch.web.fhir.http import (
    FHIR_JSON,
    FORMAT_PARAMS,
    FhirError,
    FhirRoute,
    as_fhir_error,
    fhir_base,
    fhir_response,
    outcome,
    query_params,
    response_media_type,
)
from cervixwatch.web.fhir.metadata import SEARCH_PARAMS, WRITABLE, search_params
from cervixwatch.web.fhir.search_criteria import criteria_of

router = APIRouter(route_class=FhirRoute, tags=["FHIR R4"])

#: Search parameters that shape a result, not what matches: not conditions.
_RESULT_PARAMS: Final = frozenset(
    {"_count", "_offset", "_summary", "_elements", "_include", "_revinclude", "_sort"}
)

_OUTCOME: dict[str, Any] = {"content": {FHIR_JSON: {"schema": {"type": "object"}}}}
_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "Not a resource or Bundle that can be read (OperationOutcome)",
        **_OUTCOME,
    },
    403: {"description": "Another care team's woman (OperationOutcome)", **_OUTCOME},
    404: {"description": "A condition or reference names nothing (OperationOutcome)", **_OUTCOME},
    405: {"description": "Not writable here (OperationOutcome)", **_OUTCOME},
    409: {"description": "Conflicts with stored data (OperationOutcome)", **_OUTCOME},
    412: {"description": "A condition matches several, or If-Match fails", **_OUTCOME},
    413: {"description": "Body too large (OperationOutcome)", **_OUTCOME},
    415: {"description": "Not JSON (OperationOutcome)", **_OUTCOME},
    422: {"description": "A record cannot be imported (OperationOutcome)", **_OUTCOME},
}
_JSON_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            FHIR_JSON: {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


def check_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and not (
        content_type.endswith(("/json", "+json")) or content_type == "application/json+fhir"
    ):
        raise FhirError(
            415,
            f"Content-Type {content_type!r}: send FHIR JSON (application/fhir+json)",
            "not-supported",
        )


def sender_of(principal: Principal, settings: Settings) -> Sender:
    """Who sends a Patient: the account the request acts for (an integration's, through its
    token, or a clinician's), and the installation's hospital-number system."""
    return Sender(f"user:{principal.user_id}", settings.hospital_number_system)


# --- conditions ----------------------------------------------------------------------------------


def finder(sessions: sessionmaker[Session], scope: Scope) -> Callable[[str, str], list[str]]:
    """`find(type, query)`: the ids of the resources of `type` the search `query` matches
    (at most two: one or several is all a condition asks), among those `scope` may see."""

    def find(kind: str, query: str) -> list[str]:
        if kind not in RESOURCE_TYPES:
            raise FhirError(
                400, f"{kind}?{query}: {kind!r} is not a resource type this server serves"
            )
        allowed = {name for name, _, _ in search_params(kind)} - _RESULT_PARAMS
        params: dict[str, list[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            if name not in allowed:
                raise FhirError(
                    400,
                    f"{kind}?{query}: {name!r} is not a search parameter a condition may use "
                    f"({', '.join(sorted(allowed))})",
                    "not-supported",
                )
            params.setdefault(name, []).append(value)
        if not params:
            raise FhirError(400, f"{kind}?{query}: a condition needs a search parameter")
        found = search(sessions, kind, criteria_of(kind, params), count=2, scope=scope, total=False)
        return [str(r["id"]) for r in found.resources]

    return find


# --- transactions -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Done:
    """A transaction run: what the import did, and what its conditions found."""

    imported: Imported | None
    resolved: Resolved


@dataclass(frozen=True, slots=True)
class Writer:
    """What every write needs of its request: who asks, the database, the profiles, today."""

    request: Request
    sessions: sessionmaker[Session]
    profiles: Profiles
    today: dt.date
    principal: Principal
    settings: Settings

    def run(self, bundle: Mapping[str, Any]) -> Done:
        """`run_transaction` for this request (call in a worker thread)."""
        return run_transaction(
            self.request,
            bundle,
            sessions=self.sessions,
            profiles=self.profiles,
            today=self.today,
            principal=self.principal,
            settings=self.settings,
        )

    async def write_one(self, entry: dict[str, Any]) -> Done:
        """One entry (a create, update or delete) as a transaction of its own."""
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}
        done = await run_in_threadpool(self.run, bundle)
        recorded_by_route(self.request, 200)
        if done.imported is not None:
            audit_patient(self.request, done.imported.patient_id)
        return done

    async def write_resource(self, resource_type: str, wanted: dict[str, Any]) -> Response:
        """Create or update from the request's body as `wanted` (its `request`) says, and
        answer with what was stored (`_single_answer`)."""
        resource = await _resource(self.request)
        done = await self.write_one({"resource": resource, "request": wanted})
        return _single_answer(self.request, done, resource_type, self.sessions, self.profiles)


async def _writer(
    request: Request,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> Writer:
    return Writer(request, sessions, profiles, today, principal, settings)


WriterDep = Annotated[Writer, Depends(_writer)]


def _load(raw: bytes) -> dict[str, Any]:
    try:
        return load_bundle(raw)
    except UnreadableBundle as error:
        raise InvalidBundle(str(error), expression=error.path, code=error.code) from None


def run_transaction(
    request: Request,
    bundle: Mapping[str, Any],
    *,
    sessions: sessionmaker[Session],
    profiles: Profiles,
    today: dt.date,
    principal: Principal,
    settings: Settings,
) -> Done:
    """Resolve the Bundle's conditions, then import what is left, all or nothing (in a
    worker thread: it reads and writes the database)."""
    scope = scope_of(principal)
    try:
        bundle_entries(bundle)  # its structure, before its conditions are looked up
    except UnreadableBundle as error:
        raise InvalidBundle(str(error), expression=error.path, code=error.code) from None
    resolved = resolve(bundle, finder(sessions, scope))
    if not resolved.bundle["entry"] and resolved.matched:
        return Done(None, resolved)  # every entry found already stored: nothing to write
    imported = import_bundle(
        sessions,
        resolved.bundle,
        today=today,
        profiles=profiles,
        sender=sender_of(principal, settings),
        scope=scope,
        new_patient_teams=principal.team_ids,
        # Recorded in the import's own transaction: one commit, and no import without it.
        audit=entry_for(request, 200),
        if_match=resolved.if_match,
    )
    return Done(imported, resolved)


def _summary(imported: Imported) -> str:
    codes = "; ".join(
        f"{guideline}: {', '.join(found) or 'no recommendation'}"
        for guideline, found in imported.assessment.codes.items()
    )
    return (
        f"Patient/{imported.patient_id}: {imported.received} record(s) received, "
        f"{imported.created} stored new, {imported.updated} updated, "
        f"{imported.unchanged} already stored, {imported.removed} removed. "
        f"Assessed on {imported.assessment.as_of}: {codes}."
    )


def _not_kept(entry: EntryResult) -> str:
    why = entry.note or (
        "holds nothing CervixWatch records (or was entered in error, or has ended)"
        if entry.carries_records
        else f"CervixWatch keeps no {entry.resource_type} resources"
    )
    return f"{entry.resource_type} (entry {entry.index}): not kept: {why}"


def entry_response(entry: EntryResult) -> dict[str, Any]:
    """One entry's `response`: 201 created, 200 there already (updated or unchanged), 204
    deleted, with its location; an entry not kept says why."""
    if entry.deleted:
        return {"status": "204 No Content"}
    response: dict[str, Any] = {"status": "201 Created" if entry.created else "200 OK"}
    if entry.location:
        response["location"] = entry.location
    else:
        response["outcome"] = outcome(_not_kept(entry), "informational", "information")
    return response


def transaction_response(done: Done) -> dict[str, Any]:
    """A transaction-response Bundle: one entry per entry sent, in order, each with its
    location on this server (when it is kept); the first says what the import did."""
    by_place: dict[int, dict[str, Any]] = {
        place: {"status": "200 OK", "location": location}
        for place, location in done.resolved.matched.items()
    }
    if done.imported is not None:
        for place, entry in zip(done.resolved.kept, done.imported.entries, strict=True):
            by_place[place] = entry_response(entry)
    entries = [{"response": by_place[place]} for place in sorted(by_place)]
    if done.imported is not None and entries:
        first = entries[0]["response"]
        first["outcome"] = outcome(_summary(done.imported), "informational", "information")
    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "entry": entries,
    }


def _batch_response(
    bundle: Mapping[str, Any], run: Callable[[Mapping[str, Any]], Done]
) -> dict[str, Any]:
    """A batch: each entry its own transaction, answered on its own (R4: entries of a batch
    do not depend on each other, and one failing leaves the others)."""
    entries = []
    for index, entry in enumerate(bundle.get("entry") or ()):
        one = {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}
        try:
            if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
                raise FhirError(
                    400,
                    f"Bundle.entry[{index}].request: a batch entry needs its request "
                    "(method and url)",
                    "required",
                    expression=f"Bundle.entry[{index}].request",
                )
            if entry["request"].get("method") in ("GET", "HEAD", "PATCH"):
                raise FhirError(
                    405,
                    f"Bundle.entry[{index}].request.method: {entry['request']['method']} in a "
                    "batch is not supported here; read and search at their own URLs",
                    "not-supported",
                )
            done = run(one)
            answered = transaction_response(done)["entry"][0]
        except Exception as error:
            fhir = as_fhir_error(error)
            if fhir is None:
                raise
            answered = {
                "response": {
                    "status": f"{fhir.status} {HTTPStatus(fhir.status).phrase}",
                    "outcome": _renumbered(fhir.outcome, index),
                }
            }
        entries.append(answered)
    return {
        "resourceType": "Bundle",
        "type": "batch-response",
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "entry": entries,
    }


def _renumbered(operation_outcome: Mapping[str, Any], index: int) -> dict[str, Any]:
    """An entry's outcome as the batch numbers it: its one-entry transaction's `entry[0]` is
    the batch's `entry[index]`."""
    text = orjson.dumps(operation_outcome).decode()
    text = text.replace("Bundle.entry[0]", f"Bundle.entry[{index}]")
    renumbered: dict[str, Any] = orjson.loads(text.replace("(entry 0)", f"(entry {index})"))
    return renumbered


@router.post(
    "",
    summary="A transaction (all or nothing), batch (each entry alone) or collection Bundle",
    responses={200: {"description": "transaction-response or batch-response"}, **_WRITE_ERRORS},
    openapi_extra=_JSON_BODY,
)
@allow(ClinicalList(audit_action="import", writes=True))
async def transaction(request: Request, writer: WriterDep) -> Response:
    query_params(request, frozenset(), "transaction")
    media_type = response_media_type(request)
    check_content_type(request)
    bundle = _load(await request.body())
    if bundle.get("type") == "batch":
        answer = await run_in_threadpool(_batch_response, bundle, writer.run)
        recorded_by_route(request, 200)
        return fhir_response(request, answer, media_type=media_type)
    done = await run_in_threadpool(writer.run, bundle)
    recorded_by_route(request, 200)
    if done.imported is not None:
        audit_patient(request, done.imported.patient_id)
    return fhir_response(request, transaction_response(done), media_type=media_type)


router.add_api_route(
    "/", transaction, methods=["POST"], include_in_schema=False, response_model=None
)


# --- one resource --------------------------------------------------------------------------------


def locate_written(session: Session, params: Mapping[str, str]) -> str | None:
    """The woman `/{resource_type}/{resource_id}` belongs to (for the access policy: an update
    or delete of another team's record is answered as a record that is not there)."""
    resource_type, resource_id = params.get("resource_type", ""), params.get("resource_id", "")
    return owner_of_resource(session, resource_type, resource_id)


def _writable(resource_type: str) -> None:
    if resource_type not in WRITABLE:
        if (
            resource_type in RESOURCE_TYPES
            or resource_type in SEARCH_PARAMS
            or (resource_type == "AuditEvent")
        ):
            raise FhirError(
                405,
                f"{resource_type} is CervixWatch's own (its assessment, its definitions, its "
                "audit log): read it; it is not written by clients",
                "not-supported",
                headers={"Allow": "GET"},
            )
        raise FhirError(
            404,
            f"{resource_type!r} is not a resource type this server serves "
            f"({', '.join(RESOURCE_TYPES)})",
            "not-supported",
        )


async def _resource(request: Request) -> dict[str, Any]:
    check_content_type(request)
    raw = await request.body()
    try:
        resource = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise FhirError(400, f"not valid JSON: {error}", "invalid") from None
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        raise FhirError(400, "expected a FHIR resource: a JSON object with a resourceType")
    return resource


def _prefer_return(request: Request) -> str:
    """`Prefer: return=minimal | representation | OperationOutcome` (representation when
    not said)."""
    for part in request.headers.get("prefer", "").replace(";", ",").split(","):
        name, _, value = part.strip().partition("=")
        if name.lower() == "return" and value in ("minimal", "representation", "OperationOutcome"):
            return value
    return "representation"


def _single_answer(
    request: Request,
    done: Done,
    resource_type: str,
    sessions: sessionmaker[Session],
    profiles: Profiles,
) -> Response:
    """The answer to a create or update: 201 (created) or 200, `Location` with the version,
    `ETag`, and the resource as stored (or less, as `Prefer` asks)."""
    if done.resolved.matched:
        location, status = next(iter(done.resolved.matched.values())), 200
        summary = f"{location}: already stored (If-None-Exist matched it); nothing created"
    else:
        assert done.imported is not None
        entry = done.imported.entries[0]
        if entry.location is None:
            raise FhirError(422, _not_kept(entry), "processing")
        location, status = entry.location, 201 if entry.created else 200
        summary = _summary(done.imported)
    kind, _, rid = location.partition("/")
    resource = read_resource(sessions, kind, rid, profiles=profiles)
    version = (resource.get("meta") or {}).get("versionId")
    where = f"{fhir_base(request)}/{location}" + (f"/_history/{version}" if version else "")
    headers = {"Location": where, "Content-Location": where}
    prefer = _prefer_return(request)
    if prefer == "minimal":
        response = fhir_response(request, resource, status, headers)
        return Response(
            status_code=status,
            headers={k: v for k, v in response.headers.items() if k.lower() != "content-length"},
        )
    if prefer == "OperationOutcome":
        body = outcome(summary, "informational", "information")
        answer = fhir_response(request, resource, status, headers)
        etag = {k: v for k, v in answer.headers.items() if k.lower() in ("etag", "last-modified")}
        return fhir_response(request, body, status, {**headers, **etag})
    return fhir_response(request, resource, status, headers)


@router.post(
    "/{resource_type}",
    summary="Create a resource (If-None-Exist: a conditional create)",
    responses={201: {"description": "Created"}, **_WRITE_ERRORS},
    openapi_extra=_JSON_BODY,
)
@allow(ClinicalList(audit_action="import", writes=True))
async def create(request: Request, resource_type: str, writer: WriterDep) -> Response:
    _writable(resource_type)
    wanted: dict[str, Any] = {"method": "POST", "url": resource_type}
    # The condition in If-None-Exist (R4), or, as some clients send it (fhirpy's
    # get_or_create), as the query of the POST.
    if condition := request.headers.get("if-none-exist") or _query(request):
        wanted["ifNoneExist"] = condition.removeprefix(f"{resource_type}?").lstrip("?")
    return await writer.write_resource(resource_type, wanted)


def _if_match(request: Request, wanted: dict[str, Any]) -> dict[str, Any]:
    """An update's entry `request`, with the `If-Match` header (if sent) as its `ifMatch`."""
    if if_match := request.headers.get("if-match"):
        return {**wanted, "ifMatch": if_match}
    return wanted


def _query(request: Request) -> str:
    """The request's search parameters (not the format ones), as a query string."""
    return urlencode(
        [(k, v) for k, v in request.query_params.multi_items() if k not in FORMAT_PARAMS]
    )


@router.put(
    "/{resource_type}/{resource_id}",
    summary="Update a resource by its id (If-Match: only that version)",
    responses={200: {"description": "Updated"}, **_WRITE_ERRORS},
    openapi_extra=_JSON_BODY,
)
# As a transaction: the id is looked for among the women the caller may see, so another
# team's record is answered as one that is not here (405, ids being this server's).
@allow(ClinicalList(audit_action="import", writes=True))
async def update(
    request: Request, resource_type: str, resource_id: str, writer: WriterDep
) -> Response:
    _writable(resource_type)
    query_params(request, frozenset(), "update")
    wanted: dict[str, Any] = {"method": "PUT", "url": f"{resource_type}/{resource_id}"}
    return await writer.write_resource(resource_type, _if_match(request, wanted))


@router.put(
    "/{resource_type}",
    summary="Conditional update: PUT Type?search (one match updated, none created)",
    responses={200: {"description": "Updated"}, **_WRITE_ERRORS},
    openapi_extra=_JSON_BODY,
)
@allow(ClinicalList(audit_action="import", writes=True))
async def conditional_update(request: Request, resource_type: str, writer: WriterDep) -> Response:
    _writable(resource_type)
    query = _query(request)
    if not query:
        raise FhirError(
            405,
            f"PUT {resource_type} needs an id (PUT {resource_type}/[id]) or a condition "
            f"(PUT {resource_type}?identifier=...)",
            "not-supported",
            headers={"Allow": "GET, POST, PUT"},
        )
    wanted: dict[str, Any] = {"method": "PUT", "url": f"{resource_type}?{query}"}
    return await writer.write_resource(resource_type, _if_match(request, wanted))


@router.delete(
    "/{resource_type}/{resource_id}",
    summary="Delete a record by its id",
    responses={204: {"description": "Deleted"}, **_WRITE_ERRORS},
)
@allow(PatientData("write", locate_written, audit_action="import"))
async def delete(
    request: Request, resource_type: str, resource_id: str, writer: WriterDep
) -> Response:
    _writable(resource_type)
    query_params(request, frozenset(), "delete")
    if resource_type == "Patient":
        raise FhirError(
            405,
            "a woman is not deleted through the FHIR API (her record is kept); correct her "
            "Patient with PUT",
            "not-supported",
            headers={"Allow": "GET, PUT"},
        )
    await writer.write_one(
        {"request": {"method": "DELETE", "url": f"{resource_type}/{resource_id}"}}
    )
    return Response(status_code=204)


__all__ = ["WRITABLE", "router", "sender_of", "transaction_response"]
