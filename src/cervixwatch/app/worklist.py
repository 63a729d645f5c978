"""The worklist: every active pregnancy with what the clinic must act on, as of today.

The stored assessments are made on the day of each write, but gestational age, the scan
status (due, overdue), the recommendations (windows close, "before 24+0") and the urgent flag
all move with the calendar. So the list first reassesses every active pregnancy whose stored
assessment is not of today (or of other guideline versions), through the same pure `assess`,
and then lists what is stored: the worklist never disagrees with the assessment endpoint. Only
the first request of a day does that work; later ones find nothing stale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.reassessing import Profiles, refresh_assessments
from cervixwatch.app.worklist_counts import RECENT_COUNTS
from cervixwatch.store.worklist_events import worklist_marker
from cervixwatch.store.worklist_search import (
    GaWindow,
    WorklistLine,
    WorklistSearch,
    WorklistSort,
    search_date,
    search_worklist,
)

__all__ = [
    "GaWindow",
    "WorklistLine",
    "WorklistPage",
    "WorklistSearch",
    "WorklistSort",
    "changed_marker",
    "export_worklist",
    "list_worklist",
    "search_date",
]

#: Rows read at a time for the export (the handover list of a whole clinic).
EXPORT_CHUNK = 500


@dataclass(frozen=True, slots=True)
class WorklistPage:
    lines: list[WorklistLine]
    total: int
    #: How many stored assessments were out of date and recomputed first.
    refreshed: int


def list_worklist(
    sessions: sessionmaker[Session],
    where: WorklistSearch,
    *,
    page: int,
    page_size: int,
    today: dt.date,
    profiles: Profiles,
) -> WorklistPage:
    """One page of the worklist as of `today`, and how many pregnancies it holds in all."""
    refreshed = refresh_assessments(sessions, today, profiles)
    offset = (page - 1) * page_size
    with sessions() as session:
        lines = search_worklist(session, where, limit=page_size, offset=offset)
        total = RECENT_COUNTS.total(
            session, where, shown=len(lines), offset=offset, limit=page_size
        )
    return WorklistPage(lines, total, refreshed)


def export_worklist(
    sessions: sessionmaker[Session], where: WorklistSearch, *, today: dt.date, profiles: Profiles
) -> Iterator[WorklistLine]:
    """Every line of the worklist under `where`, in its order, as of `today` (the CSV
    export). Read a chunk at a time, each in its own transaction: a long export holds no
    transaction open."""
    refresh_assessments(sessions, today, profiles)
    offset = 0
    while True:
        with sessions() as session:
            lines = search_worklist(session, where, limit=EXPORT_CHUNK, offset=offset)
        yield from lines
        if len(lines) < EXPORT_CHUNK:
            return
        offset += EXPORT_CHUNK


def changed_marker(sessions: sessionmaker[Session]) -> str:
    """A value that changes whenever any worklist may show something else (the live
    update asks it once a second per worker)."""
    with sessions() as session:
        return worklist_marker(session)
