"""The audit log: the entry written after each request (`AuditEntry`, its outcome by
`outcome_of`, written by `record`), and the log read by auditors (a page of matches with how
many there are, one entry, or every match in the order written).

Reading opens its own session; an export streams the rows from one session in batches
(`store.audit_queries.iter_events`), so no export holds the whole log in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.store.audit import AuditEntry, outcome_of, record
from cervixwatch.store.audit_queries import (
    AuditFilter,
    count_events,
    get_event,
    iter_events,
    list_events,
)
from cervixwatch.store.models import AuditEventRow

__all__ = [
    "AuditEntry",
    "AuditFilter",
    "AuditPage",
    "audit_event",
    "audit_events",
    "audit_page",
    "outcome_of",
    "record",
]


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of the entries that match a filter (newest first), and how many match."""

    total: int
    rows: list[AuditEventRow]


def audit_page(
    sessions: sessionmaker[Session], where: AuditFilter, *, limit: int, offset: int
) -> AuditPage:
    """The entries that match `where`, newest first: `limit` of them after the first
    `offset`, with the number of all matches (counted in the same session)."""
    with sessions() as session:
        total = count_events(session, where)
        rows = list_events(session, where, limit=limit, offset=offset)
    return AuditPage(total, rows)


def audit_event(sessions: sessionmaker[Session], event_id: int) -> AuditEventRow | None:
    """One entry by its id; None if there is none."""
    with sessions() as session:
        return get_event(session, event_id)


def audit_events(sessions: sessionmaker[Session], where: AuditFilter) -> Iterator[AuditEventRow]:
    """Every entry that matches `where`, in the order written, read in batches from one
    session that stays open while the caller iterates."""
    with sessions() as session:
        yield from iter_events(session, where)
