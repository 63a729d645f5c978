"""Registering a referral from the pages (issue 13, part 2): the woman, then her pregnancy.

    GET/POST /patients/new                          her hospital number, NHS number, names,
                                                    birth date; 303 to her pregnancy's form
    GET/POST /patients/{patient_id}/pregnancies/new the EDD, the number of fetuses and a
                                                    twin pregnancy's chorionicity; 303 to
                                                    the pregnancy's page

Each form is checked by the JSON API's model (`web.api.patients.PatientCreate`,
`web.api.pregnancies.PregnancyCreate`) and saved by the same use case as the API
(`app.patients.register_patient`, `app.pregnancies.start_pregnancy`): one validation path.
A woman whose hospital or NHS number is stored already is not registered twice: the form
says so and links to her when the clinician's care team has her (`patients.visible_to`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from cervixwatch.access.principal import scope_of
from cervixwatch.app import patients, pregnancies
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.web.access import (
    ClinicalList,
    PatientData,
    PrincipalDep,
    allow,
    audit_patient,
    by_patient,
)
from cervixwatch.web.api.patients import PatientCreate
from cervixwatch.web.api.pregnancies import PregnancyCreate
from cervixwatch.web.deps import ProfilesDep, SessionsDep, SettingsDep, TodayDep
from cervixwatch.web.pages.core import PageRoute, render
from cervixwatch.web.pages.forms_context import error_summary
from cervixwatch.web.pages.forms_fields import (
    CHORIONICITY_WORDS,
    DATING_WORDS,
    DateBounds,
    Input,
    draw,
)
from cervixwatch.web.pages.forms_reading import Submission, read_form, sentence, typed_values

router = APIRouter(route_class=PageRoute, include_in_schema=False)

WOMAN = (
    Input("hospital_number", "Hospital number", "text"),
    Input(
        "nhs_number",
        "NHS number",
        "text",
        hint="10 digits, e.g. 943 476 5919; its check digit is checked.",
    ),
    Input("family_name", "Family name", "text"),
    Input("given_name", "Given name", "text"),
    Input("birth_date", "Date of birth", "date"),
)

PREGNANCY = (
    Input("edd", "Estimated due date (EDD)", "date", hint="40+0."),
    Input("dating_method", "How the EDD was worked out", "select", words=DATING_WORDS),
    Input("fetuses", "Number of fetuses", "number", step="1"),
    Input(
        "chorionicity",
        "Chorionicity (twins only)",
        "select",
        hint="From the dating scan. Leave “Not recorded” unless there are 2 fetuses.",
        words=CHORIONICITY_WORDS,
    ),
)


def _woman_page(
    request: Request,
    submission: Submission,
    today: dt.date,
    *,
    registered: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    fields = draw(WOMAN, PatientCreate, submission.typed, submission.errors, DateBounds(today))
    return render(
        request,
        "register_woman.html",
        {
            "fields": fields,
            "summary": error_summary(fields, submission.errors),
            "registered": registered,
        },
        status_code=status_code,
    )


@router.get("/patients/new")
@allow(ClinicalList(audit_action="register-form"))
def new_woman(request: Request, today: TodayDep) -> Response:
    return _woman_page(request, Submission({}, {}), today)


def _her_link(sessions: Any, patient_id: str) -> str:
    her = patients.get_patient(sessions, patient_id)
    if her.active_pregnancy_id is not None:
        return f"/pregnancies/{her.active_pregnancy_id}"
    return f"/patients/{her.id}/pregnancies/new"


@router.post("/patients/new")
@allow(ClinicalList(audit_action="create", writes=True))
async def register_woman(
    request: Request,
    principal: PrincipalDep,
    sessions: SessionsDep,
    today: TodayDep,
    settings: SettingsDep,
) -> Response:
    submission = read_form(WOMAN, PatientCreate, typed_values(WOMAN, await request.form()))
    registered = None
    if submission.body is not None:
        try:
            her = await run_in_threadpool(
                patients.register_patient,
                sessions,
                submission.body.columns(),
                today=today,
                team_ids=principal.team_ids,
                local_system=settings.hospital_number_system,
            )
            audit_patient(request, her.id)
            return RedirectResponse(
                f"/patients/{her.id}/pregnancies/new?saved=woman", status_code=303
            )
        except patients.AlreadyRegistered as error:
            submission.errors[""] = sentence(str(error)) + ": she is not registered twice."
            if await run_in_threadpool(
                patients.visible_to, sessions, error.patient_id, scope_of(principal)
            ):
                link = await run_in_threadpool(_her_link, sessions, error.patient_id)
                registered = {"href": link}
        except InvalidField as error:
            submission.errors[error.field] = sentence(error.message)
        except Conflict as error:
            submission.errors[""] = sentence(str(error))
    return _woman_page(request, submission, today, registered=registered, status_code=422)


def _pregnancy_page(
    request: Request,
    her: patients.Patient,
    submission: Submission,
    today: dt.date,
    *,
    saved: bool = False,
    status_code: int = 200,
) -> Response:
    # An EDD may lie up to 280 days ahead (`checks.due_date`).
    bounds = DateBounds(today + dt.timedelta(days=280))
    fields = draw(PREGNANCY, PregnancyCreate, submission.typed, submission.errors, bounds)
    return render(
        request,
        "register_pregnancy.html",
        {
            "her": her,
            "fields": fields,
            "summary": error_summary(fields, submission.errors),
            "saved": saved,
        },
        status_code=status_code,
    )


def _her(sessions: Any, patient_id: str) -> patients.Patient:
    try:
        return patients.get_patient(sessions, patient_id)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None


@router.get("/patients/{patient_id}/pregnancies/new")
@allow(PatientData("write", by_patient()))
def new_pregnancy(
    request: Request,
    patient_id: str,
    sessions: SessionsDep,
    today: TodayDep,
    saved: str | None = None,
) -> Response:
    her = _her(sessions, patient_id)
    return _pregnancy_page(request, her, Submission({}, {}), today, saved=saved == "woman")


@router.post("/patients/{patient_id}/pregnancies/new")
@allow(PatientData("write", by_patient()))
async def start_pregnancy(
    request: Request,
    patient_id: str,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
) -> Response:
    her = await run_in_threadpool(_her, sessions, patient_id)
    typed = typed_values(PREGNANCY, await request.form())
    submission = read_form(PREGNANCY, PregnancyCreate, typed)
    if submission.body is not None:
        try:
            saved = await run_in_threadpool(
                pregnancies.start_pregnancy,
                sessions,
                patient_id,
                submission.body.columns(),
                today=today,
                profiles=profiles,
            )
            return RedirectResponse(f"/pregnancies/{saved.row.id}?saved=pregnancy", status_code=303)
        except InvalidField as error:
            submission.errors[error.field] = sentence(error.message)
        except Conflict as error:
            submission.errors[""] = sentence(str(error))
    return _pregnancy_page(request, her, submission, today, status_code=422)
