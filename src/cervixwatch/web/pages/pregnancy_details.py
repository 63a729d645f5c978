"""Ending a pregnancy from its page (issue 13, part 2): the day, the outcome and how it
started; saved by the API's model and use case (`web.api.pregnancy_close`,
`app.pregnancies.close_pregnancy`), then back to the page, which says it has ended.

    GET/POST /pregnancies/{pregnancy_id}/close
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from cervixwatch.app import pregnancies
from cervixwatch.app.checks import NeedsConfirmation
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.web.access import PatientData, PrincipalDep, allow, by_pregnancy
from cervixwatch.web.api.pregnancy_close import PregnancyClose
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep
from cervixwatch.web.pages.core import PageRoute, render
from cervixwatch.web.pages.forms_context import (
    Whose,
    clinicians_only,
    error_summary,
    pregnancy_dates,
    whose,
)
from cervixwatch.web.pages.forms_fields import Input, draw
from cervixwatch.web.pages.forms_reading import Submission, read_form, sentence, typed_values

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CLOSE = (
    Input("ended_on", "Day of the birth or loss", "date"),
    Input(
        "outcome",
        "Outcome",
        "select",
        words=(
            ("live-birth", "Live birth"),
            ("stillbirth", "Stillbirth"),
            ("miscarriage", "Miscarriage"),
            ("termination", "Termination"),
            ("ectopic", "Ectopic pregnancy"),
        ),
    ),
    Input(
        "onset",
        "How it started",
        "select",
        hint="Induction and a pre-labour caesarean are medically indicated.",
        words=(
            ("spontaneous-labour", "Spontaneous labour"),
            ("pprom", "Preterm prelabour rupture of membranes (PPROM)"),
            ("painless-cervical-dilation", "Painless cervical dilation"),
            ("medically-indicated", "Medically indicated (induction, pre-labour caesarean)"),
            ("unknown", "Unknown"),
        ),
    ),
)


def _page(
    request: Request, who: Whose, submission: Submission, today: dt.date, status: int = 200
) -> Response:
    fields = draw(
        CLOSE, PregnancyClose, submission.typed, submission.errors, pregnancy_dates(who, today)
    )
    return render(
        request,
        "close_pregnancy.html",
        {"who": who, "fields": fields, "summary": error_summary(fields, submission.errors)},
        status_code=status,
    )


@router.get("/pregnancies/{pregnancy_id}/close")
@allow(PatientData("read", by_pregnancy()))
async def close_form(
    request: Request,
    pregnancy_id: str,
    sessions: SessionsDep,
    today: TodayDep,
    principal: PrincipalDep,
) -> Response:
    clinicians_only(principal, "ends her pregnancy")
    who = await run_in_threadpool(whose, sessions, pregnancy_id, today)
    return _page(request, who, Submission({"ended_on": today.isoformat()}, {}), today)


@router.post("/pregnancies/{pregnancy_id}/close")
@allow(PatientData("write", by_pregnancy()))
async def close(
    request: Request,
    pregnancy_id: str,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
) -> Response:
    who = await run_in_threadpool(whose, sessions, pregnancy_id, today)
    submission = read_form(CLOSE, PregnancyClose, typed_values(CLOSE, await request.form()))
    if submission.body is not None:
        body = submission.body
        try:
            await run_in_threadpool(
                lambda: pregnancies.close_pregnancy(
                    sessions,
                    pregnancy_id,
                    ended_on=body.ended_on,
                    outcome=body.outcome,
                    onset=body.onset,
                    today=today,
                    profiles=profiles,
                )
            )
        except InvalidField as error:
            field = error.field if error.field in {i.name for i in CLOSE} else "ended_on"
            submission.errors[field] = sentence(error.message)
        except (Conflict, NeedsConfirmation) as error:
            submission.errors[""] = sentence(str(error))
        except NotFound as error:
            raise HTTPException(404, str(error)) from None
    if submission.errors:
        return _page(request, who, submission, today, status=422)
    return RedirectResponse(f"/pregnancies/{pregnancy_id}", status_code=303)
