"""The FHIR R4 interactions: capabilities, transaction (import), read, search, `$everything`.

Routes parse the request, call one use case (`app.importing`, `app.exporting`) and shape the
answer; `http.FhirRoute` turns every refusal into an OperationOutcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from cervixwatch.access.principal import Role, Scope, scope_of
from cervixwatch.app.assessment_fhir import Profiles
from cervixwatch.app.corrections import entered_in_error_version
from cervixwatch.app.errors import NotFound
from cervixwatch.app.exporting import (
    RESOURCE_TYPES,
    Criteria,
    everything,
    owner_of_resource,
    patients_by_id,
    read_resource,
    search,
    searchset,
)
from cervixwatch.app.patient_match import match_bundle
from cervixwatch.app.versions import Deleted, owner_of_versions, was_deleted
from cervixwatch.settings import Settings
from cervixwatch.web.access import (
    PUBLIC,
    ClinicalList,
    PatientData,
    PrincipalDep,
    ScopeDep,
    allow,
    by_patient,
)
from cervixwatch.web.deps import ProfilesDep, SessionsDep, SettingsDep, TodayDep
from cervixwatch.web.fhir.audit_routes import router as audit_router
from cervixwatch.web.fhir.definition_routes import router as definition_router
from cervixwatch.web.fhir.http import (
    ALL_METHODS,
    FHIR_JSON,
    FORMAT_PARAMS,
    FhirError,
    FhirRoute,
    fhir_base,
    fhir_response,
    outcome,
    query_params,
    response_media_type,
    whole_number,
)
from cervixwatch.web.fhir.metadata import (
    INCLUDES,
    REVINCLUDES,
    capability_statement,
    search_params,
)
from cervixwatch.web.fhir.search_criteria import criteria_of, values_of
from cervixwatch.web.fhir.write_routes import check_content_type, sender_of
from cervixwatch.web.smart_discovery import smart_base

router = APIRouter(route_class=FhirRoute, tags=["FHIR R4"])
# The audit log's AuditEvent routes come before the generic `/{resource_type}` ones.
router.include_router(audit_router)
router.include_router(definition_router)

#: Parameters any interaction accepts (they shape the answer, not what it holds).
_PAGING_PARAMS = frozenset({"_count", "_offset"})

_OUTCOME: dict[str, Any] = {"content": {FHIR_JSON: {"schema": {"type": "object"}}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Bad request (OperationOutcome)", **_OUTCOME},
    404: {"description": "Not found (OperationOutcome)", **_OUTCOME},
    406: {"description": "Only JSON is served (OperationOutcome)", **_OUTCOME},
}
_IMPORT_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    409: {"description": "Conflicts with stored data (OperationOutcome)", **_OUTCOME},
    413: {"description": "Body too large (OperationOutcome)", **_OUTCOME},
    415: {"description": "Not JSON (OperationOutcome)", **_OUTCOME},
    422: {"description": "A record cannot be imported (OperationOutcome)", **_OUTCOME},
}
_RESOURCE: dict[int | str, dict[str, Any]] = {200: {"description": "A FHIR resource", **_OUTCOME}}


def _check_type(resource_type: str) -> None:
    if resource_type not in RESOURCE_TYPES:
        raise FhirError(
            404,
            f"{resource_type!r} is not a resource type this server serves "
            f"({', '.join(RESOURCE_TYPES)})",
            "not-supported",
        )


def _not_allowed(request: Request, allowed: str, hint: str = "") -> FhirError:
    return FhirError(
        405,
        f"{request.method} {request.url.path} is not supported{hint}",
        "not-supported",
        headers={"Allow": allowed},
    )


def _refuse(path: str, allowed: str, hint: str = "") -> None:
    methods = [m for m in ALL_METHODS if m not in allowed.split(", ")]

    # Public: it answers 405 from the path alone, whatever is stored.
    @allow(PUBLIC)
    def refuse(request: Request) -> Response:
        raise _not_allowed(request, allowed, hint)

    router.add_api_route(path, refuse, methods=methods, include_in_schema=False)


# --- capabilities -----------------------------------------------------------------------------


@router.get("/metadata", summary="CapabilityStatement", responses={**_RESOURCE, **_ERRORS})
@allow(PUBLIC)
def metadata(request: Request, today: TodayDep) -> Response:
    query_params(request, frozenset({"mode"}), "metadata")
    cors = bool(request.app.state.settings.cors_origins)
    statement = capability_statement(
        fhir_base(request), today, cors=cors, smart_base=smart_base(request)
    )
    return fhir_response(request, statement)


# --- transaction (import) ----------------------------------------------------------------------

_JSON_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            FHIR_JSON: {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


# --- $everything --------------------------------------------------------------------------------


def _everything(
    request: Request,
    patient_id: str,
    items: Sequence[tuple[str, str]],
    sessions: sessionmaker[Session],
    profiles: Profiles,
) -> dict[str, Any]:
    params, ignored = _parameters(request, items, frozenset({"_type"}), "$everything")
    types = None
    if "_type" in params:
        types = {t for values in values_of(params["_type"]) or [] for t in values}
        for kind in types:
            _check_type(kind)
    bundle = everything(
        sessions, patient_id, base=fhir_base(request), types=types, profiles=profiles
    )
    bundle["link"] = [{"relation": "self", "url": str(request.url)}]
    if ignored:
        note = outcome(
            f"$everything: ignored unknown or unsupported parameter(s) "
            f"{', '.join(repr(i) for i in dict.fromkeys(ignored))} (Prefer: handling=lenient)",
            "not-supported",
            "warning",
        )
        bundle.setdefault("entry", []).append({"resource": note, "search": {"mode": "outcome"}})
    return bundle


@router.get(
    "/Patient/{patient_id}/$everything",
    summary="Her Patient and every record of her current pregnancy (a searchset Bundle)",
    responses={**_RESOURCE, **_ERRORS},
)
@allow(PatientData("read", by_patient(), audit_action="export"))
def patient_everything(
    request: Request, patient_id: str, sessions: SessionsDep, profiles: ProfilesDep
) -> Response:
    items = request.query_params.multi_items()
    return fhir_response(request, _everything(request, patient_id, items, sessions, profiles))


def _parameters_resource(body: bytes) -> list[tuple[str, str]]:
    """The parameters of a POSTed operation: none (an empty body), or a Parameters resource's
    string-valued ones (`_type`)."""
    if not body.strip():
        return []
    try:
        resource = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise FhirError(400, f"not valid JSON: {error}", "invalid") from None
    if not isinstance(resource, dict) or resource.get("resourceType") != "Parameters":
        raise FhirError(400, "expected a Parameters resource (or no body)", "structure")
    items = []
    for i, parameter in enumerate(resource.get("parameter") or []):
        value = parameter.get("valueString", parameter.get("valueCode"))
        if not isinstance(parameter, dict) or not isinstance(value, str):
            raise FhirError(
                400,
                "each parameter needs a name and a valueString or valueCode",
                "structure",
                expression=f"Parameters.parameter[{i}]",
            )
        items.append((str(parameter.get("name")), value))
    return items


@router.post(
    "/Patient/{patient_id}/$everything",
    summary="$everything by POST (no body, or a Parameters resource with _type)",
    responses={**_RESOURCE, **_ERRORS},
)
@allow(PatientData("read", by_patient(), audit_action="export"))
async def patient_everything_post(
    request: Request, patient_id: str, sessions: SessionsDep, profiles: ProfilesDep
) -> Response:
    media_type = response_media_type(request)
    check_content_type(request)
    items = [*request.query_params.multi_items(), *_parameters_resource(await request.body())]
    bundle = await run_in_threadpool(_everything, request, patient_id, items, sessions, profiles)
    return fhir_response(request, bundle, media_type=media_type)


# --- Patient/$match ---------------------------------------------------------------------------


@router.post(
    "/Patient/$match",
    summary="Candidate matches for a Patient, with scores (a searchset Bundle)",
    responses={**_RESOURCE, **_ERRORS, 415: _IMPORT_ERRORS[415]},
    openapi_extra=_JSON_BODY,
)
@allow(ClinicalList())
async def patient_match(
    request: Request,
    sessions: SessionsDep,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> Response:
    query_params(request, frozenset(), "$match")
    media_type = response_media_type(request)
    check_content_type(request)
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        raise FhirError(400, f"not valid JSON: {error}", "invalid") from None
    if not isinstance(body, dict):
        raise FhirError(400, "expected a Parameters resource (a JSON object)", "structure")
    bundle = await run_in_threadpool(
        match_bundle,
        sessions,
        body,
        sender=sender_of(principal, settings),
        scope=scope_of(principal),
        base=fhir_base(request),
        max_count=settings.max_page_size,
    )
    return fhir_response(request, bundle, media_type=media_type)


# Before the read of `/{resource_type}/{resource_id}`, which a GET would otherwise reach.
_refuse("/Patient/$match", "POST")


# --- search and read -----------------------------------------------------------------------------


def locate_resource(session: Session, params: Mapping[str, str]) -> str | None:
    """The woman `/{resource_type}/{resource_id}` belongs to (for the access policy), or, a
    record deleted since, belonged to (so her team learns it is gone, and no one else)."""
    resource_type, resource_id = params.get("resource_type", ""), params.get("resource_id", "")
    _check_type(resource_type)  # an unknown type is said as such, to whoever is signed in
    owner = owner_of_resource(session, resource_type, resource_id)
    return owner if owner is not None else owner_of_versions(session, resource_type, resource_id)


def _lenient(request: Request) -> bool:
    """`Prefer: handling=lenient`: unknown parameters are ignored, and said so (strict, the
    default, refuses them)."""
    prefer = request.headers.get("prefer", "")
    return any(
        part.strip().lower() == "handling=lenient" for part in prefer.replace(";", ",").split(",")
    )


def _parameters(
    request: Request, items: Sequence[tuple[str, str]], allowed: frozenset[str], what: str
) -> tuple[dict[str, list[str]], list[str]]:
    """The parameters `items` holds, each with its values, and the unknown ones a lenient
    request ignored (a strict one is refused)."""
    params: dict[str, list[str]] = {}
    ignored: list[str] = []
    for key, value in items:
        if key in FORMAT_PARAMS:
            continue
        if key not in allowed:
            if _lenient(request):
                ignored.append(key)
                continue
            raise FhirError(
                400,
                f"{what}: unknown or unsupported parameter {key!r} "
                f"(supported: {', '.join(sorted(allowed | FORMAT_PARAMS))}); send "
                "'Prefer: handling=lenient' to have unknown parameters ignored",
                "not-supported",
                expression=key,
            )
        params.setdefault(key, []).append(value)
    return params, ignored


def _one_of(params: dict[str, list[str]], name: str, allowed: Sequence[str]) -> str | None:
    if name not in params:
        return None
    value = params[name][-1]
    if value not in allowed:
        raise FhirError(
            400, f"{name}={value!r}: expected {' or '.join(allowed)}", "value", expression=name
        )
    return value


def _elements(params: dict[str, list[str]]) -> list[str] | None:
    if "_elements" not in params:
        return None
    return [e.strip() for v in params["_elements"] for e in v.split(",") if e.strip()]


_SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
}


#: The elements of each type R4 makes mandatory, kept whatever `_elements` asks.
MANDATORY_ELEMENTS: Mapping[str, frozenset[str]] = {
    "Observation": frozenset({"status", "code"}),
    "Condition": frozenset({"subject"}),
    "Procedure": frozenset({"status", "subject"}),
    "MedicationRequest": frozenset({"status", "intent", "subject", "medicationCodeableConcept"}),
    "MedicationStatement": frozenset({"status", "subject", "medicationCodeableConcept"}),
    "QuestionnaireResponse": frozenset({"status"}),
    "Task": frozenset({"status", "intent"}),
    "GuidanceResponse": frozenset({"status", "moduleUri", "moduleCanonical"}),
    "RequestGroup": frozenset({"status", "intent"}),
    "RiskAssessment": frozenset({"status", "subject"}),
    "Flag": frozenset({"status", "code", "subject"}),
}


def subset(resource: Mapping[str, Any], elements: Sequence[str]) -> dict[str, Any]:
    """Only `elements` of a resource (with resourceType, id, meta and the elements its type
    makes mandatory), tagged SUBSETTED."""
    mandatory = MANDATORY_ELEMENTS.get(str(resource["resourceType"]), frozenset())
    wanted = {"resourceType", "id", *mandatory, *elements}
    kept = {k: v for k, v in resource.items() if k in wanted}
    meta = dict(resource.get("meta", {}))
    meta["tag"] = [*meta.get("tag", []), _SUBSETTED]
    kept["meta"] = meta
    return kept


def _patient_ids(resources: Sequence[Mapping[str, Any]]) -> list[str]:
    """The women a page's records name (subject, patient or, a Task, for)."""
    found = []
    for resource in resources:
        for field in ("subject", "patient", "for"):
            reference = str((resource.get(field) or {}).get("reference", ""))
            if reference.startswith("Patient/"):
                found.append(reference.removeprefix("Patient/"))
    return found


