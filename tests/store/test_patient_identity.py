"""A woman's identifiers in the store: unique per (system, value), or per (source, value) for
one sent without a system; the hospital number shown is her identifier of the installation's
system, else the one typed MR."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.interop.fhir_patient import Identifier
from cervixwatch.knowledge import codes as c
from cervixwatch.store.database import transaction
from cervixwatch.store.identity import women_by_identifiers
from cervixwatch.store.models import PatientIdentifierRow, PatientRow
from cervixwatch.store.records import PatientFields, save_records

LOCAL = "urn:oid:1.2.3.local"
OTHER = "urn:oid:1.2.3.other"
RECORDS = PregnancyRecords(patient_id="", edd=dt.date(2026, 7, 20))


def _save(factory: sessionmaker[Session], fields: PatientFields) -> str:
    with transaction(factory) as session:
        return save_records(session, fields, RECORDS).patient_id


def _count(factory: sessionmaker[Session], table: type[object]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def _number(factory: sessionmaker[Session], patient_id: str) -> str | None:
    with factory() as session:
        row = session.get(PatientRow, patient_id)
        assert row is not None
        return row.hospital_number


def test_the_same_value_under_two_systems_is_two_women(factory: sessionmaker[Session]) -> None:
    mr = {"use": "usual", "type_system": c.IDENTIFIER_TYPE, "type_code": "MR"}
    here = _save(
        factory, PatientFields(identifiers=(Identifier("H1", LOCAL, **mr),), local_system=LOCAL)
    )
    there = _save(
        factory, PatientFields(identifiers=(Identifier("H1", OTHER),), local_system=LOCAL)
    )
    assert here != there
    assert _save(factory, PatientFields(identifiers=(Identifier("H1", LOCAL),))) == here
    assert _count(factory, PatientRow) == 2
    # Shown: the installation's system first; another system's number only when typed MR.
    assert _number(factory, here) == "H1"
    assert _number(factory, there) is None
    with factory() as session:
        assert women_by_identifiers(session, [(OTHER, None, "H1")]) == {(OTHER, None, "H1"): there}


def test_a_hospital_number_alone_is_of_the_local_system(factory: sessionmaker[Session]) -> None:
    first = _save(factory, PatientFields("H7", local_system=LOCAL))
    assert _save(factory, PatientFields("H7", local_system=LOCAL)) == first
    with factory() as session:
        [row] = session.scalars(select(PatientIdentifierRow)).all()
    assert (row.system, row.value, row.use, row.type_code) == (LOCAL, "H7", "usual", "MR")


def test_the_database_keeps_an_identifier_to_one_woman(factory: sessionmaker[Session]) -> None:
    first = _save(factory, PatientFields("H1", local_system=LOCAL))
    second = _save(factory, PatientFields("H2", local_system=LOCAL))
    with pytest.raises(IntegrityError), transaction(factory) as session:
        session.add(PatientIdentifierRow(patient_id=second, system=LOCAL, value="H1"))
    # Without a system, a value is unique only within the source that sent it.
    with transaction(factory) as session:
        session.add(PatientIdentifierRow(patient_id=first, source="user:a", value="X"))
        session.add(PatientIdentifierRow(patient_id=second, source="user:b", value="X"))
    with pytest.raises(IntegrityError), transaction(factory) as session:
        session.add(PatientIdentifierRow(patient_id=second, source="user:a", value="X"))
    # An identifier has a system or a source.
    with pytest.raises(IntegrityError), transaction(factory) as session:
        session.add(PatientIdentifierRow(patient_id=first, value="Y"))
