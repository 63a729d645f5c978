"""Rows to clinical records and back: one `RecordKind` per table of records.

Pure (no session, no SQL): each kind says which part of `PregnancyRecords` it holds, whether a
patient or a pregnancy owns it, which rows are part of the records `assess` reads (an order
that goes on or whose stop date is known), and how one record becomes column values and a row
becomes a record again, losing nothing.

Records are stored whatever their dates: every complication, resolved or not, and every
review, so that the assessment of any day (`as_of`) sees what was known then. The cut by date
is the clinical core's (CD-06, CD-07), never the store's.

A kind may hold records inside its records (`children`): the reviews of a symptom report are
rows of their own table, read and written with their report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import ColumnElement, or_

from cervixwatch.clinical.records import (
    CerclagePlacement,
    CerclageRemoval,
    CervicalExam,
    CervicalExcision,
    CervicalLengthMeasurement,
    ComplicationRecord,
    DeclinedDecision,
    FetalFibronectin,
    MaternalCondition,
    MedicationOrder,
    PartialDate,
    PregnancyRecords,
    PriorPregnancy,
    Symptom,
    SymptomReport,
    SymptomReview,
)
from cervixwatch.store.models import (
    Base,
    CerclagePlacementRow,
    CerclageRemovalRow,
    CervicalExamRow,
    CervicalExcisionRow,
    CervicalLengthRow,
    ComplicationRow,
    DeclinedDecisionRow,
    FibronectinTestRow,
    MaternalConditionRow,
    MedicationRow,
    MedicationStatus,
    PriorPregnancyRow,
    SymptomReportRow,
    SymptomReviewRow,
)

R = TypeVar("R")
Row = TypeVar("Row", bound=Base)


@dataclass(frozen=True, slots=True)
class ChildKind(Generic[R, Row]):
    """Records held inside the records of another kind (`field` of the parent record), each a
    row of `table` that names its parent's row by `parent_column`."""

    field: str
    table: type[Row]
    parent_column: str
    columns: Callable[[R], dict[str, Any]]
    record: Callable[[Row], R]

    @property
    def table_name(self) -> str:
        return str(self.table.__tablename__)


@dataclass(frozen=True, slots=True)
class RecordKind(Generic[R, Row]):
    """How one part of the records (`field` of `PregnancyRecords`) is kept in `table`."""

    field: str
    table: type[Row]
    owner: Literal["patient", "pregnancy"]
    columns: Callable[[R], dict[str, Any]]
    record: Callable[[Row], R]
    #: What the record is known by in its source: its id there (None for sets of codes,
    #: which carry none), with more where one resource holds several records.
    source_id: Callable[[R], str | None]
    #: Which rows are part of the records `assess` reads; None: all of them.
    current: Callable[[], ColumnElement[bool]] | None = None
    #: The part is a set of codes (frozenset) rather than a tuple of dated records.
    is_set: bool = False
    #: Records held inside each record (read from the row's relationship of the same name).
    children: tuple[ChildKind[Any, Any], ...] = ()

    @property
    def table_name(self) -> str:
        return str(self.table.__tablename__)

    def records_of(self, records: PregnancyRecords) -> Iterable[R]:
        items: Iterable[R] = getattr(records, self.field)
        return items

    def bare(self, record: R) -> R:
        """The record without the records held inside it: what its own row holds."""
        if not self.children:
            return record
        return replace(record, **{child.field: () for child in self.children})  # type: ignore[type-var]


def _partial_date(prefix: str, value: PartialDate | None) -> dict[str, int | None]:
    return {
        f"{prefix}_year": value.year if value else None,
        f"{prefix}_month": value.month if value else None,
        f"{prefix}_day": value.day if value else None,
    }


def _read_partial_date(year: int | None, month: int | None, day: int | None) -> PartialDate | None:
    return None if year is None else PartialDate(year, month, day)


def _symptoms(names: list[str]) -> frozenset[Symptom]:
    return frozenset(Symptom(n) for n in names)


def _own_id(record: Any) -> str | None:
    value: str | None = record.source_id
    return value


def _no_id(_record: object) -> None:
    return None


