"""Keeping the current assessment of each pregnancy, with the columns the worklist reads.

The stored `result` is exactly the assessment JSON (`views.json_view.assessment_json`), which
the app makes and hands in: the store keeps assessments, it neither runs `assess` nor renders
one (`app.reassessing` does both). The worklist columns are copied out of the `Assessment` and
the records it was made from, never worked out afresh, so the worklist cannot disagree with the
assessment it lists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from sqlalchemy import Insert, Table, exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cervixwatch.clinical.assessment import Assessment
from cervixwatch.clinical.gestation import pregnancy_start
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.clinical.records import (
    CervicalLengthMeasurement,
    LengthMethod,
    PregnancyRecords,
)
from cervixwatch.store.bulk_rows import insert_rows
from cervixwatch.store.crud import plausible_row_id
from cervixwatch.store.models import AssessmentRow, PregnancyRow, PregnancyStatus
from cervixwatch.store.worklist_flags import worklist_flags

#: The recommendation that puts a woman at the top of the worklist (same-day assessment).
URGENT_CODE = "urgent-evaluation"

Profiles = Sequence[GuidelineProfile] | Mapping[str, GuidelineProfile]


def knowledge_versions(profiles: Profiles) -> dict[str, str]:
    """The version of each guideline profile used: {"acog": "2026.11", "nice": "2026.11"}."""
    chosen = profiles.values() if isinstance(profiles, Mapping) else profiles
    return {p.id: p.version for p in chosen}


def _lengths_counted(records: PregnancyRecords, as_of: dt.date) -> list[CervicalLengthMeasurement]:
    # The lengths `assess` counts (facts.py): transvaginal, measured by `as_of`, in this
    # pregnancy (from 0+0, when it is dated). Their mm values are checked against the
    # assessment's own facts in the tests.
    start = pregnancy_start(records.edd) if records.edd is not None else None
    return [
        m
        for m in records.cervical_lengths
        if m.method is LengthMethod.TRANSVAGINAL
        and m.measured_on <= as_of
        and (start is None or m.measured_on >= start)
    ]


def assessment_columns(
    assessment: Assessment,
    records: PregnancyRecords,
    profiles: Profiles,
    result: Mapping[str, Any],
) -> dict[str, Any]:
    """The stored assessment's columns, from an assessment, the records it was made from and
    its JSON document (`result`, as `views.json_view.assessment_json` renders it)."""
    lengths = _lengths_counted(records, assessment.as_of)
    # As in facts.py: of equal dates the first stored is the latest; of equal lengths the
    # first measured is the shortest.
    latest = max(lengths, key=lambda m: m.measured_on, default=None)
    shortest = min(lengths, key=lambda m: (m.length_mm, m.measured_on), default=None)
    ga = assessment.gestational_age
    return {
        "as_of": assessment.as_of,
        "knowledge": knowledge_versions(profiles),
        "result": result,
        "ga_days": ga.total_days if ga is not None else None,
        "risk_tier": assessment.risk.tier,
        "next_scan_due": assessment.next_scan_due,
        "next_scan_status": result["next_scan_status"],
        "overdue": any(
            p.next_scan is not None and p.next_scan.status == "overdue"
            for p in assessment.scan_plans
        ),
        "urgent": any(r.code == URGENT_CODE for r in assessment.recommendations),
        "codes": {g: sorted(assessment.codes(g)) for g in assessment.guidelines},
        "latest_length_mm": latest.length_mm if latest else None,
        "latest_length_on": latest.measured_on if latest else None,
        "shortest_length_mm": shortest.length_mm if shortest else None,
        "shortest_length_on": shortest.measured_on if shortest else None,
        **worklist_flags(assessment, records, result),
    }


@cache
def _upsert(dialect: str) -> Insert:
    """INSERT, or UPDATE the pregnancy's row if it has one, in one statement (no read first,
    so two writers cannot both insert). Built once per dialect, values bound at execution:
    building it anew for every write cost more than running it."""
    # Not `pregnancy_active` either: the database's triggers keep it (migration 0013), and
    # SQLite's `excluded` row holds the column's default, not what its trigger set.
    kept_by_database = {"id", "pregnancy_active"}
    columns = [c.name for c in AssessmentRow.__table__.columns if c.name not in kept_by_database]
    if dialect == "postgresql":
        pg = postgresql.insert(AssessmentRow)
        return pg.on_conflict_do_update(
            index_elements=[AssessmentRow.pregnancy_id],
            set_={k: pg.excluded[k] for k in columns if k != "pregnancy_id"},
        )
    if dialect == "sqlite":
        lite = sqlite.insert(AssessmentRow)
        return lite.on_conflict_do_update(
            index_elements=[AssessmentRow.pregnancy_id],
            set_={k: lite.excluded[k] for k in columns if k != "pregnancy_id"},
        )
    raise NotImplementedError(f"no upsert for the {dialect} database")


def assessment_values(
    pregnancy_id: str,
    assessment: Assessment,
    records: PregnancyRecords,
    profiles: Profiles,
    *,
    result: Mapping[str, Any],
    computed_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The row that makes `assessment` (of `records`, by `profiles`) the pregnancy's current
    one; `result` is its JSON document, stored as it is."""
    return {
        "pregnancy_id": pregnancy_id,
        "computed_at": computed_at or dt.datetime.now(dt.UTC),
        **assessment_columns(assessment, records, profiles, result),
    }


