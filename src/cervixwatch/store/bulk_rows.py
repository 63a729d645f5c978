"""Many new rows into one table at once: PostgreSQL's COPY for a batch, an INSERT otherwise.

A bulk import registers a hundred women per transaction (`app.registering`), a few thousand
rows across a dozen tables. As INSERTs (SQLAlchemy's "insertmanyvalues": one statement of
every row's VALUES) half of that import's time went to building, parsing and planning those
statements, on both sides of the connection; COPY streams the same rows with none of that
(docs/performance.md, "Bulk import"). COPY gives no ids back, so the ids a caller needs are
drawn from the table's own sequence first, in the order of the rows (what `RETURNING` with
`sort_by_parameter_order` gives). Each value goes through its column's own bind processing
(`JSONDocument`, `UTCDateTime`, `value_enum`), and a column left out of the rows gets its
Python-side default, as an INSERT would; the database fills the rest (server defaults,
triggers: COPY fires row triggers as INSERT does).

Below `COPY_FROM_ROWS` rows, or on SQLite, the rows go as one INSERT: a COPY that must draw
its ids first takes a round trip more, which a woman's single import (`POST /fhir`) would
pay on every table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, Final

import psycopg
from psycopg import sql
from sqlalchemy import Connection, Dialect, Insert, Table, insert, text
from sqlalchemy.exc import DBAPIError

__all__ = ["COPY_FROM_ROWS", "insert_rows"]

#: The fewest rows written by COPY on PostgreSQL.
COPY_FROM_ROWS: Final = 64


def insert_rows(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]], *, ids: bool = False
) -> list[int]:
    """Insert `rows` (column values by column key) into `table` in the connection's
    transaction; with `ids`, the integer ids given to them, in the rows' order (else [])."""
    if not rows:
        return []
    if connection.dialect.name != "postgresql" or len(rows) < COPY_FROM_ROWS:
        if ids:
            return list(connection.execute(_insert_returning_ids(table), rows).scalars())
        connection.execute(_insert(table), rows)
        return []
    new_ids = _draw_ids(connection, table, len(rows)) if ids else []
    _copy(connection, table, rows, new_ids)
    return new_ids


@cache
def _insert(table: Table) -> Insert:
    # Built once: a statement object reused keeps its cache key, which SQLAlchemy otherwise
    # works out again on every execution.
    return insert(table)


@cache
def _insert_returning_ids(table: Table) -> Insert:
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)


def _draw_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """`count` new ids from the sequence of `table`'s id column, ascending."""
    drawn = connection.execute(
        text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table.name, "n": count},
    )
    return sorted(drawn.scalars())


#: What a column's value becomes before it is sent: its bind processing, or as it is.
_Process = Callable[[Any], Any] | None


@cache
def _processors(table: Table, dialect: Dialect) -> dict[str, tuple[str, _Process, Any]]:
    """{column key: (column name, bind processor, Python default or None)}."""
    out: dict[str, tuple[str, _Process, Any]] = {}
    for column in table.columns:
        impl = column.type.dialect_impl(dialect)
        out[column.key] = (column.name, impl.bind_processor(dialect), column.default)
    return out


def _default_value(default: Any) -> Any:
    if default is None:
        return None
    if default.is_scalar:
        return default.arg
    if default.is_callable:
        # SQLAlchemy wraps a callable default to take the execution context; ours take none.
        return default.arg(None)
    raise NotImplementedError(f"a COPY cannot compute the default {default!r}")


def _copy(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]], ids: list[int]
) -> None:
    columns = _processors(table, connection.dialect)
    given = list(rows[0])
    defaulted = [
        key
        for key, (_, _, default) in columns.items()
        if key not in given and default is not None and key != "id"
    ]
    keys = (["id"] if ids else []) + given + defaulted
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(columns[k][0]) for k in keys)
    )
    raw = connection.connection.driver_connection
    assert raw is not None, "a connection in a transaction has its driver's connection"
    plan = [(key, columns[key][1], columns[key][2]) for key in keys]
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for index, row in enumerate(rows):
                values = []
                for key, process, default in plan:
                    if key == "id" and ids:
                        value = ids[index]
                    elif key in row:
                        value = row[key]
                    else:
                        value = _default_value(default)
                    values.append(value if process is None else process(value))
                copy.write_row(values)
    except psycopg.Error as error:
        # As SQLAlchemy raises a driver's error for its own statements (an IntegrityError for
        # a unique constraint, which callers catch), the values left out of the message.
        raise DBAPIError.instance(
            statement.as_string(raw), None, error, psycopg.Error, hide_parameters=True
        ) from error
