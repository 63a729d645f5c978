"""The timeline of the pregnancy page: exams, scans, tests, symptom reports and their reviews,
complications, treatments and declined offers, the latest first, with the time where one was
recorded (a report's, a review's), each linked to the page that corrects its record.

Same-day entries are ordered by their times; an entry without a time comes before the timed
ones of its day (it is shown below them, latest first), and a review always after the report it
is of, whatever was recorded of their times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from cervixwatch.app.rows import (
    CerclagePlacementRow,
    CervicalExamRow,
    CervicalLengthRow,
    ComplicationRow,
    DeclinedDecisionRow,
    FibronectinTestRow,
    MedicationRow,
    SymptomReportRow,
)
from cervixwatch.clinical.facts import RED_FLAG_SYMPTOMS
from cervixwatch.views.plain_language import clock_time
from cervixwatch.web.api.records import RECORD_APIS
from cervixwatch.web.pages.forms_corrections import correct_url
from cervixwatch.web.pages.worklist import code_label

SYMPTOM_WORDS: Final = {
    "cramping": "cramping",
    "backache": "lower backache",
    "pelvic-pressure": "pelvic pressure",
    "spotting": "spotting",
    "bleeding": "bleeding",
    "fluid-leak": "fluid leaking",
    "discharge-change": "a change in discharge",
    "contractions": "contractions",
    "fever": "fever",
}
MEDICATION_WORDS: Final = {
    "vaginal-progesterone": "Vaginal progesterone",
    "hydroxyprogesterone-caproate": "Hydroxyprogesterone caproate (17-OHPC)",
}
SOURCE_WORDS: Final = {
    "form": "Form",
    "fhir": "FHIR",
    "dicom-sr": "Scan report (DICOM SR)",
    "hl7v2": "HL7 result",
}
_RED_FLAGS: Final = frozenset(s.value for s in RED_FLAG_SYMPTOMS)
#: The JSON API's collection of each record table (the correction page's URL names it).
COLLECTIONS: Final = {api.kind.table: api.collection for api in RECORD_APIS}


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the timeline; `flag` is a warning word shown as a badge."""

    day: dt.date | None
    kind: str
    detail: str
    source: str
    flag: str | None = None
    #: The time of day, where the record has one ("14:32", the clinic's clock).
    time: str | None = None
    #: The page that corrects the record it is of (None: not linked).
    correct: str | None = None
    #: Orders the entries of one day: (has a time, the instant, after its report).
    order: tuple[bool, dt.datetime, int] = (False, dt.datetime.min.replace(tzinfo=dt.UTC), 0)


def _words(value: str) -> str:
    return value.replace("-", " ")


def source_words(row: Any) -> str:
    """Where a record came from, in words: a report taken by telephone says who took it."""
    taken_by = getattr(row, "taken_by", None)
    if taken_by:
        return f"Telephone, taken by {taken_by}"
    source = str(row.source.value)
    return SOURCE_WORDS.get(source, source)


def _known(value: float | bool | None, unit: str = "") -> str:
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:g}{unit}"


def _scan(m: CervicalLengthRow) -> list[Event]:
    by = f"; {m.operator}" if m.operator else ""
    detail = f"Cervical length {m.length_mm:g} mm, {m.method.value}{by}"
    return [Event(m.measured_on, "Scan", detail, source_words(m))]


def _exam(e: CervicalExamRow) -> list[Event]:
    detail = (
        f"Dilation {_known(e.dilation_cm, ' cm')}; effacement "
        f"{_known(e.effacement_percent, '%')}; membranes exposed {_known(e.membranes_exposed)}"
    )
    return [Event(e.examined_on, "Exam", detail, source_words(e))]


def _fibronectin(t: FibronectinTestRow) -> list[Event]:
    parts = [f"{t.ng_per_ml:g} ng/mL" if t.ng_per_ml is not None else None]
    parts.append(None if t.positive is None else ("positive" if t.positive else "negative"))
    detail = "Fetal fibronectin " + ", ".join(p for p in parts if p)
    return [Event(t.tested_on, "Test", detail, source_words(t))]


def _complication(c: ComplicationRow) -> list[Event]:
    name = _words(c.complication.value).capitalize()
    events = [Event(c.noted_on, "Complication", f"{name} noted", source_words(c))]
    if c.resolved_on is not None:
        events.append(Event(c.resolved_on, "Complication", f"{name} resolved", source_words(c)))
    return events


def _placement(c: CerclagePlacementRow) -> list[Event]:
    why = f", {c.indication.value}" if c.indication else ""
    detail = f"Cerclage placed ({c.route.value}{why})"
    return [Event(c.placed_on, "Treatment", detail, source_words(c))]


def _removal(r: Any) -> list[Event]:
    return [Event(r.removed_on, "Treatment", "Cerclage removed", source_words(r))]


