"""The message the pregnancy page shows after a form saved a record ("Saved: cervical length
24 mm on 6 March 2026"). The form sends the reader back with `?saved=<collection>:<row id>`
(the JSON API's collection names: `cervical-lengths`, `symptom-reports`, or `review` for a
review of a report); the page finds the row among those it has read, so the message costs no
query, and says nothing of a row that is not this pregnancy's (or no longer current)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Final

from cervixwatch.app.pregnancy_view import PregnancyView
from cervixwatch.views.plain_language import clock_time
from cervixwatch.web.pages.forms_fields import CHORIONICITY_WORDS_OF, DATING_WORDS_OF
from cervixwatch.web.pages.pregnancy_timeline import (
    COLLECTIONS,
    MEDICATION_WORDS,
    SYMPTOM_WORDS,
)

_REVIEW: Final = "review"
#: The pregnancy's own details (its EDD and fetus count): `details:<pregnancy id>`.
_DETAILS: Final = "details"


def _details(view: PregnancyView) -> str:
    p = view.pregnancy
    edd = view.settings.date(p.edd) if p.edd else "not recorded"
    if p.edd and p.dating_method:
        edd += f" ({DATING_WORDS_OF[p.dating_method].lower()})"
    fetuses = str(p.fetuses) if p.fetuses else "not recorded"
    chorionicity = (
        f", chorionicity {CHORIONICITY_WORDS_OF[p.chorionicity]}" if p.chorionicity else ""
    )
    return f"Saved: EDD {edd}, number of fetuses {fetuses}{chorionicity}."


def _on(view: PregnancyView, day: dt.date | None, moment: dt.datetime | None = None) -> str:
    if day is None:
        return "a date not recorded"
    time = clock_time(moment)
    return view.settings.date(day) + (f" at {time}" if time else "")


def _words(view: PregnancyView) -> dict[str, Callable[[Any], str]]:
    return {
        "cervical-lengths": lambda m: (
            f"cervical length {m.length_mm:g} mm on {_on(view, m.measured_on)}"
        ),
        "cervical-exams": lambda e: f"cervical examination on {_on(view, e.examined_on)}",
        "cerclage-placements": lambda c: f"cerclage placed on {_on(view, c.placed_on)}",
        "cerclage-removals": lambda r: f"cerclage removed on {_on(view, r.removed_on)}",
        "medications": lambda m: (
            f"{MEDICATION_WORDS.get(m.medication.value, m.medication.value)}"
            f" started on {_on(view, m.started_on)}"
        ),
        "complications": lambda c: (
            f"{c.complication.value.replace('-', ' ')} noted on {_on(view, c.noted_on)}"
        ),
        "symptom-reports": lambda r: (
            f"report of {', '.join(SYMPTOM_WORDS.get(s, s) for s in r.present)}"
            f" on {_on(view, r.reported_on, r.reported_at)}"
            + (f", taken by telephone by {r.taken_by}" if r.taken_by else "")
        ),
    }


def _review(view: PregnancyView, review_id: int) -> str | None:
    for report in view.rows_of("symptom_reports"):
        for review in report.reviews:
            if review.id == review_id:
                by = f" by {review.reviewer}" if review.reviewer else ""
                return (
                    f"review{by} of the report of {_on(view, report.reported_on)}:"
                    f" {review.outcome.value.replace('-', ' ')}"
                )
    return None


def saved_message(view: PregnancyView, saved: str) -> str | None:
    """ "Saved: ..." for `saved` ("cervical-lengths:12"), or None when it names nothing of
    this pregnancy's."""
    collection, _, raw = saved.partition(":")
    if collection == _DETAILS:
        return _details(view) if raw == view.pregnancy.id else None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        return None
    row_id = int(raw)
    if collection == _REVIEW:
        said = _review(view, row_id)
        return f"Saved: {said}." if said else None
    for rows in view.rows.values():
        for row in rows:
            if row.id == row_id and COLLECTIONS.get(type(row)) == collection:
                words = _words(view).get(collection)
                what = words(row) if words else collection.replace("-", " ").rstrip("s")
                return f"Saved: {what}."
    return None
