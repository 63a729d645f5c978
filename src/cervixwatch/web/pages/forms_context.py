"""Whose record a form writes (the woman and pregnancy shown at the top of every record
form), the days its dates may hold, and the summary of its errors: shared by the record
forms (`forms`) and the correction page (`forms_corrections`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.principal import Principal, Role
from cervixwatch.app import checks, patients, pregnancies
from cervixwatch.app.errors import NotFound
from cervixwatch.clinical.gestation import GestationalAge, gestational_age_on
from cervixwatch.clinical.records import Chorionicity, DatingMethod
from cervixwatch.web.pages.forms_fields import DateBounds
from cervixwatch.web.pages.forms_records import iso_day

__all__ = ["Whose", "error_summary", "pregnancy_dates", "whose"]


@dataclass(frozen=True, slots=True)
class Whose:
    """The pregnancy a form records into, and the woman: shown at the top of every form."""

    pregnancy_id: str
    patient_id: str
    name: str
    hospital_number: str | None
    edd: dt.date | None
    ga_today: GestationalAge | None
    #: The number of fetuses recorded (None: not recorded).
    fetuses: int | None = None
    #: A twin pregnancy's chorionicity (None: not recorded).
    chorionicity: Chorionicity | None = None
    #: How the EDD was worked out (None: not recorded).
    dating_method: DatingMethod | None = None


def whose(sessions: sessionmaker[Session], pregnancy_id: str, today: dt.date) -> Whose:
    try:
        pregnancy = pregnancies.get_pregnancy(sessions, pregnancy_id)
        patient = patients.get_patient(sessions, pregnancy.patient_id)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    name = " ".join(n for n in (patient.given_name, patient.family_name) if n) or "(no name)"
    return Whose(
        pregnancy.id,
        patient.id,
        name,
        patient.hospital_number,
        pregnancy.edd,
        gestational_age_on(pregnancy.edd, today) if pregnancy.edd else None,
        pregnancy.fetuses,
        pregnancy.chorionicity,
        pregnancy.dating_method,
    )


def pregnancy_dates(who: Whose, today: dt.date) -> DateBounds:
    """A date of this pregnancy: from its start to today (or its end), with its GA shown."""
    if who.edd is None:
        return DateBounds(today)
    edd = who.edd
    first, last = checks.pregnancy_span(edd)

    def ga_words(text: str) -> str:
        """ "22+3 weeks on that day" (the script does the same as it is typed)."""
        day = iso_day(text) if text else None
        if day is None:
            return ""
        if not first <= day <= last:
            return "That day is outside this pregnancy."
        return f"{gestational_age_on(edd, day)} weeks on that day"

    return DateBounds(min(today, last), first, ga_words)


def error_summary(
    fields: list[dict[str, Any]], errors: dict[str, str]
) -> list[dict[str, str | None]]:
    """The errors listed at the top, each a link to its field."""
    ids = {f["input"].name: f["id"] for f in fields}
    return [
        {"href": f"#{ids[name]}" if name in ids else None, "message": message}
        for name, message in errors.items()
    ]


def clinicians_only(principal: Principal, does: str) -> None:
    """A form of her record is her care team's: anyone else who may read the record (the
    woman herself) is refused, 403, saying who `does` it ("books her scans")."""
    if principal.role != Role.CLINICIAN:
        raise HTTPException(403, f"only her care team {does}")
