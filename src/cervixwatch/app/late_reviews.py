"""A review of a symptom report sent in a later Bundle than the report itself (the usual order:
the woman reports, the team reviews hours later, the EHR sends the review).

The review is a Task whose `focus` names a QuestionnaireResponse that is not in the Bundle but
is stored here: by CervixWatch's own id (`QuestionnaireResponse/symptoms-12`, as `$everything`
gave it) or by the id its source sent it under. The stored report is written into the Bundle the
reader is given, under that name, so the reader reads the review with its report and the store
adds it to the report's row (the report itself is known by its identifier, and unchanged).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from cervixwatch.app.exporting import parse_resource_id
from cervixwatch.clinical.records import PregnancyRecords, SymptomReport
from cervixwatch.interop.fhir_values import codes_of
from cervixwatch.interop.fhir_write import bundle_from_records
from cervixwatch.knowledge import codes as c
from cervixwatch.store.exports import identified_rows, own_rows
from cervixwatch.store.models import RecordSource
from cervixwatch.store.records import default_identifier_system
from cervixwatch.store.retractions import claim_identifier

__all__ = ["stored_reports_for_reviews"]

_REPORTS = "symptom_reports"


def _focus(resource: Mapping[str, Any]) -> str | None:
    focus = resource.get("focus")
    target = focus.get("reference") if isinstance(focus, dict) else None
    return target if isinstance(target, str) and target else None


def _report_id(reference: str) -> str | None:
    """The id of the QuestionnaireResponse a reference names (relative or absolute)."""
    parts = reference.split("/_history/")[0].rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] != "QuestionnaireResponse" or not parts[-1]:
        return None
    return parts[-1]


def _names_one_of(reference: str, keys: set[str]) -> bool:
    return reference in keys or any(reference.endswith("/" + k) for k in keys if "/" in k)


def stored_reports_for_reviews(
    session: Session,
    patient_id: str,
    resources: Sequence[tuple[Mapping[str, Any], str | None]],
    subject: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The woman's stored reports that reviews among `resources` ((resource, fullUrl) of the
    Bundle) name but the Bundle lacks, each as a QuestionnaireResponse with the id the review
    names it by and her as `subject`."""
    in_bundle: set[str] = set()
    for resource, full_url in resources:
        if resource.get("resourceType") == "QuestionnaireResponse":
            if isinstance(resource.get("id"), str):
                in_bundle.add(f"QuestionnaireResponse/{resource['id']}")
            if full_url:
                in_bundle.add(full_url)
    wanted: dict[str, str] = {}  # report id -> the reference naming it
    for resource, _ in resources:
        if resource.get("resourceType") != "Task" or c.SYMPTOM_REPORT_REVIEW not in codes_of(
            resource.get("code")
        ):
            continue
        reference = _focus(resource)
        if reference is None or _names_one_of(reference, in_bundle):
            continue
        report_id = _report_id(reference)
        if report_id is not None:
            wanted.setdefault(report_id, reference)
    if not wanted:
        return []
    system = default_identifier_system(patient_id, RecordSource.FHIR)
    by_source = identified_rows(session, system, [f"{_REPORTS}/{r}" for r in wanted])
    own = {
        rid: named.row_id
        for rid in wanted
        if (named := parse_resource_id(rid)) is not None
        and named.table == _REPORTS
        and named.row_id is not None
    }
    stored = own_rows(session, patient_id, {_REPORTS: [*by_source.values(), *own.values()]})
    reports: list[tuple[str, SymptomReport]] = []
    for report_id in wanted:
        row_id = by_source.get(f"{_REPORTS}/{report_id}", own.get(report_id))
        hit = stored.get((_REPORTS, row_id)) if row_id is not None else None
        if hit is None:
            continue  # names no report of hers: the reader notes the review as not read
        ref, record = hit
        if f"{_REPORTS}/{report_id}" not in by_source:
            # Her own id for the report: let it name the row, so the report is found again.
            claim_identifier(session, patient_id, system, _REPORTS, report_id, ref.row_id)
        reports.append((report_id, replace(record, source_id=report_id, reviews=())))
    if not reports:
        return []
    written = bundle_from_records(
        PregnancyRecords(patient_id=patient_id, symptom_reports=tuple(r for _, r in reports))
    )
    out = []
    for entry in written["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "QuestionnaireResponse":
            resource["subject"] = dict(subject)
            if resource.get("author") == {"reference": f"Patient/{patient_id}"}:
                resource["author"] = dict(subject)
            out.append(resource)
    return out
