"""`derive_facts` takes a section's answer for nothing recorded, made once by the section's own
function, instead of working it out again (clinical/facts.py says why). These tests hold each
such answer to what the general function gives whatever else is recorded, so that the two
cannot drift apart."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cervixwatch.clinical import facts
from cervixwatch.clinical.gestation import ga_days_on
from cervixwatch.knowledge import bundled_profiles
from tests.strategies import PROPERTY_SETTINGS, RecordsOnDate, pregnancy_records

WINDOWED = sorted(
    frozenset(facts.NAMED_WINDOWS).union(*(p.windowed_facts for p in bundled_profiles().values()))
)


def _inputs(case: RecordsOnDate) -> list[list[Any]]:
    """The previous pregnancies, transvaginal lengths with their gestation, and the gestation of
    each open report, as `derive_facts` passes them to `_windowed_value` (unfiltered here: any
    non-empty value will do)."""
    edd = case.records.edd
    assert edd is not None
    priors = list(case.records.prior_pregnancies)
    tv = [(ga_days_on(edd, m.measured_on), m) for m in case.records.cervical_lengths]
    reported: list[int | None] = [
        ga_days_on(edd, r.reported_on) for r in case.records.symptom_reports
    ]
    return [priors, tv, reported]


@PROPERTY_SETTINGS
@given(pregnancy_records(), st.booleans())
def test_a_windowed_fact_without_its_records_is_its_value_for_none(
    case: RecordsOnDate, with_edd: bool
) -> None:
    edd = case.records.edd if with_edd else None
    for entry in facts._windowed_entries(tuple(WINDOWED)):
        inputs = _inputs(case)
        inputs[entry.source] = []  # none of its own records; the others as drawn
        priors, tv, reported = inputs
        assert facts._windowed_value(entry.fact, priors, tv, edd, reported) == entry.when_none


@PROPERTY_SETTINGS
@given(pregnancy_records())
def test_no_report_is_the_same_whatever_else_is_recorded(case: RecordsOnDate) -> None:
    _, tv, _ = _inputs(case)
    assert facts._report_facts(case.records, case.as_of, [], set(), [], tv) == facts._NO_REPORT


def test_no_length_is_the_same_with_or_without_an_edd() -> None:
    assert facts._length_facts([], [], dt.date(2026, 5, 1)) == facts._NO_LENGTH
    assert facts._length_facts([], [], None) == facts._NO_LENGTH


def test_each_answer_for_nothing_is_the_general_functions() -> None:
    assert facts._excision_facts([]) == facts._NO_EXCISION
    assert facts._exam_facts([]) == facts._NO_EXAM
    assert facts._complication_facts(set(), set()) == facts._NO_COMPLICATION
    assert facts._cerclage_facts([]) == facts._NO_CERCLAGE
    assert facts._medication_facts(set()) == facts._NO_MEDICATION
    assert facts._history_facts([]) == facts._NO_HISTORY
