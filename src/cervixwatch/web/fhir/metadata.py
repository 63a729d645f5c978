"""`GET /fhir/metadata`: the CapabilityStatement, what this server does in FHIR R4 terms."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from cervixwatch import __version__
from cervixwatch.app.version_meta import VERSIONED_TYPES
from cervixwatch.knowledge.record_kinds import RECORD_RESOURCE_TYPES
from cervixwatch.web.smart_discovery import rest_security

#: Search parameters of every record type besides `code` (or `questionnaire`).
_RECORD_PARAMS = (
    ("_id", "token", "The resource id (as this server gave it)."),
    ("patient", "reference", "The woman: Patient/<id>, or the id a source knew her by."),
    ("subject", "reference", "Same as patient."),
)
_CODE = ("code", "token", "A code: system|code, code or system|.")
_LAST_UPDATED = (
    "_lastUpdated",
    "date",
    "What changed since a moment: ge, gt or sa and a day or an instant (meta.lastUpdated); "
    "other prefixes are refused (a search weighs only the women written since then).",
)
_DATE_DOC = (
    "The record's day, with a prefix (eq, ne, lt, le, gt, ge, sa, eb; eq when none) and a "
    "year, month or day (a time is read as its day). Records without a day, and previous "
    "pregnancies and excisions (dated by a partial date), never match."
)
#: The date search parameter of each record type (FHIR R4's own name for its date element).
DATE_PARAMS: dict[str, str] = {
    "Observation": "date",
    "Condition": "onset-date",
    "Procedure": "date",
    "MedicationRequest": "authoredon",
    "MedicationStatement": "effective",
    "QuestionnaireResponse": "authored",
}


def _status(values: str) -> tuple[str, str, str]:
    return ("status", "token", f"The status ({values}).")


def _paged(kind: str, *params: tuple[str, str, str]) -> tuple[tuple[str, str, str], ...]:
    """A record type's parameters, with `_sort` (by its date, when it has one, and `_id`)."""
    date = DATE_PARAMS.get(kind)
    orders = (f"{date}, -{date}, " if date else "") + "_id, -_id"
    dated = ((date, "date", _DATE_DOC),) if date else ()
    return (
        *_RECORD_PARAMS,
        *params,
        *dated,
        _LAST_UPDATED,
        ("_sort", "special", f"The order: {orders} (default: by woman, then as stored)."),
    )


_DEFINITION_PARAMS = (
    ("_id", "token", "The resource id."),
    ("url", "uri", "The canonical URL (url|version for one version)."),
)
SEARCH_PARAMS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Patient": (
        ("_id", "token", "CervixWatch's id for her."),
        (
            "identifier",
            "token",
            "Any of her identifiers: system|value, value (under any system), system| (any "
            "value of the system), |value (sent without a system).",
        ),
        ("family", "string", "Family name, starting with (case-insensitive)."),
        ("given", "string", "Given name, starting with (case-insensitive)."),
        ("birthdate", "date", "Date of birth (a full date, eq only)."),
        _LAST_UPDATED,
    ),
    "Observation": _paged(
        "Observation",
        _CODE,
        _status("final"),
        (
            "category",
            "token",
            "imaging (cervical length), exam (dilation, effacement, membranes), laboratory "
            "(fetal fibronectin): code, or http://terminology.hl7.org/CodeSystem/"
            "observation-category|code. The due date, fetus count and pregnancy history "
            "carry none.",
        ),
    ),
    "Condition": _paged(
        "Condition",
        _CODE,
        ("clinical-status", "token", "active or resolved (a complication with its end day)."),
    ),
    "Procedure": _paged("Procedure", _CODE, _status("completed; not-done: declined")),
    "MedicationRequest": _paged(
        "MedicationRequest",
        ("code", "token", "The medication's code."),
        _status("active, stopped"),
    ),
    "MedicationStatement": _paged(
        "MedicationStatement",
        ("code", "token", "The medication's code (a medication she declined)."),
        _status("not-taken"),
    ),
    "QuestionnaireResponse": _paged(
        "QuestionnaireResponse",
        ("questionnaire", "reference", "The questionnaire's canonical URL."),
        _status("completed"),
    ),
    "Task": _paged(
        "Task",
        ("code", "token", "The task's code (CW#symptom-report-review)."),
        _status("completed"),
    ),
    # Her stored assessment (app/assessment_fhir.py): id assessment-<n>, one of each a woman.
    "GuidanceResponse": _RECORD_PARAMS,
    "RequestGroup": _RECORD_PARAMS,
    "RiskAssessment": _RECORD_PARAMS,
    "Flag": _RECORD_PARAMS,
    # CervixWatch's own definitions (web/fhir/definition_routes.py).
    "CodeSystem": _DEFINITION_PARAMS,
    "Questionnaire": _DEFINITION_PARAMS,
}
#: Parameters every search of the types above takes (besides CodeSystem and Questionnaire).
RESULT_PARAMS: tuple[tuple[str, str, str], ...] = (
    ("_count", "number", "Entries a page (default 50, at most 500); 0 with the total only."),
    ("_offset", "number", "Entries to skip (the next link sets it)."),
    ("_summary", "token", "count: the total only, no entries."),
    (
        "_elements",
        "token",
        "Only these top-level elements of each matching resource (comma-separated), tagged "
        "SUBSETTED.",
    ),
)
#: Record types whose resources name their woman (the `_include` and `_revinclude` targets).
PATIENT_RECORDS = (
    *RECORD_RESOURCE_TYPES,
    "GuidanceResponse",
    "RequestGroup",
    "RiskAssessment",
    "Flag",
)
#: `_include` of each record type: the Patient it names.
INCLUDES: dict[str, tuple[str, ...]] = {
    kind: (f"{kind}:patient", f"{kind}:subject") for kind in PATIENT_RECORDS
}
#: `_revinclude` of Patient: her records of each type.
REVINCLUDES: tuple[str, ...] = tuple(
    f"{kind}:{name}" for kind in PATIENT_RECORDS for name in ("patient", "subject")
)


