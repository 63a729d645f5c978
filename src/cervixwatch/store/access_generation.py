"""The access generation (issue 12, part 5): one number in the database that moves whenever
access is taken away, so that every worker process, on every host, can tell in one small
read whether the tokens it remembers (`access.token_cache`) may still be trusted.

`advance` is called inside the transaction that makes the change (a token revoked, an
account's tokens revoked, a care-team membership changed: `store.accounts`), so the new value
is seen exactly when the change is: a request that reads it after the change's commit finds
it moved and looks its token up again. On PostgreSQL the UPDATE locks the row until that
commit, so concurrent changes each add one.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.orm import Session

from cervixwatch.store.database import read_alone
from cervixwatch.store.models import AccessGeneration

_READ = select(AccessGeneration.generation).where(AccessGeneration.id == 1)
#: `_READ` as text, its key written in, for `read_alone` (which takes no parameters).
_READ_ALONE = str(_READ.compile(compile_kwargs={"literal_binds": True}))
_ADVANCE = (
    update(AccessGeneration)
    .where(AccessGeneration.id == 1)
    .values(generation=AccessGeneration.generation + 1)
)


def current(session: Session) -> int:
    """The generation now: one read of a one-row table by its primary key."""
    found = session.scalar(_READ)
    if found is None:
        raise RuntimeError("access_generation has no row: the database is not migrated to 0008")
    return found


def read(bind: Engine | Connection) -> int:
    """The generation now, read by itself outside any transaction (autocommit), for a request
    that only wants to know whether its remembered token still holds.

    Why not `current` in a session: that costs a BEGIN and, the session closing without a
    commit, a ROLLBACK, after which psycopg deallocates every statement it had prepared on
    the connection (`DEALLOCATE ALL`) and must prepare them again; on every request with a
    remembered token, that was a tenth of the import's throughput (docs/performance.md). It
    is read from the engine's pool for lone reads, without a pre-ping (`read_alone`)."""
    # A session bound to a connection reads in that connection's transaction.
    found = bind.scalar(_READ) if isinstance(bind, Connection) else read_alone(bind, _READ_ALONE)
    if found is None:
        raise RuntimeError("access_generation has no row: the database is not migrated to 0008")
    return found


def advance(session: Session) -> None:
    """Access was taken away in this transaction: every remembered token is to be looked up
    again once it commits."""
    session.execute(_ADVANCE)
