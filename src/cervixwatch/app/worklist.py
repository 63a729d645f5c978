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
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.reassessing import Profiles, refresh_assessments
from cervixwatch.store.worklist_search import (
    WorklistLine,
    WorklistSearch,
    WorklistSort,
    worklist_page,
)

__all__ = ["WorklistLine", "WorklistPage", "WorklistSearch", "WorklistSort", "list_worklist"]


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
    with sessions() as session:
        lines, total = worklist_page(session, where, limit=page_size, offset=(page - 1) * page_size)
    return WorklistPage(lines, total, refreshed)
