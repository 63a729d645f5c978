"""Opening the database, for whoever serves the use cases: bring its schema up to date
(`upgrade`, Alembic), make an engine for its URL and the session factory every use case is
given, and the counters the sign-in back-off shares through the database. The web opens the
database through here, so that it reaches the store only through `app/`."""

from __future__ import annotations

from cervixwatch.store import make_engine, session_factory, upgrade
from cervixwatch.store.failure_counters import DatabaseCounters

__all__ = ["DatabaseCounters", "make_engine", "session_factory", "upgrade"]
