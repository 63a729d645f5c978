"""Connecting to the database: SQLite (one file, WAL) embedded, PostgreSQL in production.

The URL comes from `CERVIXWATCH_DATABASE_URL`, else `sqlite:///./cervixwatch.db`. Writes go
through `transaction`, so all of one patient's changes commit together or not at all.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DATABASE_URL = "sqlite:///./cervixwatch.db"
#: How long a SQLite writer waits for another writer's lock before failing, in ms.
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Seconds a new PostgreSQL connection may take before it fails (libpq's connect_timeout).
CONNECT_TIMEOUT_SECONDS = 5
#: Execution option naming how a SQLite transaction begins (DEFERRED or IMMEDIATE).
_SQLITE_BEGIN = "cervixwatch_sqlite_begin"


def database_url() -> str:
    """The configured database URL (`CERVIXWATCH_DATABASE_URL`), else the local SQLite file."""
    return os.environ.get("CERVIXWATCH_DATABASE_URL") or DEFAULT_DATABASE_URL


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, say when transactions begin (see `_on_begin`).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # WAL: readers never wait for the writer, and the writer never waits for readers.
            cursor.execute("PRAGMA journal_mode=WAL")
            # SQLite ignores foreign keys (and so ON DELETE CASCADE) unless asked, per connection.
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            # synchronous stays FULL (the default): a committed clinical record survives a
            # power cut, at the cost of an fsync per commit.
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A write transaction takes the write lock when it begins (IMMEDIATE). Begun DEFERRED,
        # it would read first and then fail with "database is locked" if another process
        # wrote in between: busy_timeout cannot help a reader that must become a writer.
        mode = connection.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for `url` (default `database_url()`); SQLite gets WAL, foreign keys, a busy
    timeout and write transactions that lock on begin."""
    parsed = make_url(url or database_url())
    # A failed statement's parameters (names, birth dates, hospital numbers) never appear in
    # an exception's message, and so never in a log (issue 12, F5).
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, **kwargs)
        _configure_sqlite(engine)
        return engine
    # Connections dropped by a database restart or a proxy are replaced, not handed out.
    kwargs.setdefault("pool_pre_ping", True)
    # A database host that does not answer at all (down, or its packets dropped) fails a new
    # connection within seconds, not the system's TCP timeout of minutes: the request is
    # answered 503 and /readyz says so, instead of both hanging. The URL may set its own.
    if "connect_timeout" not in parsed.query:
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    # A request may hold two connections at once (its work, and the audit entry written as
    # its answer starts) under the thread pool's concurrency: a pool of SQLAlchemy's default
    # 5 overflowed, and every overflow connection was opened and closed again per request.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(parsed, **kwargs)
    if kwargs["pool_pre_ping"]:
        _add_lone_read_pool(engine, parsed, kwargs)
    return engine


# --- reads of one statement, alone -------------------------------------------------------------
#
# Every API request with a remembered token reads the access generation (one primary-key read,
# `store.access_generation`) before its own work. From the engine's pool that read cost two round
# trips (the pre-ping and the read) and a connection of its own: a tenth of the database's work
# per import (docs/performance.md, session 15). A second, small pool of the same engine serves
# such reads without the pre-ping: the read itself shows whether the connection is alive, and if
# it was dropped (a database restart), it is replaced and the read made again.

_LONE_READ_POOLS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
#: Connections of the lone-read pool kept open (more are opened for a burst, then closed).
LONE_READ_POOL_SIZE = 4


def _add_lone_read_pool(engine: Engine, url: Any, kwargs: dict[str, Any]) -> None:
    lone = create_engine(
        url,
        **{
            **kwargs,
            "pool_pre_ping": False,
            "pool_size": LONE_READ_POOL_SIZE,
            "max_overflow": kwargs["pool_size"] + kwargs["max_overflow"],
            "isolation_level": "AUTOCOMMIT",
        },
    )
    _LONE_READ_POOLS[engine] = lone
    event.listen(engine, "engine_disposed", lambda _engine: lone.dispose())


def read_alone(engine: Engine, sql: str) -> Any:
    """The first value of the first row that `sql`, a constant read without parameters,
    answers (None: no row), read by itself outside any transaction (autocommit).

    On PostgreSQL it goes to the driver's cursor directly: SQLAlchemy's connection, execution
    context and result cost more than the read itself here. A driver error comes out as
    SQLAlchemy's, so callers see the same errors as from any other statement (a database that
    cannot be reached is answered 503)."""
    lone = _LONE_READ_POOLS.get(engine)
    if lone is None:  # SQLite, or an engine made with the pre-ping turned off
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            return connection.exec_driver_sql(sql).scalar()
    driver_error = lone.dialect.loaded_dbapi.Error
    # Each connection that turns out dropped (a database restart drops them all) is thrown
    # away and the read made again, on a newly opened one at the latest.
    for attempt in range(LONE_READ_POOL_SIZE + 2):
        try:
            raw = lone.raw_connection()
        except driver_error as error:  # a new connection refused: the database is down
            raise DBAPIError.instance(None, None, error, driver_error) from error
        try:
            cursor = raw.cursor()
            try:
                cursor.execute(sql)
                row = cursor.fetchone()
            finally:
                cursor.close()
            return None if row is None else row[0]
        except driver_error as error:
            dropped = lone.dialect.is_disconnect(error, raw.dbapi_connection, None)
            if dropped:
                raw.invalidate(error)
            if not dropped or attempt == LONE_READ_POOL_SIZE + 1:
                raise DBAPIError.instance(
                    sql, None, error, driver_error, connection_invalidated=dropped
                ) from error
        finally:
            raw.close()
    raise AssertionError("unreachable")  # the loop returns or raises


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to `engine`. Objects stay readable after commit (no expiry), since a
    use case typically returns what it has just written."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits when the block ends, rolls everything back if it raises."""
    with factory() as session:
        if session.get_bind().dialect.name == "sqlite":
            session.connection(execution_options={_SQLITE_BEGIN: "IMMEDIATE"})
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


@contextmanager
def write_connection(engine: Engine) -> Iterator[Connection]:
    """`transaction` for plain SQL statements with no ORM objects to track (an audit entry):
    a connection in a transaction that commits when the block ends, rolls back if it raises.
    On SQLite it takes the write lock when it begins, as `transaction` does."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})
        with connection.begin():
            yield connection
