"""Loading the cohort into the database: each woman through the app's `write_records`, which
saves her records and assesses her in one transaction, exactly as any other input does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.reassessing import write_records
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.cohort.fhir import patient_resource
from cervixwatch.cohort.model import CohortPatient
from cervixwatch.interop.fhir_patient import read_patient
from cervixwatch.interop.fhir_values import Where
from cervixwatch.store import PatientFields, RecordSource
from cervixwatch.store.models import PatientRow


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a load stored: how many women, and how many of them are urgent or overdue."""

    patients: int
    urgent: int
    overdue: int


def patient_fields(patient: CohortPatient) -> PatientFields:
    """Who she is, as her Patient resource says (`cohort.fhir`): her fake hospital number is
    an identifier of the demo hospital's system, typed MR, so the database and the cohort's
    FHIR Bundles name one woman."""
    resource = patient_resource(patient)
    identity = read_patient(resource, Where(resource, 0))
    return PatientFields(
        patient.hospital_number,
        identifiers=identity.identifiers,
        names=identity.names,
        gender=identity.gender,
    )


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
