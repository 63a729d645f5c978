"""Rate limits over the `limits` library: counters in `settings.rate_limit_storage` (memory://
per process; redis://host:port shared between processes), moving-window strategy.

A limit is a string such as "10/minute" (the `limits` notation); keys say whose counter it is.
Start the keys with a scope name ("sign-in-user", "api-token"...), since two uses of the same
limit string with the same keys share one counter.
"""

from __future__ import annotations

import math
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol
from urllib.parse import quote

from fastapi import HTTPException
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.responses import JSONResponse

DEFAULT_DETAIL = "too many requests; try again later"


class RateLimited(HTTPException):
    """429 Too Many Requests with a Retry-After header. An HTTPException, so FastAPI's own
    handler answers it on the API, and the FHIR routes as an OperationOutcome ("throttled")."""

    def __init__(self, retry_after: int, detail: str = DEFAULT_DETAIL) -> None:
        # Retry-After 0 would invite an immediate retry that is bound to be refused again.
        self.retry_after = max(1, retry_after)
        super().__init__(429, detail, headers={"Retry-After": str(self.retry_after)})


def too_many_requests(retry_after: int, detail: str = DEFAULT_DETAIL) -> JSONResponse:
    """The 429 answer itself, for code that returns a response rather than raising."""
    refused = RateLimited(retry_after, detail)
    return JSONResponse({"detail": refused.detail}, 429, headers=refused.headers)


class Counters(Protocol):
    """Counters with an expiry: the `limits` storages' operations the back-off uses (also
    `store.failure_counters.DatabaseCounters`)."""

    def incr(self, key: str, expiry: int, amount: int = 1) -> int: ...

    def get(self, key: str) -> int: ...

    def get_expiry(self, key: str) -> float: ...

    def clear(self, key: str) -> None: ...


class RateLimiter:
    """Thread-safe, so sync routes running in the thread pool may share one instance. Calls
    block on the storage: with a network storage, call it from sync routes or through
    `run_in_threadpool`.

    The memory storage of `limits` 5.8.0 locks per key but not the timer that expires its
    events: two threads can start the same timer, and the request answers 500 ("threads can
    only be started once"; seen once in 50,000 imports from 8 clients). Fixed upstream
    (alisaifee/limits#352, merged 2026-05-21, in no release yet), so calls to a memory
    storage are serialised here; they take microseconds. Drop `_serialised` once a release
    has the fix."""

    def __init__(self, storage_uri: str = "memory://") -> None:
        storage = storage_from_string(storage_uri)
        assert isinstance(storage, Storage)  # the synchronous kind (no async+ scheme)
        self._storage = storage
        self._strategy = MovingWindowRateLimiter(self._storage)
        #: Where the back-off's failures are counted: the same storage, unless
        #: `count_failures_in` names another.
        self._failures: Counters = self._storage
        #: Whether the limits count in this process only (`memory://`).
        self.per_process = storage_uri.startswith("memory://")
        self._serialised: AbstractContextManager[object] = (
            threading.Lock() if self.per_process else nullcontext()
        )
        self._failures_serialised = self._serialised

    def count_failures_in(self, counters: Counters) -> None:
        """Count the back-off's failures in `counters` (the database's, shared by every
        worker, when the limits themselves count in memory: issue 12, part 5)."""
        self._failures = counters
        self._failures_serialised = nullcontext()

    def hit(self, limit: str, *keys: str) -> bool:
        """Count one request against `limit` for `keys`; False (and not counted) when over it."""
        with self._serialised:
            return self._strategy.hit(_parse(limit), *_escaped(keys))

    def retry_after(self, limit: str, *keys: str) -> int:
        """Whole seconds until `keys` may make a request again under `limit`; 0 if now."""
        with self._serialised:
            stats = self._strategy.get_window_stats(_parse(limit), *_escaped(keys))
        if stats.remaining > 0:
            return 0
        return max(1, math.ceil(stats.reset_time - time.time()))

    def check(self, limit: str, *keys: str) -> None:
        """`hit`, raising RateLimited (429 with Retry-After) when over the limit."""
        if not self.hit(limit, *keys):
            raise RateLimited(self.retry_after(limit, *keys))

    # --- back-off after repeated failures (wrong passwords) ---------------------------------

    def backed_off_for(self, scope: str, *keys: str) -> int:
        """Whole seconds left of the back-off `keys` are under; 0 if none."""
        block = _joined("backoff", scope, keys)
        with self._failures_serialised:
            if self._failures.get(block) <= 0:
                return 0
            expiry = self._failures.get_expiry(block)
        return max(1, math.ceil(expiry - time.time()))

    def count_failure(self, backoff: Backoff, scope: str, *keys: str) -> int:
        """One more failure for `keys` (forgotten `backoff.memory_seconds` after the first);
        from the `backoff.threshold`-th on, a back-off starts that doubles with each further
        failure, up to `backoff.max_seconds`. Returns the failures counted."""
        with self._failures_serialised:
            failures = self._failures.incr(_joined("failures", scope, keys), backoff.memory_seconds)
            if failures >= backoff.threshold:
                block = _joined("backoff", scope, keys)
                self._failures.clear(block)
                self._failures.incr(block, backoff.seconds_after(failures))
        return failures

    def clear_failures(self, scope: str, *keys: str) -> None:
        """A success: the failures of `keys` and any back-off are forgotten."""
        with self._failures_serialised:
            self._failures.clear(_joined("failures", scope, keys))
            self._failures.clear(_joined("backoff", scope, keys))


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential back-off after `threshold` failures: `base_seconds`, doubling with each
    further failure, never longer than `max_seconds`; failures are forgotten
    `memory_seconds` after the first of them (and at once after a success)."""

    threshold: int
    base_seconds: int
    max_seconds: int
    memory_seconds: int = 24 * 3600

    def seconds_after(self, failures: int) -> int:
        if failures < self.threshold:
            return 0
        doublings = min(failures - self.threshold, 32)
        return int(min(self.max_seconds, self.base_seconds * 2**doublings))


def per_worker_warning(storage_uri: str, workers: int) -> str | None:
    """What to warn of when several worker processes each count in their own memory
    (issue 12, part 5): a client then gets up to `workers` times each limit and back-off
    threshold. None when the counters are shared or there is one worker."""
    if workers <= 1 or not storage_uri.startswith("memory://"):
        return None
    return (
        f"rate limits are counted per worker process (memory://, {workers} workers): a "
        f"client may get up to {workers} times each limit (the sign-in back-off is shared "
        "through the database); set CERVIXWATCH_RATE_LIMIT_STORAGE to a Redis URL "
        "(redis://host:6379/0) to share them"
    )


def _joined(kind: str, scope: str, keys: tuple[str, ...]) -> str:
    return "/".join(("cervixwatch", kind, scope, *_escaped(keys)))


@lru_cache(maxsize=64)
def _parse(limit: str) -> RateLimitItem:
    # A handful of limit strings come from the settings; parsing them on every request is waste.
    return parse(limit)


def _escaped(keys: tuple[str, ...]) -> tuple[str, ...]:
    # `limits` joins keys with "/", so ("a/b",) and ("a", "b") would share a counter; escaping
    # keeps a username or address from ever colliding with another key.
    return tuple(quote(key, safe="") for key in keys)
