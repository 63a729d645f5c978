"""The worklist: active pregnancies with their current assessment, most pressing first.

Reads only the denormalised columns of `assessments` (indexed) and the names of the woman,
never the `result` documents, so a list of thousands of pregnancies stays one indexed query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cervixwatch.store.models import AssessmentRow, PatientRow, PregnancyRow, PregnancyStatus

_AnySelect = Select[*tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class WorklistEntry:
    """One line of the worklist. Lengths are transvaginal cervical lengths in mm."""

    patient_id: str
    hospital_number: str
    family_name: str | None
    given_name: str | None
    pregnancy_id: str
    edd: dt.date | None
    as_of: dt.date
    ga_days: int | None
    risk_tier: str | None
    next_scan_due: dt.date | None
    next_scan_status: str | None
    overdue: bool
    urgent: bool
    codes: dict[str, list[str]]
    latest_length_mm: float | None
    latest_length_on: dt.date | None
    shortest_length_mm: float | None
    shortest_length_on: dt.date | None


@dataclass(frozen=True, slots=True)
class WorklistFilter:
    """Which pregnancies to list; every criterion given must hold."""

    risk_tiers: Collection[str] | None = None
    urgent_only: bool = False
    overdue_only: bool = False
    #: Only those with a next scan due on or before this day.
    due_by: dt.date | None = None


_COLUMNS = (
    PatientRow.id,
    PatientRow.hospital_number,
    PatientRow.family_name,
    PatientRow.given_name,
    PregnancyRow.id,
    PregnancyRow.edd,
    AssessmentRow.as_of,
    AssessmentRow.ga_days,
    AssessmentRow.risk_tier,
    AssessmentRow.next_scan_due,
    AssessmentRow.next_scan_status,
    AssessmentRow.overdue,
    AssessmentRow.urgent,
    AssessmentRow.codes,
    AssessmentRow.latest_length_mm,
    AssessmentRow.latest_length_on,
    AssessmentRow.shortest_length_mm,
    AssessmentRow.shortest_length_on,
)


def _filtered(query: _AnySelect, where: WorklistFilter) -> _AnySelect:
    query = (
        query.select_from(AssessmentRow)
        .join(PregnancyRow, PregnancyRow.id == AssessmentRow.pregnancy_id)
        .join(PatientRow, PatientRow.id == PregnancyRow.patient_id)
        .where(PregnancyRow.status == PregnancyStatus.ACTIVE)
    )
    if where.risk_tiers is not None:
        query = query.where(AssessmentRow.risk_tier.in_(sorted(where.risk_tiers)))
    if where.urgent_only:
        query = query.where(AssessmentRow.urgent.is_(True))
    if where.overdue_only:
        query = query.where(AssessmentRow.overdue.is_(True))
    if where.due_by is not None:
        query = query.where(AssessmentRow.next_scan_due <= where.due_by)
    return query


def worklist(
    session: Session, where: WorklistFilter | None = None, *, limit: int = 50, offset: int = 0
) -> list[WorklistEntry]:
    """One page of the worklist: urgent first, then overdue, then by the next scan due (none
    due last), then by name; the pregnancy id keeps pages stable."""
    query = _filtered(select(*_COLUMNS), where or WorklistFilter()).order_by(
        AssessmentRow.urgent.desc(),
        AssessmentRow.overdue.desc(),
        AssessmentRow.next_scan_due.asc().nulls_last(),
        PatientRow.family_name,
        PatientRow.given_name,
        PregnancyRow.id,
    )
    rows = session.execute(query.limit(limit).offset(offset))
    return [WorklistEntry(*row) for row in rows]


def worklist_count(session: Session, where: WorklistFilter | None = None) -> int:
    """How many pregnancies the worklist holds under `where` (for paging)."""
    query = _filtered(select(func.count()), where or WorklistFilter())
    return int(session.scalar(query) or 0)
