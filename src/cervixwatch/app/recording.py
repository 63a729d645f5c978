"""Recording and reading one clinical record at a time: a scan, an exam, a symptom report, a
line of the obstetric history ... Amending one or marking it entered in error keeps a
correction with the reason (`app.corrections`, built on `amend_in` and `lock_record` here):
nothing here changes or removes a record without one.

Every kind of record is a `RecordType`: its table, whether the woman or her pregnancy owns it,
its dates and the checks its values must pass. Values are column values (the web layer maps its
fields onto them). Every write is one transaction that checks the values against the day and
the stored pregnancy, writes, and reassesses the pregnancy (for the woman's history: her active
pregnancy) on `today`, so the worklist never shows an assessment of data no longer stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app import checks
from cervixwatch.app.assessing import reassess_pregnancy
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.app.reassessing import Profiles
from cervixwatch.app.writing import Saved, writing
from cervixwatch.clinical.plausible import SAME_DAY_VALUES
from cervixwatch.knowledge.record_kinds import BY_TABLE
from cervixwatch.store import crud
from cervixwatch.store.crud import Owner
from cervixwatch.store.models import (
    Base,
    CerclagePlacementRow,
    CerclageRemovalRow,
    CervicalExamRow,
    CervicalExcisionRow,
    CervicalLengthRow,
    ComplicationRow,
    DeclinedDecisionRow,
    FibronectinTestRow,
    MaternalConditionRow,
    MedicationRow,
    MedicationStatus,
    PriorPregnancyRow,
    RecordSource,
    SymptomReportRow,
)
from cervixwatch.store.records import lock_patient

Row = TypeVar("Row", bound=Base)
Values = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RecordType(Generic[Row]):
    """One kind of record and what its values must satisfy."""

    #: In messages: "no cervical length 12".
    name: str
    table: type[Row]
    owner: Owner
    #: Columns listed in this order (then as stored).
    order_by: tuple[str, ...]
    #: Dates (and instants) of this pregnancy: not in the future, inside the pregnancy.
    dates: tuple[str, ...] = ()
    #: Partial dates of the history, by column prefix: not in the future.
    history_dates: tuple[str, ...] = ()
    #: Columns whose values a woman has once at most (a maternal condition).
    unique: tuple[str, ...] = ()
    #: Checks between the values of one record, on the values as they will be stored.
    check: Callable[[Values], None] | None = None
    #: Values a record takes from the day when they are not given, on the values as they
    #: will be stored (an order stopped on no given day stopped today).
    complete: Callable[[Values, dt.date], dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class _Owner:
    patient_id: str
    pregnancy_id: str | None  # the pregnancy to reassess
    edd: dt.date | None


def _owner(session: Session, owner: Owner, owner_id: str, *, lock: bool) -> _Owner:
    """Who owns the records: the woman (and her active pregnancy) or the pregnancy."""
    if owner == "patient":
        patient = crud.get_patient(session, owner_id)
        if patient is None:
            raise NotFound(f"no patient {owner_id}")
        if lock:
            lock_patient(session, patient.id)
        return _Owner(patient.id, crud.active_pregnancy_id(session, patient.id), None)
    pregnancy = crud.get_pregnancy(session, owner_id)
    if pregnancy is None:
        raise NotFound(f"no pregnancy {owner_id}")
    if lock:
        lock_patient(session, pregnancy.patient_id)
    return _Owner(pregnancy.patient_id, pregnancy.id, pregnancy.edd)


def _owner_id(kind: RecordType[Any], row: Base) -> str:
    value: str = getattr(row, f"{kind.owner}_id")
    return value


def part_of(kind: RecordType[Any]) -> str:
    """The kind's part of `PregnancyRecords` ("cervical_lengths"), as the plausibility checks
    and the FHIR registry name it."""
    return BY_TABLE[str(kind.table.__tablename__)].part


def check_record(
    session: Session, kind: RecordType[Row], owner_id: str, values: Values, today: dt.date
) -> None:
    """Check a new record's values as `add_record` does, for a use case that stores it in
    its own transaction (`pregnancies.close_pregnancy` records the birth as history)."""
    _check(
        session, kind, _owner(session, kind.owner, owner_id, lock=False), owner_id, values, today
    )


def _check(
    session: Session,
    kind: RecordType[Row],
    owner: _Owner,
    owner_id: str,
    values: Values,
    today: dt.date,
    *,
    row_id: int | None = None,
    confirmed: Collection[str] = (),
    changed: Collection[str] | None = None,
) -> None:
    checks.pregnancy_dates(values, kind.dates, today, owner.edd)
    checks.history_dates(values, kind.history_dates, today)
    if kind.check is not None:
        kind.check(values)
    if kind.unique:
        same = {c: values[c] for c in kind.unique}
        other = crud.conflicting_row(
            session, kind.table, kind.owner, owner_id, same, other_than=row_id
        )
        if other is not None:
            shown = ", ".join(f"{c} {v}" for c, v in same.items())
            raise Conflict(f"{kind.name} with {shown} is already recorded (id {other.id})")  # type: ignore[attr-defined]
    _plausible(session, kind, owner_id, values, row_id, confirmed, changed)


def _plausible(
    session: Session,
    kind: RecordType[Row],
    owner_id: str,
    values: Values,
    row_id: int | None,
    confirmed: Collection[str],
    changed: Collection[str] | None,
) -> None:
    """The values' plausibility (`checks.plausible_record`), with what it compares them to:
    the pregnancy's other records of the kind, and its cerclage placements for a removal.
    `changed`: an amendment's columns (None: a new record), the only ones warned about."""
    part = part_of(kind)
    same_kind: list[dict[str, Any]] = []
    if part in SAME_DAY_VALUES:
        columns = [c.key for c in kind.table.__table__.columns]
        same_kind = [
            {c: getattr(row, c) for c in columns}
            for row in crud.rows_of(session, kind.table, kind.owner, owner_id, ())
            if row.id != row_id  # type: ignore[attr-defined]
        ]
    placements = None
    if kind.table is CerclageRemovalRow:
        placements = len(crud.rows_of(session, CerclagePlacementRow, "pregnancy", owner_id, ()))
    checks.plausible_record(
        part,
        values,
        same_kind=same_kind,
        placements=placements,
        confirmed=confirmed,
        asked_of=changed,
    )


