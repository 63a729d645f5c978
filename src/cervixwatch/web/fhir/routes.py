"""The FHIR R4 interactions: capabilities, transaction (import), read, search, `$everything`.

Routes parse the request, call one use case (`app.importing`, `app.exporting`) and shape the
answer; `http.FhirRoute` turns every refusal into an OperationOutcome.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from cervixwatch.access.principal import Principal, Role, Scope, scope_of
from cervixwatch.app.assessment_fhir import Profiles
from cervixwatch.app.exporting import (
    RESOURCE_TYPES,
    Criteria,
    Token,
    everything,
    owner_of_resource,
    patients_by_id,
    read_resource,
    search,
    searchset,
)
from cervixwatch.app.importing import Imported, import_bundle
from cervixwatch.app.patient_identity import Sender
from cervixwatch.app.patient_match import match_bundle
from cervixwatch.app.rows import DateTest
from cervixwatch.settings import Settings
from cervixwatch.web.access import (
    PUBLIC,
    ClinicalList,
    PatientData,
    PrincipalDep,
    ScopeDep,
    allow,
    audit_patient,
    by_patient,
)
from cervixwatch.web.audit import entry_for, recorded_by_route
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
    DATE_PARAMS,
    INCLUDES,
    REVINCLUDES,
    capability_statement,
    search_params,
)

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


def _values(values: Sequence[str] | None) -> list[list[str]] | None:
    """Each parameter's comma-separated values (OR), one list per repetition (AND)."""
    if values is None:
        return None
    return [[v for v in value.split(",") if v] for value in values]


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
    return fhir_response(request, capability_statement(fhir_base(request), today))


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


def _check_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and not (
        content_type.endswith(("/json", "+json")) or content_type == "application/json+fhir"
    ):
        raise FhirError(
            415,
            f"Content-Type {content_type!r}: send the Bundle as application/fhir+json",
            "not-supported",
        )


def sender_of(principal: Principal, settings: Settings) -> Sender:
    """Who sends a Patient: the account the request acts for (an integration's, through its
    token, or a clinician's), and the installation's hospital-number system."""
    return Sender(f"user:{principal.user_id}", settings.hospital_number_system)


def transaction_response(imported: Imported) -> dict[str, Any]:
    """A transaction-response Bundle: one entry per entry sent, in order, each with its
    location on this server (when it is kept); the first says what the import did."""
    codes = "; ".join(
        f"{guideline}: {', '.join(found) or 'no recommendation'}"
        for guideline, found in imported.assessment.codes.items()
    )
    summary = (
        f"Patient/{imported.patient_id}: {imported.received} record(s) received, "
        f"{imported.created} stored new, {imported.updated} updated, "
        f"{imported.unchanged} already stored, {imported.removed} removed. "
        f"Assessed on {imported.assessment.as_of}: {codes}."
    )
    entries = []
    for i, entry in enumerate(imported.entries):
        status = "201 Created" if entry.created else "200 OK"
        response: dict[str, Any] = {"status": "204 No Content" if entry.deleted else status}
        if entry.location:
            response["location"] = entry.location
        if i == 0:
            response["outcome"] = outcome(summary, "informational", "information")
        elif entry.location is None and not entry.deleted:
            why = entry.note or (
                "holds nothing CervixWatch records (or was entered in error, or has ended)"
                if entry.carries_records
                else f"CervixWatch keeps no {entry.resource_type} resources"
            )
            response["outcome"] = outcome(
                f"{entry.resource_type} (entry {entry.index}): not kept: {why}",
                "informational",
                "information",
            )
        entries.append({"response": response})
    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "entry": entries,
    }


