"""The pages write the clinical core's ISO dates as they write every other date
(`web.pages.core.clinic_dates`), and a history date as precisely as it is known
(`web.pages.pregnancy.history_date`)."""

from __future__ import annotations

import datetime as dt

from jinja2 import Environment

from cervixwatch.web.pages.core import clinic_dates
from cervixwatch.web.pages.pregnancy import history_date


def _written(text: object, **context: object) -> str:
    environment = Environment(autoescape=True)
    environment.filters["clinic_dates"] = clinic_dates
    return environment.from_string("{{ text | clinic_dates }}").render(text=text, **context)


def _short(day: object) -> str:
    value = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
    return f"{value.day} {value:%b %Y}"


def test_each_date_of_a_sentence_is_written_the_pages_way() -> None:
    sentence = "Next scan from 18+0 (2027-01-21), at the latest by 22+6 (2027-02-24)."
    assert _written(sentence, date=_short) == (
        "Next scan from 18+0 (21 Jan 2027), at the latest by 22+6 (24 Feb 2027)."
    )


def test_what_is_not_a_calendar_date_or_not_text_is_left_as_it_is() -> None:
    assert _written("batch 2026-13-45 of the feed", date=_short) == "batch 2026-13-45 of the feed"
    assert _written(2026, date=_short) == "2026"
    # Without the page's date writer (a template rendered outside a page), unchanged.
    assert _written("since 16+0 (2026-07-19)") == "since 16+0 (2026-07-19)"


def test_a_history_date_is_as_precise_as_it_is_known() -> None:
    assert history_date(None, None, None, _short) is None
    assert history_date(2021, None, None, _short) == "2021"
    assert history_date(2021, 5, None, _short) == "2021-05"
    assert history_date(2021, 5, 3, _short) == "3 May 2021"
    assert history_date(2021, 5, 3) == "2021-05-03"
    # A day that is not in its month (stored before the checks of issue 12): shown as stored.
    assert history_date(2021, 2, 30, _short) == "2021-02-30"
