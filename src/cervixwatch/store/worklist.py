"""The worklist's simple form (`store.worklist`): most pressing first, with the common
filters. A thin front over `store.worklist_search`, which holds the one query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cervixwatch.store.worklist_search import (
    WorklistEntry,
    WorklistSearch,
    count_worklist,
    search_worklist,
)

__all__ = ["WorklistEntry", "WorklistFilter", "worklist", "worklist_count"]


@dataclass(frozen=True, slots=True)
class WorklistFilter:
    """Which pregnancies to list; every criterion given must hold."""

    risk_tiers: Collection[str] | None = None
    urgent_only: bool = False
    overdue_only: bool = False
    #: Only those with a next scan due on or before this day.
    due_by: dt.date | None = None

    def search(self) -> WorklistSearch:
        return WorklistSearch(
            risk_tiers=self.risk_tiers,
            urgent=True if self.urgent_only else None,
            overdue=True if self.overdue_only else None,
            due_by=self.due_by,
        )


def worklist(
    session: Session, where: WorklistFilter | None = None, *, limit: int = 50, offset: int = 0
) -> list[WorklistEntry]:
    """One page of the worklist: urgent first, then overdue, then by the next scan due (none
    due last), then by name; the pregnancy id keeps pages stable."""
    search = (where or WorklistFilter()).search()
    return [line.entry for line in search_worklist(session, search, limit=limit, offset=offset)]


def worklist_count(session: Session, where: WorklistFilter | None = None) -> int:
    """How many pregnancies the worklist holds under `where` (for paging)."""
    return count_worklist(session, (where or WorklistFilter()).search())
