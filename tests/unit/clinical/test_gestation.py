"""Gestational age arithmetic: GA on a date D is 280 days minus the days from D to the EDD,
written weeks+days ("19+3" = 136 days)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given

from cervixwatch.clinical.gestation import (
    GestationalAge,
    date_at,
    date_at_days,
    ga,
    ga_days_on,
    ga_text,
    gestational_age_on,
    pregnancy_start,
)
from tests.strategies import PROPERTY_SETTINGS, dates, gestational_ages

EDD = dt.date(2026, 7, 4)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 2, 2), "18+2"),
        (dt.date(2026, 7, 4), "40+0"),
        (dt.date(2026, 7, 5), "40+1"),
        (dt.date(2026, 7, 3), "39+6"),
        (dt.date(2025, 9, 27), "0+0"),
        (dt.date(2026, 1, 17), "16+0"),
        (dt.date(2026, 3, 21), "25+0"),
    ],
)
def test_gestational_age_on_a_day_for_edd_4_july_2026(day: dt.date, expected: str) -> None:
    assert str(gestational_age_on(EDD, day)) == expected


def test_the_pregnancy_starts_280_days_before_the_due_date() -> None:
    assert pregnancy_start(EDD) == dt.date(2025, 9, 27)
    assert gestational_age_on(EDD, pregnancy_start(EDD)) == GestationalAge(0)


def test_a_day_before_the_pregnancy_began_has_a_negative_gestational_age() -> None:
    assert gestational_age_on(EDD, dt.date(2025, 9, 26)).total_days == -1


@pytest.mark.parametrize(
    ("text", "weeks", "days", "total"),
    [("0+0", 0, 0, 0), ("18+2", 18, 2, 128), ("23+6", 23, 6, 167), ("24+0", 24, 0, 168)],
)
def test_weeks_plus_days_literals(text: str, weeks: int, days: int, total: int) -> None:
    age = GestationalAge.parse(text)
    assert (age.weeks, age.days, age.total_days) == (weeks, days, total)
    assert GestationalAge.of(weeks, days) == age
    assert ga(text) == total


def test_spaces_around_the_plus_are_accepted() -> None:
    assert GestationalAge.parse(" 24 + 0 ") == GestationalAge(168)


@pytest.mark.parametrize(
    "text",
    ["", "24", "24+", "+3", "24+7", "24+-1", "-1+0", "100+0", "24w3d", "24.5", "24+0+1", "abc"],
)
def test_malformed_gestational_age_literals_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="gestational age"):
        GestationalAge.parse(text)


@pytest.mark.parametrize("days", [-1, 7, 10])
def test_days_outside_0_to_6_are_rejected(days: int) -> None:
    with pytest.raises(ValueError, match="days must be 0-6"):
        GestationalAge.of(24, days)


def test_gestational_ages_order_by_days() -> None:
    assert GestationalAge.parse("23+6") < GestationalAge.parse("24+0")
    assert max(GestationalAge.parse("16+0"), GestationalAge.parse("15+6")) == GestationalAge(112)


@PROPERTY_SETTINGS
@given(gestational_ages())
def test_weeks_and_days_decompose_the_total(age: GestationalAge) -> None:
    assert 0 <= age.days <= 6
    assert age.weeks * 7 + age.days == age.total_days
    assert GestationalAge.of(age.weeks, age.days) == age


@PROPERTY_SETTINGS
@given(gestational_ages())
def test_str_then_parse_is_the_identity(age: GestationalAge) -> None:
    assert GestationalAge.parse(str(age)) == age


@PROPERTY_SETTINGS
@given(dates(), gestational_ages(-100, 320))
def test_date_at_is_the_inverse_of_gestational_age_on(edd: dt.date, age: GestationalAge) -> None:
    assert gestational_age_on(edd, date_at(edd, age)) == age


@PROPERTY_SETTINGS
@given(dates(), dates())
def test_gestational_age_on_is_the_inverse_of_date_at(edd: dt.date, day: dt.date) -> None:
    assert date_at(edd, gestational_age_on(edd, day)) == day


@PROPERTY_SETTINGS
@given(dates(), dates(), dates())
def test_gestational_age_advances_one_day_per_calendar_day(
    edd: dt.date, first: dt.date, second: dt.date
) -> None:
    difference = gestational_age_on(edd, second).total_days
    difference -= gestational_age_on(edd, first).total_days
    assert difference == (second - first).days


@given(dates(), dates())
@PROPERTY_SETTINGS
def test_the_day_counts_and_words_agree_with_the_gestational_age(
    edd: dt.date, day: dt.date
) -> None:
    # The hot path counts days and writes weeks+days without making a GestationalAge.
    age = gestational_age_on(edd, day)
    assert ga_days_on(edd, day) == age.total_days
    assert ga_text(age.total_days) == str(age)
    assert date_at_days(edd, age.total_days) == date_at(edd, age) == day
