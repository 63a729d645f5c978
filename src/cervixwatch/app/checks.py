"""Checks of values that depend on the day or on the stored pregnancy, which the web layer's
models cannot know: a date in the future, a finding dated outside the pregnancy it is recorded
in. Each failure names the field as the request named it (`InvalidField`).

No clinical threshold is set here: the pregnancy's span is its own dating (from 0+0, EDD minus
280 days) up to 42 days after the EDD (44+0, past which no pregnancy continues).

The values a record can plausibly hold (`plausible_record`, issue 13 part 3) are checked here
for every path in, from the data of `clinical.plausible`: a hard limit refuses (`InvalidField`),
a warning stops the write (`NeedsConfirmation`) until it is confirmed by its code. A person
confirms it by a second submit (the form's box, the API's `confirm` query parameter); a
machine feed cannot, so the FHIR import confirms every warning (`EVERY_WARNING`) and its
records are stored as sent (`app.intake_checks`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Final

from cervixwatch.app.errors import InvalidField
from cervixwatch.clinical.gestation import TERM_DAYS, pregnancy_start
from cervixwatch.clinical.plausible import (
    Problem,
    removal_problem,
    same_day_problem,
    value_problems,
)
from cervixwatch.clinical.records import Chorionicity

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


def chorionicity_of_twins(chorionicity: Chorionicity | None, fetuses: int | None) -> None:
    """A chorionicity is said of twins (both codes are twin pregnancies): refused, naming
    `chorionicity`, for a pregnancy whose fetus count is not recorded as 2."""
    if chorionicity is None or fetuses == 2:
        return
    counted = (
        "no number of fetuses recorded"
        if fetuses is None
        else f"{fetuses} fetus{'' if fetuses == 1 else 'es'} recorded"
    )
    raise InvalidField(
        "chorionicity",
        f"a chorionicity is recorded for twins only, and this pregnancy has {counted}: "
        "record 2 fetuses with it, or leave the chorionicity unrecorded",
        str(chorionicity),
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


# --- plausible values (issue 13, part 3) --------------------------------------------------------


class NeedsConfirmation(Exception):
    """The values are possible but unlikely (`warnings`): nothing was written; the same
    request, confirming each warning by its code, writes them."""

    def __init__(self, warnings: Sequence[Problem]) -> None:
        super().__init__("; ".join(f"{w.field}: {w.message}" for w in warnings))
        self.warnings = tuple(warnings)


#: Confirms whatever warning there is: for a machine feed, which cannot answer one.
EVERY_WARNING: Final = frozenset({"*"})


def plausible_record(
    part: str,
    values: Mapping[str, Any],
    *,
    same_kind: Iterable[Mapping[str, Any]] = (),
    placements: int | None = None,
    confirmed: Collection[str] = (),
    asked_of: Collection[str] | None = None,
) -> tuple[Problem, ...]:
    """Check one record's values (by column; `part`: its kind, a field of
    `PregnancyRecords`) against the limits of `clinical.plausible`: the first hard problem
    raises `InvalidField` naming its field; warnings not in `confirmed` raise
    `NeedsConfirmation`. `same_kind`: the other records of its kind in the pregnancy (for the
    same value on the same day); `placements`: the cerclage placements recorded in it (for a
    removal). Returns the warnings confirmed."""
    problems = value_problems(part, values)
    hard = [p for p in problems if p.hard]
    if hard:
        raise InvalidField(hard[0].field, hard[0].message, values.get(hard[0].field))
    warnings = list(problems)
    same_day = same_day_problem(part, values, same_kind)
    if same_day is not None:
        warnings.append(same_day)
    if part == "cerclage_removals" and placements is not None:
        removal = removal_problem(placements)
        if removal is not None:
            warnings.append(removal)
    if confirmed == EVERY_WARNING:
        return tuple(warnings)
    unconfirmed = [
        w for w in warnings if w.code not in confirmed and (asked_of is None or w.field in asked_of)
    ]
    if unconfirmed:
        raise NeedsConfirmation(unconfirmed)
    return tuple(warnings)