def _search(
    request: Request,
    resource_type: str,
    items: Sequence[tuple[str, str]],
    sessions: sessionmaker[Session],
    settings: Settings,
    scope: Scope,
    profiles: Profiles,
) -> dict[str, Any]:
    """A search of `resource_type` with the parameters `items`, GET or POST alike."""
    _check_type(resource_type)
    allowed = frozenset(name for name, _, _ in search_params(resource_type)) | _PAGING_PARAMS
    params, ignored = _parameters(request, items, allowed, f"search {resource_type}")
    count = whole_number(
        params.get("_count"), "_count", settings.page_size, 0, settings.max_page_size
    )
    offset = whole_number(params.get("_offset"), "_offset", 0, 0, 10**9)
    if _one_of(params, "_summary", ("count", "false")) == "count":
        count = 0
    includes = [v for values in params.get("_include", []) for v in values.split(",")]
    for include in includes:
        if include not in INCLUDES.get(resource_type, ()):
            raise FhirError(
                400,
                f"_include={include!r}: {resource_type} includes "
                f"{', '.join(INCLUDES.get(resource_type, ())) or 'nothing'}",
                "not-supported",
                expression="_include",
            )
    revincludes = [v for values in params.get("_revinclude", []) for v in values.split(",")]
    for revinclude in revincludes:
        if revinclude not in REVINCLUDES:
            raise FhirError(
                400,
                f"_revinclude={revinclude!r}: Patient takes {', '.join(REVINCLUDES)}",
                "not-supported",
                expression="_revinclude",
            )
    result = search(
        sessions,
        resource_type,
        criteria_of(resource_type, params),
        count=count,
        offset=offset,
        scope=scope,
        profiles=profiles,
    )
    total = result.total or 0
    base = fhir_base(request)
    query = [(k, v) for k, v in items if k not in ("_count", "_offset")]
    here = f"{base}/{resource_type}"
    links = [{"relation": "self", "url": f"{here}?{urlencode(list(items))}".rstrip("?")}]
    if offset + count < total and count > 0:
        following = [*query, ("_count", str(count)), ("_offset", str(offset + count))]
        links.append({"relation": "next", "url": f"{here}?{urlencode(following)}"})
    if offset > 0 and count > 0:
        earlier = [*query, ("_count", str(count)), ("_offset", str(max(0, offset - count)))]
        links.append({"relation": "previous", "url": f"{here}?{urlencode(earlier)}"})
    included: list[dict[str, Any]] = []
    if includes:
        included = patients_by_id(sessions, _patient_ids(result.resources), scope=scope)
    if revincludes and result.resources:
        women = [r["id"] for r in result.resources]
        for kind in dict.fromkeys(r.split(":")[0] for r in revincludes):
            included += search(
                sessions,
                kind,
                Criteria(patients=[women]),
                count=_REVINCLUDE_MAX,
                scope=scope,
                profiles=profiles,
                total=False,
            ).resources
    elements = _elements(params)
    matches = result.resources
    if elements is not None:
        matches = [subset(r, elements) for r in matches]
    note = None
    if ignored:
        note = outcome(
            f"search {resource_type}: ignored unknown or unsupported parameter(s) "
            f"{', '.join(repr(i) for i in dict.fromkeys(ignored))} (Prefer: handling=lenient)",
            "not-supported",
            "warning",
        )
    return searchset(matches, base=base, total=total, links=links, included=included, outcome=note)


