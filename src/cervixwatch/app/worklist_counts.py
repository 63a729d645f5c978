"""How many pregnancies a worklist holds, counted once per change instead of once per request.

The page itself is read off an index and stops after a page; the count behind "page 2 of 40"
joins every active pregnancy to its woman's care teams, so it is what grows with the clinic
(at 30,000 active it was most of a request: docs/performance.md). Clinicians open the same
worklist again and again while nothing changes, so each worker keeps the count of each
(filter, care teams) for as long as the worklist marker (`store.worklist_events`: the newest
assessment and the number of active ones) stays the same, and never longer than
`MAX_AGE_SECONDS`, which bounds what the marker does not see: a woman renamed (a search) or
moved to another care team. A stale count can only misstate the number of pages for those
seconds; the lines on the page are always read afresh, and a page that is not full gives the
exact count by itself.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Final

from sqlalchemy.orm import Session

from cervixwatch.store.worklist_events import worklist_marker
from cervixwatch.store.worklist_search import WorklistSearch, count_worklist

#: The longest a count is kept, whatever the marker says.
MAX_AGE_SECONDS: Final = 5.0
#: Counts kept per worker (filters and care teams in use at once).
MAX_KEPT: Final = 256


def _key(where: WorklistSearch) -> Hashable:
    tiers = None if where.risk_tiers is None else frozenset(where.risk_tiers)
    return dataclasses.replace(where, risk_tiers=tiers)


class RecentCounts:
    """The counts of recent worklists, by (filter, marker), each for `max_age` seconds."""

    def __init__(
        self,
        max_age: float = MAX_AGE_SECONDS,
        kept: int = MAX_KEPT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age = max_age
        self.kept = kept
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: OrderedDict[tuple[Hashable, str, str], tuple[float, int]] = OrderedDict()

    def total(
        self, session: Session, where: WorklistSearch, *, shown: int, offset: int, limit: int
    ) -> int:
        """How many pregnancies `where` holds, for a page of `shown` lines from `offset` of at
        most `limit`."""
        if shown < limit and (shown or not offset):
            return offset + shown  # the last page (or an empty list) says it exactly
        # The database too: one process may serve more than one (the tests do).
        key = (_key(where), str(session.get_bind().engine.url), worklist_marker(session))
        now = self._clock()
        with self._lock:
            found = self._counts.get(key)
            if found is not None and now - found[0] <= self.max_age:
                self._counts.move_to_end(key)
                # Lines on this page are there now, whatever was counted a moment ago.
                return max(found[1], offset + shown) if shown else found[1]
        counted = count_worklist(session, where)
        with self._lock:
            self._counts[key] = (now, counted)
            self._counts.move_to_end(key)
            while len(self._counts) > self.kept:
                self._counts.popitem(last=False)
        return counted


#: This worker's counts.
RECENT_COUNTS: Final = RecentCounts()
