"""Registering women, finding them, and correcting who they are.

Her hospital number (MRN) is her identifier of the installation's hospital-number system
(`local_system`, `CERVIXWATCH_HOSPITAL_NUMBER_SYSTEM`), unique within it: registering a number
already in use is a `Conflict`, so one woman is never two. The same value under another system
(another hospital's number) is another identifier. A change that bears on her assessment (her
birth date) reassesses her active pregnancy in the same transaction.
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
from cervixwatch.app.reassessing import Profiles
from cervixwatch.app.writing import Saved, writing
from cervixwatch.knowledge import codes as c
from cervixwatch.store import accounts, crud, identity
from cervixwatch.store.models import PatientRow
from cervixwatch.store.records import lock_patient


@dataclass(frozen=True, slots=True)
class Patient:
    """A woman as registered, and her active pregnancy if she has one."""

    id: str
    #: Her identifier of the installation's system, else the one typed MR (None: neither).
    hospital_number: str | None
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


def _unused_hospital_number(
    session: Session, number: str, patient_id: str | None, local_system: str
) -> None:
    """`Conflict` if another woman has the number. The refusal says only that it is taken,
    not who has it nor under which team (issue 12, low finding: it named her internal id).
    That a number is in use cannot be hidden from someone registering it (docs/security.md,
    "Hospital numbers"); the refusal is audited."""
    other = identity.hospital_number_owner(session, number, local_system)
    if other is not None and other != patient_id:
        raise Conflict(f"hospital number {number} is already registered")


def register_patient(
    sessions: sessionmaker[Session],
    values: Mapping[str, Any],
    *,
    today: dt.date,
    team_ids: Collection[str] = (),
    local_system: str = c.DEFAULT_HOSPITAL_NUMBER_SYSTEM,
) -> Patient:
    """Register a woman (`hospital_number`, names, `birth_date`) under the care of the care
    teams `team_ids`; her hospital number is an identifier of `local_system`."""
    with writing(sessions) as session:
        number = values["hospital_number"]
        _unused_hospital_number(session, number, None, local_system)
        if values.get("birth_date") is not None:
            checks.not_in_future("birth_date", values["birth_date"], today)
        row = crud.add_row(session, PatientRow, {**values, "names": []})
        identity.set_hospital_number(session, row.id, number, local_system)
        session.refresh(row)
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
    local_system: str = c.DEFAULT_HOSPITAL_NUMBER_SYSTEM,
) -> Saved[Patient]:
    """Correct her hospital number (her identifier of `local_system`), names or birth date;
    reassess her active pregnancy."""
    with writing(sessions) as session:
        row = crud.get_patient(session, patient_id)
        if row is None:
            raise NotFound(f"no patient {patient_id}")
        lock_patient(session, row.id)
        columns = dict(changes)
        number = columns.pop("hospital_number", None)
        if number is not None:
            _unused_hospital_number(session, number, row.id, local_system)
        if columns.get("birth_date") is not None:
            checks.not_in_future("birth_date", columns["birth_date"], today)
        crud.update_row(session, row, columns)
        if row.names and ("family_name" in columns or "given_name" in columns):
            # Her names as a source sent them: the main one is what the form corrected.
            row.names = identity.with_main_name(row.names, row.family_name, row.given_name)
        if number is not None:
            identity.set_hospital_number(session, row.id, number, local_system)
            session.refresh(row)
        active = crud.active_pregnancy_id(session, row.id)
        summary = reassess_pregnancy(session, active, today, profiles)
        return Saved(_patient(row, active), summary)
