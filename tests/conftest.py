"""Databases for the tests: every test that takes `factory`, `engine` or `empty_url`
runs once on SQLite (a file in a temporary directory, WAL) and once on PostgreSQL.

PostgreSQL runs when `CERVIXWATCH_TEST_DATABASE_URL` names a server the tests may create
databases on (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test). Each test session
creates its own throwaway databases (`cw_test_<random>`) and drops them at the end, so no test
ever reads or writes existing data.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.store.database import make_engine, session_factory
from cervixwatch.store.migrate import upgrade
from tests.log_watch import LogWatch
from tests.store.tables import delete_everything

TEST_DATABASE_VARIABLE = "CERVIXWATCH_TEST_DATABASE_URL"
BACKENDS = ("sqlite", "postgresql")


@contextmanager
def throwaway_postgres(server_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of `server_url`, dropped afterwards."""
    name = f"cw_test_{secrets.token_hex(6)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@contextmanager
def empty_database(backend: str, directory: Path) -> Iterator[str]:
    """The URL of an empty database of `backend`; skips PostgreSQL when none is configured."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'cervixwatch.db'}"
        return
    server_url = os.environ.get(TEST_DATABASE_VARIABLE)
    if not server_url:
        pytest.skip(
            f"PostgreSQL tests need {TEST_DATABASE_VARIABLE}, e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/test (a server where the tests may "
            "create and drop throwaway databases)"
        )
    with throwaway_postgres(server_url) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new empty database for one test (for migration tests)."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """An engine on a database migrated to the newest revision, shared by the session."""
    with empty_database(request.param, tmp_path_factory.mktemp(request.param)) as url:
        upgrade(url)
        shared = make_engine(url)
        try:
            yield shared
        finally:
            shared.dispose()


@pytest.fixture(scope="session", autouse=True)
def logs_hold_no_patient_data() -> Iterator[None]:
    """Issue 12, F5: whatever the whole session logs holds none of the demo cohort's
    hospital numbers or names (`tests/log_watch.py`)."""
    watch = LogWatch()
    watch.install()
    try:
        yield
    finally:
        watch.remove()
    assert not watch.found, "patient data in the logs:\n" + "\n".join(watch.found[:20])


@pytest.fixture
def factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions on the shared database, empty when the test starts and when it ends."""
    delete_everything(engine)
    try:
        yield session_factory(engine)
    finally:
        delete_everything(engine)


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashes() -> Iterator[None]:
    """Argon2id at its lowest cost for the accounts the suite makes in this process (several
    thousand: at the production cost each takes ~150 ms here, minutes in all). The hashes are
    real Argon2id and verified the same way; servers the tests start as processes, the CLI
    and `tests/unit/access/test_password_cost.py` keep and check the production cost."""
    from argon2 import PasswordHasher

    from cervixwatch.access import credentials

    quick = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    production = (credentials._HASHER, credentials._DUMMY_HASH)
    credentials._HASHER = quick  # type: ignore[misc]
    credentials._DUMMY_HASH = quick.hash("no such account")  # type: ignore[misc]
    try:
        yield
    finally:
        credentials._HASHER, credentials._DUMMY_HASH = production  # type: ignore[misc]
