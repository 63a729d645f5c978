"""The worklist query: active pregnancies with their current assessment, filtered (risk tier,
urgent, overdue, due by, a guideline's open recommendations, a cerclage in situ, its removal
due, a gestational-age window, no scan yet; her name in either order, hospital number, any
identifier such as her NHS number, date of birth), in a chosen order, with the history line
and the last symptom report of each woman.

Reads the denormalised, indexed columns of `assessments` (the flags of migration 0018); the
history line is the one key read out of the stored assessment document, and the last report
one more query, both for the rows of one page only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from cervixwatch.access.principal import Scope
from cervixwatch.store.accounts import in_scope
from cervixwatch.store.crud import text_search
from cervixwatch.store.models import (
    AssessmentRow,
    PatientIdentifierRow,
    PatientRow,
    PregnancyRow,
    PregnancyStatus,
    SymptomReportRow,
)

_AnySelect = Select[*tuple[Any, ...]]

#: `urgent`: by severity (`store.worklist_flags`: a red-flag report first, then an urgent exam
#: finding, other urgent symptoms, something overdue, something due now), the longest waiting
#: first, then by the next scan due (the worklist's own order); `next_scan_due` /
#: `-next_scan_due`: soonest / latest first; `ga` / `-ga`: by gestational age, youngest /
#: oldest first; `name` / `-name`: by family then given name, A-Z / Z-A. Unknown values sort
#: last; the pregnancy id breaks ties.
WorklistSort = Literal["urgent", "next_scan_due", "-next_scan_due", "ga", "-ga", "name", "-name"]


@dataclass(frozen=True, slots=True)
class WorklistEntry:
    """One line of the worklist. Lengths are transvaginal cervical lengths in mm."""

    patient_id: str
    hospital_number: str | None
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
    birth_date: dt.date | None
    fetuses: int | None
    cerclage_in_situ: bool
    cerclage_removal: str | None
    on_progesterone: bool
    urgent_kind: str | None
    urgent_reason: str | None
    urgent_since: dt.date | None
    actions: dict[str, list[dict[str, str]]] | None


@dataclass(frozen=True, slots=True)
class GaWindow:
    """Gestational age today between `from_days` and `to_days`, both included."""

    from_days: int
    to_days: int


@dataclass(frozen=True, slots=True)
class WorklistSearch:
    """Which pregnancies to list and in what order; every criterion given must hold.

    `risk_tiers` may hold None for "tier unknown". `urgent` / `overdue`: True lists only
    those flagged, False only those not. `guideline`: only those with at least one
    recommendation from that guideline profile. `search`: every word in the woman's name or
    hospital number (commas ignored, so "Mockup, Ada" as the list shows her finds her), or the
    whole of it one of her identifiers (an NHS number, spaces ignored) or, as a date, her date
    of birth. `cerclage_in_situ`, `removal_due` (due or overdue), `no_scan` (no transvaginal
    length this pregnancy): True only those, False only the others.
    """

    risk_tiers: Collection[str | None] | None = None
    urgent: bool | None = None
    overdue: bool | None = None
    due_by: dt.date | None = None
    guideline: str | None = None
    search: str | None = None
    cerclage_in_situ: bool | None = None
    removal_due: bool | None = None
    ga_window: GaWindow | None = None
    no_scan: bool | None = None
    sort: WorklistSort = "urgent"
    #: Only the women this scope may see (their care teams'); None: all.
    scope: Scope | None = None


@dataclass(frozen=True, slots=True)
class WorklistLine:
    entry: WorklistEntry
    #: The obstetric and cervical history in one line, as the stored assessment gives it.
    history: str | None
    #: Her latest symptom report of this pregnancy: the instant when the source gave one,
    #: else its day (reviewed or not).
    last_report_at: dt.datetime | None = None
    last_report_on: dt.date | None = None


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
    PatientRow.birth_date,
    AssessmentRow.fetuses,
    AssessmentRow.cerclage_in_situ,
    AssessmentRow.cerclage_removal,
    AssessmentRow.on_progesterone,
    AssessmentRow.urgent_kind,
    AssessmentRow.urgent_reason,
    AssessmentRow.urgent_since,
    AssessmentRow.actions,
)


def _has_codes_from(session: Session, guideline: str) -> ColumnElement[bool]:
    """The stored codes of `guideline` are a non-empty list."""
    if session.get_bind().dialect.name == "postgresql":
        return func.jsonb_array_length(AssessmentRow.codes[guideline]) > 0
    return func.json_array_length(AssessmentRow.codes, f'$."{guideline}"') > 0


def _tiers(tiers: Collection[str | None]) -> ColumnElement[bool]:
    known = sorted(t for t in tiers if t is not None)
    conditions = [AssessmentRow.risk_tier.in_(known)]
    if None in tiers:
        conditions.append(AssessmentRow.risk_tier.is_(None))
    return or_(*conditions)


def _filtered(
    session: Session, query: _AnySelect, where: WorklistSearch, *, patients: bool = True
) -> _AnySelect:
    """`query` over the active pregnancies' assessments that `where` lets through.
    `patients`: join the women too (their names: shown, sorted on, searched); a count
    without a search needs no name, and every pregnancy has its woman (a non-null foreign
    key), so leaving them out changes no count and spares a join of every row."""
    query = query.select_from(AssessmentRow).join(
        PregnancyRow, PregnancyRow.id == AssessmentRow.pregnancy_id
    )
    if patients or where.search:
        query = query.join(PatientRow, PatientRow.id == PregnancyRow.patient_id)
    # The flag (kept by triggers, migration 0013) lets the partial indexes leave ended
    # pregnancies' assessments unread; the pregnancy's own status stays the truth.
    query = query.where(
        AssessmentRow.pregnancy_active, PregnancyRow.status == PregnancyStatus.ACTIVE
    )
    if where.scope is not None:
        query = query.where(in_scope(PregnancyRow.patient_id, where.scope))
    if where.risk_tiers is not None:
        query = query.where(_tiers(where.risk_tiers))
    if where.urgent is not None:
        query = query.where(AssessmentRow.urgent.is_(where.urgent))
    if where.overdue is not None:
        query = query.where(AssessmentRow.overdue.is_(where.overdue))
    if where.due_by is not None:
        query = query.where(AssessmentRow.next_scan_due <= where.due_by)
    if where.guideline is not None:
        query = query.where(_has_codes_from(session, where.guideline))
    if where.cerclage_in_situ is not None:
        query = query.where(AssessmentRow.cerclage_in_situ.is_(where.cerclage_in_situ))
    if where.removal_due is not None:
        removal = AssessmentRow.cerclage_removal
        query = query.where(removal.is_not(None) if where.removal_due else removal.is_(None))
    if where.ga_window is not None:
        query = query.where(
            AssessmentRow.ga_days.between(where.ga_window.from_days, where.ga_window.to_days)
        )
    if where.no_scan is not None:
        length = AssessmentRow.latest_length_mm
        query = query.where(length.is_(None) if where.no_scan else length.is_not(None))
    if where.search and _words(where.search):
        query = query.where(_search(where.search))
    return query


def _words(term: str) -> list[str]:
    return [w for w in re.split(r"[\s,;]+", term) if w]


#: Dates as a clinician types a date of birth: 1990-04-23, or day first as UK clinics write it,
#: 23/04/1990, 23.04.1990, 23-04-1990.
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def search_date(term: str) -> dt.date | None:
    """`term` as a date, if it is one written as clinicians write dates of birth."""
    text = term.strip()
    if found := _ISO_DATE.fullmatch(text):
        year, month, day = found.groups()
    elif found := _DAY_FIRST.fullmatch(text):
        day, month, year = found.groups()
    else:
        return None
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def _search(term: str) -> ColumnElement[bool]:
    """Her name (every word, either order) or hospital number; or the whole term one of her
    identifiers (an NHS number typed with spaces: compared without them); or her date of
    birth."""
    words = _words(term)
    by_name = text_search(
        " ".join(words), [PatientRow.hospital_number, PatientRow.family_name, PatientRow.given_name]
    )
    compact = "".join(words)
    identifier = PatientRow.id.in_(
        select(PatientIdentifierRow.patient_id).where(
            PatientIdentifierRow.value.in_(sorted({compact, term.strip()}))
        )
    )
    born = search_date(term)
    either = [by_name, identifier]
    if born is not None:
        either.append(PatientRow.birth_date == born)
    return or_(*either)


_BY_NAME = (
    PatientRow.family_name.asc().nulls_last(),
    PatientRow.given_name.asc().nulls_last(),
)


def _ordering(sort: WorklistSort) -> tuple[Any, ...]:
    if sort == "next_scan_due":
        return (AssessmentRow.next_scan_due.asc().nulls_last(), *_BY_NAME)
    if sort == "-next_scan_due":
        return (AssessmentRow.next_scan_due.desc().nulls_last(), *_BY_NAME)
    if sort == "ga":
        return (AssessmentRow.ga_days.asc().nulls_last(), *_BY_NAME)
    if sort == "-ga":
        return (AssessmentRow.ga_days.desc().nulls_last(), *_BY_NAME)
    if sort == "name":
        return (*_BY_NAME, PatientRow.hospital_number)
    if sort == "-name":
        return (
            PatientRow.family_name.desc().nulls_last(),
            PatientRow.given_name.desc().nulls_last(),
            PatientRow.hospital_number,
        )
    # `ix_assessments_worklist_order` (migration 0018) is in this order.
    return (
        AssessmentRow.worklist_rank.asc().nulls_last(),
        AssessmentRow.urgent_since.asc().nulls_last(),
        AssessmentRow.next_scan_due.asc().nulls_last(),
        *_BY_NAME,
    )


def _page_query(
    session: Session, where: WorklistSearch, query: _AnySelect, *, limit: int, offset: int
) -> _AnySelect:
    """`query` filtered by `where`, in its order (the pregnancy id keeps pages stable), one
    page of it."""
    ordered = _filtered(session, query, where).order_by(*_ordering(where.sort), PregnancyRow.id)
    return ordered.limit(limit).offset(offset)


def search_worklist(
    session: Session, where: WorklistSearch, *, limit: int, offset: int
) -> list[WorklistLine]:
    """One page of the worklist under `where`, in its order; the pregnancy id keeps pages
    stable."""
    query = _page_query(session, where, select(*_COLUMNS), limit=limit, offset=offset)
    entries = [WorklistEntry(*row) for row in session.execute(query)]
    return _with_history(session, entries)


def _with_history(session: Session, entries: list[WorklistEntry]) -> list[WorklistLine]:
    # The history line lives inside the stored result: read it for this page only, not for
    # every row the database sorts (that made the page query several times slower).
    history = AssessmentRow.result["history"].as_string()
    page = select(AssessmentRow.pregnancy_id, history).where(
        AssessmentRow.pregnancy_id.in_([e.pregnancy_id for e in entries])
    )
    histories: dict[str, str | None] = {row[0]: row[1] for row in session.execute(page)}
    reports = _last_reports(session, [e.pregnancy_id for e in entries])
    return [
        WorklistLine(e, histories.get(e.pregnancy_id), *reports.get(e.pregnancy_id, (None, None)))
        for e in entries
    ]


def _last_reports(
    session: Session, pregnancy_ids: list[str]
) -> dict[str, tuple[dt.datetime | None, dt.date]]:
    """The latest symptom report of each of these pregnancies: (instant or None, day)."""
    if not pregnancy_ids:
        return {}
    query = (
        select(
            SymptomReportRow.pregnancy_id,
            SymptomReportRow.reported_at,
            SymptomReportRow.reported_on,
        )
        .where(SymptomReportRow.pregnancy_id.in_(pregnancy_ids))
        .order_by(SymptomReportRow.reported_on, SymptomReportRow.id)
    )
    latest: dict[str, tuple[dt.datetime | None, dt.date]] = {}
    for pregnancy_id, at, on in session.execute(query):
        latest[pregnancy_id] = (at, on)  # the last of each pregnancy's reports wins
    return latest


def count_worklist(session: Session, where: WorklistSearch) -> int:
    """How many pregnancies the worklist holds under `where` (for paging). A query of its
    own, not a window count on the page's: that made the database join and sort every active
    pregnancy's row to give the page; without it the default order's first pages are read off
    `ix_assessments_worklist_order` and stop after a page (133 -> 6 ms for the page at 5,000
    active of 50,000, docs/performance.md). `app.worklist_counts` keeps it per worker."""
    counted = _filtered(session, select(func.count()), where, patients=False)
    return int(session.scalar(counted) or 0)
