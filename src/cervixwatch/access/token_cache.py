"""A short memory of whom an API token stands for, so an integration sending many requests a
second is not looked up in the database on each one.

Why: the lookup (the token, its user and her care teams: one query joining three tables) was
about a tenth of the server's CPU per request in the import benchmark (docs/performance.md).

What it costs, since issue 12 part 5: nothing in how soon a change bites. Each entry is kept
under the *access generation* read just before its lookup (`store.access_generation`, one
number in the database that every revocation, disabling, password reset and care-team change
moves in its own transaction). A request with a remembered token reads the generation (one
primary-key read of a one-row table) and uses the entry only if it has not moved; if it has,
the whole cache is forgotten and the token looked up again. So a token revoked through the
app, in any worker process on any host, or by `cervixwatch users` in a shell, is refused by
every worker on its next request. Only a change written to the tables by hand, around
`store.accounts`, waits for the entry's `seconds` (`CERVIXWATCH_TOKEN_CACHE_SECONDS`, 5 by
default; 0 turns the cache off). `forget_everywhere` still empties this process's caches at
once after a change made here.

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
    """Principals by token hash (never the secret itself), each for at most `seconds` and only
    while the access generation is the one it was found under. Thread-safe: the server's
    worker threads share one."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[Principal, float]] = {}
        #: The access generation every entry was found under (None: none yet).
        self._generation: int | None = None
        self._lock = threading.Lock()
        with _registry_lock:
            _live_caches.add(self)

    @property
    def enabled(self) -> bool:
        """Whether anything is remembered (else the generation need not be read)."""
        return self.seconds > 0

    def get(self, token_hash: str, generation: int) -> Principal | None:
        """The principal of a token seen within `seconds` under this access `generation`, or
        None (look it up). A generation other than the entries' forgets them all."""
        with self._lock:
            if generation != self._generation:
                self._entries.clear()
                self._generation = generation
                return None
            found = self._entries.get(token_hash)
            if found is None:
                return None
            principal, until = found
            if time.monotonic() >= until:
                del self._entries[token_hash]
                return None
            return principal

    def put(
        self,
        token_hash: str,
        principal: Principal,
        token_expires_at: dt.datetime,
        generation: int,
    ) -> None:
        """Remember a token just found live, until `seconds` from now or its expiry.
        `generation`: the access generation read *before* the lookup, so that a revocation
        committed between the two is never hidden."""
        if self.seconds <= 0:
            return
        left = (token_expires_at - dt.datetime.now(dt.UTC)).total_seconds()
        lasts = min(self.seconds, left)
        if lasts <= 0:
            return
        with self._lock:
            if self._generation is not None and generation < self._generation:
                return  # found under a generation already passed: it may be revoked
            if generation != self._generation:
                self._entries.clear()
                self._generation = generation
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
