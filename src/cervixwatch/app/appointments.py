"""Booking the next cervical-length scan, and what became of each booking (issue 13, part 4).

A scan is booked for a day and a time on the clinic's clock, inside the pregnancy, not in the
past, one a day; it is kept with the scan plan's window it was booked in (the assessment's
next scan due: `clinical.surveillance`). A booking is then:

- `booked`: its time is still to come;
- `attended`: a cervical length of the pregnancy is dated its day (read, not stored, so a
  length recorded later in the day, or entered later, still counts);
- `missed`: its time has passed and no cervical length is dated its day. This is a product
  rule of CervixWatch, not a guideline's (docs/clinical-interpretations.md, "Missed
  appointments"): the guidelines say when a scan is due, not when a booking was missed;
- `cancelled`.

For the worklist, `booking_summaries` gives each pregnancy's next booked scan and whether her
latest booking whose time has passed was missed, in one query on the (pregnancy, day) index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app import checks
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.app.writing import writing
from cervixwatch.store import appointments as store
from cervixwatch.store import crud
from cervixwatch.store.models import AppointmentRow, AppointmentStatus, PregnancyStatus
from cervixwatch.store.records import lock_patient

if TYPE_CHECKING:  # app.appointment_window reads the pregnancy page's view, which reads this
    from cervixwatch.app.appointment_window import DueWindow

__all__ = [
    "Booking",
    "BookingSummary",
    "book_scan",
    "booking_summaries",
    "bookings_in",
    "bookings_of",
    "cancel_booking",
    "clinic_now",
]

State = Literal["booked", "attended", "missed", "cancelled"]


@dataclass(frozen=True, slots=True)
class Booking:
    id: int
    pregnancy_id: str
    on: dt.date
    at: dt.time
    state: State
    #: The scan plan's window it was booked in (None: booked when no scan was due).
    window_from: dt.date | None
    window_to: dt.date | None


@dataclass(frozen=True, slots=True)
class BookingSummary:
    """What the worklist shows of a pregnancy's bookings."""

    #: The earliest booking whose time is still to come (None: none booked).
    next_booked: Booking | None
    #: Her latest booking whose time has passed, when it was missed (None: none, or attended).
    missed: Booking | None


def clinic_now(today: dt.date) -> dt.datetime:
    """Now on the clinic's clock: the app's calendar day (`today`) at the local time of day
    (naive, as bookings are kept)."""
    return dt.datetime.combine(today, dt.datetime.now().time())  # noqa: DTZ005 - the clinic's local time is meant


def _state(row: AppointmentRow, length_that_day: bool, now: dt.datetime) -> State:
    if row.status == AppointmentStatus.CANCELLED:
        return "cancelled"
    if length_that_day:
        return "attended"
    if dt.datetime.combine(row.scheduled_on, row.scheduled_at) <= now:
        return "missed"
    return "booked"


def _booking(row: AppointmentRow, length_that_day: bool, now: dt.datetime) -> Booking:
    return Booking(
        row.id,
        row.pregnancy_id,
        row.scheduled_on,
        row.scheduled_at,
        _state(row, length_that_day, now),
        row.window_from,
        row.window_to,
    )


def bookings_in(session: Session, pregnancy_id: str, now: dt.datetime) -> tuple[Booking, ...]:
    """Every booking of the pregnancy, the earliest first, read in the caller's transaction
    (the pregnancy page's, `app.pregnancy_view`)."""
    return tuple(
        _booking(row, found, now) for row, found in store.bookings_of(session, pregnancy_id)
    )


def bookings_of(
    sessions: sessionmaker[Session], pregnancy_id: str, now: dt.datetime
) -> tuple[Booking, ...]:
    """Every booking of the pregnancy, the earliest first."""
    with sessions() as session:
        if crud.get_pregnancy(session, pregnancy_id) is None:
            raise NotFound(f"no pregnancy {pregnancy_id}")
        return bookings_in(session, pregnancy_id, now)