def _medication(m: MedicationRow) -> list[Event]:
    name = MEDICATION_WORDS.get(m.medication.value, m.medication.value)
    started = f"{name} started ({m.status.value})"
    events = [Event(m.started_on, "Treatment", started, source_words(m))]
    if m.stopped_on is not None:
        events.append(Event(m.stopped_on, "Treatment", f"{name} stopped", source_words(m)))
    return events


def _timed(moment: dt.datetime | None) -> tuple[bool, dt.datetime]:
    return (moment is not None, moment or dt.datetime.min.replace(tzinfo=dt.UTC))


def _symptoms(
    r: SymptomReportRow, shown_date: Callable[[dt.date], str] = dt.date.isoformat
) -> list[Event]:
    """The report, who made it, and each review of it (CD-07: open until reviewed): who
    reviewed it, when, the outcome and the note; the report's day in `shown_date`'s words."""
    present = [SYMPTOM_WORDS.get(s, s) for s in r.present]
    absent = [SYMPTOM_WORDS.get(s, s) for s in r.absent]
    detail = "Reported " + (", ".join(present) if present else "no symptoms")
    if r.reported_by:
        detail += f" by {r.reported_by}"
    if absent:
        detail += f"; not: {', '.join(absent)}"
    if not r.reviews and present:
        detail += "; not yet reviewed"
    red = _RED_FLAGS & set(r.present)
    timed, moment = _timed(r.reported_at)
    report = Event(
        r.reported_on,
        "Symptoms",
        detail,
        source_words(r),
        "Red flag" if red else None,
        clock_time(r.reported_at),
        order=(timed, moment, 0),
    )
    events = [report]
    for review in r.reviews:
        by = f" by {review.reviewer}" if review.reviewer else ""
        note = f". Note: {review.note}" if review.note else ""
        # The instant it was recorded tells its time only when recorded on the day it is of
        # (a review entered later for an earlier day has no time of that day).
        moment_of_review = review.reviewed_at
        if moment_of_review is not None and (
            moment_of_review.astimezone().date() != review.reviewed_on
        ):
            moment_of_review = None
        # After its report: on the report's day, no earlier than the report's own time.
        timed_review, at = _timed(moment_of_review)
        if review.reviewed_on == r.reported_on and (not timed_review or at < moment):
            timed_review, at = timed, moment
        events.append(
            Event(
                review.reviewed_on,
                "Review",
                f"Symptoms of {shown_date(r.reported_on)} reviewed{by}:"
                f" {_words(review.outcome.value)}{note}",
                source_words(review),
                time=clock_time(moment_of_review),
                order=(timed_review, at, 1),
            )
        )
    return events


def _declined(d: DeclinedDecisionRow) -> list[Event]:
    detail = f"Offered and declined: {code_label(d.code.value)}"
    return [Event(d.declined_on, "Decision", detail, source_words(d))]


#: How each part of her pregnancy's records (`PregnancyRecords` field) reads on the timeline.
BUILDERS: Final[Mapping[str, Callable[[Any], list[Event]]]] = {
    "cervical_lengths": _scan,
    "exams": _exam,
    "fibronectin": _fibronectin,
    "complications": _complication,
    "cerclage_placements": _placement,
    "cerclage_removals": _removal,
    "medications": _medication,
    "symptom_reports": _symptoms,
    "declined": _declined,
}


def timeline_of(
    rows: Mapping[str, Sequence[Any]],
    pregnancy_id: str = "",
    shown_date: Callable[[dt.date], str] = dt.date.isoformat,
) -> list[Event]:
    """The pregnancy's records (rows by part) as the timeline, the latest first (undated
    complications and medications last). Each event links to the page that corrects its
    record (`forms_corrections`) when `pregnancy_id` is given; a review is corrected with its
    report's reviews, not as the report. Dates inside its words are in `shown_date`'s format
    (the clinic's); the event's own day is formatted by the page."""
    events: list[Event] = []
    builders: dict[str, Callable[[Any], list[Event]]] = {
        **BUILDERS,
        "symptom_reports": partial(_symptoms, shown_date=shown_date),
    }
    for part, build in builders.items():
        for row in rows.get(part, ()):
            collection = COLLECTIONS.get(type(row))
            link = (
                correct_url(pregnancy_id, collection, row.id)
                if pregnancy_id and collection
                else None
            )
            for e in build(row):
                events.append(e if e.kind == "Review" or link is None else _linked(e, link))
    return sorted(
        events,
        key=lambda e: (e.day is not None, e.day or dt.date.min, e.order),
        reverse=True,
    )


def _linked(event: Event, link: str) -> Event:
    return Event(
        event.day,
        event.kind,
        event.detail,
        event.source,
        event.flag,
        event.time,
        link,
        event.order,
    )