def store_assessments(
    session: Session, rows: Sequence[Mapping[str, Any]], *, new_pregnancies: bool = False
) -> None:
    """Make each row (`assessment_values`) its pregnancy's current assessment, in one
    statement. `new_pregnancies`: every pregnancy was started in this transaction, so none
    has an assessment to replace (written as new rows, `bulk_rows.insert_rows`)."""
    if not rows:
        return
    if new_pregnancies:
        insert_rows(session.connection(), cast("Table", AssessmentRow.__table__), rows)
        return
    # On the session's connection: through the session, the ORM would treat the statement as
    # a bulk insert of objects, at a cost above the database's own.
    connection = session.connection()
    connection.execute(_upsert(connection.dialect.name), list(rows))


def stale_pregnancies(session: Session, as_of: dt.date, profiles: Profiles) -> list[str]:
    """Active pregnancies whose current assessment is missing, was made for another day, or
    by other guideline versions: what a daily refresh must reassess.

    Asked on every worklist request, where nothing stale is the common case. So it first
    probes the active pregnancies' assessments (`_any_out_of_date`: index steps that stop at
    the first stale row, off `ix_assessments_active_freshness` over the trigger-kept
    `pregnancy_active`, migrations 0013 and 0028) and lists them only when one is found; and
    it looks for an active pregnancy without an assessment only when the two counts of
    active rows differ. The versions are
    compared as JSON documents on PostgreSQL and as the stored text on SQLite, where two
    serialisations of the same versions could differ: that can only call an assessment
    stale that is not, and reassessing it is harmless; never the other way round.
    """
    versions = knowledge_versions(profiles)
    out_of_date = (
        select(AssessmentRow.pregnancy_id)
        .join(PregnancyRow, PregnancyRow.id == AssessmentRow.pregnancy_id)
        .where(
            AssessmentRow.pregnancy_active,
            PregnancyRow.status == PregnancyStatus.ACTIVE,
            or_(
                AssessmentRow.as_of != as_of,
                AssessmentRow.knowledge != versions,
                # Stored before the worklist's flags existed (migration 0018).
                AssessmentRow.worklist_rank.is_(None),
            ),
        )
    )
    stale = (
        set(session.scalars(out_of_date)) if _any_out_of_date(session, as_of, versions) else set()
    )
    if _active_counts_differ(session):
        stale.update(session.scalars(_active_without_current_assessment(as_of, versions)))
    return sorted(stale)