PRIOR_PREGNANCIES: RecordKind[PriorPregnancy, PriorPregnancyRow] = RecordKind(
    field="prior_pregnancies",
    table=PriorPregnancyRow,
    owner="patient",
    columns=lambda p: {
        **_partial_date("ended", p.ended),
        "outcome": p.outcome,
        "gestation_days": p.gestation_days,
        "onset": p.onset,
        "cerclage": p.cerclage,
        "fetuses": p.fetuses,
        "counted_as": p.counted_as,
        "source_ref": p.source_id,
    },
    record=lambda r: PriorPregnancy(
        ended=_read_partial_date(r.ended_year, r.ended_month, r.ended_day),
        outcome=r.outcome,
        gestation_days=r.gestation_days,
        onset=r.onset,
        cerclage=r.cerclage,
        fetuses=r.fetuses,
        source_id=r.source_ref,
        counted_as=r.counted_as,
    ),
    source_id=_own_id,
)

EXCISIONS: RecordKind[CervicalExcision, CervicalExcisionRow] = RecordKind(
    field="excisions",
    table=CervicalExcisionRow,
    owner="patient",
    columns=lambda e: {
        "kind": e.kind,
        "depth_mm": e.depth_mm,
        **_partial_date("performed", e.performed),
        "source_ref": e.source_id,
    },
    record=lambda r: CervicalExcision(
        kind=r.kind,
        depth_mm=r.depth_mm,
        performed=_read_partial_date(r.performed_year, r.performed_month, r.performed_day),
        source_id=r.source_ref,
    ),
    source_id=_own_id,
)

MATERNAL_CONDITIONS: RecordKind[MaternalCondition, MaternalConditionRow] = RecordKind(
    field="maternal_conditions",
    table=MaternalConditionRow,
    owner="patient",
    columns=lambda c: {"condition": c},
    record=lambda r: r.condition,
    source_id=_no_id,
    is_set=True,
)

CERVICAL_LENGTHS: RecordKind[CervicalLengthMeasurement, CervicalLengthRow] = RecordKind(
    field="cervical_lengths",
    table=CervicalLengthRow,
    owner="pregnancy",
    columns=lambda m: {
        "measured_on": m.measured_on,
        "length_mm": m.length_mm,
        "method": m.method,
        "comparator": m.comparator,
        "source_ref": m.source_id,
    },
    record=lambda r: CervicalLengthMeasurement(
        measured_on=r.measured_on,
        length_mm=r.length_mm,
        method=r.method,
        source_id=r.source_ref,
        comparator=r.comparator,
    ),
    source_id=_own_id,
)

EXAMS: RecordKind[CervicalExam, CervicalExamRow] = RecordKind(
    field="exams",
    table=CervicalExamRow,
    owner="pregnancy",
    columns=lambda e: {
        "examined_on": e.examined_on,
        "dilation_cm": e.dilation_cm,
        "effacement_percent": e.effacement_percent,
        "membranes_exposed": e.membranes_exposed,
        "source_ref": e.source_id,
    },
    record=lambda r: CervicalExam(
        examined_on=r.examined_on,
        dilation_cm=r.dilation_cm,
        effacement_percent=r.effacement_percent,
        membranes_exposed=r.membranes_exposed,
        source_id=r.source_ref,
    ),
    source_id=_own_id,
)

FIBRONECTIN: RecordKind[FetalFibronectin, FibronectinTestRow] = RecordKind(
    field="fibronectin",
    table=FibronectinTestRow,
    owner="pregnancy",
    columns=lambda f: {
        "tested_on": f.tested_on,
        "ng_per_ml": f.ng_per_ml,
        "positive": f.positive,
        "source_ref": f.source_id,
    },
    record=lambda r: FetalFibronectin(
        tested_on=r.tested_on, ng_per_ml=r.ng_per_ml, positive=r.positive, source_id=r.source_ref
    ),
    source_id=_own_id,
)

COMPLICATIONS: RecordKind[ComplicationRecord, ComplicationRow] = RecordKind(
    field="complications",
    table=ComplicationRow,
    owner="pregnancy",
    columns=lambda c: {
        "complication": c.complication,
        "noted_on": c.noted_on,
        "resolved_on": c.resolved_on,
        "source_ref": c.source_id,
    },
    record=lambda r: ComplicationRecord(
        complication=r.complication,
        noted_on=r.noted_on,
        resolved_on=r.resolved_on,
        source_id=r.source_ref,
    ),
    source_id=_own_id,
)

CERCLAGE_PLACEMENTS: RecordKind[CerclagePlacement, CerclagePlacementRow] = RecordKind(
    field="cerclage_placements",
    table=CerclagePlacementRow,
    owner="pregnancy",
    columns=lambda c: {
        "placed_on": c.placed_on,
        "route": c.route,
        "indication": c.indication,
        "source_ref": c.source_id,
    },
    record=lambda r: CerclagePlacement(
        placed_on=r.placed_on, route=r.route, indication=r.indication, source_id=r.source_ref
    ),
    source_id=_own_id,
)

