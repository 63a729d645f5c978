"""Scans booked for a pregnancy (issue 13, part 4): book the next cervical-length scan,
list the bookings with what became of each (booked, attended, missed, cancelled), cancel one.
The window a booking is kept with is the assessment's of today, not the caller's."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from cervixwatch.app import appointments
from cervixwatch.app.appointment_window import next_scan_window
from cervixwatch.web.access import PatientData, PrincipalDep, allow, by_pregnancy
from cervixwatch.web.api.errors import BODY, CONFLICT, NOT_FOUND
from cervixwatch.web.api.types import ApiModel, Day
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep

router = APIRouter(tags=["appointments"])


class BookingCreate(ApiModel):
    scheduled_on: Annotated[Day, Field(description="The day of the scan (clinic's calendar).")]
    scheduled_at: Annotated[
        dt.time, Field(description="The time of the scan on the clinic's clock, HH:MM.")
    ]


class BookingPublic(BaseModel):
    id: int
    pregnancy_id: str
    scheduled_on: dt.date
    scheduled_at: dt.time
    state: Literal["booked", "attended", "missed", "cancelled"] = Field(
        description="attended: a cervical length is dated its day; missed: its time passed"
        " without one (a product rule, not a guideline's)."
    )
    window_from: dt.date | None = Field(description="The scan plan's window it was booked in.")
    window_to: dt.date | None

    @classmethod
    def of(cls, b: appointments.Booking) -> BookingPublic:
        return cls(
            id=b.id,
            pregnancy_id=b.pregnancy_id,
            scheduled_on=b.on,
            scheduled_at=b.at,
            state=b.state,
            window_from=b.window_from,
            window_to=b.window_to,
        )


@router.get(
    "/pregnancies/{pregnancy_id}/appointments",
    response_model=list[BookingPublic],
    responses=NOT_FOUND,
    summary="The scans booked for a pregnancy",
)
@allow(PatientData("read", by_pregnancy()))
def list_bookings(pregnancy_id: str, sessions: SessionsDep, today: TodayDep) -> list[BookingPublic]:
    found = appointments.bookings_of(sessions, pregnancy_id, appointments.clinic_now(today))
    return [BookingPublic.of(b) for b in found]


@router.post(
    "/pregnancies/{pregnancy_id}/appointments",
    status_code=201,
    response_model=BookingPublic,
    responses={**NOT_FOUND, **CONFLICT, **BODY},
    summary="Book a cervical-length scan",
)
@allow(PatientData("write", by_pregnancy()))
def book_scan(
    pregnancy_id: str,
    body: BookingCreate,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
    principal: PrincipalDep,
) -> BookingPublic:
    window = next_scan_window(sessions, pregnancy_id, today, profiles)
    booked = appointments.book_scan(
        sessions,
        pregnancy_id,
        body.scheduled_on,
        body.scheduled_at,
        now=appointments.clinic_now(today),
        window=window,
        booked_by=principal.user_id,
    )
    return BookingPublic.of(booked)


@router.post(
    "/pregnancies/{pregnancy_id}/appointments/{booking_id}/cancel",
    response_model=BookingPublic,
    responses={**NOT_FOUND, **CONFLICT},
    summary="Cancel a booking still to come",
)
@allow(PatientData("write", by_pregnancy()))
def cancel_booking(
    pregnancy_id: str, booking_id: int, sessions: SessionsDep, today: TodayDep
) -> BookingPublic:
    cancelled = appointments.cancel_booking(
        sessions, pregnancy_id, booking_id, now=appointments.clinic_now(today)
    )
    return BookingPublic.of(cancelled)