def _any_out_of_date(session: Session, as_of: dt.date, versions: Mapping[str, str]) -> bool:
    """Whether any assessment flagged active is of another day, by other versions, or stored
    before the worklist's flags: each an index probe (the freshness index is led by the day,
    then the versions; the order index by the rank), so the answer costs the same at 500
    active pregnancies as at 30,000. "Other than" is asked as "below or above" because an
    index can seek a range, not an inequality. The flag can only say more than the
    pregnancy's status (the listing checks both), so "none" here means none stale."""
    active, day, knowledge = (
        AssessmentRow.pregnancy_active,
        AssessmentRow.as_of,
        AssessmentRow.knowledge,
    )
    probes = (
        exists().where(active, day < as_of),
        exists().where(active, day > as_of),
        exists().where(active, day == as_of, knowledge < versions),
        exists().where(active, day == as_of, knowledge > versions),
        exists().where(active, AssessmentRow.worklist_rank.is_(None)),
    )
    return bool(session.scalar(select(or_(*probes))))


def _active_counts_differ(session: Session) -> bool:
    """Whether the active pregnancies and the assessments flagged active differ in number.
    Each flagged assessment is of one active pregnancy (one row per pregnancy, the flag kept
    by triggers), so equal counts mean every active pregnancy has its assessment."""
    pregnancies = (
        select(func.count())
        .select_from(PregnancyRow)
        .where(PregnancyRow.status == PregnancyStatus.ACTIVE)
        .scalar_subquery()
    )
    assessments = (
        select(func.count())
        .select_from(AssessmentRow)
        .where(AssessmentRow.pregnancy_active)
        .scalar_subquery()
    )
    return bool(session.scalar(select(pregnancies != assessments)))


def _active_without_current_assessment(as_of: dt.date, versions: Mapping[str, str]) -> Any:
    """Every active pregnancy whose assessment is missing or not current, read the long way
    (each active pregnancy against its assessment), whatever the flag says."""
    return (
        select(PregnancyRow.id)
        .outerjoin(AssessmentRow, AssessmentRow.pregnancy_id == PregnancyRow.id)
        .where(
            PregnancyRow.status == PregnancyStatus.ACTIVE,
            or_(
                AssessmentRow.as_of.is_(None),
                AssessmentRow.as_of != as_of,
                AssessmentRow.knowledge != versions,
            ),
        )
    )


@dataclass(frozen=True, slots=True)
class StoredAssessment:
    """Which assessment is stored for a pregnancy: its row, the day it was made for, the
    guideline versions that made it ({"acog": "2026.12"}) and when it was stored."""

    row_id: int
    pregnancy_id: str
    as_of: dt.date
    knowledge: Mapping[str, str]
    computed_at: dt.datetime


def stored_assessments(
    session: Session, pregnancy_ids: Sequence[str]
) -> dict[str, StoredAssessment]:
    """The stored assessment of each pregnancy that has one, by pregnancy id."""
    out: dict[str, StoredAssessment] = {}
    wanted = sorted(set(pregnancy_ids))
    for start in range(0, len(wanted), 500):
        query = select(
            AssessmentRow.id,
            AssessmentRow.pregnancy_id,
            AssessmentRow.as_of,
            AssessmentRow.knowledge,
            AssessmentRow.computed_at,
        ).where(AssessmentRow.pregnancy_id.in_(wanted[start : start + 500]))
        for row in session.execute(query):
            out[row.pregnancy_id] = StoredAssessment(
                row.id, row.pregnancy_id, row.as_of, row.knowledge, row.computed_at
            )
    return out


def assessment_owner(session: Session, row_id: int) -> tuple[str, str] | None:
    """(patient id, pregnancy id) of a stored assessment; None if there is no such row."""
    if not plausible_row_id(row_id):
        return None
    found = session.execute(
        select(PregnancyRow.patient_id, PregnancyRow.id)
        .join(AssessmentRow, AssessmentRow.pregnancy_id == PregnancyRow.id)
        .where(AssessmentRow.id == row_id)
    ).first()
    return None if found is None else (found[0], found[1])
