"""Rate limits over the `limits` library: counters in `settings.rate_limit_storage` (memory://
per process; redis://host:port shared between processes), moving-window strategy.

A limit is a string such as "10/minute" (the `limits` notation); keys say whose counter it is.
Start the keys with a scope name ("sign-in-user", "api-token"...), since two uses of the same
limit string with the same keys share one counter.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache
from urllib.parse import quote

from fastapi import HTTPException
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
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


class RateLimiter:
    """Thread-safe as its storage is (the memory storage locks per key), so sync routes running
    in the thread pool may share one instance. Calls block on the storage: with a network
    storage, call it from sync routes or through `run_in_threadpool`."""

    def __init__(self, storage_uri: str = "memory://") -> None:
        self._strategy = MovingWindowRateLimiter(storage_from_string(storage_uri))
        #: The counters are in this process's memory: counting blocks on nothing.
        self.in_memory = storage_uri.startswith("memory://")

    def hit(self, limit: str, *keys: str) -> bool:
        """Count one request against `limit` for `keys`; False (and not counted) when over it."""
        return self._strategy.hit(_parse(limit), *_escaped(keys))

    def retry_after(self, limit: str, *keys: str) -> int:
        """Whole seconds until `keys` may make a request again under `limit`; 0 if now."""
        stats = self._strategy.get_window_stats(_parse(limit), *_escaped(keys))
        if stats.remaining > 0:
            return 0
        return max(1, math.ceil(stats.reset_time - time.time()))

    def check(self, limit: str, *keys: str) -> None:
        """`hit`, raising RateLimited (429 with Retry-After) when over the limit."""
        if not self.hit(limit, *keys):
            raise RateLimited(self.retry_after(limit, *keys))


@lru_cache(maxsize=64)
def _parse(limit: str) -> RateLimitItem:
    # A handful of limit strings come from the settings; parsing them on every request is waste.
    return parse(limit)


def _escaped(keys: tuple[str, ...]) -> tuple[str, ...]:
    # `limits` joins keys with "/", so ("a/b",) and ("a", "b") would share a counter; escaping
    # keeps a username or address from ever colliding with another key.
    return tuple(quote(key, safe="") for key in keys)
