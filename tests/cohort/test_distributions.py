"""The cohort follows its constants: published figures where it cites them, the demo clinic's
mix elsewhere; it holds the cases a demo must show (overdue, urgent, treated); and cerclage and
progesterone appear only where the guidelines give them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
import statistics
from collections import Counter

import pytest

from cervixwatch.clinical.assessment import assess
from cervixwatch.clinical.gestation import ga
from cervixwatch.clinical.records import LengthMethod, Medication, PregnancyRecords
from cervixwatch.cohort import CohortPatient, Referral, generate_cohort
from cervixwatch.cohort import parameters as p
from cervixwatch.cohort.history import draw_births, sptb_risk
from cervixwatch.cohort.pregnancy import draw_length, singleton_length_distribution
from cervixwatch.knowledge import bundled_profiles

REFERENCE = dt.date(2026, 3, 2)
PROFILES = list(bundled_profiles().values())
COHORT = generate_cohort(400, seed=2026, reference=REFERENCE)


def test_the_referral_mix_is_the_demo_clinics() -> None:
    counts = Counter(patient.referral for patient in COHORT)
    for referral, share in p.REFERRAL_MIX.items():
        assert counts[referral] / len(COHORT) == pytest.approx(share, abs=0.06), referral


def test_twins_are_the_twin_referrals() -> None:
    for patient in COHORT:
        fetuses = patient.records.fetuses
        if fetuses is not None:
            assert (fetuses == 2) == (patient.referral is Referral.TWINS)


def test_lengths_at_24_and_28_weeks_follow_iams_1996() -> None:
    assert singleton_length_distribution(ga("24+0")) == (35.2, 8.3)
    assert singleton_length_distribution(ga("28+0")) == (33.7, 8.5)
    assert singleton_length_distribution(ga("16+0")) == (37.5, 8.3)  # Hassan's 14-24 week mean
    rng = random.Random(1)
    lengths = [draw_length(rng, ga("24+0"), rng.gauss(0, 1), 0.0, False) for _ in range(8000)]
    assert statistics.fmean(lengths) == pytest.approx(p.IAMS_24W_MEAN_MM, abs=0.4)
    assert statistics.stdev(lengths) == pytest.approx(p.IAMS_24W_SD_MM, abs=0.4)


def test_after_a_preterm_birth_about_15_percent_of_lengths_at_19_weeks_are_short() -> None:
    rng = random.Random(2)
    shift = p.PRIOR_SPTB_Z_SHIFT
    lengths = [draw_length(rng, ga("19+0"), rng.gauss(0, 1), shift, False) for _ in range(8000)]
    short = sum(length < 25 for length in lengths) / len(lengths)
    assert short == pytest.approx(153 / 1014, abs=0.02)  # Owen 2010


def test_twin_lengths_follow_the_p5_twin_cohort() -> None:
    rng = random.Random(3)
    lengths = [draw_length(rng, ga("21+0"), rng.gauss(0, 1), 0.0, True) for _ in range(8000)]
    assert statistics.fmean(lengths) == pytest.approx(p.TWIN_MEAN_MM, abs=0.6)
    tenth = statistics.quantiles(lengths, n=10)[0]
    assert tenth == pytest.approx(p.TWIN_P10_MM, abs=1.0)


def test_recurrence_after_a_preterm_singleton_follows_kazemier_2014() -> None:
    assert sptb_risk(None, twins=False) == pytest.approx(0.050, abs=0.001)  # nuMoM2b
    rng = random.Random(4)
    after_preterm = []
    for _ in range(20000):
        births = draw_births(rng, 3)
        for before, birth in itertools.pairwise(births):
            if before.spontaneous_preterm and not before.twins and not birth.twins:
                after_preterm.append(birth.spontaneous_preterm)
    assert len(after_preterm) > 1000
    assert statistics.fmean(after_preterm) == pytest.approx(0.20, abs=0.03)


def test_the_referral_decides_the_history() -> None:
    for patient in COHORT:
        sptb = any(
            pp.outcome is not None
            and pp.outcome.value == "live-birth"
            and (pp.gestation_days or 0) < 37 * 7
            and pp.onset is not None
            and pp.onset.value in ("spontaneous-labour", "pprom", "painless-cervical-dilation")
            for pp in patient.records.prior_pregnancies
        )
        if patient.referral is Referral.PRIOR_SPTB:
            assert sptb
        if patient.referral is Referral.ROUTINE:
            assert not sptb


def _assessed(patient: CohortPatient) -> tuple[bool, bool]:
    a = assess(patient.records, REFERENCE, PROFILES)
    urgent = any(r.code == "urgent-evaluation" for r in a.recommendations)
    overdue = any(s.next_scan is not None and s.next_scan.status == "overdue" for s in a.scan_plans)
    return urgent, overdue


def test_the_cohort_shows_overdue_scans_urgent_symptoms_and_treatment() -> None:
    flags = [_assessed(patient) for patient in COHORT]
    urgent = sum(u for u, _ in flags)
    overdue = sum(o for _, o in flags)
    assert 2 <= urgent <= 40
    assert 2 <= overdue <= 40
    records = [patient.records for patient in COHORT]
    assert sum(bool(r.cerclage_placements) for r in records) >= 3
    assert sum(bool(r.medications) for r in records) >= 20
    assert sum(bool(r.cervical_lengths) for r in records) >= 100
    current = [
        s for r in records for s in r.symptom_reports if (REFERENCE - s.reported_on).days <= 1
    ]
    assert len(current) >= 5


def _before(records: PregnancyRecords, day: dt.date) -> PregnancyRecords:
    """The records as they stood when a treatment starting on `day` was decided: no
    treatment yet, and nothing measured after that day."""
    return dataclasses.replace(
        records,
        cervical_lengths=tuple(m for m in records.cervical_lengths if m.measured_on <= day),
        exams=tuple(e for e in records.exams if e.examined_on <= day),
        cerclage_placements=(),
        cerclage_removals=(),
        medications=(),
        symptom_reports=(),
        complications=(),
        declined=(),
    )


def test_cerclage_and_progesterone_only_where_the_guidelines_give_them() -> None:
    seen = 0
    for patient in generate_cohort(400, seed=7, reference=REFERENCE):
        r = patient.records
        for placement in r.cerclage_placements:
            codes = {
                x.code
                for x in assess(
                    _before(r, placement.placed_on), placement.placed_on, PROFILES
                ).recommendations
            }
            assert placement.indication is not None
            assert f"{placement.indication.value}-cerclage" in codes, patient.index
            seen += 1
        for order in r.medications:
            if order.medication is Medication.VAGINAL_PROGESTERONE:
                assert order.started_on is not None
                day = order.started_on
                codes = {x.code for x in assess(_before(r, day), day, PROFILES).recommendations}
                assert "vaginal-progesterone" in codes, patient.index
                seen += 1
    assert seen >= 20


def test_scans_are_transvaginal_and_serial_every_one_to_four_weeks_after_a_preterm_birth() -> None:
    # ACOG: every 2 weeks, weekly after 25-29 mm (ACOG142-14); NICE: every 2-4 weeks (SBL v3.1,
    # CD-08), so a scan booked in NICE's window falls 14 to 28 days after the last.
    gaps = []
    for patient in COHORT:
        lengths = patient.records.cervical_lengths
        assert all(m.method is LengthMethod.TRANSVAGINAL for m in lengths)
        if patient.referral is Referral.PRIOR_SPTB and len(lengths) >= 2:
            days = [m.measured_on for m in lengths]
            gaps += [(b - a).days for a, b in itertools.pairwise(days)]
    assert gaps
    assert set(gaps) <= {7, *range(14, 29)}
    assert 14 in gaps
