"""Migration 0005 (versions of the served FHIR resources): a woman stored before it gets, as
her last write, the latest time the database knows of a change to her (her row's, her
pregnancies' or her assessment's), so her resources are version 1 of then; the downgrade
removes the two tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import TextClause, bindparam, inspect, text

from cervixwatch.store.database import make_engine
from cervixwatch.store.migrate import downgrade, upgrade
from cervixwatch.store.types import UTCDateTime


def test_0005_dates_a_stored_womans_last_write_by_her_latest_change(empty_url: str) -> None:
    upgrade(empty_url, "0004")
    engine = make_engine(empty_url)
    try:

        def timed(sql: str, *names: str) -> TextClause:
            # Bound as the models bind instants (naive UTC text on SQLite).
            return text(sql).bindparams(*(bindparam(n, type_=UTCDateTime()) for n in names))

        at = {n: dt.datetime(2026, 3, n, 9, 30, tzinfo=dt.UTC) for n in (1, 2, 3, 4)}
        with engine.begin() as connection:
            connection.execute(
                timed(
                    "INSERT INTO patients (id, created_at, updated_at, names) "
                    "VALUES ('p', :one, :one, '[]'), ('q', :one, :two, '[]')",
                    "one",
                    "two",
                ),
                {"one": at[1], "two": at[2]},
            )
            connection.execute(
                timed(
                    "INSERT INTO pregnancies (id, patient_id, status, notes, created_at, "
                    "updated_at) VALUES ('g', 'p', 'active', '[]', :one, :three)",
                    "one",
                    "three",
                ),
                {"one": at[1], "three": at[3]},
            )
            connection.execute(
                timed(
                    "INSERT INTO assessments (pregnancy_id, as_of, knowledge, computed_at, "
                    "result, overdue, urgent, codes) VALUES ('g', '2026-03-04', '{}', :four, "
                    "'{}', false, false, '{}')",
                    "four",
                ),
                {"four": at[4]},
            )
        upgrade(empty_url)
        with engine.connect() as connection:
            query = text(
                "SELECT patient_id, written_at FROM patient_writes ORDER BY patient_id"
            ).columns(written_at=UTCDateTime())
            written: dict[str, dt.datetime] = dict(connection.execute(query).all())
        assert written == {"p": at[4], "q": at[2]}
        downgrade(empty_url, "0004")
        assert not {"resource_versions", "patient_writes"} & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
