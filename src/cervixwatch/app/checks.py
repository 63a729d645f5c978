"""Checks of values that depend on the day or on the stored pregnancy, which the web layer's
models cannot know: a date in the future, a finding dated outside the pregnancy it is recorded
in. Each failure names the field as the request named it (`InvalidField`).

No clinical threshold is set here: the pregnancy's span is its own dating (from 0+0, EDD minus
280 days) up to 42 days after the EDD (44+0, past which no pregnancy continues).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from cervixwatch.app.errors import InvalidField
from cervixwatch.clinical.gestation import TERM_DAYS, pregnancy_start

#: Days after the EDD still inside the pregnancy (44+0).
DAYS_AFTER_EDD = 42


def pregnancy_span(edd: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day a record of the pregnancy due on `edd` can be dated."""
    return pregnancy_start(edd), edd + dt.timedelta(days=DAYS_AFTER_EDD)


def _day(value: dt.date) -> dt.date:
    # A datetime is a date too: its own calendar day (in its own offset) is the one checked.
    return value.date() if isinstance(value, dt.datetime) else value


def not_in_future(field: str, value: dt.date, today: dt.date) -> None:
    if _day(value) > today:
        raise InvalidField(
            field, f"{value.isoformat()} is in the future (today is {today.isoformat()})", value
        )


def inside_pregnancy(field: str, value: dt.date, edd: dt.date | None) -> None:
    if edd is None:
        return  # undated pregnancy: no span to check against
    first, last = pregnancy_span(edd)
    if not first <= _day(value) <= last:
        raise InvalidField(
            field,
            f"{value.isoformat()} is outside this pregnancy, which runs from {first.isoformat()}"
            f" (EDD {edd.isoformat()} minus 280 days) to {last.isoformat()} (EDD plus"
            f" {DAYS_AFTER_EDD} days)",
            value,
        )


def pregnancy_dates(
    values: Mapping[str, Any], fields: Iterable[str], today: dt.date, edd: dt.date | None
) -> None:
    """Each date of this pregnancy's record: not in the future, inside the pregnancy."""
    for field in fields:
        value = values.get(field)
        if value is not None:
            not_in_future(field, value, today)
            inside_pregnancy(field, value, edd)


def history_dates(values: Mapping[str, Any], prefixes: Iterable[str], today: dt.date) -> None:
    """Each partial date of the history (columns `<prefix>_year/_month/_day`): not in the
    future; the field is named by its prefix, as the request names it."""
    for prefix in prefixes:
        year = values.get(f"{prefix}_year")
        if year is None:
            continue
        month = values.get(f"{prefix}_month")
        day = values.get(f"{prefix}_day")
        earliest = dt.date(year, month or 1, day or 1)
        if earliest > today:
            text = "-".join(f"{part:02d}" for part in (year, month, day) if part is not None)
            raise InvalidField(
                prefix, f"{text} is in the future (today is {today.isoformat()})", text
            )


def due_date(field: str, edd: dt.date | None, today: dt.date, *, active: bool) -> None:
    """An EDD more than 280 days ahead belongs to a pregnancy that has not begun; an active
    pregnancy due more than 42 days ago would be past its end (44+0)."""
    if edd is None:
        return
    if edd > today + dt.timedelta(days=TERM_DAYS):
        raise InvalidField(
            field,
            f"{edd.isoformat()} is more than 280 days after today ({today.isoformat()}):"
            " that pregnancy would not have begun",
            edd,
        )
    if active and edd < today - dt.timedelta(days=DAYS_AFTER_EDD):
        raise InvalidField(
            field,
            f"{edd.isoformat()} is more than {DAYS_AFTER_EDD} days before today"
            f" ({today.isoformat()}): an active pregnancy cannot be past 44+0 (end it first)",
            edd,
        )


def not_before(field: str, value: dt.date | None, other_field: str, other: dt.date | None) -> None:
    if value is not None and other is not None and value < other:
        raise InvalidField(
            field, f"{value.isoformat()} is before {other_field} ({other.isoformat()})", value
        )