CERCLAGE_REMOVALS: RecordKind[CerclageRemoval, CerclageRemovalRow] = RecordKind(
    field="cerclage_removals",
    table=CerclageRemovalRow,
    owner="pregnancy",
    columns=lambda c: {"removed_on": c.removed_on, "source_ref": c.source_id},
    record=lambda r: CerclageRemoval(removed_on=r.removed_on, source_id=r.source_ref),
    source_id=_own_id,
)


def _current_medication() -> ColumnElement[bool]:
    # An order that has ended counts until the day it stopped, when that day is known; one
    # stopped on an unknown day cannot be placed in time, and is left out as before.
    return or_(
        MedicationRow.status == MedicationStatus.ACTIVE, MedicationRow.stopped_on.is_not(None)
    )


MEDICATIONS: RecordKind[MedicationOrder, MedicationRow] = RecordKind(
    field="medications",
    table=MedicationRow,
    owner="pregnancy",
    columns=lambda m: {
        "medication": m.medication,
        "started_on": m.started_on,
        "stopped_on": m.stopped_on,
        "status": MedicationStatus.ACTIVE if m.stopped_on is None else MedicationStatus.STOPPED,
        "source_ref": m.source_id,
    },
    record=lambda r: MedicationOrder(
        medication=r.medication,
        started_on=r.started_on,
        source_id=r.source_ref,
        stopped_on=r.stopped_on,
    ),
    source_id=_own_id,
    current=_current_medication,
)

SYMPTOM_REVIEWS: ChildKind[SymptomReview, SymptomReviewRow] = ChildKind(
    field="reviews",
    table=SymptomReviewRow,
    parent_column="symptom_report_id",
    columns=lambda v: {
        "reviewed_on": v.reviewed_on,
        "outcome": v.outcome,
        "reviewer": v.reviewer,
        "source_ref": v.source_id,
    },
    record=lambda r: SymptomReview(
        reviewed_on=r.reviewed_on, outcome=r.outcome, reviewer=r.reviewer, source_id=r.source_ref
    ),
)

SYMPTOM_REPORTS: RecordKind[SymptomReport, SymptomReportRow] = RecordKind(
    field="symptom_reports",
    table=SymptomReportRow,
    owner="pregnancy",
    columns=lambda s: {
        "reported_on": s.reported_on,
        # Sorted, so equal reports are equal rows and diffs between rows are readable.
        "present": sorted(str(symptom) for symptom in s.present),
        "absent": sorted(str(symptom) for symptom in s.absent),
        "reported_by": s.reported_by,
        "source_ref": s.source_id,
    },
    record=lambda r: SymptomReport(
        reported_on=r.reported_on,
        present=_symptoms(r.present),
        absent=_symptoms(r.absent),
        source_id=r.source_ref,
        reported_by=r.reported_by,
        reviews=tuple(SYMPTOM_REVIEWS.record(review) for review in r.reviews),
    ),
    source_id=_own_id,
    children=(SYMPTOM_REVIEWS,),
)


def declined_key(source_id: str | None, code: str) -> str | None:
    """What a declined offer is known by in its source: one resource may decline several
    offers (a cerclage declined with no reason given is each transvaginal cerclage declined),
    so its id and the code (`proc-1#history-indicated-cerclage`; '#' is in no FHIR id)."""
    return None if source_id is None else f"{source_id}#{code}"


DECLINED: RecordKind[DeclinedDecision, DeclinedDecisionRow] = RecordKind(
    field="declined",
    table=DeclinedDecisionRow,
    owner="pregnancy",
    columns=lambda d: {"code": d.code, "declined_on": d.declined_on, "source_ref": d.source_id},
    record=lambda r: DeclinedDecision(
        code=r.code, declined_on=r.declined_on, source_id=r.source_ref
    ),
    source_id=lambda d: declined_key(d.source_id, d.code),
)

#: Every kind of record, in the order the parts appear in `PregnancyRecords`.
RECORD_KINDS: tuple[RecordKind[Any, Any], ...] = (
    PRIOR_PREGNANCIES,
    EXCISIONS,
    MATERNAL_CONDITIONS,
    CERVICAL_LENGTHS,
    EXAMS,
    FIBRONECTIN,
    COMPLICATIONS,
    CERCLAGE_PLACEMENTS,
    CERCLAGE_REMOVALS,
    MEDICATIONS,
    SYMPTOM_REPORTS,
    DECLINED,
)
