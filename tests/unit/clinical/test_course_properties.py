"""Properties of the course of care over generated pregnancies (issue 10, "How it is checked"):
an intervention never fires on an assumed fact, `in-place` never appears without an active
treatment, no urgent report lapses with time alone, and records dated after the assessment's
day change nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cervixwatch.clinical.assessment import STATES, Assessment, assess
from cervixwatch.clinical.guidelines import INTERVENTION_CODES
from cervixwatch.clinical.records import (
    Complication,
    ComplicationRecord,
    DeclinableCode,
    DeclinedDecision,
    PregnancyRecords,
    ReviewOutcome,
    SymptomReview,
)
from cervixwatch.knowledge import bundled_profiles
from tests.strategies import PROPERTY_SETTINGS, RecordsOnDate, pregnancy_records

PROFILES = list(bundled_profiles().values())


def assess_all(records: PregnancyRecords, as_of: dt.date) -> Assessment:
    return assess(records, as_of, PROFILES)


@PROPERTY_SETTINGS
@given(pregnancy_records())
def test_an_intervention_never_fires_on_an_assumed_fact(case: RecordsOnDate) -> None:
    # CD-01: an assumption may lead away from an intervention, never toward one.
    for r in assess_all(case.records, case.as_of).recommendations:
        assert r.state in STATES
        if r.code in INTERVENTION_CODES:
            assert r.assumptions == (), (r.code, r.rule, r.assumptions)


@PROPERTY_SETTINGS
@given(pregnancy_records())
def test_in_place_never_appears_without_an_active_treatment(case: RecordsOnDate) -> None:
    assessment = assess_all(case.records, case.as_of)
    active = {m.medication.value for m in case.records.medications if m.active_on(case.as_of)}
    treatments = {t.treatment for t in assessment.current_treatments}
    for r in assessment.recommendations:
        if r.state == "in-place" and r.code in active:
            assert r.code in treatments
        elif r.state == "in-place":
            # A choice of either (NICE-01) is in place when the other option is under way.
            assert r.state_note.startswith("The choice is made"), (r.code, r.rule)
            assert treatments & {"cerclage", "vaginal-progesterone"}, (r.code, r.rule)


@PROPERTY_SETTINGS
@given(pregnancy_records(), st.integers(min_value=1, max_value=400))
def test_no_urgent_report_lapses_with_time_alone(case: RecordsOnDate, days_later: int) -> None:
    # CD-07: with no review recorded, a report that makes urgent-evaluation fire keeps it firing.
    unreviewed = tuple(dataclasses.replace(r, reviews=()) for r in case.records.symptom_reports)
    records = dataclasses.replace(case.records, symptom_reports=unreviewed)
    now = assess_all(records, case.as_of)
    later = assess_all(records, case.as_of + dt.timedelta(days=days_later))
    reported_at = now.facts["open_report_ga_days"]
    symptoms_in_window = now.facts["current_symptom"] is True and (
        reported_at is None
        or (isinstance(reported_at, int) and 14 * 7 <= reported_at <= 36 * 7 + 6)
    )
    if not symptoms_in_window:
        return  # urgency from an exam may end with a later exam: not a report's urgency
    for profile in PROFILES:
        if "urgent-evaluation" in now.codes(profile.id):
            assert "urgent-evaluation" in later.codes(profile.id), profile.id
            (urgent,) = [
                r
                for r in later.recommendations
                if r.guideline == profile.id and r.code == "urgent-evaluation"
            ]
            assert "not yet reviewed" in urgent.reason


@PROPERTY_SETTINGS
@given(pregnancy_records(), st.integers(min_value=1, max_value=60))
def test_course_records_dated_after_as_of_change_nothing(
    case: RecordsOnDate, days_later: int
) -> None:
    later = case.as_of + dt.timedelta(days=days_later)
    records = case.records
    reviewed_later = tuple(
        dataclasses.replace(
            r, reviews=(*r.reviews, SymptomReview(later, ReviewOutcome.NO_ACTION_NEEDED, "x"))
        )
        for r in records.symptom_reports
    )
    future = dataclasses.replace(
        records,
        complications=(
            *records.complications,
            *(ComplicationRecord(c, noted_on=later) for c in Complication),
        ),
        declined=(*records.declined, *(DeclinedDecision(c, later) for c in DeclinableCode)),
        symptom_reports=reviewed_later,
    )
    before = assess_all(records, case.as_of)
    after = assess_all(future, case.as_of)
    assert after.recommendations == before.recommendations
    assert after.missing == before.missing
    assert after.facts == before.facts
