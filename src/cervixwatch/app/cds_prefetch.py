"""The FHIR data a CDS service reads: the prefetch templates it asks the EHR for, and the
data of one hook request, from its `prefetch` or, where a template's key is absent, fetched
from its `fhirServer` with the bearer token of its `fhirAuthorization` (httpx2). The data
becomes one collection Bundle, read by the one FHIR reader (`interop.fhir_bundle`) into the
pregnancy's records, as an import or `cervixwatch assess` reads it.

CDS Hooks 2.0: a key the EHR sends as `null` means it has no such data; a key it leaves out
must be fetched. When neither gives the data (no Patient, no `fhirServer`, the server fails
or refuses), the answer is 412 (`DataUnavailable`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx2

from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.interop.fhir_bundle import _READ_OBSERVATIONS, records_from_bundle
from cervixwatch.knowledge import codes as c

PATIENT_TOKEN: Final = "{{context.patientId}}"


def _token_list(codes: frozenset[c.Code]) -> str:
    return ",".join(f"{system}|{code}" for system, code in sorted(codes))


#: What the assessment reads (fhir-mapping.md), as FHIR queries the EHR fills in: the Patient,
#: the Observations of the codes the reader reads, every Condition, Procedure and medication
#: order (the reader judges status and dates), symptom reports and their reviews.
PREFETCH: Final[Mapping[str, str]] = {
    "patient": f"Patient/{PATIENT_TOKEN}",
    "observations": f"Observation?patient={PATIENT_TOKEN}&code="
    + _token_list(_READ_OBSERVATIONS | {c.cw("prior-pregnancy")}),
    "conditions": f"Condition?patient={PATIENT_TOKEN}",
    "procedures": f"Procedure?patient={PATIENT_TOKEN}",
    "medicationRequests": f"MedicationRequest?patient={PATIENT_TOKEN}",
    "medicationStatements": f"MedicationStatement?patient={PATIENT_TOKEN}",
    "questionnaireResponses": f"QuestionnaireResponse?patient={PATIENT_TOKEN}",
    "tasks": f"Task?patient={PATIENT_TOKEN}&code="
    + _token_list(frozenset({c.SYMPTOM_REPORT_REVIEW})),
}
#: A FHIR id (R4: 1-64 of A-Z a-z 0-9 - .): what a patientId must be to fill a template.
_FHIR_ID: Final = re.compile(r"[A-Za-z0-9\-.]{1,64}")
#: Pages of a search followed on the EHR's FHIR server before the data is taken as too much.
MOST_PAGES: Final = 20


class DataUnavailable(Exception):
    """Neither the prefetch nor the FHIR server gives the data (412)."""


class BadHookRequest(ValueError):
    """The hook request is not as CDS Hooks 2.0 says; the message names the field (400)."""


@dataclass(frozen=True, slots=True)
class FhirAccess:
    """Where to fetch what the prefetch lacks: the EHR's FHIR base and its bearer token."""

    server: str | None
    token: str | None
    timeout_seconds: float


def patient_id_of(context: Mapping[str, Any]) -> str:
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not _FHIR_ID.fullmatch(patient_id):
        raise BadHookRequest("context.patientId: required, a FHIR id (1-64 of A-Z a-z 0-9 - .)")
    return patient_id


def fhir_access(body: Mapping[str, Any], timeout_seconds: float) -> FhirAccess:
    server = body.get("fhirServer")
    if server is not None and (
        not isinstance(server, str) or not server.startswith(("https://", "http://"))
    ):
        raise BadHookRequest("fhirServer: must be the FHIR base URL (http or https)")
    authorization = body.get("fhirAuthorization")
    token = None
    if authorization is not None:
        if not isinstance(authorization, dict):
            raise BadHookRequest("fhirAuthorization: must be an object")
        if server is None:
            raise BadHookRequest("fhirServer: required with fhirAuthorization")
        if str(authorization.get("token_type", "")).lower() != "bearer":
            raise BadHookRequest("fhirAuthorization.token_type: must be Bearer")
        token = authorization.get("access_token")
        if not isinstance(token, str) or not token:
            raise BadHookRequest("fhirAuthorization.access_token: required")
    return FhirAccess(server.rstrip("/") if server else None, token, timeout_seconds)


