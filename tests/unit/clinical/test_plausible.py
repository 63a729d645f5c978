"""Dates a record can plausibly carry (`clinical/plausible.py`, issue 12, F8): 1900-01-01 to
2199-12-31, both included; a dateTime is judged by its day; outside, a ValueError saying the
range. (The paths in are tested in tests/web/test_plausible_dates.py.)"""

from __future__ import annotations

import datetime as dt

import pytest

from cervixwatch.clinical.plausible import EARLIEST_DATE, LATEST_DATE, plausible_day

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
