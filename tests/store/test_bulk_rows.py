"""`store.bulk_rows.insert_rows`: rows written by PostgreSQL's COPY (a batch) are stored
exactly as the same rows written by an INSERT (defaults, JSON, enums, dates and absent values
alike), and the ids drawn for them follow the rows' order. On SQLite both are INSERTs."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.store import transaction
from cervixwatch.store.bulk_rows import COPY_FROM_ROWS, insert_rows
from cervixwatch.store.models import (
    PatientRow,
    PregnancyRow,
    PregnancyStatus,
    SourceIdentifierRow,
    new_id,
)

PATIENTS = cast("Table", PatientRow.__table__)
PREGNANCIES = cast("Table", PregnancyRow.__table__)
SOURCE_IDS = cast("Table", SourceIdentifierRow.__table__)


def _patients(count: int, tag: str) -> list[dict[str, Any]]:
    return [
        {
            "id": new_id(),
            "family_name": f"Synthetic-{i}",
            "birth_date": dt.date(1990, 1 + i % 12, 1 + i % 28),
            "gender": None if i % 2 else "female",
            "hospital_number": f"{tag}{i:05d}",
            # `names` left out: its default (an empty list) is stored.
        }
        for i in range(count)
    ]


def _pregnancies(patients: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": new_id(),
            "patient_id": patient["id"],
            "status": PregnancyStatus.ACTIVE,
            "edd": dt.date(2027, 1, 1) + dt.timedelta(days=i) if i % 3 else None,
            "fetuses": 1 + i % 2,
            "chorionicity": None,
            "dating_method": None,
            "notes": [f"note {i}", "ü"] if i % 4 == 0 else [],
        }
        for i, patient in enumerate(patients)
    ]


def _stored(factory: sessionmaker[Session], table: Table, ids: list[Any]) -> list[tuple[Any, ...]]:
    """The rows of `ids`, in that order, without their ids and what is unique to each."""
    with factory() as session:
        rows = {row.id: row for row in session.execute(select(table).where(table.c.id.in_(ids)))}
    dropped = {"id", "patient_id", "hospital_number"}
    return [
        tuple(_instant(v) for k, v in rows[i]._mapping.items() if k not in dropped) for i in ids
    ]


def _instant(value: Any) -> Any:
    """When a row was written differs from row to row: only that it was, in UTC, is kept."""
    if isinstance(value, dt.datetime):
        return ("an instant in UTC", value.utcoffset() == dt.timedelta(0))
    return value


def test_rows_copied_are_stored_as_rows_inserted(factory: sessionmaker[Session]) -> None:
    count = COPY_FROM_ROWS + 5
    copied, inserted = _patients(count, "C"), _patients(count, "I")
    copied_pregnancies, inserted_pregnancies = _pregnancies(copied), _pregnancies(inserted)
    with transaction(factory) as session:
        connection = session.connection()
        insert_rows(connection, PATIENTS, copied)
        connection.execute(insert(PATIENTS), inserted)
        insert_rows(connection, PREGNANCIES, copied_pregnancies)
        connection.execute(insert(PREGNANCIES), inserted_pregnancies)
    assert _stored(factory, PATIENTS, [r["id"] for r in copied]) == _stored(
        factory, PATIENTS, [r["id"] for r in inserted]
    )
    assert _stored(factory, PREGNANCIES, [r["id"] for r in copied_pregnancies]) == _stored(
        factory, PREGNANCIES, [r["id"] for r in inserted_pregnancies]
    )
    with factory() as session:
        names = session.scalars(select(PatientRow.names).where(PatientRow.id == copied[0]["id"]))
        assert names.one() == []


def test_the_ids_drawn_follow_the_rows_order(factory: sessionmaker[Session]) -> None:
    [patient] = _patients(1, "P")
    rows = [
        {
            "patient_id": patient["id"],
            "system": "urn:test:bulk-rows",
            "value": f"observations/{i}",
            "table_name": "cervical_lengths",
            "row_id": str(i),
        }
        for i in range(COPY_FROM_ROWS * 2)
    ]
    with transaction(factory) as session:
        connection = session.connection()
        insert_rows(connection, PATIENTS, [patient])
        ids = insert_rows(connection, SOURCE_IDS, rows, ids=True)
        assert insert_rows(connection, SOURCE_IDS, []) == []
    assert ids == sorted(ids)
    assert len(set(ids)) == len(rows)
    with factory() as session:
        stored = dict(
            session.execute(
                select(SourceIdentifierRow.id, SourceIdentifierRow.value).where(
                    SourceIdentifierRow.patient_id == patient["id"]
                )
            ).all()
        )
    assert [stored[i] for i in ids] == [row["value"] for row in rows]
