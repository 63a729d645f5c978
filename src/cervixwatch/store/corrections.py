"""The corrections of clinical records (`models.RecordCorrectionRow`): kept in the write's
transaction, read by woman (newest first) or by record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cervixwatch.store.models import CorrectionChange, RecordCorrectionRow

__all__ = ["add_correction", "corrections_of_patient", "corrections_of_record"]


def add_correction(
    session: Session,
    *,
    patient_id: str,
    record_table: str,
    record_id: int | None,
    record_key: str | None = None,
    change: CorrectionChange,
    reason: str,
    corrected_by: str | None,
    before: Mapping[str, Any],
    at: dt.datetime | None = None,
) -> RecordCorrectionRow:
    row = RecordCorrectionRow(
        patient_id=patient_id,
        record_table=record_table,
        record_id=record_id,
        record_key=record_key,
        change=change,
        reason=reason,
        corrected_by=corrected_by,
        before=dict(before),
    )
    if at is not None:
        row.corrected_at = at
    session.add(row)
    session.flush()
    return row


def corrections_of_patient(session: Session, patient_id: str) -> list[RecordCorrectionRow]:
    query = (
        select(RecordCorrectionRow)
        .where(RecordCorrectionRow.patient_id == patient_id)
        .order_by(RecordCorrectionRow.corrected_at.desc(), RecordCorrectionRow.id.desc())
    )
    return list(session.scalars(query))


def corrections_of_record(
    session: Session, record_table: str, record_id: int
) -> list[RecordCorrectionRow]:
    query = (
        select(RecordCorrectionRow)
        .where(
            RecordCorrectionRow.record_table == record_table,
            RecordCorrectionRow.record_id == record_id,
        )
        .order_by(RecordCorrectionRow.corrected_at.desc(), RecordCorrectionRow.id.desc())
    )
    return list(session.scalars(query))
