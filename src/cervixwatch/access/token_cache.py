"""A short memory of whom an API token stands for, so an integration sending many requests a
second is not looked up in the database on each one.

Why: the lookup (the token, its user and her care teams: one query, in a connection of its own)
was about a tenth of the server's CPU per request in the import benchmark
(docs/performance.md).

What it costs: a change to accounts reaches a cached token late by at most `seconds`.
- Every change made through `app.accounts` (a token revoked, an account disabled, a care team
  changed) forgets every entry of every cache in the same process at once
  (`forget_everywhere`).
- Another worker process, or `cervixwatch users` run in a shell, is a different process: there
  a revoked token, a disabled account or a changed team takes effect within `seconds`
  (`CERVIXWATCH_TOKEN_CACHE_SECONDS`, 5 by default; 0 turns the cache off).

An entry never outlives its token: it lasts until whichever comes first, `seconds` from now or
the token's expiry. Only tokens are kept here, never sign-in cookies: a sign-in's idle timeout
is counted in the database on each request.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import weakref
from typing import Final

from cervixwatch.access.principal import Principal

#: Most tokens held at once; past it the cache starts again empty (a handful of integrations
#: and a few hundred clinicians' scripts are far fewer).
MAX_ENTRIES: Final = 10_000

_live_caches: weakref.WeakSet[TokenCache] = weakref.WeakSet()
_registry_lock = threading.Lock()


class TokenCache:
    """Principals by token hash (never the secret itself), each for at most `seconds`.
    Thread-safe: the server's worker threads share one."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()
        with _registry_lock:
            _live_caches.add(self)

    def get(self, token_hash: str) -> Principal | None:
        """The principal of a token seen within `seconds`, or None (look it up)."""
        with self._lock:
            found = self._entries.get(token_hash)
            if found is None:
                return None
            principal, until = found
            if time.monotonic() >= until:
                del self._entries[token_hash]
                return None
            return principal

    def put(self, token_hash: str, principal: Principal, token_expires_at: dt.datetime) -> None:
        """Remember a token just found live, until `seconds` from now or its expiry."""
        if self.seconds <= 0:
            return
        left = (token_expires_at - dt.datetime.now(dt.UTC)).total_seconds()
        lasts = min(self.seconds, left)
        if lasts <= 0:
            return
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[token_hash] = (principal, time.monotonic() + lasts)

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()


def forget_everywhere() -> None:
    """Forget every cached token in this process: call after any change to accounts."""
    with _registry_lock:
        caches = list(_live_caches)
    for cache in caches:
        cache.forget()