#: At most this many of the page's women's records of one type come with `_revinclude`.
_REVINCLUDE_MAX = 10_000


@router.get(
    "/{resource_type}",
    summary="Search (Patient, Observation, Condition, Procedure, MedicationRequest, "
    "MedicationStatement, QuestionnaireResponse, Task)",
    responses={**_RESOURCE, **_ERRORS},
)
@allow(ClinicalList(frozenset({Role.CLINICIAN, Role.PATIENT})))
def search_type(
    request: Request,
    resource_type: str,
    sessions: SessionsDep,
    settings: SettingsDep,
    scope: ScopeDep,
    profiles: ProfilesDep,
) -> Response:
    items = request.query_params.multi_items()
    bundle = _search(request, resource_type, items, sessions, settings, scope, profiles)
    return fhir_response(request, bundle)


_FORM = {
    "requestBody": {
        "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}
    }
}


@router.post(
    "/{resource_type}/_search",
    summary="Search with the parameters in a form-encoded body (as GET /{resource_type})",
    responses={**_RESOURCE, **_ERRORS},
    openapi_extra=_FORM,
)
@allow(ClinicalList(frozenset({Role.CLINICIAN, Role.PATIENT})))
async def search_post(
    request: Request,
    resource_type: str,
    sessions: SessionsDep,
    settings: SettingsDep,
    scope: ScopeDep,
    profiles: ProfilesDep,
) -> Response:
    media_type = response_media_type(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("", "application/x-www-form-urlencoded"):
        raise FhirError(
            415,
            f"Content-Type {content_type!r}: send the parameters as "
            "application/x-www-form-urlencoded",
            "not-supported",
        )
    try:
        body = (await request.body()).decode("utf-8")
        form = parse_qsl(body, keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise FhirError(
            400, "the body is not a form-encoded list of parameters", "structure"
        ) from None
    items = [*request.query_params.multi_items(), *form]
    bundle = await run_in_threadpool(
        _search, request, resource_type, items, sessions, settings, scope, profiles
    )
    return fhir_response(request, bundle, media_type=media_type)


@router.get(
    "/{resource_type}/{resource_id}",
    summary="Read a resource by id",
    responses={**_RESOURCE, **_ERRORS},
)
@allow(PatientData("read", locate_resource))
def read(
    request: Request,
    resource_type: str,
    resource_id: str,
    sessions: SessionsDep,
    profiles: ProfilesDep,
) -> Response:
    _check_type(resource_type)
    query_params(request, frozenset(), "read")
    try:
        resource = read_resource(sessions, resource_type, resource_id, profiles=profiles)
    except NotFound:
        # A record marked entered in error is read as its last version, which says so.
        marked = entered_in_error_version(sessions, resource_type, resource_id)
        if marked is not None:
            return fhir_response(request, marked)
        with sessions() as session:
            if was_deleted(session, resource_type, resource_id):
                raise Deleted(f"{resource_type}/{resource_id} was deleted") from None
        raise
    return fhir_response(request, resource)


# --- everything else: 405 for a known path, 404 otherwise ---------------------------------


_refuse("/metadata", "GET")
_refuse("", "POST")
_refuse("/", "POST")
_refuse("/Patient/{patient_id}/$everything", "GET, POST")
_refuse("/{resource_type}/_search", "POST")
_refuse("/{resource_type}", "GET, POST, PUT")
_refuse("/{resource_type}/{resource_id}", "GET, PUT, DELETE")


@router.api_route("/{path:path}", methods=ALL_METHODS, include_in_schema=False)
@allow(PUBLIC)
def unknown(request: Request, path: str) -> Response:
    raise FhirError(404, f"{request.url.path}: no such FHIR endpoint", "not-found")
