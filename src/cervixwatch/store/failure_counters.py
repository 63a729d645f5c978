"""Counters with an expiry in the database (issue 12, part 5): the sign-in back-off's wrong
passwords by username and client address, shared by every worker process and every host
when no Redis is configured (`web.rate_limits.RateLimiter.count_failures_in`).

The same four operations as the `limits` library's storages (`incr`, `get`, `get_expiry`,
`clear`), with the same meaning: a counter past its expiry counts from nothing again. Each
counting is one statement (INSERT ... ON CONFLICT DO UPDATE ... RETURNING, on PostgreSQL and
SQLite 3.35+), so concurrent wrong passwords are each counted. Only failures are counted
here, never every request: a wrong password costs a write, a sign-in attempt one read.
Times are seconds since the epoch (`time.time()`), as the `limits` storages keep them.
"""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import Engine, delete, select, text

from cervixwatch.store.database import write_connection
from cervixwatch.store.models import FailureCounter

_COUNT = text(
    "INSERT INTO failure_counters (counter_key, hits, expires_at) "
    "VALUES (:key, :amount, :expires) "
    "ON CONFLICT (counter_key) DO UPDATE SET "
    "hits = CASE WHEN failure_counters.expires_at <= :now THEN :amount "
    "ELSE failure_counters.hits + :amount END, "
    "expires_at = CASE WHEN failure_counters.expires_at <= :now THEN :expires "
    "ELSE failure_counters.expires_at END "
    "RETURNING hits"
)


#: The longest key the column holds; a longer one (a username of any length can be typed) is
#: kept as its beginning and its SHA-256.
KEY_MAX = 600


def _stored(key: str) -> str:
    if len(key) <= KEY_MAX:
        return key
    return f"{key[: KEY_MAX - 72]}#sha256:{hashlib.sha256(key.encode()).hexdigest()}"


class DatabaseCounters:
    """Counters in `failure_counters`, through `engine`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """One more (`amount`) for `key`; a new or expired counter starts at `amount`,
        expiring `expiry` seconds from now. Returns the count."""
        key = _stored(key)
        now = time.time()
        with write_connection(self._engine) as connection:
            # Forget what has expired, so the table holds only live counters.
            connection.execute(
                delete(FailureCounter).where(
                    FailureCounter.expires_at <= now, FailureCounter.counter_key != key
                )
            )
            hits = connection.execute(
                _COUNT, {"key": key, "amount": amount, "expires": now + expiry, "now": now}
            ).scalar_one()
        return int(hits)

    def get(self, key: str) -> int:
        """The count of `key`; 0 if none or expired."""
        key = _stored(key)
        with self._engine.connect() as connection:
            found = connection.execute(
                select(FailureCounter.hits).where(
                    FailureCounter.counter_key == key, FailureCounter.expires_at > time.time()
                )
            ).scalar_one_or_none()
        return int(found or 0)

    def get_expiry(self, key: str) -> float:
        """When `key` expires (seconds since the epoch); now if it does not exist."""
        key = _stored(key)
        with self._engine.connect() as connection:
            found = connection.execute(
                select(FailureCounter.expires_at).where(FailureCounter.counter_key == key)
            ).scalar_one_or_none()
        return float(found) if found is not None else time.time()

    def clear(self, key: str) -> None:
        key = _stored(key)
        with write_connection(self._engine) as connection:
            connection.execute(delete(FailureCounter).where(FailureCounter.counter_key == key))