def _row(session: Session, kind: RecordType[Row], row_id: int) -> Row:
    row = crud.get_row(session, kind.table, row_id)
    if row is None:
        raise NotFound(f"no {kind.name} {row_id}")
    return row


def _locked_row(session: Session, kind: RecordType[Row], row_id: int) -> tuple[Row, _Owner]:
    """The record, read again once its woman is locked (it may have changed meanwhile)."""
    owner_id = _owner_id(kind, _row(session, kind, row_id))
    owner = _owner(session, kind.owner, owner_id, lock=True)
    row = session.get(kind.table, row_id, populate_existing=True)
    if row is None:
        raise NotFound(f"no {kind.name} {row_id}")
    return row, owner


# --- the use cases ------------------------------------------------------------------------------


def add_record(
    sessions: sessionmaker[Session],
    kind: RecordType[Row],
    owner_id: str,
    values: Values,
    *,
    today: dt.date,
    profiles: Profiles,
    source: RecordSource = RecordSource.FORM,
    confirmed: Collection[str] = (),
) -> Saved[Row]:
    """Record one `kind` of record for its owner, and reassess. `confirmed`: the codes of the
    plausibility warnings the person recording has confirmed (`checks.NeedsConfirmation`)."""
    if kind.complete is not None:
        values = {**values, **kind.complete(values, today)}
    with writing(sessions) as session:
        owner = _owner(session, kind.owner, owner_id, lock=True)
        _check(session, kind, owner, owner_id, values, today, confirmed=confirmed)
        owner_value = owner.patient_id if kind.owner == "patient" else owner.pregnancy_id
        row = crud.add_row(
            session, kind.table, {**values, f"{kind.owner}_id": owner_value, "source": source}
        )
        summary = reassess_pregnancy(session, owner.pregnancy_id, today, profiles)
    return Saved(row, summary)


def get_record(sessions: sessionmaker[Session], kind: RecordType[Row], row_id: int) -> Row:
    with sessions() as session:
        return _row(session, kind, row_id)


