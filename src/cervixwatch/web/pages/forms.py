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
its field and a summary of them at the top. A value that is possible but unlikely (2.5 mm:
"did you mean cm?") comes back the same way, nothing saved, with the warning beside its field
and a box to confirm it: sent again with the box ticked, it is saved (`app.checks`).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from cervixwatch.app import recording
from cervixwatch.app.checks import NeedsConfirmation
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.web.access import PatientData, PrincipalDep, allow, by_pregnancy
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep
from cervixwatch.web.pages import forms_corrections
from cervixwatch.web.pages.core import PageRoute, render
from cervixwatch.web.pages.forms_context import (
    Whose,
    clinicians_only,
    error_summary,
    pregnancy_dates,
    whose,
)
from cervixwatch.web.pages.forms_fields import allowed, draw
from cervixwatch.web.pages.forms_reading import (
    Submission,
    confirmed_codes,
    field_warnings,
    sentence,
    typed_values,
)
from cervixwatch.web.pages.forms_records import BY_SLUG, FORMS, RecordForm, check

router = APIRouter(route_class=PageRoute, include_in_schema=False)
# The page that corrects a record these forms wrote (amend it, or mark it entered in error).
router.include_router(forms_corrections.router)

__all__ = ["FORMS", "Whose", "router", "whose"]


def _form_of(kind: str) -> RecordForm:
    form = BY_SLUG.get(kind)
    if form is None:
        raise HTTPException(404, f"no form to record {kind!r}")
    return form


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
    warnings = field_warnings(form.inputs, fields, submission.warnings)
    return render(
        request,
        "record_form.html",
        {
            "form": form,
            "forms": FORMS,
            "who": who,
            "fields": fields,
            "warnings": warnings,
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
    clinicians_only(principal, "records findings and treatments")
    who = await run_in_threadpool(whose, sessions, pregnancy_id, today)
    return _page(request, form, who, Submission(_today_in_dates(form, today), {}), today)


def _today_in_dates(form: RecordForm, today: dt.date) -> dict[str, str]:
    """A new form's required dates (the day of the scan, the exam ...) start at today: most
    records are entered the day they are made (issue 13, part 6); optional ones (a stop or
    resolution date) stay empty, unknown."""
    return {
        inp.name: today.isoformat()
        for inp in form.inputs
        if inp.widget == "date" and allowed(form.api.create, inp.model_field).required
    }


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
    sent = await request.form()
    submission = check(form, typed_values(form.inputs, sent), today, who.edd)
    submission.confirmed = confirmed_codes(sent)
    if submission.body is not None:
        record = form.api.kind
        owner_id = who.patient_id if record.owner == "patient" else who.pregnancy_id
        try:
            saved = await run_in_threadpool(
                recording.add_record,
                sessions,
                record,
                owner_id,
                submission.body.columns(),
                today=today,
                profiles=profiles,
                confirmed=submission.confirmed,
            )
        except NeedsConfirmation as error:
            submission.warnings = error.warnings
        except InvalidField as error:
            named = {inp.model_field: inp.name for inp in form.inputs}
            submission.errors[named.get(error.field, "")] = sentence(error.message)
        except Conflict as error:
            submission.errors[""] = str(error)
        except NotFound as error:
            raise HTTPException(404, str(error)) from None
    if submission.errors or submission.warnings:
        return _page(request, form, who, submission, today, status_code=422)
    # The pregnancy's page says what was saved ("Saved: cervical length 24 mm on ...").
    saved_as = f"{form.collection}:{saved.row.id}"
    return RedirectResponse(f"/pregnancies/{pregnancy_id}?saved={saved_as}", status_code=303)
