"""The instant something is recorded, on the clinic's calendar.

The app's `today` is the clinic's calendar day (tests give the app a fixed one); the instant a
report or a review is recorded is the time of day now on that day, with the server's UTC
offset, so what she reported "today" is dated today whatever clock the tests run on, and the
pages and the portal show the time it was recorded.
"""

from __future__ import annotations

import datetime as dt


def now_on(today: dt.date) -> dt.datetime:
    """The time now on the clinic's calendar day `today`, with the server's UTC offset."""
    now = dt.datetime.now(dt.UTC).astimezone()
    return dt.datetime.combine(today, now.timetz())
