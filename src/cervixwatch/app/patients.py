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
from cervixwatch.app.nhs_number import NHS_NUMBER_SYSTEM, checked_nhs_number
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


class AlreadyRegistered(Conflict):
    """The woman being registered is stored already: an identifier of hers is another
    woman's. The message says only that it is taken, not who has it nor under which team
    (issue 12, low finding: it named her internal id); `patient_id` is for the registration
    form, which links to her only if the clinician may see her (`visible_to`)."""

    def __init__(self, message: str, patient_id: str) -> None:
        super().__init__(message)
        self.patient_id = patient_id


@dataclass(frozen=True, slots=True)
class _Identifier:
    """An identifier to store (`store.identity.IdentifierLike`)."""

    system: str
    value: str
    use: str | None = None
    type_system: str | None = None
    type_code: str | None = None
    type_text: str | None = None


def _unused_hospital_number(
    session: Session, number: str, patient_id: str | None, local_system: str
) -> None:
    """`AlreadyRegistered` if another woman has the number. That a number is in use cannot be
    hidden from someone registering it (docs/security.md, "Hospital numbers"); the refusal
    is audited."""
    other = identity.hospital_number_owner(session, number, local_system)
    if other is not None and other != patient_id:
        raise AlreadyRegistered(f"hospital number {number} is already registered", other)


def _unused_nhs_number(session: Session, number: str) -> None:
    key = (NHS_NUMBER_SYSTEM, None, number)
    other = identity.women_by_identifiers(session, [key]).get(key)
    if other is not None:
        raise AlreadyRegistered(f"NHS number {number} is already registered", other)


def register_patient(
    sessions: sessionmaker[Session],
    values: Mapping[str, Any],
    *,
    today: dt.date,
    team_ids: Collection[str] = (),
    local_system: str = c.DEFAULT_HOSPITAL_NUMBER_SYSTEM,
) -> Patient:
    """Register a woman (`hospital_number`, names, `birth_date`, and `nhs_number` if known)
    under the care of the care teams `team_ids`; her hospital number is an identifier of
    `local_system`, her NHS number one of `NHS_NUMBER_SYSTEM` (its check digit checked).
    A woman already registered under either is `AlreadyRegistered`, never a second one."""
    columns = dict(values)
    nhs_text = columns.pop("nhs_number", None)
    nhs_number = checked_nhs_number("nhs_number", nhs_text) if nhs_text else None
    with writing(sessions) as session:
        number = columns["hospital_number"]
        _unused_hospital_number(session, number, None, local_system)
        if nhs_number is not None:
            _unused_nhs_number(session, nhs_number)
        if columns.get("birth_date") is not None:
            checks.not_in_future("birth_date", columns["birth_date"], today)
        row = crud.add_row(session, PatientRow, {**columns, "names": []})
        identity.set_hospital_number(session, row.id, number, local_system)
        if nhs_number is not None:
            identity.add_identifiers(
                session,
                row.id,
                [_Identifier(NHS_NUMBER_SYSTEM, nhs_number)],
                source=None,
                local_system=local_system,
            )
        session.refresh(row)
        accounts.add_patients_to_teams(session, row.id, team_ids, new_patient=True)
        return _patient(row, None)


def visible_to(sessions: sessionmaker[Session], patient_id: str, scope: Scope) -> bool:
    """Whether a user of `scope` may see the woman (a care team of hers is theirs)."""
    with sessions() as session:
        return patient_id == scope.patient_id or accounts.patient_in_teams(
            session, patient_id, scope.team_ids
        )


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


def find_for_picker(
    sessions: sessionmaker[Session], search: str, *, scope: Scope, limit: int = 10
) -> list[Patient]:
    """The women `scope` may see that `search` names: words of her name or hospital number,
    or the whole of one of her identifiers (an NHS number); those by identifier first."""
    with sessions() as session:
        rows = crud.patients_with_identifier(session, search, scope=scope, limit=limit)
        rows += crud.find_patients(session, search, limit=limit, offset=0, scope=scope)
    found: dict[str, Patient] = {}
    for row in rows:
        found.setdefault(row[0].id, _patient(*row))
    return list(found.values())[:limit]


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