def list_records(
    sessions: sessionmaker[Session], kind: RecordType[Row], owner_id: str
) -> list[Row]:
    """The owner's records of this kind, by date."""
    with sessions() as session:
        _owner(session, kind.owner, owner_id, lock=False)
        return crud.rows_of(session, kind.table, kind.owner, owner_id, kind.order_by)


@dataclass(frozen=True, slots=True)
class Locked(Generic[Row]):
    """A record read with its woman locked: its values (by column) as they are now, and the
    pregnancy to reassess after changing it (None: she has no active pregnancy)."""

    row: Row
    values: dict[str, Any]
    patient_id: str
    pregnancy_id: str | None


def lock_record(session: Session, kind: RecordType[Row], row_id: int) -> Locked[Row]:
    """The record, its woman locked for the caller's write transaction (`NotFound` if none)."""
    row, owner = _locked_row(session, kind, row_id)
    values = {c.key: getattr(row, c.key) for c in kind.table.__table__.columns}
    return Locked(row, values, owner.patient_id, owner.pregnancy_id)


def amend_in(
    session: Session,
    kind: RecordType[Row],
    row_id: int,
    changes: Values,
    *,
    today: dt.date,
    confirmed: Collection[str] = (),
    must_change: bool = False,
) -> Locked[Row]:
    """Amend a record in the caller's write transaction (its woman locked first), checked
    as a new record is, but warned only about the values it changes; the caller reassesses.
    Returns the record (amended) with its values as they were before. `must_change`: only
    the values that differ from those stored are changes, and there must be one."""
    row, owner = _locked_row(session, kind, row_id)
    owner_id = _owner_id(kind, row)
    stored = {c.key: getattr(row, c.key) for c in kind.table.__table__.columns}
    if must_change:
        changes = {c: v for c, v in changes.items() if stored.get(c) != v}
        if not changes:
            raise InvalidField("changes", "no value differs from the record as stored")
    if kind.complete is not None and changes.keys() & {"status"}:
        changes = {**changes, **kind.complete({**stored, **changes}, today)}
    _check(
        session,
        kind,
        owner,
        owner_id,
        {**stored, **changes},
        today,
        row_id=row_id,
        confirmed=confirmed,
        changed=changes.keys(),
    )
    crud.update_row(session, row, changes)
    return Locked(row, stored, owner.patient_id, owner.pregnancy_id)


# --- checks within one record -------------------------------------------------------------------


def _fibronectin(values: Values) -> None:
    if values.get("ng_per_ml") is None and values.get("positive") is None:
        raise InvalidField("positive", "give the result: ng_per_ml, positive, or both")


def _complication(values: Values) -> None:
    checks.not_before("resolved_on", values.get("resolved_on"), "noted_on", values.get("noted_on"))


def _medication(values: Values) -> None:
    checks.not_before(
        "stopped_on", values.get("stopped_on"), "started_on", values.get("started_on")
    )


def _stopped_today(values: Values, today: dt.date) -> dict[str, Any]:
    """An order that has ended with no stop date stopped today: so the assessment of an
    earlier day still sees it, and of a later one does not."""
    status = values.get("status")
    if (
        status is not None
        and status != MedicationStatus.ACTIVE
        and values.get("stopped_on") is None
    ):
        return {"stopped_on": today}
    return {}


def _symptoms(values: Values) -> None:
    both = set(values.get("present") or ()) & set(values.get("absent") or ())
    if both:
        raise InvalidField(
            "absent", f"{', '.join(sorted(both))} cannot be both present and absent", sorted(both)
        )


# --- the kinds of record ------------------------------------------------------------------------

