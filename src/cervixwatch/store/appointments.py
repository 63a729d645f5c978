"""The scans booked for pregnancies (`appointments`), each with whether a cervical length was
recorded on its day: SQL only; what a booking's state is, and whether it was missed, is the
use case's (`app.appointments`)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from cervixwatch.store.models import AppointmentRow, CervicalLengthRow

__all__ = ["bookings_of", "bookings_of_many", "get_booking"]


def _with_length_that_day() -> object:
    """Whether a cervical length of the booking's pregnancy is dated its day (the index on
    `cervical_lengths.pregnancy_id` finds them)."""
    return (
        exists()
        .where(
            CervicalLengthRow.pregnancy_id == AppointmentRow.pregnancy_id,
            CervicalLengthRow.measured_on == AppointmentRow.scheduled_on,
        )
        .label("length_that_day")
    )


def bookings_of(session: Session, pregnancy_id: str) -> Sequence[tuple[AppointmentRow, bool]]:
    """Every booking of the pregnancy, the earliest first, each with whether a cervical length
    was recorded on its day."""
    query = (
        select(AppointmentRow, _with_length_that_day())  # type: ignore[call-overload]
        .where(AppointmentRow.pregnancy_id == pregnancy_id)
        .order_by(AppointmentRow.scheduled_on, AppointmentRow.scheduled_at, AppointmentRow.id)
    )
    return [(row, bool(found)) for row, found in session.execute(query)]


def bookings_of_many(
    session: Session, pregnancy_ids: Collection[str]
) -> Sequence[tuple[AppointmentRow, bool]]:
    """The bookings not cancelled of these pregnancies, by pregnancy and day: one query on
    the (pregnancy, day) index."""
    if not pregnancy_ids:
        return []
    query = (
        select(AppointmentRow, _with_length_that_day())  # type: ignore[call-overload]
        .where(
            AppointmentRow.pregnancy_id.in_(list(pregnancy_ids)),
            AppointmentRow.status == "booked",
        )
        .order_by(
            AppointmentRow.pregnancy_id, AppointmentRow.scheduled_on, AppointmentRow.scheduled_at
        )
    )
    return [(row, bool(found)) for row, found in session.execute(query)]


def get_booking(session: Session, pregnancy_id: str, booking_id: int) -> AppointmentRow | None:
    row = session.get(AppointmentRow, booking_id)
    return row if row is not None and row.pregnancy_id == pregnancy_id else None
