"""Dates and values a record can plausibly carry, the same on every path in (the JSON API, the
forms and the FHIR import): dates since issue 12 (F8), values since issue 13 (part 3; see
`ISSUE_13` below: product data checks, not clinical rules).

An imported due date of 9999-12-31 once made every record form of that woman answer 500 for
good (the pregnancy's span overflowed date arithmetic), and 0001-01-01 crashed the import.
A date before 1900 or after 2199 is a typing or coding error in a maternity record, and
refusing it keeps every computation on dates inside what `datetime.date` can hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

EARLIEST_DATE: Final = dt.date(1900, 1, 1)
LATEST_DATE: Final = dt.date(2199, 12, 31)


def plausible_day(value: dt.date) -> dt.date:
    """`value` if it lies in 1900-2199; raises ValueError saying the range otherwise."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(f"must be between {EARLIEST_DATE} and {LATEST_DATE}")
    return value


# --- values a record can plausibly hold (issue 13, part 3) ----------------------------------

#: Where the value checks below come from. They are the product's data checks, set by issue 13
#: ("Corrections ... hard limits that refuse (a cervical length outside 0-80 mm, a previous
#: pregnancy beyond 44+0) and soft warnings that need a confirming second submit (a length
#: under 5 mm 'did you mean cm?', over 60 mm, the same value on the same day, a removal with
#: no recorded placement)"): they catch typing slips, and no guideline decision reads them.
ISSUE_13: Final = "issue 13, part 3: product data check (not a clinical rule)"


@dataclass(frozen=True, slots=True)
class Problem:
    """What is implausible about a value: `field` names it as a record's column does
    (`length_mm`); `code` is stable, for machines (and for confirming a warning)."""

    code: str
    field: str
    message: str
    #: True: refused whatever is said; False: a warning, stored once confirmed.
    hard: bool


@dataclass(frozen=True, slots=True)
class Limit:
    """A numeric value of a record kind (`part`, a field of `PregnancyRecords`) that is
    implausible `below` or `above` (each excluded: the value itself is plausible)."""

    code: str
    part: str
    field: str
    hard: bool
    #: The message, formatted with the value (`{value:g}`, `{weeks}`).
    words: str
    below: float | None = None
    above: float | None = None
    source: str = ISSUE_13

    def problem(self, value: float | None) -> Problem | None:
        """The problem of `value` (None when unknown or plausible)."""
        if value is None:
            return None
        if (self.below is not None and value < self.below) or (
            self.above is not None and value > self.above
        ):
            weeks = f"{int(value) // 7}+{int(value) % 7}"
            text = self.words.format(value=value, cm=value * 10, weeks=weeks)
            return Problem(self.code, self.field, text, self.hard)
        return None


#: The longest a cervical length can plausibly be, in mm (a length must also be more than 0).
LONGEST_CERVIX_MM: Final = 80.0
#: The latest a previous pregnancy can plausibly have ended, in days (44+0).
LATEST_END_DAYS: Final = 44 * 7

LIMITS: Final[tuple[Limit, ...]] = (
    Limit(
        "cervical-length-over-80-mm",
        "cervical_lengths",
        "length_mm",
        hard=True,
        above=LONGEST_CERVIX_MM,
        words="{value:g} mm is not a plausible cervical length: it must be more than 0 and at"
        " most 80 mm",
    ),
    Limit(
        "cervical-length-under-5-mm",
        "cervical_lengths",
        "length_mm",
        hard=False,
        below=5.0,
        words="{value:g} mm is under 5 mm: did you mean {value:g} cm ({cm:g} mm)?",
    ),
    Limit(
        "cervical-length-over-60-mm",
        "cervical_lengths",
        "length_mm",
        hard=False,
        above=60.0,
        words="{value:g} mm is over 60 mm: check the length and its unit",
    ),
    Limit(
        "previous-pregnancy-beyond-44-weeks",
        "prior_pregnancies",
        "gestation_days",
        hard=True,
        above=LATEST_END_DAYS,
        words="{weeks} weeks is not a plausible end of a pregnancy: it must be at most 44+0",
    ),
)

#: The values that make two records of a kind "the same value on the same day": the day,
#: then the values compared.
SAME_DAY_VALUES: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "cervical_lengths": ("measured_on", ("length_mm",)),
    "exams": ("examined_on", ("dilation_cm", "effacement_percent", "membranes_exposed")),
    "fibronectin": ("tested_on", ("ng_per_ml", "positive")),
}
SAME_DAY_CODE: Final = "same-value-same-day"
#: A removal with no placement recorded in the pregnancy.
NO_PLACEMENT_CODE: Final = "cerclage-removal-without-placement"


def value_problems(part: str, values: Mapping[str, Any]) -> list[Problem]:
    """The problems of one record's own values (`values`: by column), hard ones first."""
    found = [
        problem
        for limit in LIMITS
        if limit.part == part and (problem := limit.problem(values.get(limit.field))) is not None
    ]
    return sorted(found, key=lambda p: not p.hard)


def same_day_problem(
    part: str, values: Mapping[str, Any], stored: Iterable[Mapping[str, Any]]
) -> Problem | None:
    """A warning when a record of `stored` (the same kind, this pregnancy) has the same day
    and values as `values`."""
    if part not in SAME_DAY_VALUES:
        return None
    day, compared = SAME_DAY_VALUES[part]
    if values.get(day) is None:
        return None
    for other in stored:
        if other.get(day) == values.get(day) and all(
            other.get(c) == values.get(c) for c in compared
        ):
            shown = ", ".join(f"{c} {values.get(c)}" for c in compared if values.get(c) is not None)
            return Problem(
                SAME_DAY_CODE,
                compared[0],
                f"the same value ({shown}) is already recorded on {values[day]}: is this"
                " another measurement?",
                hard=False,
            )
    return None


def removal_problem(placements: int) -> Problem | None:
    """A warning for a cerclage removal when no placement is recorded in the pregnancy."""
    if placements > 0:
        return None
    return Problem(
        NO_PLACEMENT_CODE,
        "removed_on",
        "no cerclage placement is recorded in this pregnancy: record the placement too, or"
        " confirm the removal alone",
        hard=False,
    )
