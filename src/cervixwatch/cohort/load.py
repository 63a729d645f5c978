"""Loading the cohort into the database: each woman through the store's `write_records`, which
saves her records and assesses her in one transaction, exactly as any other input does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.cohort.model import CohortPatient
from cervixwatch.store import PatientFields, RecordSource, write_records
from cervixwatch.store.models import PatientRow


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a load stored: how many women, and how many of them are urgent or overdue."""

    patients: int
    urgent: int
    overdue: int


def patient_fields(patient: CohortPatient) -> PatientFields:
    return PatientFields(patient.hospital_number, patient.family_name, patient.given_name)


def load_cohort(
    factory: sessionmaker[Session],
    patients: Iterable[CohortPatient],
    as_of: dt.date,
    profiles: Sequence[GuidelineProfile] | Mapping[str, GuidelineProfile],
    *,
    progress: Callable[[int], None] | None = None,
) -> Loaded:
    """Save and assess every woman on `as_of` (each in her own transaction)."""
    count = urgent = overdue = 0
    for patient in patients:
        written = write_records(
            factory,
            patient_fields(patient),
            patient.records,
            as_of=as_of,
            profiles=profiles,
            source=RecordSource.FHIR,
        )
        count += 1
        assessment = written.assessment
        urgent += any(r.code == "urgent-evaluation" for r in assessment.recommendations)
        overdue += any(
            plan.next_scan is not None and plan.next_scan.status == "overdue"
            for plan in assessment.scan_plans
        )
        if progress is not None:
            progress(count)
    return Loaded(count, urgent, overdue)


def patient_count(factory: sessionmaker[Session]) -> int:
    """How many women the database holds (0 for an empty one)."""
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(PatientRow)) or 0)
