"""Registering women, finding them, and correcting who they are.

Her hospital number (MRN) is unique: registering a number already in use is a `Conflict`, so
one woman is never two. A change that bears on her assessment (her birth date) reassesses her
active pregnancy in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.principal import Scope
from cervixwatch.app import checks
from cervixwatch.app.assessing import reassess_pregnancy
from cervixwatch.app.errors import Conflict, NotFound
from cervixwatch.app.writing import Saved, writing
from cervixwatch.store import accounts, crud
from cervixwatch.store.models import PatientRow
from cervixwatch.store.records import lock_patient
from cervixwatch.store.writes import Profiles


@dataclass(frozen=True, slots=True)
class Patient:
    """A woman as registered, and her active pregnancy if she has one."""

    id: str
    hospital_number: str
    family_name: str | None
    given_name: str | None
    birth_date: dt.date | None
    active_pregnancy_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class PatientPage:
    items: list[Patient]
    total: int


def _patient(row: PatientRow, active_pregnancy_id: str | None) -> Patient:
    return Patient(
        id=row.id,
        hospital_number=row.hospital_number,
        family_name=row.family_name,
        given_name=row.given_name,
        birth_date=row.birth_date,
        active_pregnancy_id=active_pregnancy_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _unused_hospital_number(session: Session, number: str, patient_id: str | None) -> None:
    other = crud.patient_by_hospital_number(session, number)
    if other is not None and other.id != patient_id:
        raise Conflict(f"hospital number {number} is already registered (patient {other.id})")


def register_patient(
    sessions: sessionmaker[Session],
    values: Mapping[str, Any],
    *,
    today: dt.date,
    team_ids: Collection[str] = (),
) -> Patient:
    """Register a woman (`hospital_number`, names, `birth_date`) under the care of the care
    teams `team_ids`."""
    with writing(sessions) as session:
        _unused_hospital_number(session, values["hospital_number"], None)
        if values.get("birth_date") is not None:
            checks.not_in_future("birth_date", values["birth_date"], today)
        row = crud.add_row(session, PatientRow, values)
        accounts.add_patients_to_teams(session, row.id, team_ids, new_patient=True)
        return _patient(row, None)


def get_patient(sessions: sessionmaker[Session], patient_id: str) -> Patient:
    with sessions() as session:
        found = crud.patient_with_active_pregnancy(session, patient_id)
    if found is None:
        raise NotFound(f"no patient {patient_id}")
    return _patient(*found)


def find_patients(
    sessions: sessionmaker[Session],
    search: str | None,
    *,
    page: int,
    page_size: int,
    scope: Scope | None = None,
) -> PatientPage:
    """One page of the women whose name or hospital number holds every word of `search`,
    among those `scope` may see (None: all)."""
    with sessions() as session:
        rows = crud.find_patients(
            session, search, limit=page_size, offset=(page - 1) * page_size, scope=scope
        )
        total = crud.count_patients(session, search, scope=scope)
    return PatientPage([_patient(*row) for row in rows], total)


def update_patient(
    sessions: sessionmaker[Session],
    patient_id: str,
    changes: Mapping[str, Any],
    *,
    today: dt.date,
    profiles: Profiles,
) -> Saved[Patient]:
    """Correct her hospital number, names or birth date; reassess her active pregnancy."""
    with writing(sessions) as session:
        row = crud.get_patient(session, patient_id)
        if row is None:
            raise NotFound(f"no patient {patient_id}")
        lock_patient(session, row.id)
        if changes.get("hospital_number") is not None:
            _unused_hospital_number(session, changes["hospital_number"], row.id)
        if changes.get("birth_date") is not None:
            checks.not_in_future("birth_date", changes["birth_date"], today)
        crud.update_row(session, row, changes)
        active = crud.active_pregnancy_id(session, row.id)
        summary = reassess_pregnancy(session, active, today, profiles)
        return Saved(_patient(row, active), summary)
