"""A review of a symptom report sent in a later Bundle than the report itself (the usual order:
the woman reports, the team reviews hours later, the EHR sends the review).

The review is a Task whose `focus` names a QuestionnaireResponse that is not in the Bundle but
is stored here: by CervixWatch's own id (`QuestionnaireResponse/symptoms-12`, as `$everything`
gave it) or by the id its source sent it under. The reader lists those ids
(`Frame.reports_named`); the stored report is given back to the reader under that name, so it
reads the review with its report and the store adds it to the report's row (the report itself
is known by its identifier, and unchanged).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from cervixwatch.app.exporting import parse_resource_id
from cervixwatch.clinical.records import PregnancyRecords, SymptomReport
from cervixwatch.interop.fhir_write import bundle_from_records
from cervixwatch.store.exports import identified_rows, own_rows
from cervixwatch.store.models import RecordSource
from cervixwatch.store.records import default_identifier_system
from cervixwatch.store.retractions import claim_identifier

__all__ = ["stored_reports_for_reviews"]

_REPORTS = "symptom_reports"


def stored_reports_for_reviews(
    session: Session, patient_id: str, report_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """Her stored reports among `report_ids` (the ids reviews name them by, which the Bundle
    lacks: `Frame.reports_named`), each as a QuestionnaireResponse under that id, naming her
    as `Patient/<patient_id>`. An id that names no report of hers is left out (the reader
    notes the review as not read)."""
    wanted = dict.fromkeys(report_ids)
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
    return [
        entry["resource"]
        for entry in written["entry"]
        if entry["resource"]["resourceType"] == "QuestionnaireResponse"
    ]
