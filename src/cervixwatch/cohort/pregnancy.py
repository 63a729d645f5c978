"""This pregnancy, visit by visit, as the demo clinic would have cared for it.

At booking and after every scan the pregnancy is assessed with the real `assess` on that day;
the next scan is booked on the date the assessment's scan plans give (serial scans every two
weeks from 16 weeks after a spontaneous preterm birth, a single screen at 18-22 weeks
otherwise), and a treatment the guidelines give (cerclage, vaginal progesterone) is accepted
with the demo's probability for its strength. So cerclage and progesterone appear exactly
where the guidelines would give them. Nothing is recorded after the pregnancy's last day
(`end`: the reference date, or the day of birth of a past patient).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from cervixwatch.clinical.assessment import Assessment, Recommendation, assess
from cervixwatch.clinical.gestation import TERM_DAYS
from cervixwatch.clinical.guidelines import GuidelineProfile
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
    LengthMethod,
    MaternalCondition,
    Medication,
    MedicationOrder,
    PregnancyRecords,
    PriorPregnancy,
    Symptom,
    SymptomReport,
    SymptomReview,
)
from cervixwatch.cohort import parameters as p
from cervixwatch.cohort.draws import clip, day_between, days, pick_weighted
from cervixwatch.knowledge import bundled_evidence

PROGESTERONE = "vaginal-progesterone"
CERCLAGES = {
    "history-indicated-cerclage": CerclageIndication.HISTORY,
    "ultrasound-indicated-cerclage": CerclageIndication.ULTRASOUND,
    "exam-indicated-cerclage": CerclageIndication.EXAM,
}
_STRENGTH_ORDER = ("recommend", "offer", "consider", "shared-decision")
#: A pregnancy has far fewer visits than this; it only guards the loop.
_MAX_VISITS = 40


def singleton_length_distribution(ga_days: int) -> tuple[float, float]:
    """Mean and SD (mm) of a singleton's transvaginal length at `ga_days`: Hassan's 14-24 week
    mean at 19+0, Iams' figures at 24+0 and 28+0, linear between, held outside."""
    anchors = (
        (p.HASSAN_MEAN_AT_DAYS, p.HASSAN_14_24W_MEAN_MM, p.IAMS_24W_SD_MM),
        (p.IAMS_24W_DAYS, p.IAMS_24W_MEAN_MM, p.IAMS_24W_SD_MM),
        (p.IAMS_28W_DAYS, p.IAMS_28W_MEAN_MM, p.IAMS_28W_SD_MM),
    )
    if ga_days <= anchors[0][0]:
        return anchors[0][1], anchors[0][2]
    for (d0, m0, s0), (d1, m1, s1) in itertools.pairwise(anchors):
        if ga_days <= d1:
            t = (ga_days - d0) / (d1 - d0)
            return m0 + t * (m1 - m0), s0 + t * (s1 - s0)
    return anchors[-1][1], anchors[-1][2]


def draw_length(
    rng: random.Random, ga_days: int, cervix_z: float, shift: float, twins: bool
) -> float:
    """One scan's length (mm): the woman's own standard score `cervix_z` (drawn once, N(0,1))
    blended with this scan's variation so that every scan, taken alone, follows the published
    distribution (shifted by `shift` SDs for a high-risk history)."""
    mean, sd = (p.TWIN_MEAN_MM, p.TWIN_SD_MM) if twins else singleton_length_distribution(ga_days)
    rho = p.SERIAL_LENGTH_CORRELATION
    z = shift + rho * cervix_z + math.sqrt(1 - rho * rho) * rng.gauss(0.0, 1.0)
    return round(clip(mean + sd * z, p.LENGTH_MIN_MM, p.LENGTH_MAX_MM), 1)


@dataclass
class Woman:
    """What is known of her before this pregnancy's first visit."""

    patient_id: str
    edd: dt.date | None
    fetuses: int | None
    twins: bool
    birth_date: dt.date
    priors: tuple[PriorPregnancy, ...]
    excisions: tuple[CervicalExcision, ...]
    maternal: frozenset[MaternalCondition]
    high_risk_history: bool
    prior_sptb: bool


