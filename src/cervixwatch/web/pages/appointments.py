"""Booking the next cervical-length scan from the pregnancy's page (issue 13, part 4).

    GET  /pregnancies/{pregnancy_id}/book-scan                          the form
    POST /pregnancies/{pregnancy_id}/book-scan                          book it, 303 to the page
    POST /pregnancies/{pregnancy_id}/bookings/{booking_id}/cancel       cancel one, 303 back

The form offers the day the assessment's scan plans next want a scan (`app.appointment_window`:
due on, acceptable until, the plan's window and rule), today when none is due or it is past,
and says the window in the clinic's date format. It is checked by the JSON API's model
(`web.api.appointments.BookingCreate`) and saved by the same use case (`app.appointments`),
which refuses a day in the past, a time already gone, a day outside the pregnancy and a
second booking on one day. The page's "Appointments" section (`pregnancy_appointments.html`)
lists the bookings and says which were missed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from cervixwatch.app import appointments
from cervixwatch.app.appointment_window import DueWindow, next_scan_window
from cervixwatch.app.clinic_settings import read_settings
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.web.access import PatientData, PrincipalDep, allow, by_pregnancy
from cervixwatch.web.api.appointments import BookingCreate
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep
from cervixwatch.web.pages.core import PageRoute, render
from cervixwatch.web.pages.forms_context import (
    Whose,
    clinicians_only,
    error_summary,
    pregnancy_dates,
    whose,
)
from cervixwatch.web.pages.forms_fields import DateBounds, Input, draw
from cervixwatch.web.pages.forms_reading import Submission, read_form, sentence, typed_values

router = APIRouter(route_class=PageRoute, include_in_schema=False)

INPUTS = (
    Input("scheduled_on", "Day of the scan", "date"),
    Input("scheduled_at", "Time", "time", hint="On the clinic's clock, e.g. 09:30."),
)


def _window(sessions: Any, pregnancy_id: str, today: dt.date, profiles: Any) -> DueWindow | None:
    try:
        return next_scan_window(sessions, pregnancy_id, today, profiles)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None


def _offered_day(window: DueWindow | None, today: dt.date) -> dt.date:
    """The day the form starts at: the next scan's due day, or today once that has come."""
    return max(window.due, today) if window is not None else today


def _page(
    request: Request,
    who: Whose,
    window: DueWindow | None,
    submission: Submission,
    today: dt.date,
    date_of: Any,
    *,
    status_code: int = 200,
) -> Response:
    latest = who.edd + dt.timedelta(days=14) if who.edd else today + dt.timedelta(days=280)
    # Not before today (the use case refuses a past day); the field shows the GA of the day.
    bounds = DateBounds(latest, None, pregnancy_dates(who, today).words)
    fields = draw(INPUTS, BookingCreate, submission.typed, submission.errors, bounds)
    return render(
        request,
        "book_scan.html",
        {
            "who": who,
            "window": window,
            "date_of": date_of,
            "fields": fields,
            "summary": error_summary(fields, submission.errors),
            "action": f"/pregnancies/{who.pregnancy_id}/book-scan",
        },
        status_code=status_code,
    )


@router.get("/pregnancies/{pregnancy_id}/book-scan")
@allow(PatientData("read", by_pregnancy()))
async def book_scan_form(
    request: Request,
    pregnancy_id: str,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
    principal: PrincipalDep,
) -> Response:
    clinicians_only(principal, "books her scans")
    who = await run_in_threadpool(whose, sessions, pregnancy_id, today)
    window = await run_in_threadpool(_window, sessions, pregnancy_id, today, profiles)
    settings = await run_in_threadpool(read_settings, sessions)
    typed = {"scheduled_on": _offered_day(window, today).isoformat()}
    return _page(request, who, window, Submission(typed, {}), today, settings.date)


@router.post("/pregnancies/{pregnancy_id}/book-scan")
@allow(PatientData("write", by_pregnancy()))
async def book_scan(
    request: Request,
    pregnancy_id: str,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
    principal: PrincipalDep,
) -> Response:
    who = await run_in_threadpool(whose, sessions, pregnancy_id, today)
    window = await run_in_threadpool(_window, sessions, pregnancy_id, today, profiles)
    submission = read_form(INPUTS, BookingCreate, typed_values(INPUTS, await request.form()))
    if submission.body is not None:
        try:
            booked = await run_in_threadpool(
                appointments.book_scan,
                sessions,
                pregnancy_id,
                submission.body.scheduled_on,
                submission.body.scheduled_at,
                now=appointments.clinic_now(today),
                window=window,
                booked_by=principal.user_id,
            )
        except InvalidField as error:
            submission.errors[error.field] = sentence(error.message)
        except Conflict as error:
            submission.errors[""] = str(error)
        except NotFound as error:
            raise HTTPException(404, str(error)) from None
    if submission.errors:
        settings = await run_in_threadpool(read_settings, sessions)
        return _page(request, who, window, submission, today, settings.date, status_code=422)
    return RedirectResponse(
        f"/pregnancies/{pregnancy_id}?saved=booking:{booked.id}#appointments", status_code=303
    )


@router.post("/pregnancies/{pregnancy_id}/bookings/{booking_id}/cancel")
@allow(PatientData("write", by_pregnancy()))
async def cancel_booking(
    pregnancy_id: str, booking_id: int, sessions: SessionsDep, today: TodayDep
) -> Response:
    try:
        await run_in_threadpool(
            appointments.cancel_booking,
            sessions,
            pregnancy_id,
            booking_id,
            now=appointments.clinic_now(today),
        )
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    except Conflict as error:
        raise HTTPException(409, str(error)) from None
    return RedirectResponse(
        f"/pregnancies/{pregnancy_id}?saved=cancelled:{booking_id}#appointments", status_code=303
    )
