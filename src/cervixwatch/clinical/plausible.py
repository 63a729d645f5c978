"""Dates a record can plausibly carry, the same on every path in (the JSON API, the forms and
the FHIR reader; issue 12, F8).

An imported due date of 9999-12-31 once made every record form of that woman answer 500 for
good (the pregnancy's span overflowed date arithmetic), and 0001-01-01 crashed the import.
A date before 1900 or after 2199 is a typing or coding error in a maternity record, and
refusing it keeps every computation on dates inside what `datetime.date` can hold.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

EARLIEST_DATE: Final = dt.date(1900, 1, 1)
LATEST_DATE: Final = dt.date(2199, 12, 31)


def plausible_day(value: dt.date) -> dt.date:
    """`value` if it lies in 1900-2199; raises ValueError saying the range otherwise."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(f"must be between {EARLIEST_DATE} and {LATEST_DATE}")
    return value
