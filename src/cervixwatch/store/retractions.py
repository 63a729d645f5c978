"""What a source takes back when it sends a record again: a record entered in error is removed,
a medication order stopped is no longer active, a complication resolved is resolved, one
refuted is removed. (`records.save_records` only adds and updates.)

Records are found by the identifiers they were imported under (`system`, `<table>/<id>`), so
only what that source sent for this woman is touched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from cervixwatch.clinical.records import Complication, MaternalCondition
from cervixwatch.store.crud import delete_row
from cervixwatch.store.exports import KINDS_BY_TABLE
from cervixwatch.store.models import (
    ComplicationRow,
    MaternalConditionRow,
    MedicationRow,
    MedicationStatus,
    SourceIdentifierRow,
)

__all__ = ["Retractions", "claim_identifier", "retract"]


@dataclass(frozen=True, slots=True)
class Retractions:
    #: {table: source ids}: records entered in error, to remove.
    removed: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: {source id: status}: medication orders no longer active.
    medications: Mapping[str, MedicationStatus] = field(default_factory=dict)
    #: {complication: day}: complications of the pregnancy resolved on that day.
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
) -> None:
    """Apply `retractions` to the woman's stored records (call in the import's transaction)."""
    for table, source_ids in retractions.removed.items():
        kind = KINDS_BY_TABLE[table]
        for identifier in _identified(session, patient_id, system, table, source_ids):
            row = session.get(kind.table, int(identifier.row_id))
            if row is not None:
                delete_row(session, row)
    medications = _identified(
        session, patient_id, system, "medications", list(retractions.medications)
    )
    for identifier in medications:
        row = session.get(MedicationRow, int(identifier.row_id))
        status = retractions.medications[identifier.value.split("/", 1)[1]]
        if row is not None and row.status != status:
            row.status = status
            row.stopped_on = row.stopped_on or today
    current = select(ComplicationRow).where(
        ComplicationRow.pregnancy_id == pregnancy_id, ComplicationRow.resolved_on.is_(None)
    )
    for row in session.scalars(current):
        if row.complication in retractions.refuted_complications:
            session.delete(row)
        elif row.complication in retractions.resolved:
            row.resolved_on = retractions.resolved[row.complication]
    if retractions.refuted_maternal:
        maternal = select(MaternalConditionRow).where(
            MaternalConditionRow.patient_id == patient_id,
            MaternalConditionRow.condition.in_(sorted(retractions.refuted_maternal)),
        )
        for maternal_row in session.scalars(maternal):
            session.delete(maternal_row)
    session.flush()


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
