"""Engines, SQLite's settings, and `transaction` as one unit of work."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.store.database import (
    DEFAULT_DATABASE_URL,
    database_url,
    make_engine,
    session_factory,
    transaction,
)
from cervixwatch.store.models import PatientIdentifierRow, PatientRow


def _patients(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(PatientRow)) or 0


def test_database_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CERVIXWATCH_DATABASE_URL", "postgresql+psycopg://db.example/cw")
    assert database_url() == "postgresql+psycopg://db.example/cw"
    monkeypatch.delenv("CERVIXWATCH_DATABASE_URL")
    assert database_url() == DEFAULT_DATABASE_URL == "sqlite:///./cervixwatch.db"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'cw.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
    finally:
        engine.dispose()


def test_the_shared_sqlite_database_is_in_wal_mode(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("journal modes are SQLite's")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_transaction_commits_when_the_block_ends(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        session.add(PatientRow(hospital_number="H1"))
    assert _patients(factory) == 1


def _write_then_fail(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        session.add(PatientRow(hospital_number="H1"))
        session.add(PatientRow(hospital_number="H2"))
        session.flush()  # the rows reach the database inside the transaction ...
        raise RuntimeError("lost connection to the scanner")


def test_a_failed_write_leaves_no_rows(factory: sessionmaker[Session]) -> None:
    before = _patients(factory)
    with pytest.raises(RuntimeError, match="lost connection to the scanner"):
        _write_then_fail(factory)
    assert _patients(factory) == before  # ... and are gone with it


def _write_a_duplicate(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        session.add(PatientRow(id="p2", hospital_number="H2"))
        session.flush()
        # H1 is another woman's hospital number (unique per system).
        session.add(PatientIdentifierRow(patient_id="p2", system="urn:hospital", value="H1"))


def test_a_constraint_violation_rolls_back_the_whole_unit(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        session.add(PatientRow(id="p1", hospital_number="H1"))
        session.flush()
        session.add(PatientIdentifierRow(patient_id="p1", system="urn:hospital", value="H1"))
    with pytest.raises(IntegrityError):
        _write_a_duplicate(factory)
    with factory() as session:
        numbers = session.scalars(select(PatientRow.hospital_number)).all()
    assert numbers == ["H1"]


def test_sqlite_write_transactions_take_the_write_lock_when_they_begin(tmp_path: Path) -> None:
    # Locked at BEGIN, a write transaction can never be the reader that fails to become a
    # writer; other writers wait for it (busy_timeout), readers carry on (WAL).
    path = tmp_path / "cw.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
        with transaction(session_factory(engine)) as session:
            session.execute(text("SELECT 1"))  # nothing written yet
            other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
                assert other.execute("SELECT count(*) FROM t").fetchone() == (0,)
            finally:
                other.close()
    finally:
        engine.dispose()
