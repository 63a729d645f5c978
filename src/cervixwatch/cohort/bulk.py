"""The cohort as a FHIR Bulk Data export (`demo-data --out DIR --bulk`): every woman's
resources in one NDJSON file per type, with a manifest, written a woman at a time so that a
registry of a million pregnancies is never held in memory.

A woman's Bundle names her records by short ids ("cl-0", "edd") that are unique within it; an
export holds every woman's, so each record's id is prefixed with hers ("demo-000001-cl-0") and
every reference between her resources follows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from cervixwatch.clinical.records import PartialDate, PriorOutcome, PriorPregnancy
from cervixwatch.cohort.fhir import cohort_bundle
from cervixwatch.cohort.model import CohortPatient
from cervixwatch.interop.bulk_layout import BulkWriter

__all__ = ["bulk_resources", "write_bulk"]


def _renamed(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                names.get(value, value)
                if key == "reference" and isinstance(value, str)
                else _renamed(value, names)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_renamed(item, names) for item in node]
    return node


def with_its_end(patient: CohortPatient) -> CohortPatient:
    """A past patient with her pregnancy's end among her records, as a registry holds it: the
    pregnancy outcome Observation (`CW#prior-pregnancy`, fhir-mapping.md) that closing a
    pregnancy records (`app.pregnancies.close_pregnancy`), dated on the day of birth. The
    population run reads it as this pregnancy's outcome (`population_rows`); an active
    pregnancy is left as it is."""
    outcome = patient.outcome
    if outcome is None:
        return patient
    day = outcome.delivered_on
    end = PriorPregnancy(
        ended=PartialDate(day.year, day.month, day.day),
        outcome=PriorOutcome.LIVE_BIRTH,
        gestation_days=outcome.gestation_days,
        onset=outcome.onset,
        fetuses=patient.records.fetuses,
    )
    records = replace(patient.records, prior_pregnancies=(*patient.records.prior_pregnancies, end))
    return replace(patient, records=records)


def bulk_resources(patient: CohortPatient) -> list[dict[str, Any]]:
    """Her Patient and records (and a past patient's pregnancy's end: `with_its_end`), with
    ids unique across the cohort."""
    woman = patient.records.patient_id
    resources = [entry["resource"] for entry in cohort_bundle(with_its_end(patient))["entry"]]
    names: dict[str, str] = {}
    for resource in resources:
        if resource["resourceType"] != "Patient":
            old = f"{resource['resourceType']}/{resource['id']}"
            names[old] = f"{resource['resourceType']}/{woman}-{resource['id']}"
    out = []
    for resource in resources:
        renamed = _renamed(resource, names)
        if resource["resourceType"] != "Patient":
            renamed["id"] = f"{woman}-{resource['id']}"
        out.append(renamed)
    return out


def write_bulk(patients: Iterable[CohortPatient], directory: Path, as_of: dt.date) -> Path:
    """Write the layout into `directory`; returns the manifest's path."""
    transaction_time = dt.datetime.combine(as_of, dt.time(8), tzinfo=dt.UTC)
    with BulkWriter(
        directory, request="cervixwatch demo-data --bulk", transaction_time=transaction_time
    ) as writer:
        for patient in patients:
            for resource in bulk_resources(patient):
                writer.write(resource)
    return directory / "manifest.json"
