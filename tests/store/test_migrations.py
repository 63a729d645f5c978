"""The migrations build, on an empty database, exactly the schema the models describe."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, inspect, text
from sqlalchemy.exc import IntegrityError

from cervixwatch.store.database import make_engine
from cervixwatch.store.migrate import current_revision, downgrade, head_revision, upgrade
from cervixwatch.store.models import Base


def _compared(item: Any, name: str | None, kind: str, _reflected: bool, _compare_to: Any) -> bool:
    """Everything but the worklist-order index, an index of expressions (DESC, NULLS LAST)
    that Alembic cannot reflect to compare; PostgreSQL's `test_the_worklist_order_index_*`
    checks it is there instead."""
    return not (kind == "index" and name == "ix_assessments_worklist_order")


def _differences(url: str, metadata: MetaData) -> list[Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": _compared}
            )
            with warnings.catch_warnings():
                # Said of that index on SQLite before `_compared` is asked.
                warnings.filterwarnings(
                    "ignore", message=".*'ix_assessments_worklist_order'.*", category=UserWarning
                )
                return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_of_an_empty_database_matches_the_models(empty_url: str) -> None:
    assert current_revision(empty_url) is None
    upgrade(empty_url)
    assert current_revision(empty_url) == head_revision()
    assert _differences(empty_url, Base.metadata) == []


def test_the_comparison_would_see_a_model_the_migrations_lack(empty_url: str) -> None:
    # The check above is only worth something if it can fail.
    upgrade(empty_url)
    metadata = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(metadata)
    metadata.tables["patients"].append_column(Column("shoe_size", Integer))
    differences = _differences(empty_url, metadata)
    assert [d[0] for d in differences] == ["add_column"]


def test_downgrade_removes_everything_and_upgrade_is_repeatable(empty_url: str) -> None:
    upgrade(empty_url)
    downgrade(empty_url, "base")
    assert _tables(empty_url) <= {"alembic_version"}
    upgrade(empty_url)
    upgrade(empty_url)  # at head already: nothing to do, no error
    assert _tables(empty_url) >= set(Base.metadata.tables)
    assert _differences(empty_url, Base.metadata) == []


def test_0003_keeps_stored_records_and_checks_its_new_values(empty_url: str) -> None:
    """Migrating a database that holds records: they stay, the new columns are empty, and the
    new columns refuse values outside their enumerations on both databases."""
    upgrade(empty_url, "0002")
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO patients (id, hospital_number, created_at, updated_at) "
                    "VALUES ('p', 'H1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO pregnancies (id, patient_id, status, notes, created_at, "
                    "updated_at) VALUES ('g', 'p', 'active', '[]', CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO cervical_lengths (pregnancy_id, measured_on, length_mm, method,"
                    " source) VALUES ('g', '2026-03-01', 22, 'transvaginal', 'form')"
                )
            )
        upgrade(empty_url)
        with engine.begin() as connection:
            stored = connection.execute(
                text("SELECT length_mm, comparator FROM cervical_lengths")
            ).one()
            assert tuple(stored) == (22, None)
            connection.execute(text("UPDATE cervical_lengths SET comparator = '<'"))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE cervical_lengths SET comparator = 'about'"))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO declined_decisions (pregnancy_id, code, declined_on, source) "
                    "VALUES ('g', 'bed-rest', '2026-03-01', 'form')"
                )
            )
    finally:
        engine.dispose()


def test_0004_gives_stored_hospital_numbers_the_installations_system(
    empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 0003-era woman keeps her records and her hospital number, which becomes an identifier
    of the installation's system (typed MR); the same value under another system is then
    another woman's, and within one system it still names one woman."""
    monkeypatch.setenv("CERVIXWATCH_HOSPITAL_NUMBER_SYSTEM", "urn:oid:2.16.840.1.113883.9")
    upgrade(empty_url, "0003")
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO patients (id, hospital_number, family_name, birth_date, "
                    "created_at, updated_at) VALUES ('p', 'H1', 'Okafor', '1990-05-01', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO pregnancies (id, patient_id, status, notes, created_at, "
                    "updated_at) VALUES ('g', 'p', 'active', '[]', CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO cervical_lengths (pregnancy_id, measured_on, length_mm, method,"
                    " source) VALUES ('g', '2026-03-01', 22, 'transvaginal', 'form')"
                )
            )
        upgrade(empty_url)
        with engine.begin() as connection:
            # SQLite rebuilt `patients`: nothing that refers to her went with the old copy.
            assert connection.execute(text("SELECT count(*) FROM cervical_lengths")).scalar() == 1
            woman = connection.execute(
                text("SELECT hospital_number, family_name, gender, names FROM patients")
            ).one()
            assert tuple(woman[:3]) == ("H1", "Okafor", None)
            assert woman[3] in ([], "[]")
            identifier = connection.execute(
                text(
                    "SELECT patient_id, system, source, value, use, type_system, type_code "
                    "FROM patient_identifiers"
                )
            ).one()
            assert tuple(identifier) == (
                "p",
                "urn:oid:2.16.840.1.113883.9",
                None,
                "H1",
                "usual",
                "http://terminology.hl7.org/CodeSystem/v2-0203",
                "MR",
            )
            # Another hospital's H1 is another woman.
            connection.execute(
                text(
                    "INSERT INTO patients (id, hospital_number, names, created_at, updated_at) "
                    "VALUES ('q', 'H1', '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO patient_identifiers (patient_id, system, value) "
                    "VALUES ('q', 'urn:oid:1.2.3', 'H1')"
                )
            )
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO patient_identifiers (patient_id, system, value) "
                    "VALUES ('q', 'urn:oid:2.16.840.1.113883.9', 'H1')"
                )
            )
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE patients SET gender = 'woman'"))
    finally:
        engine.dispose()


def test_the_worklist_order_index_is_made_on_postgresql_only(empty_url: str) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        indexes = {i["name"] for i in inspect(engine).get_indexes("assessments")}
        on_postgresql = engine.dialect.name == "postgresql"
    finally:
        engine.dispose()
    assert ("ix_assessments_worklist_order" in indexes) is on_postgresql


def test_an_assessment_is_marked_active_by_the_database_whatever_writes_it(
    empty_url: str,
) -> None:
    """The triggers of 0013 keep `assessments.pregnancy_active` equal to its pregnancy's
    status, for rows written by raw SQL too, on both databases."""
    upgrade(empty_url)
    engine = make_engine(empty_url)
    statements = (
        "INSERT INTO patients (id, family_name, created_at, updated_at, names) VALUES "
        "('p', 'Testwoman', '2026-01-01', '2026-01-01', '[]')",
        "INSERT INTO pregnancies (id, patient_id, edd, fetuses, status, notes, created_at, "
        "updated_at) VALUES ('g', 'p', '2026-09-01', 1, 'active', '[]', '2026-01-01', "
        "'2026-01-01')",
        "INSERT INTO assessments (pregnancy_id, as_of, knowledge, computed_at, result, "
        "overdue, urgent, codes) VALUES ('g', '2026-03-02', '{}', '2026-03-02', '{}', "
        "false, false, '{}')",
    )
    marked = text("SELECT pregnancy_active FROM assessments WHERE pregnancy_id = 'g'")
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
            assert connection.scalar(marked)
            connection.execute(text("UPDATE pregnancies SET status = 'ended' WHERE id = 'g'"))
            assert not connection.scalar(marked)
            connection.execute(text("UPDATE pregnancies SET status = 'active' WHERE id = 'g'"))
            assert connection.scalar(marked)
    finally:
        engine.dispose()
