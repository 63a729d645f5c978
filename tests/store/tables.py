"""Helpers for looking at and clearing every table of the store in tests."""

from __future__ import annotations

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.store.models import Base


def delete_everything(engine: Engine) -> None:
    """Empty every table (children first), keeping the schema."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


def row_counts(factory: sessionmaker[Session]) -> dict[str, int]:
    """How many rows each table holds."""
    with factory() as session:
        return {
            t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }
