"""The clinic's settings (issue 13, parts 4 and 7): read them for a page, a letter or the
command line, and save them (the admin page, `cervixwatch clinic set`).

What a clinic sets: its name and the address line its letters carry; two telephone numbers,
the clinic's own (office hours: questions, appointments) and maternity triage's (answered day
and night: where a woman with bleeding, fluid leaking, contractions or a fever is sent,
guidelines.md TRI-05), since a clinic's line is not answered at night; how dates are written;
which guideline profiles its pages show (a UK unit may show NICE only).

Nothing is invented while a setting is not made: no number is shown, the portal says "your
maternity unit", the letter's heading says what the clinic is rather than a name, and
`ClinicSettings.missing` lists what the admin page warns about. The default date format is
the one no reader can misread ("6 March 2026"); the default profiles are all that are loaded.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.errors import InvalidField
from cervixwatch.store import clinic_settings as store
from cervixwatch.store import transaction

__all__ = [
    "DATE_FORMATS",
    "DEFAULT_DATE_FORMAT",
    "ClinicSettings",
    "RecentSettings",
    "chosen",
    "read_settings",
    "save_settings",
]

T = TypeVar("T")


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


#: How a date may be written: key -> (the example shown to the admin, the formatter).
DATE_FORMATS: Final[Mapping[str, tuple[str, Callable[[dt.date], str]]]] = {
    "d-month-yyyy": ("6 March 2026", _long),
    "dd/mm/yyyy": ("06/03/2026 (day first, UK)", lambda d: f"{d:%d/%m/%Y}"),
    "mm/dd/yyyy": ("03/06/2026 (month first, US)", lambda d: f"{d:%m/%d/%Y}"),
    "yyyy-mm-dd": ("2026-03-06 (ISO 8601)", lambda d: d.isoformat()),
}
DEFAULT_DATE_FORMAT: Final = "d-month-yyyy"

NAME_MAX: Final = 200
ADDRESS_MAX: Final = 300
PHONE_MAX: Final = 40
#: A telephone number as people write it: digits, spaces, "+", brackets, dots and dashes.
_PHONE: Final = re.compile(r"\+?[0-9 ()./-]+")
#: Fewer digits than this is no number anyone can ring (UK numbers have 10-11, US 10).
_PHONE_DIGITS_MIN: Final = 6


@dataclass(frozen=True, slots=True)
class ClinicSettings:
    clinic_name: str | None = None
    phone: str | None = None
    triage_phone: str | None = None
    letter_address: str | None = None
    date_format: str = DEFAULT_DATE_FORMAT
    #: Profile ids in the order the clinic's pages show them; empty: every profile loaded.
    guidelines: tuple[str, ...] = ()
    updated_at: dt.datetime | None = None
    updated_by: str | None = None

    def short_date(self, day: dt.date | str | None) -> str:
        """`day` in the clinic's format, its month's name shortened ("6 Mar 2026"), for dense
        tables such as the worklist; the numeric formats are short already ("" for None)."""
        if day is None:
            return ""
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        if self.date_format == "d-month-yyyy" or self.date_format not in DATE_FORMATS:
            return f"{day.day} {day:%b %Y}"
        return self.date(day)

    def date(self, day: dt.date | str | None) -> str:
        """`day` in the clinic's format ("" for None)."""
        if day is None:
            return ""
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        _, formatter = DATE_FORMATS.get(self.date_format, DATE_FORMATS[DEFAULT_DATE_FORMAT])
        return formatter(day)

    @property
    def missing(self) -> tuple[str, ...]:
        """What is not set that pages and letters would use, as the admin page warns."""
        out = []
        if not self.clinic_name:
            out.append("The clinic's name is not set: letters are headed 'Preterm birth clinic'.")
        if not self.triage_phone:
            out.append(
                "The maternity triage number is missing: a woman reporting bleeding, fluid"
                " leaking, contractions or a fever is told to call 'your maternity unit' with"
                " no number to ring."
            )
        if not self.phone:
            out.append(
                "The clinic's phone number is missing: letters and the patient's pages give"
                " no number for the clinic."
            )
        if not self.letter_address:
            out.append("The address line for letters is not set: letters carry no address.")
        return tuple(out)


def tel_uri(number: str | None) -> str | None:
    """A number as a `tel:` link target (RFC 3966: digits, with "+" for an international
    number); None for no number."""
    if not number:
        return None
    digits = re.sub(r"[^0-9+]", "", number)
    return f"tel:{digits}" if digits else None


def _settings(row: Any) -> ClinicSettings:
    if row is None:
        return ClinicSettings()
    return ClinicSettings(
        clinic_name=row.clinic_name,
        phone=row.phone,
        triage_phone=row.triage_phone,
        letter_address=row.letter_address,
        date_format=row.date_format if row.date_format in DATE_FORMATS else DEFAULT_DATE_FORMAT,
        guidelines=tuple(row.guidelines.split()),
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def read_settings(sessions: sessionmaker[Session]) -> ClinicSettings:
    """The settings now (the defaults where none is saved): one read by primary key."""
    with sessions() as session:
        return _settings(store.read_row(session))


class RecentSettings:
    """The settings as every page's frame reads them (its dates, the footer's day): read again
    once they are `max_age` seconds old, so a page costs no extra query. A change saved here
    shows at once (`forget`); one saved through another worker or the command line shows
    within `max_age`. Two threads that find them old at once both read: harmless."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        max_age: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._max_age = max_age
        self._clock = clock
        self._read: tuple[float, ClinicSettings] | None = None

    def get(self) -> ClinicSettings:
        """The settings; when the database cannot be read (the page being shown may be the
        one that says so), the last ones read, or the defaults: never an error of its own."""
        now = self._clock()
        if self._read is None or now - self._read[0] > self._max_age:
            try:
                self._read = (now, read_settings(self._sessions))
            except SQLAlchemyError:
                return self._read[1] if self._read is not None else ClinicSettings()
        return self._read[1]

    def forget(self) -> None:
        self._read = None


def chosen(settings: ClinicSettings, profiles: Mapping[str, T]) -> list[T]:
    """The profiles the clinic shows, in its order; every loaded one when none is chosen, or
    when none of those chosen is loaded any more (a profile withdrawn from the install)."""
    picked = [profiles[g] for g in settings.guidelines if g in profiles]
    return picked or list(profiles.values())


# --- saving -----------------------------------------------------------------------------------


def _text(values: Mapping[str, Any], field: str, most: int) -> str | None:
    value = values.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidField(field, "must be text", value)
    value = " ".join(value.split())  # one line: a letter's heading, a page's sentence
    if not value:
        return None
    if len(value) > most:
        raise InvalidField(field, f"at most {most} characters (this is {len(value)})", value)
    if not value.isprintable():
        raise InvalidField(field, "holds a character that cannot be printed", value)
    return value


def _phone(values: Mapping[str, Any], field: str) -> str | None:
    value = _text(values, field, PHONE_MAX)
    if value is None:
        return None
    if not _PHONE.fullmatch(value):
        raise InvalidField(
            field,
            "a telephone number holds only digits, spaces, '+', brackets, dots and dashes",
            value,
        )
    if sum(c.isdigit() for c in value) < _PHONE_DIGITS_MIN:
        raise InvalidField(field, f"at least {_PHONE_DIGITS_MIN} digits", value)
    return value


def _guidelines(values: Mapping[str, Any], known: Sequence[str]) -> tuple[str, ...]:
    given = values.get("guidelines")
    if given is None or given == "":
        raise InvalidField("guidelines", "choose at least one guideline profile", given)
    items = given.split() if isinstance(given, str) else list(given)
    unknown = [g for g in items if g not in known]
    if unknown:
        raise InvalidField(
            "guidelines", f"not a profile of this installation: {', '.join(map(str, unknown))}"
        )
    if not items:
        raise InvalidField("guidelines", "choose at least one guideline profile", given)
    return tuple(g for g in known if g in items)  # the installation's order, each once


def save_settings(
    sessions: sessionmaker[Session],
    values: Mapping[str, Any],
    *,
    known_guidelines: Collection[str],
    by: str | None,
) -> ClinicSettings:
    """Replace the settings with `values` (every field; an empty one is unset) and say what
    they are now. `known_guidelines`: the profile ids loaded. Bad input raises `InvalidField`
    naming the field; nothing is written then."""
    known = list(known_guidelines)
    date_format = values.get("date_format") or DEFAULT_DATE_FORMAT
    if date_format not in DATE_FORMATS:
        raise InvalidField(
            "date_format", f"one of {', '.join(DATE_FORMATS)} (not {date_format!r})", date_format
        )
    columns = {
        "clinic_name": _text(values, "clinic_name", NAME_MAX),
        "phone": _phone(values, "phone"),
        "triage_phone": _phone(values, "triage_phone"),
        "letter_address": _text(values, "letter_address", ADDRESS_MAX),
        "date_format": date_format,
        "guidelines": " ".join(_guidelines(values, known)),
        "updated_at": dt.datetime.now(dt.UTC),
        "updated_by": by,
    }
    with transaction(sessions) as session:
        return _settings(store.write_row(session, columns))
