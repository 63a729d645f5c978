"""Operating the service: whether it is ready to serve (the database answers and its schema
is the one this version migrates to), the figures the metrics show, and which failures mean
the database cannot be reached (answered 503 with `Retry-After`, never a 500)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy import exc as sql_errors

from cervixwatch.store import operations
from cervixwatch.store.audit_chain import Checkpoint
from cervixwatch.store.migrate import head_revision

#: The packaged migrations do not change while the process runs: read once.
_head = cache(head_revision)


@dataclass(frozen=True, slots=True)
class Readiness:
    """`database`: whether it answered; `revision`: the schema revision it is at, and `head`
    the one this version of CervixWatch migrates to."""

    database: bool
    revision: str | None
    head: str | None

    @property
    def migrated(self) -> bool:
        return self.database and self.revision == self.head

    @property
    def ready(self) -> bool:
        return self.migrated


def readiness(engine: Engine) -> Readiness:
    """Ask the database (one short connection from the pool) whether it answers and at which
    revision it is. A database that cannot be reached is not ready; nothing is raised."""
    head = _head()
    try:
        with engine.connect() as connection:
            revision = operations.schema_revision(connection)
    except sql_errors.SQLAlchemyError:
        return Readiness(database=False, revision=None, head=head)
    return Readiness(database=True, revision=revision, head=head)


def urgent_reports_waiting(engine: Engine) -> int:
    """Symptom reports waiting for a clinician's review on urgent pregnancies."""
    with engine.connect() as connection:
        return operations.urgent_reports_waiting(connection)


#: The newest checkpoint is the file's last line: only its end is read.
_CHECKPOINT_TAIL_BYTES = 64 * 1024


def newest_checkpoint_taken(path: Path) -> dt.datetime | None:
    """When the newest audit checkpoint in `path` (JSON lines, appended by `cervixwatch audit
    checkpoint --out`) was taken; None when the file is missing, empty or its last line is
    not a checkpoint."""
    newest = newest_checkpoint(path)
    return None if newest is None else newest.taken_at


def newest_checkpoint(path: Path) -> Checkpoint | None:
    """The newest audit checkpoint in `path` (its last line); None when the file is
    missing, empty or its last line is not a checkpoint."""
    try:
        with path.open("rb") as file:
            size = file.seek(0, os.SEEK_END)
            file.seek(max(0, size - _CHECKPOINT_TAIL_BYTES))
            tail = file.read()
    except OSError:
        return None
    lines = [line for line in tail.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        return Checkpoint.from_json(lines[-1])
    except ValueError:
        return None


def database_unavailable(error: BaseException) -> bool:
    """Whether `error`, or one it came from, says the database cannot be reached or cannot
    answer now (connection refused or lost, the server shutting down, connections terminated,
    the pool exhausted, SQLite's file unopenable or locked): a failure to retry later, not a
    fault of the request. The DBAPI's OperationalError is the class of these (PEP 249);
    integrity and programming errors are not among them."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, sql_errors.OperationalError | sql_errors.TimeoutError):
            return True
        if isinstance(current, sql_errors.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
    return False
