"""Properties of `assess` over generated pregnancies (tests/strategies.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cervixwatch.clinical.assessment import Assessment, assess
from cervixwatch.clinical.guidelines import STRENGTHS
from cervixwatch.clinical.records import (
    CerclagePlacement,
    CerclageRemoval,
    CerclageRoute,
    CervicalExam,
    CervicalLengthMeasurement,
    Medication,
    MedicationOrder,
    PartialDate,
    PregnancyRecords,
    PriorOutcome,
    PriorPregnancy,
    Symptom,
    SymptomReport,
)
from cervixwatch.knowledge import bundled_profiles
from tests.builders import woman
from tests.strategies import PROPERTY_SETTINGS, RecordsOnDate, clinic_visits, pregnancy_records

PROFILES = list(bundled_profiles().values())
#: Treatments a shorter cervix can only make more indicated.
MONOTONE_CODES = frozenset(
    {
        "ultrasound-indicated-cerclage",
        "history-indicated-cerclage",
        "exam-indicated-cerclage",
        "vaginal-progesterone",
    }
)
PROVENANCES = {"verified", "unverified", "derived"}


def assess_all(records: PregnancyRecords, as_of: dt.date) -> Assessment:
    return assess(records, as_of, PROFILES)


@st.composite
def with_shorter_lengths(
    draw: st.DrawFn, cases: st.SearchStrategy[RecordsOnDate]
) -> tuple[RecordsOnDate, PregnancyRecords]:
    """A case, and the same records with every cervical length shortened by 0.1 mm or more."""
    case = draw(cases)
    shorter = []
    for m in case.records.cervical_lengths:
        tenths = round(m.length_mm * 10)
        cut = draw(st.integers(1, tenths - 1)) if tenths > 1 else 0
        shorter.append(dataclasses.replace(m, length_mm=(tenths - cut) / 10))
    return case, dataclasses.replace(case.records, cervical_lengths=tuple(shorter))


def _check_shortening_keeps_treatments(case: RecordsOnDate, shorter: PregnancyRecords) -> None:
    longer_result = assess_all(case.records, case.as_of)
    shorter_result = assess_all(shorter, case.as_of)
    for profile in PROFILES:
        kept = longer_result.codes(profile.id) & MONOTONE_CODES
        lost = kept - shorter_result.codes(profile.id)
        assert not lost, f"{profile.id}: a shorter cervix removed {sorted(lost)}"


@PROPERTY_SETTINGS
@given(with_shorter_lengths(pregnancy_records()))
def test_a_shorter_cervix_never_removes_a_cerclage_or_progesterone(
    pair: tuple[RecordsOnDate, PregnancyRecords],
) -> None:
    _check_shortening_keeps_treatments(*pair)


@PROPERTY_SETTINGS
@given(with_shorter_lengths(clinic_visits()))
def test_a_shorter_cervix_never_removes_a_treatment_at_14_to_24_weeks(
    pair: tuple[RecordsOnDate, PregnancyRecords],
) -> None:
    _check_shortening_keeps_treatments(*pair)


def test_shortening_can_move_progesterone_to_another_rule_but_keeps_the_code() -> None:
    longer = woman("19+0").with_prior_sptb("30+0").with_length(30.0, at="18+0")
    shorter = woman("19+0").with_prior_sptb("30+0").with_length(20.0, at="18+0")
    assert longer.rules("acog", "vaginal-progesterone") == {"SMFM23-03"}
    assert shorter.rules("acog", "vaginal-progesterone") == {"FIGO-P1"}
    assert longer.rules("nice", "vaginal-progesterone") == {"NICE-03"}
    assert shorter.rules("nice", "vaginal-progesterone") == {"NICE-01"}


@PROPERTY_SETTINGS
@given(pregnancy_records())
def test_assess_never_raises_and_every_recommendation_is_traceable(case: RecordsOnDate) -> None:
    result = assess_all(case.records, case.as_of)
    ids = {p.id for p in PROFILES}
    for r in result.recommendations:
        assert r.guideline in ids
        assert r.rule
        assert r.rule == r.rules[0]
        assert r.citation.strip()
        assert r.summary.strip()
        assert r.strength in STRENGTHS
        assert r.provenance in PROVENANCES
        assert r.facts, f"{r.code} ({r.rule}) does not say which facts fired it"


@PROPERTY_SETTINGS
@given(pregnancy_records())
def test_each_profile_is_assessed_on_its_own(case: RecordsOnDate) -> None:
    together = assess_all(case.records, case.as_of)
    for profile in PROFILES:
        alone = assess(case.records, case.as_of, [profile])
        assert alone.recommendations == tuple(
            r for r in together.recommendations if r.guideline == profile.id
        )


@PROPERTY_SETTINGS
@given(pregnancy_records())
def test_assess_is_a_pure_function(case: RecordsOnDate) -> None:
    assert assess_all(case.records, case.as_of) == assess_all(case.records, case.as_of)


@PROPERTY_SETTINGS
@given(pregnancy_records(), st.integers(1, 60))
def test_records_dated_after_as_of_change_nothing(case: RecordsOnDate, days_later: int) -> None:
    later = case.as_of + dt.timedelta(days=days_later)
    records = case.records
    future = dataclasses.replace(
        records,
        prior_pregnancies=(
            *records.prior_pregnancies,
            PriorPregnancy(
                PartialDate(later.year, later.month, later.day),
                PriorOutcome.LIVE_BIRTH,
                30 * 7,
                None,
            ),
        ),
        cervical_lengths=(*records.cervical_lengths, CervicalLengthMeasurement(later, 5.0)),
        exams=(*records.exams, CervicalExam(later, 4.0, 80.0, True)),
        cerclage_placements=(
            *records.cerclage_placements,
            CerclagePlacement(later, CerclageRoute.TRANSVAGINAL),
        ),
        cerclage_removals=(*records.cerclage_removals, CerclageRemoval(later)),
        medications=(
            *records.medications,
            MedicationOrder(Medication.HYDROXYPROGESTERONE_CAPROATE, later),
        ),
        symptom_reports=(
            *records.symptom_reports,
            SymptomReport(later, frozenset({Symptom.BLEEDING, Symptom.CONTRACTIONS})),
        ),
    )
    before = assess_all(records, case.as_of)
    after = assess_all(future, case.as_of)
    assert after.recommendations == before.recommendations
    assert after.missing == before.missing
    assert after.facts == before.facts