@dataclass
class _Care:
    """Everything recorded in this pregnancy, each item dated; `records(day)` keeps what had
    happened by `day`."""

    woman: Woman
    lengths: list[CervicalLengthMeasurement] = field(default_factory=list)
    exams: list[CervicalExam] = field(default_factory=list)
    placement: CerclagePlacement | None = None
    removal: CerclageRemoval | None = None
    medications: list[MedicationOrder] = field(default_factory=list)
    reports: list[SymptomReport] = field(default_factory=list)
    complications: list[ComplicationRecord] = field(default_factory=list)
    declined: list[DeclinedDecision] = field(default_factory=list)
    decided: set[tuple[str, str]] = field(default_factory=set)

    def records(self, day: dt.date) -> PregnancyRecords:
        w = self.woman
        exams = [e for e in self.exams if e.examined_on <= day]
        return PregnancyRecords(
            patient_id=w.patient_id,
            edd=w.edd,
            fetuses=w.fetuses,
            birth_date=w.birth_date,
            prior_pregnancies=w.priors,
            excisions=w.excisions,
            maternal_conditions=w.maternal,
            cervical_lengths=tuple(m for m in self.lengths if m.measured_on <= day),
            exams=tuple(_exam_ids(exams)),
            complications=tuple(
                c for c in self.complications if c.noted_on is None or c.noted_on <= day
            ),
            cerclage_placements=tuple(
                c for c in (self.placement,) if c is not None and c.placed_on <= day
            ),
            cerclage_removals=tuple(
                r for r in (self.removal,) if r is not None and r.removed_on <= day
            ),
            medications=tuple(
                m for m in self.medications if m.started_on is None or m.started_on <= day
            ),
            symptom_reports=tuple(
                replace(r, reviews=tuple(v for v in r.reviews if v.reviewed_on <= day))
                for r in self.reports
                if r.reported_on <= day
            ),
            declined=tuple(d for d in self.declined if d.declined_on <= day),
        )


def _exam_ids(exams: Sequence[CervicalExam]) -> list[CervicalExam]:
    """Each exam finding named as the FHIR writer names its Observation, so that a bundle read
    back gives the same records."""
    out = []
    for i, e in enumerate(exams):
        finding = (
            "dilation"
            if e.dilation_cm is not None
            else "effacement"
            if e.effacement_percent is not None
            else "membranes"
        )
        out.append(
            CervicalExam(
                e.examined_on,
                e.dilation_cm,
                e.effacement_percent,
                e.membranes_exposed,
                f"exam-{i}-{finding}",
            )
        )
    return out


