"""Reads made alone (`store.database.read_alone`): the access generation every API request
with a remembered token reads, from a pool without the pre-ping on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from cervixwatch.app.operations import database_unavailable
from cervixwatch.store import access_generation
from cervixwatch.store.database import make_engine
from cervixwatch.store.migrate import upgrade


def _end_other_connections(url: str) -> int:
    """Terminate every other connection to the database (as a restart or a proxy would)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            ended = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return int(ended)


def test_a_read_alone_survives_its_connections_being_dropped(empty_url: str) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        assert access_generation.read(engine) == access_generation.read(engine)
        first = access_generation.read(engine)
        if engine.dialect.name == "postgresql":
            assert _end_other_connections(empty_url) >= 1  # the lone-read pool's was among them
        assert access_generation.read(engine) == first
        with engine.begin() as connection:
            connection.execute(text("UPDATE access_generation SET generation = generation + 1"))
        assert access_generation.read(engine) == first + 1
    finally:
        engine.dispose()


def test_disposing_the_engine_closes_its_lone_reads(empty_url: str) -> None:
    """No connection of the lone-read pool outlives its engine's `dispose` (a worker that
    stops, a test that drops its database)."""
    upgrade(empty_url)
    engine = make_engine(empty_url)
    access_generation.read(engine)
    engine.dispose()
    if engine.dialect.name == "postgresql":
        assert _end_other_connections(empty_url) == 0


def test_a_database_that_cannot_be_reached_fails_the_read_as_sqlalchemy_does(
    empty_url: str,
) -> None:
    """The driver's own error would not be known for what it is (`database_unavailable`: the
    request answered 503 with Retry-After, not 500)."""
    if not empty_url.startswith("postgresql"):
        return  # SQLite reads through SQLAlchemy's connection, which does this already
    missing = make_url(empty_url).set(database=f"{make_url(empty_url).database}_gone")
    engine = make_engine(missing.render_as_string(hide_password=False))
    try:
        with pytest.raises(OperationalError) as raised:
            access_generation.read(engine)
        assert database_unavailable(raised.value)
    finally:
        engine.dispose()
