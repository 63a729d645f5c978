"""Gestational age arithmetic.

Gestational age on a date D is 280 days minus the days from D to the estimated due date
(fhir-mapping.md, "Dating and the current pregnancy"). It is written weeks+days: "19+3" is
19 weeks and 3 days, i.e. 136 days. Windows are inclusive of their first day, and every bound
is kept as days so that "before 24+0" (< 168) and "up to 24+0" (<= 168) stay distinct.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache, lru_cache

TERM_DAYS = 280
#: The one grammar of a weeks+days literal ("23+6"), for the knowledge files, the forms and the
#: command line alike: 1-2 digits of weeks, days 0-6, spaces allowed around the parts.
_WEEKS_DAYS = re.compile(r"^\s*(\d{1,2})\s*\+\s*(\d)\s*$")


@dataclass(frozen=True, slots=True, order=True)
class GestationalAge:
    """A gestational age held as whole days since the first day of the last menstrual period."""

    total_days: int

    @classmethod
    def of(cls, weeks: int, days: int = 0) -> GestationalAge:
        if not 0 <= days <= 6:
            raise ValueError(f"days must be 0-6, got {days}")
        return cls(weeks * 7 + days)

    @classmethod
    def parse(cls, text: str) -> GestationalAge:
        """Parse "23+6" (weeks+days)."""
        match = _WEEKS_DAYS.match(text)
        if match is None:
            raise ValueError(f"expected a gestational age in weeks+days like '16+0', got {text!r}")
        weeks, days = int(match.group(1)), int(match.group(2))
        if days > 6:
            raise ValueError(f"days must be 0-6 in the gestational age {text!r}")
        return cls.of(weeks, days)

    @property
    def weeks(self) -> int:
        return self.total_days // 7

    @property
    def days(self) -> int:
        return self.total_days % 7

    def __str__(self) -> str:
        return ga_text(self.total_days)


def ga_text(total_days: int) -> str:
    """ "19+3" for 136 days: what `str(GestationalAge(total_days))` gives, without making one
    (the state words of every recommendation name gestations)."""
    return f"{total_days // 7}+{total_days % 7}"


def gestational_age_on(edd: dt.date, on: dt.date) -> GestationalAge:
    """Gestational age on `on` for a pregnancy due on `edd` (may be negative before conception)."""
    return GestationalAge(TERM_DAYS - (edd - on).days)


def ga_days_on(edd: dt.date, on: dt.date) -> int:
    """`gestational_age_on(edd, on).total_days`, without making the object: the rules compare
    days, and facts ask for the gestation of every dated record."""
    return TERM_DAYS - (edd - on).days


def date_at_days(edd: dt.date, days: int) -> dt.date:
    """`date_at` for a gestation held as days (a profile's windows are)."""
    return edd - _before_term(days)


@lru_cache(maxsize=1024)
def _before_term(days: int) -> dt.timedelta:
    # Made once per gestation: `timedelta(days=...)` cost ~0.6 us, most of `date_at_days`,
    # and the windows of scan plans and states ask for the same few gestations every time.
    return dt.timedelta(days=TERM_DAYS - days)


@lru_cache(maxsize=1024)
def gestational_age(total_days: int) -> GestationalAge:
    """`GestationalAge(total_days)`, one object per number of days (it is immutable): a scan
    plan names both ends of its window for every assessment, ~1 us each to make."""
    return GestationalAge(total_days)


def date_at(edd: dt.date, ga: GestationalAge) -> dt.date:
    """The calendar date on which the pregnancy due on `edd` reaches `ga`."""
    return edd - dt.timedelta(days=TERM_DAYS - ga.total_days)


def pregnancy_start(edd: dt.date) -> dt.date:
    """First day of the current pregnancy (0+0), by the same dating."""
    return edd - dt.timedelta(days=TERM_DAYS)


@cache
def ga(text: str) -> int:
    """Days in a weeks+days literal: ga("24+0") == 168. For knowledge tables and tests."""
    return GestationalAge.parse(text).total_days
