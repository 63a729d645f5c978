"""The demo cohort is reproducible: same seed and reference date, same women and same bytes."""

from __future__ import annotations

import dataclasses
import datetime as dt

from cervixwatch.cohort import bundle_bytes, generate_cohort, iter_cohort
from cervixwatch.cohort.people import FAMILY_NAMES

REFERENCE = dt.date(2026, 3, 2)


def test_the_same_seed_gives_the_same_cohort_and_the_same_bundles() -> None:
    first = generate_cohort(80, seed=11, reference=REFERENCE)
    again = generate_cohort(80, seed=11, reference=REFERENCE)
    assert first == again
    assert [bundle_bytes(p) for p in first] == [bundle_bytes(p) for p in again]


def test_another_seed_gives_another_cohort() -> None:
    one = generate_cohort(40, seed=11, reference=REFERENCE)
    other = generate_cohort(40, seed=12, reference=REFERENCE)
    assert [p.records for p in one] != [p.records for p in other]


def test_a_smaller_cohort_is_the_start_of_a_larger_one() -> None:
    small = generate_cohort(15, seed=3, reference=REFERENCE)
    large = list(iter_cohort(40, seed=3, reference=REFERENCE))
    assert large[:15] == small


def test_active_pregnancies_span_8_to_40_weeks_and_nothing_is_dated_after_the_reference() -> None:
    cohort = generate_cohort(300, seed=5, reference=REFERENCE)
    gas = []
    for patient in cohort:
        r = patient.records
        assert patient.active
        assert patient.as_of == REFERENCE
        if r.edd is not None:
            gas.append(280 - (r.edd - REFERENCE).days)
        dated = [
            *(m.measured_on for m in r.cervical_lengths),
            *(e.examined_on for e in r.exams),
            *(c.placed_on for c in r.cerclage_placements),
            *(c.removed_on for c in r.cerclage_removals),
            *(m.started_on for m in r.medications if m.started_on is not None),
            *(s.reported_on for s in r.symptom_reports),
        ]
        assert all(day <= REFERENCE for day in dated)
    assert min(gas) >= 8 * 7
    assert max(gas) <= 40 * 7
    assert min(gas) < 10 * 7
    assert max(gas) > 38 * 7


def test_past_patients_have_an_outcome_and_records_up_to_the_birth() -> None:
    cohort = generate_cohort(60, seed=5, reference=REFERENCE, active=20)
    assert [p.active for p in cohort] == [True] * 20 + [False] * 40
    for patient in cohort[20:]:
        outcome = patient.outcome
        assert outcome is not None
        assert outcome.delivered_on == patient.as_of < REFERENCE
        if patient.records.edd is not None:
            ga_at_birth = 280 - (patient.records.edd - outcome.delivered_on).days
            assert ga_at_birth == outcome.gestation_days
        assert all(m.measured_on <= outcome.delivered_on for m in patient.records.cervical_lengths)
        assert outcome.spontaneous_preterm == (outcome.gestation_days < 37 * 7)


def test_names_and_hospital_numbers_are_plainly_fake() -> None:
    for patient in generate_cohort(50, seed=1, reference=REFERENCE):
        assert patient.hospital_number.startswith("DEMO")
        assert patient.family_name in FAMILY_NAMES
        assert patient.records.patient_id.startswith("demo-")
        assert dataclasses.asdict(patient)  # plain data all the way down
