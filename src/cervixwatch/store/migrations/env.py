"""Alembic environment: migrates the database `store.migrate` hands over, to `models`' schema.

Run through `cervixwatch.store.migrate` (or `cervixwatch db upgrade`), which passes an open
connection in `config.attributes["connection"]`; without one, it connects to `sqlalchemy.url`
or `CERVIXWATCH_DATABASE_URL`.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from cervixwatch.store.database import database_url, make_engine
from cervixwatch.store.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=True,
        **kwargs,
    )


def _run_on(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (`--sql`)."""
    _configure(url=config.get_main_option("sqlalchemy.url") or database_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or database_url())
    try:
        with engine.connect() as own:
            _run_on(own)
            own.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
