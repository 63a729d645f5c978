"""The audit log, read for auditors: one page of entries (newest first), how many match, and
every match in the order it was written (for an export, read in batches so that no export
holds the whole log in memory). Appending entries is `store.audit`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from cervixwatch.store.models import AuditEventRow, AuditOutcome


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries: every criterion given must hold. `since` is inclusive and `until`
    exclusive (entries recorded at or after `since` and before `until`); both must be
    time-zone aware, as `recorded_at` is."""

    patient_id: str | None = None
    actor_id: str | None = None
    action: str | None = None
    outcome: AuditOutcome | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    #: Only entries of changes to this account (an admin's action, a password set by a code).
    target_user_id: str | None = None


def _conditions(where: AuditFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if where.patient_id is not None:
        found.append(AuditEventRow.patient_id == where.patient_id)
    if where.actor_id is not None:
        found.append(AuditEventRow.actor_id == where.actor_id)
    if where.action is not None:
        found.append(AuditEventRow.action == where.action)
    if where.outcome is not None:
        found.append(AuditEventRow.outcome == where.outcome)
    if where.since is not None:
        found.append(AuditEventRow.recorded_at >= where.since)
    if where.until is not None:
        found.append(AuditEventRow.recorded_at < where.until)
    if where.target_user_id is not None:
        found.append(AuditEventRow.target_user_id == where.target_user_id)
    return found


def list_events(
    session: Session, where: AuditFilter, limit: int, offset: int = 0
) -> list[AuditEventRow]:
    """One page of the matching entries, newest first (the later-written first on a tie)."""
    query = (
        select(AuditEventRow)
        .where(*_conditions(where))
        .order_by(AuditEventRow.recorded_at.desc(), AuditEventRow.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query))


def count_events(session: Session, where: AuditFilter) -> int:
    query = select(func.count()).select_from(AuditEventRow).where(*_conditions(where))
    return session.scalar(query) or 0


def get_event(session: Session, event_id: int) -> AuditEventRow | None:
    return session.get(AuditEventRow, event_id)


def iter_events(session: Session, where: AuditFilter, batch: int = 1000) -> Iterator[AuditEventRow]:
    """Every matching entry in the order written (by id), read `batch` rows at a time: each
    batch starts after the last id seen, so a batch costs the same however deep the export
    is, and rows already yielded are let go of (the session keeps none of them)."""
    if batch < 1:
        raise ValueError(f"batch must be at least 1, not {batch}")
    conditions = _conditions(where)
    last_id: int | None = None
    while True:
        query = select(AuditEventRow).where(*conditions)
        if last_id is not None:
            query = query.where(AuditEventRow.id > last_id)
        rows = list(session.scalars(query.order_by(AuditEventRow.id).limit(batch)))
        for row in rows:
            session.expunge(row)
        yield from rows
        if len(rows) < batch:
            return
        last_id = rows[-1].id
