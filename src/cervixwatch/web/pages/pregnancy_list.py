"""The clinicians' list of pregnancies by status (issue 13, part 2): `/pregnancies?status=ended`
(the default) lists the ended ones, the latest ended first, each linked to its page;
`status=active` the active ones. Dates in the clinic's format."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from cervixwatch.access.principal import scope_of
from cervixwatch.app import pregnancies
from cervixwatch.app.clinic_settings import read_settings
from cervixwatch.app.rows import PregnancyStatus
from cervixwatch.web.access import ClinicalList, PrincipalDep, allow
from cervixwatch.web.deps import SessionsDep
from cervixwatch.web.pages.core import PageRoute, render
from cervixwatch.web.pages.worklist_words import display_name

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_STATUSES = {s.value: s for s in PregnancyStatus}


@router.get("/pregnancies")
@allow(ClinicalList())
async def pregnancy_list(
    request: Request, principal: PrincipalDep, sessions: SessionsDep, status: str = "ended"
) -> Response:
    chosen = _STATUSES.get(status)
    if chosen is None:
        raise HTTPException(422, f"status: one of {', '.join(_STATUSES)} (not {status!r})")
    listed = await run_in_threadpool(
        pregnancies.pregnancies_listed, sessions, chosen, scope_of(principal)
    )
    settings = await run_in_threadpool(read_settings, sessions)
    return render(
        request,
        "pregnancy_list.html",
        {
            "status": chosen.value,
            "statuses": list(_STATUSES),
            "listed": listed,
            "name_of": lambda p: display_name(p.family_name, p.given_name),
            "date_of": settings.date,
        },
    )
