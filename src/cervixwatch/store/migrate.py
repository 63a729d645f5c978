"""Running the Alembic migrations from code: on start, by `cervixwatch db upgrade`, in tests.

The migration scripts live in the package (`store/migrations`), so an installed CervixWatch
can migrate its database with no alembic.ini and no source checkout.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from cervixwatch.store.database import database_url, make_engine

MIGRATIONS = Path(__file__).parent / "migrations"

_Action = Callable[[Config], None]


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for the packaged migrations and the database at `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser treats % as interpolation: a password with % in it must be escaped.
    config.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Migrate the database at `url` (default: the configured one) up to `revision`."""
    _run(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str | None, revision: str) -> None:
    """Migrate the database at `url` down to `revision` ("base" empties it)."""
    _run(url, lambda config: command.downgrade(config, revision))


def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision the packaged migrations know."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _run(url: str | None, action: _Action) -> None:
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            # SQLite alters a table by copying it (batch mode): with foreign keys enforced,
            # dropping the old copy of a table others refer to would delete their rows (ON
            # DELETE CASCADE). Enforcement is off for the run (it can be switched only outside
            # a transaction) and the keys are checked before the run commits.
            raw = connection.connection.driver_connection if _is_sqlite(connection) else None
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=OFF")
            try:
                # One transaction for the whole run: on PostgreSQL (and on SQLite, whose DDL is
                # transactional too) a failed migration leaves the schema as it was.
                with connection.begin():
                    config.attributes["connection"] = connection
                    action(config)
                    if raw is not None:
                        _check_foreign_keys(connection)
            finally:
                if raw is not None:
                    raw.execute("PRAGMA foreign_keys=ON")
    finally:
        engine.dispose()


def _is_sqlite(connection: Connection) -> bool:
    return connection.dialect.name == "sqlite"


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise RuntimeError(f"the migration left rows naming missing rows in {', '.join(tables)}")