def booking_summaries(
    sessions: sessionmaker[Session], pregnancy_ids: Collection[str], now: dt.datetime
) -> Mapping[str, BookingSummary]:
    """For each of the pregnancies with a booking still booked: the next one, and whether
    her latest one whose time has passed was missed. One query."""
    with sessions() as session:
        found = store.bookings_of_many(session, pregnancy_ids)
    by_pregnancy: dict[str, list[Booking]] = {}
    for row, length_that_day in found:
        by_pregnancy.setdefault(row.pregnancy_id, []).append(_booking(row, length_that_day, now))
    summaries = {}
    for pregnancy_id, bookings in by_pregnancy.items():
        coming = [b for b in bookings if b.state == "booked"]
        past = [b for b in bookings if b.state in ("attended", "missed")]
        latest_past = past[-1] if past else None
        summaries[pregnancy_id] = BookingSummary(
            coming[0] if coming else None,
            latest_past if latest_past is not None and latest_past.state == "missed" else None,
        )
    return summaries


def book_scan(
    sessions: sessionmaker[Session],
    pregnancy_id: str,
    on: dt.date,
    at: dt.time,
    *,
    now: dt.datetime,
    window: DueWindow | None,
    booked_by: str | None,
) -> Booking:
    """Book a cervical-length scan of her active pregnancy on `on` at `at` (clinic time),
    in the plan's `window` (None: none is due)."""
    with writing(sessions) as session:
        pregnancy = crud.get_pregnancy(session, pregnancy_id)
        if pregnancy is None:
            raise NotFound(f"no pregnancy {pregnancy_id}")
        lock_patient(session, pregnancy.patient_id)
        if pregnancy.status != PregnancyStatus.ACTIVE:
            raise Conflict("this pregnancy has ended: no scan can be booked for it")
        if on < now.date():
            raise InvalidField(
                "scheduled_on", f"{on.isoformat()} is in the past (today is {now.date()})", on
            )
        if dt.datetime.combine(on, at) <= now:
            raise InvalidField("scheduled_at", f"{at:%H:%M} today has passed already", at)
        checks.inside_pregnancy("scheduled_on", on, pregnancy.edd)
        same_day = [
            row
            for row, _ in store.bookings_of(session, pregnancy.id)
            if row.scheduled_on == on and row.status == AppointmentStatus.BOOKED
        ]
        if same_day:
            raise InvalidField(
                "scheduled_on",
                f"a scan is booked on {on.isoformat()} already (at"
                f" {same_day[0].scheduled_at:%H:%M}): cancel it first to move it",
                on,
            )
        row = crud.add_row(
            session,
            AppointmentRow,
            {
                "pregnancy_id": pregnancy.id,
                "scheduled_on": on,
                "scheduled_at": at.replace(second=0, microsecond=0),
                "status": AppointmentStatus.BOOKED,
                "window_from": window.window_from if window else None,
                "window_to": window.window_to if window else None,
                "booked_by": booked_by,
            },
        )
        return _booking(row, False, now)


def cancel_booking(
    sessions: sessionmaker[Session], pregnancy_id: str, booking_id: int, *, now: dt.datetime
) -> Booking:
    """Cancel a booking still to come (one whose time has passed is kept as it went)."""
    with writing(sessions) as session:
        row = store.get_booking(session, pregnancy_id, booking_id)
        if row is None:
            raise NotFound(f"no booking {booking_id} of pregnancy {pregnancy_id}")
        pregnancy = crud.get_pregnancy(session, pregnancy_id)
        assert pregnancy is not None  # the booking's
        lock_patient(session, pregnancy.patient_id)
        if row.status == AppointmentStatus.CANCELLED:
            raise Conflict(f"booking {booking_id} was cancelled already")
        if dt.datetime.combine(row.scheduled_on, row.scheduled_at) <= now:
            raise Conflict(f"booking {booking_id}'s time has passed: it is kept as it went")
        row.status = AppointmentStatus.CANCELLED
        session.flush()
        return _booking(row, False, now)