def search_params(kind: str) -> tuple[tuple[str, str, str], ...]:
    """Every search parameter `kind` takes, its own and the common ones."""
    own = SEARCH_PARAMS[kind]
    if kind in ("CodeSystem", "Questionnaire"):
        return own
    extra: list[tuple[str, str, str]] = list(RESULT_PARAMS)
    if kind in INCLUDES:
        extra.append(
            (
                "_include",
                "special",
                "The Patient each record names: " + ", ".join(INCLUDES[kind]) + ".",
            )
        )
    if kind == "Patient":
        extra.append(
            (
                "_revinclude",
                "special",
                "Her records of a type (of her page's women): <Type>:patient or <Type>:subject.",
            )
        )
    return (*own, *extra)


#: What each resource type holds, in the CapabilityStatement.
DOCUMENTATION = {
    "Procedure": "Excisions, cerclage placed and removed; an offer of cerclage (or of another "
    "recommendation) she declined is a Procedure with status not-done and statusReason "
    "SNOMED 105480006.",
    "MedicationStatement": "Vaginal progesterone she declined: status not-taken, statusReason "
    "SNOMED 105480006.",
    "Condition": "Complications of this pregnancy with the days they were noted (onset) and "
    "resolved (abatement), and lasting maternal conditions.",
    "Task": "A clinician's review of a symptom report (CD-07): status completed, focus the "
    "QuestionnaireResponse, executionPeriod.end when, businessStatus the outcome.",
    "GuidanceResponse": "Her stored assessment (of her active, else latest, pregnancy): the day "
    "(occurrenceDateTime), the guideline profiles and versions (moduleUri), status "
    "data-required with what is missing (dataRequirement), result its RequestGroup.",
    "RequestGroup": "The assessment's recommendations (intent proposal): one action each, "
    "coded CW#<code>, with its rule and citation, window, state, strength, provenance and "
    "assumptions; a vaginal progesterone MedicationRequest or a cervical-length scan "
    "ServiceRequest (contained, draft proposals) where there is something to order.",
    "RiskAssessment": "The Saving Babies' Lives history tier and the published figures that "
    "apply to her, with their populations and citations.",
    "Flag": "Urgent evaluation needed (CW#urgent-evaluation), from the earliest symptom report "
    "not yet reviewed; only while the assessment gives it.",
    "CodeSystem": "CodeSystem/cervixwatch: every code of https://cervixwatch.org/fhir/"
    "CodeSystem/cervixwatch, recommendations and records. Anyone signed in.",
    "Questionnaire": "Questionnaire/symptoms: the symptom report, one boolean item per symptom. "
    "Anyone signed in.",
}
#: The version interactions of the types with versions (`app.versions`).
HISTORY_INTERACTIONS: tuple[dict[str, str], ...] = (
    {
        "code": "vread",
        "documentation": "GET [type]/[id]/_history/[vid]: the resource as it was at that "
        'version (410 Gone: the version is its deletion). A read answers ETag W/"[vid]" '
        "and Last-Modified; every read, search and $everything gives meta.versionId and "
        "meta.lastUpdated.",
    },
    {
        "code": "history-instance",
        "documentation": "GET [type]/[id]/_history: every version, newest first, as a history "
        "Bundle (a deletion as an entry without resource, request DELETE). _since (an "
        "instant, or a day): the versions made at or after it; _count: entries a page "
        "(default 50, at most 500), _offset (the next link sets it).",
    },
)
#: The types a client writes (`web/fhir/write_routes.py`): the woman and her records.
WRITABLE: tuple[str, ...] = ("Patient", *RECORD_RESOURCE_TYPES)
_WRITE_INTERACTIONS: tuple[dict[str, str], ...] = (
    {
        "code": "create",
        "documentation": "POST [type]: 201 with Location ([type]/[id]/_history/[vid]) and "
        "ETag; If-None-Exist (a search): one match, 200 and nothing created; several, 412. "
        "Prefer: return=minimal | representation | OperationOutcome.",
    },
    {
        "code": "update",
        "documentation": "PUT [type]/[id], an id this server gave (updateCreate false: any "
        'other is 405); If-Match W/"[vid]": 412 unless it is at that version. PUT '
        "[type]?[search]: one match updated, none created (201), several 412.",
    },
)
_DELETE: tuple[dict[str, str], ...] = (
    {
        "code": "delete",
        "documentation": "DELETE [type]/[id]: 204; the record is gone (its history keeps a "
        "deletion). A woman (Patient) is not deleted.",
    },
)
EVERYTHING = "http://hl7.org/fhir/OperationDefinition/Patient-everything"
MATCH = "http://hl7.org/fhir/OperationDefinition/Patient-match"
#: FHIR Bulk Data Access v2 `$export` (`web/fhir/bulk_routes.py`), at each level served.
BULK_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
BULK_PATIENT_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"
BULK_GROUP_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"
_BULK_DOCUMENTATION = (
    "Bulk Data $export (GET, or POST a Parameters resource; Prefer: respond-async; "
    "_outputFormat application/fhir+ndjson, _type, _since): 202 with the status URL to "
    "poll; the files go only to the account that asked, and expire. Each woman's "
    "resources are those $everything gives."
)
#: The audit log, for auditors only (`web/fhir/audit_routes.py`).
AUDIT_PARAMS: tuple[tuple[str, str, str], ...] = (
    ("patient", "reference", "The woman the access was about (Patient/id or id)."),
    ("agent", "token", "The user who asked (CervixWatch's user id)."),
    ("date", "date", "When (eq, ge, gt, le, lt at the precision given)."),
)


