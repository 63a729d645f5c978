"""Readable hand-made pregnancy records for tests.

    woman(at="19+0").with_prior_sptb("30+0").with_length(22, at="18+0")

reads as "a woman at 19+0 with a previous spontaneous preterm birth at 30+0 and a 22 mm
transvaginal length measured at 18+0". Dates of this pregnancy are written as gestational ages
("18+0") of the pregnancy due on `EDD`; `as_of` is the day the woman is assessed. Every builder
method returns a new, unchanged-otherwise `Woman`: records stay immutable.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from cervixwatch.clinical.assessment import Assessment, assess
from cervixwatch.clinical.facts import FactValue, derive_facts
from cervixwatch.clinical.gestation import GestationalAge, date_at, ga
from cervixwatch.clinical.records import (
    CerclageIndication,
    CerclagePlacement,
    CerclageRemoval,
    CerclageRoute,
    CervicalExam,
    CervicalExcision,
    CervicalLengthMeasurement,
    Complication,
    ComplicationRecord,
    DeclinableCode,
    DeclinedDecision,
    ExcisionKind,
    LengthMethod,
    MaternalCondition,
    Medication,
    MedicationOrder,
    Onset,
    PartialDate,
    PregnancyRecords,
    PriorOutcome,
    PriorPregnancy,
    ReviewOutcome,
    Symptom,
    SymptomReport,
    SymptomReview,
)
from cervixwatch.knowledge import bundled_evidence, bundled_profiles

#: The due date of every hand-made pregnancy unless a test says otherwise: 2026-02-02 is 18+2.
EDD = dt.date(2026, 7, 4)
PROFILES = ("acog", "nice")


def on(ga_text: str, edd: dt.date = EDD) -> dt.date:
    """The calendar day on which the pregnancy due on `edd` reaches `ga_text` ("18+0")."""
    return date_at(edd, GestationalAge.parse(ga_text))


@dataclass(frozen=True, slots=True)
class Woman:
    """One woman's records and the day she is assessed."""

    records: PregnancyRecords
    as_of: dt.date

    @property
    def edd(self) -> dt.date:
        assert self.records.edd is not None, "this woman has no EDD"
        return self.records.edd

    def with_records(self, **changes: Any) -> Woman:
        """The same woman with some fields of her records replaced."""
        return replace(self, records=replace(self.records, **changes))

    def day(self, ga_text: str) -> dt.date:
        return on(ga_text, self.edd)

    # --- when ---------------------------------------------------------------------------------

    def at(self, ga_text: str) -> Woman:
        """The same records, assessed at another gestational age."""
        return replace(self, as_of=self.day(ga_text))

    def on_day(self, day: dt.date) -> Woman:
        return replace(self, as_of=day)

    def without_edd(self) -> Woman:
        return self.with_records(edd=None)

    # --- history -------------------------------------------------------------------------------

    def with_prior(
        self,
        outcome: PriorOutcome | None = PriorOutcome.LIVE_BIRTH,
        at: str | None = "39+0",
        onset: Onset | None = Onset.SPONTANEOUS_LABOUR,
        *,
        cerclage: CerclageIndication | None = None,
        ended: PartialDate | None = None,
        fetuses: int | None = None,
    ) -> Woman:
        """A previous pregnancy that ended at `at` (a term spontaneous live birth by default)."""
        prior = PriorPregnancy(
            ended=ended if ended is not None else PartialDate(2023),
            outcome=outcome,
            gestation_days=None if at is None else ga(at),
            onset=onset,
            cerclage=cerclage,
            fetuses=fetuses,
        )
        return self.with_records(prior_pregnancies=(*self.records.prior_pregnancies, prior))

    def with_prior_sptb(self, at: str, onset: Onset = Onset.SPONTANEOUS_LABOUR) -> Woman:
        """A previous spontaneous preterm live birth at `at`."""
        return self.with_prior(PriorOutcome.LIVE_BIRTH, at, onset)

    def with_prior_loss(self, at: str, onset: Onset = Onset.PAINLESS_CERVICAL_DILATION) -> Woman:
        """A previous miscarriage at `at` (painless dilation unless said otherwise)."""
        return self.with_prior(PriorOutcome.MISCARRIAGE, at, onset)

    def with_excision(
        self, kind: ExcisionKind = ExcisionKind.LLETZ, depth_mm: float | None = None
    ) -> Woman:
        excision = CervicalExcision(kind, depth_mm, PartialDate(2020))
        return self.with_records(excisions=(*self.records.excisions, excision))

    def with_conditions(self, *conditions: MaternalCondition) -> Woman:
        return self.with_records(
            maternal_conditions=self.records.maternal_conditions | set(conditions)
        )

    # --- this pregnancy ------------------------------------------------------------------------

    def with_fetuses(self, count: int | None) -> Woman:
        return self.with_records(fetuses=count)

    def with_length(
        self, mm: float, at: str, method: LengthMethod = LengthMethod.TRANSVAGINAL
    ) -> Woman:
        """A cervical length of `mm` millimetres measured at `at` (transvaginal by default)."""
        measurement = CervicalLengthMeasurement(self.day(at), mm, method)
        return self.with_records(cervical_lengths=(*self.records.cervical_lengths, measurement))

    def with_exam(
        self,
        at: str,
        dilation_cm: float | None = 0.0,
        membranes_exposed: bool | None = False,
    ) -> Woman:
        """A cervical examination at `at`; closed with membranes not seen by default."""
        exam = CervicalExam(
            self.day(at), dilation_cm=dilation_cm, membranes_exposed=membranes_exposed
        )
        return self.with_records(exams=(*self.records.exams, exam))

    def with_closed_cervix(self, at: str) -> Woman:
        return self.with_exam(at, dilation_cm=0.0, membranes_exposed=False)

    def with_complications(self, *complications: Complication) -> Woman:
        """Complications noted on no known day and never resolved: active throughout."""
        added = tuple(ComplicationRecord(c) for c in complications)
        return self.with_records(complications=(*self.records.complications, *added))

    def with_complication(
        self,
        complication: Complication,
        noted_on: dt.date | None = None,
        resolved_on: dt.date | None = None,
    ) -> Woman:
        """A complication noted on `noted_on` and resolved on `resolved_on` (None: unknown,
        and still active)."""
        record = ComplicationRecord(complication, noted_on, resolved_on)
        return self.with_records(complications=(*self.records.complications, record))

    def with_cerclage(
        self,
        at: str | None = "13+0",
        route: CerclageRoute = CerclageRoute.TRANSVAGINAL,
        indication: CerclageIndication | None = CerclageIndication.HISTORY,
        *,
        placed_on: dt.date | None = None,
        removed_at: str | None = None,
    ) -> Woman:
        """A cerclage placed at `at` (or on `placed_on`), removed at `removed_at` if given."""
        day = placed_on if placed_on is not None else self.day(at or "13+0")
        placements = (*self.records.cerclage_placements, CerclagePlacement(day, route, indication))
        removals = self.records.cerclage_removals
        if removed_at is not None:
            removals = (*removals, CerclageRemoval(self.day(removed_at)))
        return self.with_records(cerclage_placements=placements, cerclage_removals=removals)

    def with_medication(
        self, medication: Medication, started_at: str | None = None, stopped_at: str | None = None
    ) -> Woman:
        started = None if started_at is None else self.day(started_at)
        stopped = None if stopped_at is None else self.day(stopped_at)
        order = MedicationOrder(medication, started, stopped_on=stopped)
        return self.with_records(medications=(*self.records.medications, order))

    def with_declined(self, code: DeclinableCode, at: str) -> Woman:
        """An offer of `code` she declined at `at`."""
        declined = DeclinedDecision(code, self.day(at))
        return self.with_records(declined=(*self.records.declined, declined))

    def with_symptoms(
        self,
        *symptoms: Symptom,
        reported_on: dt.date | None = None,
        reviewed_on: dt.date | None = None,
        outcome: ReviewOutcome = ReviewOutcome.SEEN_IN_TRIAGE,
    ) -> Woman:
        """A symptom report (on `as_of` unless `reported_on` is given) saying yes to these,
        reviewed on `reviewed_on` when given (open until then: CD-07)."""
        reviews = () if reviewed_on is None else (SymptomReview(reviewed_on, outcome),)
        report = SymptomReport(
            reported_on if reported_on is not None else self.as_of,
            frozenset(symptoms),
            reviews=reviews,
        )
        return self.with_records(symptom_reports=(*self.records.symptom_reports, report))

    # --- results -------------------------------------------------------------------------------

    def assess(self, *guidelines: str) -> Assessment:
        """Assess against the bundled profiles named (both when none is named)."""
        profiles = bundled_profiles()
        chosen = guidelines or PROFILES
        return assess(self.records, self.as_of, [profiles[g] for g in chosen], bundled_evidence())

    def codes(self, guideline: str) -> set[str]:
        """The recommendation codes one bundled profile gives her."""
        return self.assess(guideline).codes(guideline)

    def rules(self, guideline: str, code: str) -> set[str]:
        """The rules of one profile that gave `code`."""
        return {
            r.rule
            for r in self.assess(guideline).recommendations
            if r.guideline == guideline and r.code == code
        }

    def facts(self) -> dict[str, FactValue]:
        return derive_facts(self.records, self.as_of)


def woman(
    at: str = "20+0", *, edd: dt.date = EDD, fetuses: int | None = 1, patient_id: str = "test"
) -> Woman:
    """A woman assessed at `at`, carrying `fetuses` (one by default), with nothing else known."""
    records = PregnancyRecords(patient_id=patient_id, edd=edd, fetuses=fetuses)
    return Woman(records, on(at, edd))
