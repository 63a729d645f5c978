"""Dates a record can plausibly carry (`clinical/plausible.py`, issue 12, F8): 1900-01-01 to
2199-12-31, both included; a dateTime is judged by its day; outside, a ValueError saying the
range. (The paths in are tested in tests/web/test_plausible_dates.py.) And values (issue 13,
part 3): each limit at its edges, hard problems first, the same value on the same day, a
removal with no placement (the paths in: tests/web/test_api_corrections.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from cervixwatch.clinical.plausible import (
    EARLIEST_DATE,
    ISSUE_13,
    LATEST_DATE,
    LIMITS,
    NO_PLACEMENT_CODE,
    SAME_DAY_CODE,
    plausible_day,
    removal_problem,
    same_day_problem,
    value_problems,
)

RANGE = "^must be between 1900-01-01 and 2199-12-31$"


@pytest.mark.parametrize("day", [EARLIEST_DATE, dt.date(2026, 3, 2), LATEST_DATE])
def test_days_in_the_range_and_its_edges_are_kept(day: dt.date) -> None:
    assert plausible_day(day) is day


@pytest.mark.parametrize(
    "day", [EARLIEST_DATE - dt.timedelta(days=1), LATEST_DATE + dt.timedelta(days=1), dt.date.max]
)
def test_days_outside_are_refused_saying_the_range(day: dt.date) -> None:
    with pytest.raises(ValueError, match=RANGE):
        plausible_day(day)


def test_a_datetime_is_judged_by_its_day_and_kept_as_given() -> None:
    moment = dt.datetime(2199, 12, 31, 23, 59, tzinfo=dt.UTC)
    assert plausible_day(moment) is moment
    with pytest.raises(ValueError, match=RANGE):
        plausible_day(dt.datetime(1899, 12, 31, 23, 59, tzinfo=dt.UTC))


# --- values (issue 13, part 3) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("mm", "codes"),
    [
        (0.1, ["cervical-length-under-5-mm"]),
        (4.9, ["cervical-length-under-5-mm"]),
        (5.0, []),
        (60.0, []),
        (60.1, ["cervical-length-over-60-mm"]),
        (80.0, ["cervical-length-over-60-mm"]),
        (80.1, ["cervical-length-over-80-mm", "cervical-length-over-60-mm"]),
        (None, []),
    ],
)
def test_a_length_is_checked_at_its_edges_hard_problems_first(
    mm: float | None, codes: list[str]
) -> None:
    found = value_problems("cervical_lengths", {"length_mm": mm})
    assert [p.code for p in found] == codes
    assert all(p.field == "length_mm" for p in found)
    assert [p.hard for p in found] == [c.endswith("80-mm") for c in codes]


def test_the_words_name_the_value_and_the_slip() -> None:
    [under] = value_problems("cervical_lengths", {"length_mm": 2.5})
    assert under.message == "2.5 mm is under 5 mm: did you mean 2.5 cm (25 mm)?"
    [over, _] = value_problems("cervical_lengths", {"length_mm": 85})
    assert over.message.startswith("85 mm is not a plausible cervical length")


@pytest.mark.parametrize(("days", "hard"), [(308, False), (309, True), (210, False), (None, False)])
def test_a_previous_pregnancy_ends_by_44_weeks(days: int | None, hard: bool) -> None:
    found = value_problems("prior_pregnancies", {"gestation_days": days})
    assert [p.hard for p in found] == ([True] if hard else [])
    if hard:
        assert found[0].message.startswith("44+1 weeks is not a plausible end")
        assert found[0].field == "gestation_days"


def test_other_kinds_have_no_value_limits() -> None:
    assert value_problems("exams", {"length_mm": 200}) == []


def test_the_same_value_on_the_same_day_is_a_warning() -> None:
    day = dt.date(2026, 3, 1)
    stored = [{"measured_on": day, "length_mm": 22.0}]
    same = same_day_problem("cervical_lengths", {"measured_on": day, "length_mm": 22.0}, stored)
    assert same is not None
    assert (same.code, same.field, same.hard) == (SAME_DAY_CODE, "length_mm", False)
    other_day = {"measured_on": day + dt.timedelta(days=1), "length_mm": 22.0}
    assert same_day_problem("cervical_lengths", other_day, stored) is None
    other_value = {"measured_on": day, "length_mm": 23.0}
    assert same_day_problem("cervical_lengths", other_value, stored) is None
    assert same_day_problem("cervical_lengths", {"length_mm": 22.0}, stored) is None
    assert same_day_problem("medications", {"measured_on": day}, stored) is None
    exam = {"examined_on": day, "dilation_cm": 1.0, "effacement_percent": None}
    assert same_day_problem("exams", exam, [dict(exam)]) is not None
    assert same_day_problem("exams", exam, [{**exam, "dilation_cm": 2.0}]) is None


def test_a_removal_without_a_placement_is_a_warning() -> None:
    found = removal_problem(0)
    assert found is not None
    assert (found.code, found.field, found.hard) == (NO_PLACEMENT_CODE, "removed_on", False)
    assert removal_problem(1) is None


def test_every_limit_says_where_it_comes_from() -> None:
    assert all(limit.source == ISSUE_13 for limit in LIMITS)
    assert "issue 13" in ISSUE_13
    assert "not a clinical rule" in ISSUE_13
    assert len({limit.code for limit in LIMITS}) == len(LIMITS)