@router.post(
    "",
    summary="Import a transaction or collection Bundle (all or nothing)",
    responses={**_RESOURCE, **_IMPORT_ERRORS},
    openapi_extra=_JSON_BODY,
)
@allow(ClinicalList(audit_action="import", writes=True))
async def transaction(
    request: Request,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> Response:
    query_params(request, frozenset(), "transaction")
    media_type = response_media_type(request)
    _check_content_type(request)
    raw = await request.body()
    imported = await run_in_threadpool(
        import_bundle,
        sessions,
        raw,
        today=today,
        profiles=profiles,
        sender=sender_of(principal, settings),
        scope=scope_of(principal),
        new_patient_teams=principal.team_ids,
        # Recorded in the import's own transaction: one commit, and no import without it.
        audit=entry_for(request, 200),
    )
    recorded_by_route(request, 200)
    audit_patient(request, imported.patient_id)
    return fhir_response(request, transaction_response(imported), media_type=media_type)


router.add_api_route(
    "/", transaction, methods=["POST"], include_in_schema=False, response_model=None
)


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
        types = {t for values in _values(params["_type"]) or [] for t in values}
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
    _check_content_type(request)
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
    _check_content_type(request)
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
    """The woman `/{resource_type}/{resource_id}` belongs to (for the access policy)."""
    resource_type, resource_id = params.get("resource_type", ""), params.get("resource_id", "")
    _check_type(resource_type)  # an unknown type is said as such, to whoever is signed in
    return owner_of_resource(session, resource_type, resource_id)


_DATE = re.compile(
    r"(?P<prefix>eq|ne|lt|le|gt|ge|sa|eb)?(?P<year>[0-9]{4})(-(?P<month>[0-9]{2})"
    r"(-(?P<day>[0-9]{2})(T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?"
)


def date_test(name: str, text: str) -> DateTest:
    """A date parameter's value (`ge2026-03`): its prefix and the days it covers."""
    match = _DATE.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        year, month, day = int(match["year"]), match["month"], match["day"]
        if day is not None:
            low = high = dt.date(year, int(month), int(day))
        elif month is not None:
            low = dt.date(year, int(month), 1)
            high = dt.date(year + int(month) // 12, int(month) % 12 + 1, 1) - dt.timedelta(1)
        else:
            low, high = dt.date(year, 1, 1), dt.date(year, 12, 31)
    except ValueError:
        raise FhirError(
            400,
            f"{name}={text!r}: expected a prefix (eq, ne, lt, le, gt, ge, sa, eb) and a date "
            "(YYYY, YYYY-MM, YYYY-MM-DD or a dateTime)",
            "value",
            expression=name,
        ) from None
    return DateTest(match["prefix"] or "eq", low, high)


def _criteria(resource_type: str, params: dict[str, list[str]]) -> Criteria:
    ids = _values(params.get("_id"))
    patients = _values([*params.get("patient", []), *params.get("subject", [])] or None)
    codes = _values(params.get("code"))
    birth_date = None
    if "birthdate" in params:
        text = params["birthdate"][-1].removeprefix("eq")
        try:
            birth_date = dt.date.fromisoformat(text)
        except ValueError:
            raise FhirError(
                400, f"birthdate={params['birthdate'][-1]!r}: expected a date (eq only)", "value"
            ) from None
    identifiers = _values(params.get("identifier"))
    tokens: dict[str, Sequence[Sequence[str]]] = {
        name: _values(params[name]) or []
        for name in ("status", "clinical-status")
        if name in params
    }
    date_name = DATE_PARAMS.get(resource_type)
    dates = [date_test(date_name, v) for v in params.get(date_name, [])] if date_name else []
    sort = "default"
    if "_sort" in params:
        sort = params["_sort"][-1]
        allowed = ["_id", "-_id", *([date_name, f"-{date_name}"] if date_name else [])]
        if sort not in allowed:
            raise FhirError(
                400,
                f"_sort={sort!r}: {resource_type} is sorted by {', '.join(allowed)}",
                "not-supported",
                expression="_sort",
            )
        sort = sort.replace(date_name or "_id", "date") if sort not in ("_id", "-_id") else sort
    return Criteria(
        ids=sorted({i for values in ids for i in values}) if ids is not None else None,
        patients=patients,
        codes=[[Token.parse(v) for v in values] for values in codes] if codes else None,
        questionnaires=_values(params.get("questionnaire")),
        tokens=tokens,
        dates=dates,
        sort=sort,
        identifiers=[[Token.parse(v) for v in values] for values in identifiers]
        if identifiers
        else None,
        family=params["family"][-1] if "family" in params else None,
        given=params["given"][-1] if "given" in params else None,
        birth_date=birth_date,
    )


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
        _criteria(resource_type, params),
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
    resource = read_resource(sessions, resource_type, resource_id, profiles=profiles)
    return fhir_response(request, resource)


# --- everything else: 405 for a known path, 404 otherwise ---------------------------------


_refuse("/metadata", "GET")
_refuse("", "POST")
_refuse("/", "POST")
_refuse("/Patient/{patient_id}/$everything", "GET, POST")
_refuse("/{resource_type}/_search", "POST")
_refuse(
    "/{resource_type}",
    "GET",
    ": this server does not create resources one by one; POST a transaction Bundle to the base URL",
)
_refuse(
    "/{resource_type}/{resource_id}",
    "GET",
    ": records change by POSTing a transaction Bundle to the base URL",
)


@router.api_route("/{path:path}", methods=ALL_METHODS, include_in_schema=False)
@allow(PUBLIC)
def unknown(request: Request, path: str) -> Response:
    raise FhirError(404, f"{request.url.path}: no such FHIR endpoint", "not-found")
