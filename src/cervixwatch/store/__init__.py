"""Persistence: SQLAlchemy models, Alembic migrations, and saving and loading clinical records.

SQLite (one file, WAL) is the embedded default and PostgreSQL (psycopg 3) the production
database; both run the same models and migrations. The store keeps what it is given: use
cases write through `app.reassessing.write_records`, which saves a woman's records, reassesses
her and stores the assessment in one transaction.
"""

from cervixwatch.store.database import database_url, make_engine, session_factory, transaction
from cervixwatch.store.migrate import upgrade
from cervixwatch.store.models import RecordSource
from cervixwatch.store.records import (
    IdentifierConflict,
    NotFound,
    PatientFields,
    load_records,
    save_records,
)
from cervixwatch.store.worklist import WorklistEntry, WorklistFilter, worklist, worklist_count
from cervixwatch.store.worklist_search import (
    WorklistLine,
    WorklistSearch,
    count_worklist,
    search_worklist,
)

__all__ = [
    "IdentifierConflict",
    "NotFound",
    "PatientFields",
    "RecordSource",
    "WorklistEntry",
    "WorklistFilter",
    "WorklistLine",
    "WorklistSearch",
    "count_worklist",
    "database_url",
    "load_records",
    "make_engine",
    "save_records",
    "search_worklist",
    "session_factory",
    "transaction",
    "upgrade",
    "worklist",
    "worklist_count",
]
