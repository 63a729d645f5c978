"""On SQLite a record's id is never given again (issue 13: a new record inherited the FHIR
history of one removed).

A record's FHIR id is made from its row id (`cl-17`), and the versions of what was served
under that id are kept (`resource_versions`). SQLite gives a new row the largest id in the
table plus one, so after the record with the largest id was removed (entered in error), the
next record of that table took its id, and with it the removed record's history: its FHIR
history showed another woman's deleted scan as an earlier version. With AUTOINCREMENT SQLite
never gives an id again (it keeps the largest one ever given in `sqlite_sequence`).
PostgreSQL's sequences never did: nothing changes there.

Each table is rebuilt as SQLite's documentation says (a new table, the rows copied, the old
one dropped, the new one renamed, its indexes made again), from its own stored definition with
one change: the primary key, a table constraint `CONSTRAINT pk_<table> PRIMARY KEY (id)`,
becomes the column's own, with AUTOINCREMENT. Everything else (columns, checks as they were
written, foreign keys) is the same text; `downgrade` makes the reverse change.
`sqlite_sequence` starts at the largest id kept. (Alembic's batch mode would rebuild from a
reflection, which moves a column's CHECK into the table's constraints: a later downgrade that
drops the column would then fail.) The tables rebuilt have no triggers. The assessments
table, which has (0013), is left as it is: its FHIR resources keep no versions to inherit.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from alembic import op
from sqlalchemy import Connection, text

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The tables whose row ids name FHIR resources (`store.exports`: each kind of record, and
#: the reviews of a symptom report), and booked scans (named by their id in the API).
TABLES: tuple[str, ...] = (
    "prior_pregnancies",
    "cervical_excisions",
    "maternal_conditions",
    "cervical_lengths",
    "cervical_exams",
    "fibronectin_tests",
    "symptom_reports",
    "symptom_reviews",
    "complications",
    "cerclage_placements",
    "cerclage_removals",
    "medications",
    "declined_decisions",
    "appointments",
)


def _table_sql(connection: Connection, kind: str, name: str) -> list[str]:
    rows = connection.execute(
        text(
            "SELECT sql FROM sqlite_master"
            " WHERE type = :kind AND tbl_name = :name AND sql IS NOT NULL"
        ),
        {"kind": kind, "name": name},
    )
    return [str(sql) for (sql,) in rows]


def _changed(definition: str, table: str, autoincrement: bool) -> str:
    """The table's definition with its primary key as a table constraint (False) or the
    column's own with AUTOINCREMENT (True)."""
    as_table = "\tid INTEGER NOT NULL, \n"
    table_key = f"\tCONSTRAINT pk_{table} PRIMARY KEY (id), \n"
    as_column = f"\tid INTEGER NOT NULL CONSTRAINT pk_{table} PRIMARY KEY AUTOINCREMENT, \n"
    before, after = (as_table, as_column) if autoincrement else (as_column, as_table)
    if definition.count(before) != 1 or (autoincrement and definition.count(table_key) != 1):
        raise RuntimeError(f"{table}: its definition is not the one this migration expects")
    changed = definition.replace(before, after)
    if autoincrement:
        return changed.replace(table_key, "")
    # The table constraint goes back where SQLAlchemy wrote it: after the last column.
    first_constraint = changed.index("\tCONSTRAINT ")
    return changed[:first_constraint] + table_key + changed[first_constraint:]


def _rebuild(autoincrement: bool) -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    for table in TABLES:
        [definition] = _table_sql(connection, "table", table)
        indexes = _table_sql(connection, "index", table)
        new = f"_new_{table}"
        changed = _changed(definition, table, autoincrement)
        created = re.sub(rf'^CREATE TABLE "?{table}"? \(', f'CREATE TABLE "{new}" (', changed)
        if created == changed:
            raise RuntimeError(f"{table}: its definition does not start as expected")
        connection.execute(text(created))
        connection.execute(text(f'INSERT INTO "{new}" SELECT * FROM "{table}"'))
        connection.execute(text(f'DROP TABLE "{table}"'))
        connection.execute(text(f'ALTER TABLE "{new}" RENAME TO "{table}"'))
        for index in indexes:
            connection.execute(text(index))


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