PRIOR_PREGNANCY = RecordType(
    "previous pregnancy",
    PriorPregnancyRow,
    "patient",
    order_by=("ended_year", "ended_month", "ended_day"),
    history_dates=("ended",),
)
CERVICAL_EXCISION = RecordType(
    "cervical excision",
    CervicalExcisionRow,
    "patient",
    order_by=("performed_year", "performed_month", "performed_day"),
    history_dates=("performed",),
)
MATERNAL_CONDITION = RecordType(
    "maternal condition",
    MaternalConditionRow,
    "patient",
    order_by=("condition",),
    unique=("condition",),
)
CERVICAL_LENGTH = RecordType(
    "cervical length",
    CervicalLengthRow,
    "pregnancy",
    order_by=("measured_on",),
    dates=("measured_on",),
)
CERVICAL_EXAM = RecordType(
    "cervical exam", CervicalExamRow, "pregnancy", ("examined_on",), dates=("examined_on",)
)
FIBRONECTIN_TEST = RecordType(
    "fibronectin test",
    FibronectinTestRow,
    "pregnancy",
    order_by=("tested_on",),
    dates=("tested_on",),
    check=_fibronectin,
)
COMPLICATION = RecordType(
    "complication",
    ComplicationRow,
    "pregnancy",
    order_by=("noted_on",),
    dates=("noted_on", "resolved_on"),
    check=_complication,
)
CERCLAGE_PLACEMENT = RecordType(
    "cerclage placement",
    CerclagePlacementRow,
    "pregnancy",
    order_by=("placed_on",),
    dates=("placed_on",),
)
CERCLAGE_REMOVAL = RecordType(
    "cerclage removal",
    CerclageRemovalRow,
    "pregnancy",
    order_by=("removed_on",),
    dates=("removed_on",),
)
MEDICATION = RecordType(
    "medication",
    MedicationRow,
    "pregnancy",
    order_by=("started_on",),
    dates=("started_on", "stopped_on"),
    check=_medication,
    complete=_stopped_today,
)
SYMPTOM_REPORT = RecordType(
    "symptom report",
    SymptomReportRow,
    "pregnancy",
    order_by=("reported_on", "reported_at"),
    dates=("reported_on", "reported_at"),
    check=_symptoms,
)
DECLINED_DECISION = RecordType(
    "declined decision",
    DeclinedDecisionRow,
    "pregnancy",
    order_by=("declined_on",),
    dates=("declined_on",),
)

#: The records of a pregnancy (rather than of the woman).
PREGNANCY_RECORDS: tuple[RecordType[Any], ...] = (
    CERVICAL_LENGTH,
    CERVICAL_EXAM,
    FIBRONECTIN_TEST,
    COMPLICATION,
    CERCLAGE_PLACEMENT,
    CERCLAGE_REMOVAL,
    MEDICATION,
    SYMPTOM_REPORT,
    DECLINED_DECISION,
)


# --- the use cases by name ----------------------------------------------------------------------


def record_scan(
    sessions: sessionmaker[Session],
    pregnancy_id: str,
    values: Values,
    *,
    today: dt.date,
    profiles: Profiles,
) -> Saved[CervicalLengthRow]:
    """Record a cervical-length scan (`length_mm`, `measured_on`, `method` ...)."""
    return add_record(
        sessions, CERVICAL_LENGTH, pregnancy_id, values, today=today, profiles=profiles
    )


def record_exam(
    sessions: sessionmaker[Session],
    pregnancy_id: str,
    values: Values,
    *,
    today: dt.date,
    profiles: Profiles,
) -> Saved[CervicalExamRow]:
    """Record a pelvic examination (`dilation_cm`, `effacement_percent` ...)."""
    return add_record(sessions, CERVICAL_EXAM, pregnancy_id, values, today=today, profiles=profiles)


def report_symptoms(
    sessions: sessionmaker[Session],
    pregnancy_id: str,
    values: Values,
    *,
    today: dt.date,
    profiles: Profiles,
) -> Saved[SymptomReportRow]:
    """Record a woman's symptom report (`present`, `absent`: symptom codes)."""
    return add_record(
        sessions, SYMPTOM_REPORT, pregnancy_id, values, today=today, profiles=profiles
    )


__all__ = [
    "CERCLAGE_PLACEMENT",
    "CERCLAGE_REMOVAL",
    "CERVICAL_EXAM",
    "CERVICAL_EXCISION",
    "CERVICAL_LENGTH",
    "COMPLICATION",
    "DECLINED_DECISION",
    "FIBRONECTIN_TEST",
    "MATERNAL_CONDITION",
    "MEDICATION",
    "PREGNANCY_RECORDS",
    "PRIOR_PREGNANCY",
    "SYMPTOM_REPORT",
    "Locked",
    "RecordType",
    "Saved",
    "add_record",
    "amend_in",
    "get_record",
    "list_records",
    "lock_record",
    "part_of",
    "record_exam",
    "record_scan",
    "report_symptoms",
]