class PregnancyCare:
    """Runs one pregnancy from booking to `end` (inclusive)."""

    def __init__(
        self,
        rng: random.Random,
        woman: Woman,
        end: dt.date,
        profiles: Sequence[GuidelineProfile],
        *,
        booking_ga_days: int,
        delivered: bool = False,
    ) -> None:
        self.rng = rng
        self.woman = woman
        self.end = end
        self.profiles = profiles
        self.booking_ga_days = booking_ga_days
        self.delivered = delivered
        self.care = _Care(woman)
        self.cervix_z = rng.gauss(0.0, 1.0)
        self.shift = p.PRIOR_SPTB_Z_SHIFT if woman.high_risk_history else 0.0

    # --- dates ----------------------------------------------------------------------------

    @property
    def start(self) -> dt.date:
        assert self.woman.edd is not None
        return self.woman.edd - days(TERM_DAYS)

    def on_ga(self, ga_days: int) -> dt.date:
        return self.start + days(ga_days)

    def ga_on(self, day: dt.date) -> int:
        return (day - self.start).days

    # --- the course of the pregnancy ------------------------------------------------------

    def run(self) -> PregnancyRecords:
        if self.woman.edd is None:  # undated: no plan can be made; only what she tells
            return self.care.records(self.end)
        booking = min(self.on_ga(self.booking_ga_days), self.end)
        self._seventeen_ohpc()
        assessment = self._visit(booking)
        self._scans(booking, assessment)
        if self.woman.twins:
            self._twin_anomaly_scan()
        self._cerclage_removal()
        if not self.delivered:
            self._symptoms()
        return self.care.records(self.end)

    def _assess(self, day: dt.date) -> Assessment:
        return assess(self.care.records(day), day, self.profiles, bundled_evidence())

    def _visit(self, day: dt.date) -> Assessment:
        """Assess on `day` and act on the treatments it gives."""
        assessment = self._assess(day)
        self._treat(assessment, day)
        return assessment

    def _scans(self, day: dt.date, assessment: Assessment) -> None:
        for _ in range(_MAX_VISITS):
            booked = self._next_scan(assessment, day)
            if booked is None:
                return
            due, latest = booked
            scan_day = max(due, day)
            if scan_day > self.end:
                return
            if due == latest:  # serial: booked for that day
                if scan_day == self.end and self.rng.random() >= p.DUE_TODAY_DONE:
                    return  # due today, not yet done
                if scan_day < self.end and self.rng.random() < p.MISSED_SCAN:
                    return  # missed: overdue from the next day
            else:  # single screen: any day in its window
                if latest < self.end and self.rng.random() < p.MISSED_SCAN:
                    return  # never done: overdue once the window has closed
                scan_day = day_between(self.rng, scan_day, max(scan_day, latest))
                if scan_day > self.end:
                    return
            self._scan(scan_day)
            day = scan_day
            assessment = self._visit(day)

    def _next_scan(
        self, assessment: Assessment, last_visit: dt.date
    ) -> tuple[dt.date, dt.date] | None:
        """The earliest next scan of any plan: (due, latest). Where a serial plan leaves the
        interval to the clinic, the demo clinic's interval follows the last length (unless it
        is short: then the plan gives way to a treatment decision)."""
        candidates: list[tuple[dt.date, dt.date]] = []
        last = max(
            (m for m in self.care.lengths if m.method is LengthMethod.TRANSVAGINAL),
            key=lambda m: m.measured_on,
            default=None,
        )
        for plan in assessment.scan_plans:
            if plan.next_scan is not None:
                candidates.append((plan.next_scan.due, plan.next_scan.latest))
            elif (
                plan.kind == "serial"
                and plan.interval_days is None
                and last is not None
                and last.length_mm >= p.SHORT_CERVIX_MM
            ):
                due = last.measured_on + days(p.CLINIC_SERIAL_INTERVAL_DAYS)
                if plan.window_from <= due <= plan.window_to and due > last_visit:
                    candidates.append((due, due))
        return min(candidates) if candidates else None

    def _scan(self, day: dt.date) -> None:
        length = draw_length(self.rng, self.ga_on(day), self.cervix_z, self.shift, self.woman.twins)
        lengths = self.care.lengths
        lengths.append(CervicalLengthMeasurement(day, length, source_id=f"cl-{len(lengths)}"))
        if length < p.SHORT_CERVIX_MM and self.rng.random() < p.EXAM_IF_SHORT:
            dilation = 0.0
            if length < p.VERY_SHORT_MM and self.rng.random() < p.DILATED_IF_VERY_SHORT:
                dilation = self.rng.choice(p.DILATION_CM)
            self.care.exams.append(CervicalExam(day, dilation_cm=dilation))
            if dilation > 0:
                exposed = dilation >= 2 and self.rng.random() < p.MEMBRANES_EXPOSED_IF_DILATED_2CM
                self.care.exams.append(CervicalExam(day, membranes_exposed=exposed))

    def _twin_anomaly_scan(self) -> None:
        if self.care.lengths or self.rng.random() >= p.TWIN_ANOMALY_SCAN_LENGTH:
            return
        day = self.on_ga(self.rng.randint(*p.ANOMALY_SCAN_DAYS))
        if day <= self.end:
            self._scan(day)

    # --- treatment ------------------------------------------------------------------------

    def _treat(self, assessment: Assessment, day: dt.date) -> None:
        by_code: dict[str, list[Recommendation]] = {}
        for r in assessment.recommendations:
            if r.code == PROGESTERONE or r.code in CERCLAGES:
                by_code.setdefault(r.code, []).append(r)
        for code, given in sorted(by_code.items()):
            new = [r for r in given if (code, r.rule) not in self.care.decided]
            if not new:
                continue  # already offered on the same grounds: her answer stands
            self.care.decided.update((code, r.rule) for r in given)
            strongest = min(new, key=lambda r: _strength_rank(r.strength))
            if self.rng.random() >= p.ACCEPTANCE.get(strongest.strength, 0.0):
                # Declined, and recorded so: the recommendation then shows as declined.
                declined = self.care.declined
                declined.append(
                    DeclinedDecision(DeclinableCode(code), day, f"declined-{len(declined)}")
                )
                continue
            if code == PROGESTERONE:
                self._start_progesterone(day)
            else:
                self._place_cerclage(code, strongest, day)

    def _start_progesterone(self, day: dt.date) -> None:
        if any(m.medication is Medication.VAGINAL_PROGESTERONE for m in self.care.medications):
            return
        started = max(day, self.on_ga(p.PROGESTERONE_FROM_DAYS))
        self.care.medications.append(
            MedicationOrder(Medication.VAGINAL_PROGESTERONE, started, "progesterone")
        )

    def _place_cerclage(self, code: str, rec: Recommendation, day: dt.date) -> None:
        if self.care.placement is not None:
            return
        indication = CERCLAGES[code]
        if indication is CerclageIndication.HISTORY:
            first, last = rec.window or (day, day + days(7))
            first = max(first, day + days(1))
            placed = day_between(self.rng, first, max(first, last))
        elif indication is CerclageIndication.ULTRASOUND:
            placed = day + days(self.rng.randint(*p.ULTRASOUND_CERCLAGE_DELAY_DAYS))
        else:
            placed = day
        if self.ga_on(placed) >= p.CERCLAGE_BEFORE_DAYS:
            return
        self.care.placement = CerclagePlacement(
            placed, CerclageRoute.TRANSVAGINAL, indication, "cerclage"
        )

    def _cerclage_removal(self) -> None:
        placement = self.care.placement
        if placement is None or placement.placed_on > self.end:
            return
        removed = self.on_ga(self.rng.randint(*p.REMOVAL_GA_DAYS))
        if self.delivered and removed > self.end:
            removed = self.end  # removed in labour
        elif removed > self.end or self.rng.random() >= p.CERCLAGE_REMOVAL_RECORDED:
            return
        self.care.removal = CerclageRemoval(max(removed, placement.placed_on), "cerclage-removal")

    def _seventeen_ohpc(self) -> None:
        if self.woman.prior_sptb and self.rng.random() < p.ON_17OHPC:
            started = self.on_ga(self.rng.randint(*p.SEVENTEEN_OHPC_START_DAYS))
            self.care.medications.append(
                MedicationOrder(Medication.HYDROXYPROGESTERONE_CAPROATE, started, "17ohpc")
            )

    # --- what she reports -----------------------------------------------------------------

    def _symptoms(self) -> None:
        ga_today = self.ga_on(self.end)
        rng = self.rng
        if ga_today >= 14 * 7 and rng.random() < p.OLDER_SYMPTOM_REPORT:
            back = rng.randint(2, min(30, ga_today - 14 * 7 + 2))
            self._report(
                self.end - days(back),
                rng.random() < p.OLDER_REPORT_POSITIVE,
                rng.random() < p.OLDER_REPORT_REVIEWED,
            )
        if 14 * 7 <= ga_today < 37 * 7 and rng.random() < p.CURRENT_SYMPTOM_REPORT:
            positive = rng.random() < p.CURRENT_REPORT_POSITIVE
            day = self.end - days(rng.randint(0, 1))
            present = self._report(day, positive, rng.random() < p.CURRENT_REPORT_REVIEWED)
            if Symptom.FLUID_LEAK in present and rng.random() < p.RUPTURE_IF_FLUID_LEAK:
                complications = self.care.complications
                complications.append(
                    ComplicationRecord(
                        Complication.RUPTURED_MEMBRANES,
                        day,
                        source_id=f"complication-{len(complications)}",
                    )
                )

    def _report(self, day: dt.date, positive: bool, reviewed: bool) -> frozenset[Symptom]:
        present: set[Symptom] = set()
        if positive:
            for _ in range(self.rng.choice((1, 1, 2))):
                present.add(pick_weighted(self.rng, p.SYMPTOM_WEIGHTS))
        reports = self.care.reports
        reviews: tuple[SymptomReview, ...] = ()
        reviewed_on = day + days(self.rng.randint(*p.REVIEW_DELAY_DAYS))
        if reviewed and reviewed_on <= self.end:
            weights = (
                p.REVIEW_OUTCOME_WEIGHTS_SYMPTOM if present else p.REVIEW_OUTCOME_WEIGHTS_NO_SYMPTOM
            )
            outcome = pick_weighted(self.rng, weights)
            reviewer = self.rng.choice(p.REVIEWERS)
            reviews = (SymptomReview(reviewed_on, outcome, reviewer, f"review-{len(reports)}"),)
        reports.append(
            SymptomReport(
                day,
                frozenset(present),
                frozenset(s for s in Symptom if s not in present),
                f"symptoms-{len(reports)}",
                reported_by="the woman",
                reviews=reviews,
            )
        )
        return frozenset(present)


def _strength_rank(strength: str) -> int:
    return _STRENGTH_ORDER.index(strength) if strength in _STRENGTH_ORDER else len(_STRENGTH_ORDER)