def _fetch(client: httpx2.Client, url: str, access: FhirAccess, key: str) -> Any:
    try:
        response = client.get(url)
    except httpx2.HTTPError as error:
        raise DataUnavailable(
            f"prefetch {key}: the FHIR server could not be reached ({type(error).__name__})"
        ) from None
    if response.status_code != 200:
        raise DataUnavailable(f"prefetch {key}: the FHIR server answered {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise DataUnavailable(f"prefetch {key}: the FHIR server's answer is not JSON") from None


def _fetched(key: str, query: str, access: FhirAccess) -> Iterator[Any]:
    """What `query` gives on the EHR's server: a resource, or each page of a search."""
    assert access.server is not None
    headers = {"Accept": "application/fhir+json"}
    if access.token:
        headers["Authorization"] = f"Bearer {access.token}"
    with httpx2.Client(headers=headers, timeout=access.timeout_seconds) as client:
        url: str | None = f"{access.server}/{query}"
        for _ in range(MOST_PAGES):
            assert url is not None
            page = _fetch(client, url, access, key)
            yield page
            url = _next_page(page, access.server)
            if url is None:
                return
    raise DataUnavailable(f"prefetch {key}: more than {MOST_PAGES} pages on the FHIR server")


def _next_page(page: Any, server: str) -> str | None:
    if not isinstance(page, dict) or page.get("resourceType") != "Bundle":
        return None
    for link in page.get("link") or ():
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            # Only the same server's pages: the token is sent with each request.
            if isinstance(url, str) and url.startswith(server + "/"):
                return url
    return None


def _resources(value: Any, key: str) -> Iterator[dict[str, Any]]:
    """The resources of a prefetched value: a resource itself, or a Bundle's entries."""
    if value is None:
        return
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        raise BadHookRequest(f"prefetch.{key}: expected a FHIR resource or Bundle")
    if value["resourceType"] != "Bundle":
        if value["resourceType"] != "OperationOutcome":
            yield value
        return
    for entry in value.get("entry") or ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") != "OperationOutcome":
            yield resource


def gather(
    prefetch: Mapping[str, Any] | None, patient_id: str, access: FhirAccess
) -> list[dict[str, Any]]:
    """The resources of every prefetch template, from `prefetch` or the FHIR server."""
    prefetch = prefetch or {}
    out: list[dict[str, Any]] = []
    for key, template in PREFETCH.items():
        if key in prefetch:
            out.extend(_resources(prefetch[key], key))
            continue
        if access.server is None:
            raise DataUnavailable(f"prefetch {key} was not sent and no fhirServer was given")
        query = template.replace(PATIENT_TOKEN, patient_id)
        for page in _fetched(key, query, access):
            out.extend(_resources(page, key))
    return out


def records_of(
    resources: list[dict[str, Any]], patient_id: str, server: str | None, as_of: dt.date
) -> PregnancyRecords:
    """The records in `resources` about the Patient `patient_id`, read as of `as_of`.
    BundleError (naming the resource and field) if one of them cannot be read."""
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    if not any(p.get("id") == patient_id for p in patients):
        raise DataUnavailable(f"no Patient/{patient_id} in the prefetch or on the FHIR server")
    entries = []
    patient_seen = False
    for resource in resources:
        if resource["resourceType"] == "Patient":
            if resource.get("id") != patient_id or patient_seen:
                continue  # another patient, or her again: the reader reads one Patient
            patient_seen = True
        entry: dict[str, Any] = {"resource": resource}
        if server and isinstance(resource.get("id"), str):
            entry["fullUrl"] = f"{server}/{resource['resourceType']}/{resource['id']}"
        entries.append(entry)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    return records_from_bundle(bundle, as_of)
