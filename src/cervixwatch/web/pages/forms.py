"""The pages of the record forms (`forms_records.FORMS`), from the pregnancy's page.

    GET  /pregnancies/{pregnancy_id}/record/{kind}   the empty form
    POST /pregnancies/{pregnancy_id}/record/{kind}   save it, then 303 to the pregnancy's page

The server checks a form as the JSON API checks its body: the same pydantic model and record
type and the same use case (`app.recording.add_record`, which refuses a date in the future or
outside the pregnancy, and reassesses in the same transaction, so the pregnancy's page shows
the new recommendations at once). The browser checks first, with constraint attributes read
from that very model (`forms_fields`) and the pregnancy's span, so the two never disagree;
`static/js/record-form.js` shows the gestational age of a date as it is typed, and the forms
work without it. A refused form comes back (422) with every value as typed, each error beside
its field and a summary of them at the top.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from cervixwatch.access.principal import Role
from cervixwatch.app import checks, patients, pregnancies, recording
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.clinical.gestation import GestationalAge, gestational_age_on
from cervixwatch.web.access import PatientData, PrincipalDep, allow, by_pregnancy
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep
from cervixwatch.web.pages.core import PageRoute, render
from cervixwatch.web.pages.forms_fields import DateBounds, draw
from cervixwatch.web.pages.forms_reading import Submission, sentence, typed_values
from cervixwatch.web.pages.forms_records import BY_SLUG, FORMS, RecordForm, check, iso_day

router = APIRouter(route_class=PageRoute, include_in_schema=False)

__all__ = ["FORMS", "Whose", "router", "whose"]


@dataclass(frozen=True, slots=True)
class Whose:
    """The pregnancy a form records into, and the woman: shown at the top of every form."""

    pregnancy_id: str
    patient_id: str
    name: str
    hospital_number: str | None
    edd: dt.date | None
    ga_today: GestationalAge | None


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


def _form_of(kind: str) -> RecordForm:
    form = BY_SLUG.get(kind)
    if form is None:
        raise HTTPException(404, f"no form to record {kind!r}")
    return form


def error_summary(
    fields: list[dict[str, Any]], errors: dict[str, str]
) -> list[dict[str, str | None]]:
    """The errors listed at the top, each a link to its field."""
    ids = {f["input"].name: f["id"] for f in fields}
    return [
        {"href": f"#{ids[name]}" if name in ids else None, "message": message}
        for name, message in errors.items()
    ]


def _page(
    request: Request,
    form: RecordForm,
    who: Whose,
    submission: Submission,
    today: dt.date,
    *,
    status_code: int = 200,
) -> Response:
    fields = draw(
        form.inputs,
        form.api.create,
        submission.typed,
        submission.errors,
        pregnancy_dates(who, today),
    )
    return render(
        request,
        "record_form.html",
        {
            "form": form,
            "forms": FORMS,
            "who": who,
            "fields": fields,
            "summary": error_summary(fields, submission.errors),
            "action": f"/pregnancies/{who.pregnancy_id}/record/{form.slug}",
        },
        status_code=status_code,
    )


@router.get("/pregnancies/{pregnancy_id}/record/{kind}")
@allow(PatientData("read", by_pregnancy()))
async def record_form(
    request: Request,
    pregnancy_id: str,
    kind: str,
    sessions: SessionsDep,
    today: TodayDep,
    principal: PrincipalDep,
) -> Response:
    form = _form_of(kind)
    if principal.role != Role.CLINICIAN:
        raise HTTPException(403, "only her care team records findings and treatments")
    who = await run_in_threadpool(whose, sessions, pregnancy_id, today)
    return _page(request, form, who, Submission({}, {}), today)


@router.post("/pregnancies/{pregnancy_id}/record/{kind}")
@allow(PatientData("write", by_pregnancy()))
async def save_record(
    request: Request,
    pregnancy_id: str,
    kind: str,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
) -> Response:
    form = _form_of(kind)
    who = await run_in_threadpool(whose, sessions, pregnancy_id, today)
    submission = check(form, typed_values(form.inputs, await request.form()), today, who.edd)
    if submission.body is not None:
        record = form.api.kind
        owner_id = who.patient_id if record.owner == "patient" else who.pregnancy_id
        try:
            await run_in_threadpool(
                recording.add_record,
                sessions,
                record,
                owner_id,
                submission.body.columns(),
                today=today,
                profiles=profiles,
            )
        except InvalidField as error:
            named = {inp.model_field: inp.name for inp in form.inputs}
            submission.errors[named.get(error.field, "")] = sentence(error.message)
        except Conflict as error:
            submission.errors[""] = str(error)
        except NotFound as error:
            raise HTTPException(404, str(error)) from None
    if submission.errors:
        return _page(request, form, who, submission, today, status_code=422)
    return RedirectResponse(f"/pregnancies/{pregnancy_id}", status_code=303)