#: How a client authenticates (`rest.security`): CervixWatch's own bearer tokens, or SMART on
#: FHIR (issue 14, part 2).
SECURITY_DESCRIPTION: Final = (
    "Send a bearer token (Authorization: Bearer <token>). A SMART app gets one from this "
    "server's OAuth 2.0 endpoints (the oauth-uris extension; "
    "/.well-known/smart-configuration): a standalone launch with PKCE S256, or SMART Backend "
    "Services (client_credentials with private_key_jwt); its scopes narrow every FHIR "
    "interaction, on top of the user's role and care teams. A CervixWatch API token (made on "
    "a user's account page or with `cervixwatch users token`) acts as that user, with her "
    "role and care teams; the browser's sign-in cookie also works for the pages."
)


def capability_statement(
    base: str, today: dt.date, *, cors: bool = False, smart_base: str | None = None
) -> dict[str, Any]:
    """`cors`: whether the server answers CORS requests (origins are configured);
    `smart_base`: the address SMART apps reach this server at (its OAuth endpoints are
    there), the FHIR base's own without it."""
    resources = []
    for kind in SEARCH_PARAMS:
        resource: dict[str, Any] = {"type": kind}
        if kind in DOCUMENTATION:
            resource["documentation"] = DOCUMENTATION[kind]
        versioned = kind in VERSIONED_TYPES
        writable = kind in WRITABLE
        resource |= {
            "interaction": [
                {"code": "read"},
                *(HISTORY_INTERACTIONS if versioned else ()),
                {"code": "search-type"},
                *(_WRITE_INTERACTIONS if writable else ()),
                *(_DELETE if writable and kind != "Patient" else ()),
            ],
            "versioning": "versioned" if versioned else "no-version",
            "readHistory": versioned,
            "updateCreate": False,
            **(
                {
                    "conditionalCreate": True,
                    "conditionalUpdate": True,
                    "conditionalDelete": "not-supported",
                }
                if writable
                else {}
            ),
            "searchParam": [
                {"name": name, "type": kind_, "documentation": doc}
                for name, kind_, doc in search_params(kind)
            ],
        }
        if kind in INCLUDES:
            resource["searchInclude"] = list(INCLUDES[kind])
        if kind == "Patient":
            resource["searchRevInclude"] = list(REVINCLUDES)
        if kind == "Patient":
            resource["operation"] = [
                {
                    "name": "everything",
                    "definition": EVERYTHING,
                    "documentation": "Her Patient and every record of her active (else latest) "
                    "pregnancy, as `cervixwatch assess` reads them.",
                },
                {
                    "name": "match",
                    "definition": MATCH,
                    "documentation": "POST a Parameters resource (resource: a Patient; "
                    "onlyCertainMatches; count): the women she may be, each with a score and "
                    "a match grade: an identifier (system and value) certain (1.0); family "
                    "name, a given name and birth date probable (0.8); family name and birth "
                    "date, or an identifier contradicted by her birth date or another "
                    "identifier, possible (0.5).",
                },
                {
                    "name": "export",
                    "definition": BULK_PATIENT_EXPORT,
                    "documentation": "The women of your care teams. " + _BULK_DOCUMENTATION,
                },
            ]
        resources.append(resource)
    resources.append(
        {
            "type": "Group",
            "documentation": "A care team of yours, its id the team's: only exported "
            "(Group/[id]/$export); a Group is not read or searched.",
            "operation": [
                {
                    "name": "export",
                    "definition": BULK_GROUP_EXPORT,
                    "documentation": "The women of one of your care teams (another team's "
                    "id: 404). " + _BULK_DOCUMENTATION,
                }
            ],
        }
    )
    resources.append(
        {
            "type": "AuditEvent",
            "documentation": "The audit log: every access to patient data. Auditors only.",
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "versioning": "no-version",
            "readHistory": False,
            "updateCreate": False,
            "searchParam": [
                {"name": name, "type": kind_, "documentation": doc}
                for name, kind_, doc in AUDIT_PARAMS
            ],
        }
    )
    return {
        "resourceType": "CapabilityStatement",
        "id": "cervixwatch",
        "url": f"{base}/metadata",
        "version": __version__,
        "name": "CervixWatch",
        "title": "CervixWatch FHIR R4 server",
        "status": "active",
        "experimental": False,
        "date": today.isoformat(),
        "publisher": "CervixWatch",
        "description": "Records of cervical insufficiency and preterm-birth prevention care, "
        "coded as the CervixWatch FHIR mapping says: import Bundles, read, search, and "
        "export a woman's records.",
        "kind": "instance",
        "software": {"name": "CervixWatch", "version": __version__},
        "implementation": {"description": "CervixWatch FHIR R4 facade", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json", "application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "POST a transaction or collection Bundle of one woman's "
                "records to the base URL: all of it is stored, or (an OperationOutcome naming "
                "the entry and field) none of it. Sending it again stores nothing twice. Or "
                "write one resource: create, update (by id or by condition), delete. A "
                "reference may be conditional (Patient?identifier=system|value): it must "
                "match exactly one resource (none: 404; several: 412).",
                "security": {
                    **rest_security(smart_base or base.removesuffix("/fhir")),
                    "cors": cors,
                    "description": SECURITY_DESCRIPTION,
                },
                "resource": resources,
                "interaction": [
                    {
                        "code": "transaction",
                        "documentation": "A transaction (or collection, searchset, document) "
                        "Bundle of one woman's records, all or nothing: POST, PUT (to an id of "
                        "this server's, or Type?search), DELETE entries; ifNoneExist, ifMatch "
                        "and conditional references (Type?search, one match) resolved first.",
                    },
                    {
                        "code": "batch",
                        "documentation": "A batch Bundle: each entry (POST, PUT, DELETE) its "
                        "own transaction, answered with its own status and outcome.",
                    },
                ],
                "operation": [
                    {"name": "everything", "definition": EVERYTHING},
                    {
                        "name": "export",
                        "definition": BULK_EXPORT,
                        "documentation": "Every woman you may see. " + _BULK_DOCUMENTATION,
                    },
                ],
            }
        ],
    }
