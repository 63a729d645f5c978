"""Reassessing a woman after a write: her records as stored, through the same pure `assess`
every other path uses, rendered as the assessment JSON and handed to the store to keep.

The assessment is recomputed from the records as stored (not as sent), so what the worklist
shows is what `assess` says of what the database holds. The store only keeps what it is
given (`store.assessments.store_assessments`); running `assess` and rendering its result
happen here, one layer out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.clinical.assessment import Assessment, assess
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.knowledge import bundled_evidence
from cervixwatch.store.accounts import patient_of_pregnancy
from cervixwatch.store.assessments import (
    Profiles,
    assessment_values,
    stale_pregnancies,
    store_assessments,
)
from cervixwatch.store.database import transaction
from cervixwatch.store.models import RecordSource
from cervixwatch.store.records import (
    NotFound,
    PatientFields,
    load_records,
    lock_patient,
    save_records,
)
from cervixwatch.views.json_view import assessment_json

__all__ = [
    "Profiles",
    "Written",
    "assess_stored",
    "reassess",
    "refresh_assessments",
    "write_records",
]


@dataclass(frozen=True, slots=True)
class Written:
    """What a write left stored: ids, the records as now stored and their assessment."""

    patient_id: str
    pregnancy_id: str
    records: PregnancyRecords
    assessment: Assessment


def _profile_list(profiles: Profiles) -> list[GuidelineProfile]:
    return list(profiles.values()) if isinstance(profiles, Mapping) else list(profiles)


def reassess(
    session: Session,
    pregnancy_id: str,
    as_of: dt.date,
    profiles: Profiles,
    *,
    computed_at: dt.datetime | None = None,
    stored: PregnancyRecords | None = None,
) -> tuple[PregnancyRecords, Assessment]:
    """Assess the stored records of a pregnancy on `as_of` and store the result as current.

    `stored`: her records as this transaction has just stored them (`Saved.records`, she was
    new), so they need not be read back; her row is already this transaction's."""
    if stored is not None:
        records = stored
    else:
        patient_id = patient_of_pregnancy(session, pregnancy_id)
        if patient_id is None:
            raise NotFound(f"no pregnancy {pregnancy_id}")
        lock_patient(session, patient_id)
        records = load_records(session, pregnancy_id)
    [assessment] = assess_stored(
        session, [(pregnancy_id, records)], as_of, profiles, computed_at=computed_at
    )
    return records, assessment


def assess_stored(
    session: Session,
    pregnancies: Sequence[tuple[str, PregnancyRecords]],
    as_of: dt.date,
    profiles: Profiles,
    *,
    computed_at: dt.datetime | None = None,
    new_pregnancies: bool = False,
) -> list[Assessment]:
    """Assess each pregnancy's records as this transaction stored them, (pregnancy id,
    records), on `as_of`, and store the results as current in one statement (a bulk
    import's batch of new women, `app.registering`; `reassess` for one).
    `new_pregnancies`: all were started in this transaction (no assessment to replace)."""
    chosen = _profile_list(profiles)
    evidence = bundled_evidence()
    assessments: list[Assessment] = []
    rows: list[dict[str, Any]] = []
    for pregnancy_id, records in pregnancies:
        assessment = assess(records, as_of, chosen, evidence)
        assessments.append(assessment)
        rows.append(
            assessment_values(
                pregnancy_id,
                assessment,
                records,
                chosen,
                result=assessment_json(assessment, records, chosen),
                computed_at=computed_at,
            )
        )
    store_assessments(session, rows, new_pregnancies=new_pregnancies)
    return assessments


def write_records(
    factory: sessionmaker[Session],
    patient: PatientFields,
    records: PregnancyRecords,
    *,
    as_of: dt.date,
    profiles: Profiles,
    source: RecordSource = RecordSource.FORM,
    identifier_system: str | None = None,
) -> Written:
    """Save `records` for the woman and reassess her on `as_of`, all or nothing."""
    with transaction(factory) as session:
        saved = save_records(
            session, patient, records, source=source, identifier_system=identifier_system
        )
        stored, assessment = reassess(
            session, saved.pregnancy_id, as_of, profiles, stored=saved.records
        )
    return Written(saved.patient_id, saved.pregnancy_id, stored, assessment)


def refresh_assessments(
    factory: sessionmaker[Session], as_of: dt.date, profiles: Profiles, *, batch: int = 200
) -> int:
    """Reassess every stale active pregnancy on `as_of` (scan status changes with the date);
    `batch` pregnancies per transaction. Returns how many were reassessed."""
    with factory() as session:
        stale = stale_pregnancies(session, as_of, profiles)
    for start in range(0, len(stale), batch):
        with transaction(factory) as session:
            for pregnancy_id in stale[start : start + batch]:
                try:
                    reassess(session, pregnancy_id, as_of, profiles)
                except NotFound:
                    continue  # deleted since it was listed; nothing was written for it
    return len(stale)
