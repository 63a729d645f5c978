"""Source identifiers: the same resource sent twice is stored once; an amended one replaces
the first; an identifier never names two records, nor records of two women."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.clinical.records import (
    CervicalLengthMeasurement,
    Complication,
    ComplicationRecord,
    PregnancyRecords,
)
from cervixwatch.store.database import transaction
from cervixwatch.store.models import (
    CervicalLengthRow,
    ComplicationRow,
    RecordSource,
    SourceIdentifierRow,
)
from cervixwatch.store.records import (
    IdentifierConflict,
    PatientFields,
    load_records,
    save_records,
)

DAY = dt.date(2026, 3, 2)
EHR = "https://ehr.example.org/fhir"


def _records(*lengths: CervicalLengthMeasurement, **changes: Any) -> PregnancyRecords:
    return dataclasses.replace(
        PregnancyRecords(patient_id="p1", edd=dt.date(2026, 7, 20), cervical_lengths=lengths),
        **changes,
    )


def _save(
    factory: sessionmaker[Session],
    records: PregnancyRecords,
    hospital_number: str = "H1",
    system: str | None = None,
) -> tuple[str, str]:
    with transaction(factory) as session:
        saved = save_records(
            session,
            PatientFields(hospital_number),
            records,
            source=RecordSource.FHIR,
            identifier_system=system,
        )
    return saved.patient_id, saved.pregnancy_id


def _count(factory: sessionmaker[Session], table: type[object]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_the_database_refuses_a_second_row_with_the_same_identifier(
    factory: sessionmaker[Session],
) -> None:
    patient_id, _ = _save(factory, _records())
    identifier = {"patient_id": patient_id, "system": EHR, "value": "cervical_lengths/cl1"}
    with transaction(factory) as session:
        session.add(SourceIdentifierRow(**identifier, table_name="cervical_lengths", row_id="1"))
    with pytest.raises(IntegrityError), transaction(factory) as session:
        session.add(SourceIdentifierRow(**identifier, table_name="cervical_lengths", row_id="2"))


def test_a_resource_sent_twice_is_stored_once(factory: sessionmaker[Session]) -> None:
    length = CervicalLengthMeasurement(DAY, 23.0, source_id="cl1")
    _save(factory, _records(length), system=EHR)
    _save(factory, _records(length), system=EHR)
    assert _count(factory, CervicalLengthRow) == 1
    assert _count(factory, SourceIdentifierRow) == 2  # the length, and the Patient "p1"


def test_an_amended_resource_replaces_the_first(factory: sessionmaker[Session]) -> None:
    first = CervicalLengthMeasurement(DAY, 23.0, source_id="cl1")
    _, pregnancy_id = _save(factory, _records(first))
    amended = CervicalLengthMeasurement(DAY, 18.0, source_id="cl1")
    _save(factory, _records(amended))
    with factory() as session:
        assert load_records(session, pregnancy_id).cervical_lengths == (amended,)


def test_new_resources_are_added_to_what_is_stored(factory: sessionmaker[Session]) -> None:
    first = CervicalLengthMeasurement(DAY, 23.0, source_id="cl1")
    second = CervicalLengthMeasurement(DAY + dt.timedelta(days=14), 21.0, source_id="cl2")
    _, pregnancy_id = _save(factory, _records(first))
    labour = ComplicationRecord(Complication.PRETERM_LABOUR, DAY)
    _save(factory, _records(second, complications=(labour,)))
    _save(factory, _records(complications=(labour,)))
    with factory() as session:
        stored = load_records(session, pregnancy_id)
    assert stored.cervical_lengths == (first, second)
    assert stored.complications == (labour,)
    assert _count(factory, ComplicationRow) == 1


def test_ids_are_scoped_to_the_woman_unless_the_source_is_named(
    factory: sessionmaker[Session],
) -> None:
    # Exported bundles reuse ids ("cl-0") across women: without a system they never clash.
    length = CervicalLengthMeasurement(DAY, 23.0, source_id="cl-0")
    _save(factory, _records(length), "H1")
    _save(factory, _records(length), "H2")
    assert _count(factory, CervicalLengthRow) == 2
    # Under one server's system, an id is one resource: it cannot belong to another woman.
    _save(factory, _records(length, patient_id="a"), "H3", system=EHR)
    with pytest.raises(IdentifierConflict, match="another patient"):
        _save(factory, _records(length, patient_id="b"), "H4", system=EHR)
    assert _count(factory, CervicalLengthRow) == 3


@pytest.mark.parametrize("system", [None, EHR], ids=["first records", "merged"])
def test_the_same_resource_twice_in_one_batch_is_one_row_with_the_later_values(
    factory: sessionmaker[Session], system: str | None
) -> None:
    """Both ways of saving agree: a new woman's first records (plain INSERTs) and records
    merged into what is stored (an identifier system given, so the merge looks it up)."""
    first = CervicalLengthMeasurement(DAY, 23.0, source_id="cl1")
    other = CervicalLengthMeasurement(DAY, 30.0, source_id="cl2")
    amended = CervicalLengthMeasurement(DAY, 18.0, source_id="cl1")
    with transaction(factory) as session:
        saved = save_records(
            session,
            PatientFields("H1"),
            _records(first, other, amended),
            source=RecordSource.FHIR,
            identifier_system=system,
        )
    with factory() as session:
        stored = load_records(session, saved.pregnancy_id)
        lengths = {row.source_ref: row.id for row in session.scalars(select(CervicalLengthRow))}
    assert stored.cervical_lengths == (amended, other)
    assert saved.records == stored
    assert saved.claimed == {f"cervical_lengths/{ref}": row_id for ref, row_id in lengths.items()}
    assert _count(factory, SourceIdentifierRow) == 3  # cl1, cl2 and the Patient "p1"
