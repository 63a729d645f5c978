"""Amending a pregnancy's EDD, fetus count or chorionicity from its page (issue 13, part 2):
the form shows what is recorded; a recorded value changed is an amendment and needs the reason,
and what it was is kept as a correction (`app.pregnancies.update_pregnancy`); recording a
value not yet recorded needs none. Checked by the API's model
(`web.api.pregnancies.PregnancyUpdate`) and the use case, then back to the page, which says
what was saved.

    GET/POST /pregnancies/{pregnancy_id}/details
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from cervixwatch.app import pregnancies
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.web.access import PatientData, PrincipalDep, allow, by_pregnancy
from cervixwatch.web.api.pregnancies import PregnancyUpdate
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep
from cervixwatch.web.pages.core import PageRoute, render
from cervixwatch.web.pages.forms_context import Whose, clinicians_only, error_summary, whose
from cervixwatch.web.pages.forms_fields import (
    CHORIONICITY_WORDS,
    DATING_WORDS,
    DateBounds,
    Input,
    draw,
)
from cervixwatch.web.pages.forms_reading import Submission, read_form, sentence, typed_values

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DETAILS = (
    Input("edd", "Estimated due date (EDD)", "date", hint="40+0."),
    Input("dating_method", "How the EDD was worked out", "select", words=DATING_WORDS),
    Input(
        "fetuses",
        "Number of fetuses",
        "number",
        hint="Leave empty if it is not known (the rules then take one).",
        step="1",
    ),
    Input(
        "chorionicity",
        "Chorionicity (twins only)",
        "select",
        hint="From the dating scan. Leave “Not recorded” unless there are 2 fetuses.",
        words=CHORIONICITY_WORDS,
    ),
    Input(
        "reason",
        "Reason for the change",
        "text",
        hint="Needed when you change a recorded EDD, dating method, number of fetuses or "
        "chorionicity, for example "
        "“re-dated by the 12-week scan”. It is kept with what was recorded before.",
    ),
)


def _page(
    request: Request, who: Whose, submission: Submission, today: dt.date, status: int = 200
) -> Response:
    # An EDD is at most 280 days ahead (as at registration); the use case checks the rest
    # (no recorded finding may fall outside the pregnancy it dates).
    bounds = DateBounds(today + dt.timedelta(days=280))
    fields = draw(DETAILS, PregnancyUpdate, submission.typed, submission.errors, bounds)
    return render(
        request,
        "amend_pregnancy.html",
        {"who": who, "fields": fields, "summary": error_summary(fields, submission.errors)},
        status_code=status,
    )


@router.get("/pregnancies/{pregnancy_id}/details")
@allow(PatientData("read", by_pregnancy()))
async def details_form(
    request: Request,
    pregnancy_id: str,
    sessions: SessionsDep,
    today: TodayDep,
    principal: PrincipalDep,
) -> Response:
    clinicians_only(principal, "amends her pregnancy's details")
    who = await run_in_threadpool(whose, sessions, pregnancy_id, today)
    recorded = {
        "edd": who.edd.isoformat() if who.edd else "",
        "dating_method": str(who.dating_method) if who.dating_method else "",
        "fetuses": str(who.fetuses) if who.fetuses else "",
        "chorionicity": str(who.chorionicity) if who.chorionicity else "",
    }
    return _page(request, who, Submission(recorded, {}), today)


@router.post("/pregnancies/{pregnancy_id}/details")
@allow(PatientData("write", by_pregnancy()))
async def amend(
    request: Request,
    pregnancy_id: str,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
    principal: PrincipalDep,
) -> Response:
    clinicians_only(principal, "amends her pregnancy's details")
    who = await run_in_threadpool(whose, sessions, pregnancy_id, today)
    submission = read_form(DETAILS, PregnancyUpdate, typed_values(DETAILS, await request.form()))
    if submission.body is not None:
        body = submission.body
        # The form holds the whole of the details: an emptied field is "not recorded".
        changes = {
            "edd": body.edd,
            "dating_method": body.dating_method,
            "fetuses": body.fetuses,
            "chorionicity": body.chorionicity,
        }
        try:
            await run_in_threadpool(
                lambda: pregnancies.update_pregnancy(
                    sessions,
                    pregnancy_id,
                    changes,
                    today=today,
                    profiles=profiles,
                    reason=body.reason,
                    user_id=principal.user_id,
                )
            )
        except InvalidField as error:
            field = error.field if error.field in {i.name for i in DETAILS} else "edd"
            submission.errors[field] = sentence(error.message)
        except Conflict as error:
            submission.errors[""] = sentence(str(error))
        except NotFound as error:
            raise HTTPException(404, str(error)) from None
    if submission.errors:
        return _page(request, who, submission, today, status=422)
    return RedirectResponse(
        f"/pregnancies/{pregnancy_id}?saved=details:{pregnancy_id}", status_code=303
    )
