"""What a source takes back when it sends a record again: a record entered in error is removed,
a medication order stopped is no longer active, a complication resolved is resolved, one
refuted is removed. (`records.save_records` only adds and updates.)

A complication sent with its id and dates is stored by `save_records` like any record (its row
updated with the day it resolved); what is resolved or refuted here is, by its code, what else
is stored of it: the same bleeding entered on a form, or imported before it had an id.

Records are found by the identifiers they were imported under (`system`, `<table>/<id>`), so
only what that source sent for this woman is touched. What is removed is returned (`Removed`:
the row's values as they were), for the caller to keep as corrections (issue 13, part 3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cervixwatch.clinical.records import Complication, MaternalCondition
from cervixwatch.store.crud import delete_row
from cervixwatch.store.exports import CHILD_TABLES, KINDS_BY_TABLE
from cervixwatch.store.models import (
    ComplicationRow,
    MaternalConditionRow,
    MedicationRow,
    MedicationStatus,
    SourceIdentifierRow,
)

__all__ = ["Removed", "Retractions", "claim_identifier", "remove_row", "retract"]


@dataclass(frozen=True, slots=True)
class Removed:
    """A record row removed: its table, its id and its values (by column) before."""

    table: str
    row_id: int
    values: Mapping[str, Any]


def _remove(session: Session, row: Any) -> Removed:
    values = {c.key: getattr(row, c.key) for c in type(row).__table__.columns}
    removed = Removed(str(type(row).__tablename__), int(row.id), values)
    delete_row(session, row)
    return removed


@dataclass(frozen=True, slots=True)
class Retractions:
    #: {table: source ids}: records entered in error, to remove.
    removed: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: {source id: (status, the day it ended if the source says)}: medication orders no
    #: longer active.
    medications: Mapping[str, tuple[MedicationStatus, dt.date | None]] = field(default_factory=dict)
    #: {complication: day}: complications of the pregnancy resolved on that day (those noted
    #: by then and not yet resolved).
    resolved: Mapping[Complication, dt.date] = field(default_factory=dict)
    #: Complications and maternal conditions refuted or entered in error, to remove.
    refuted_complications: frozenset[Complication] = frozenset()
    refuted_maternal: frozenset[MaternalCondition] = frozenset()

    def __bool__(self) -> bool:
        return bool(
            self.removed
            or self.medications
            or self.resolved
            or self.refuted_complications
            or self.refuted_maternal
        )


def _identified(
    session: Session, patient_id: str, system: str, table: str, source_ids: Sequence[str]
) -> list[SourceIdentifierRow]:
    values = sorted({f"{table}/{s}" for s in source_ids})
    if not values:
        return []
    query = select(SourceIdentifierRow).where(
        SourceIdentifierRow.system == system,
        SourceIdentifierRow.value.in_(values),
        SourceIdentifierRow.patient_id == patient_id,
        SourceIdentifierRow.table_name == table,
    )
    return list(session.scalars(query))


def retract(
    session: Session,
    patient_id: str,
    pregnancy_id: str,
    system: str,
    retractions: Retractions,
    today: dt.date,
) -> list[Removed]:
    """Apply `retractions` to the woman's stored records (call in the import's transaction);
    the rows removed."""
    removed: list[Removed] = []
    for table, source_ids in retractions.removed.items():
        model = _table(table)
        for identifier in _identified(session, patient_id, system, table, source_ids):
            row = session.get(model, int(identifier.row_id))
            if row is not None:
                removed.append(_remove(session, row))
    medications = _identified(
        session, patient_id, system, "medications", list(retractions.medications)
    )
    for identifier in medications:
        row = session.get(MedicationRow, int(identifier.row_id))
        status, ended = retractions.medications[identifier.value.split("/", 1)[1]]
        if row is not None and row.status != status:
            row.status = status
            row.stopped_on = ended or row.stopped_on or today
        elif row is not None and ended is not None:
            row.stopped_on = ended
    current = select(ComplicationRow).where(
        ComplicationRow.pregnancy_id == pregnancy_id, ComplicationRow.resolved_on.is_(None)
    )
    for row in session.scalars(current):
        if row.complication in retractions.refuted_complications:
            removed.append(_remove(session, row))
        elif row.complication in retractions.resolved:
            day = retractions.resolved[row.complication]
            if row.noted_on is None or row.noted_on <= day:
                row.resolved_on = day
    if retractions.refuted_maternal:
        maternal = select(MaternalConditionRow).where(
            MaternalConditionRow.patient_id == patient_id,
            MaternalConditionRow.condition.in_(sorted(retractions.refuted_maternal)),
        )
        for maternal_row in session.scalars(maternal):
            removed.append(_remove(session, maternal_row))
    session.flush()
    return removed


def remove_row(session: Session, table: str, row_id: int) -> Removed | None:
    """Delete the record row `row_id` of `table` (named by CervixWatch's own id for it, as a
    FHIR DELETE does); None if there is none."""
    row = session.get(_table(table), row_id)
    if row is None:
        return None
    removed = _remove(session, row)
    session.flush()
    return removed


def _table(name: str) -> type[Any]:
    if name in CHILD_TABLES:
        kind, field_name = CHILD_TABLES[name]
        return next(c.table for c in kind.children if c.field == field_name)
    return KINDS_BY_TABLE[name].table


def claim_identifier(
    session: Session, patient_id: str, system: str, table: str, source_id: str, row_id: int
) -> None:
    """Let (`system`, `<table>/<source_id>`) name the stored row `row_id` of the woman, so a
    record saved under that id updates the row."""
    value = f"{table}/{source_id}"
    query = select(SourceIdentifierRow).where(
        SourceIdentifierRow.system == system, SourceIdentifierRow.value == value
    )
    identifier = session.scalars(query).one_or_none()
    if identifier is None:
        session.add(
            SourceIdentifierRow(
                patient_id=patient_id,
                system=system,
                value=value,
                table_name=table,
                row_id=str(row_id),
            )
        )
    elif identifier.patient_id == patient_id:
        identifier.table_name = table
        identifier.row_id = str(row_id)
    session.flush()
