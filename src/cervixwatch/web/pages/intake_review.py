"""The review queue of device reports, for clinicians (issue 14, part 3):

    GET  /intake/review                       the reports that matched no woman, oldest first
    POST /intake/review/{report_id}/match     store one for the woman with a hospital number
    POST /intake/review/{report_id}/discard   discard one (not a woman of this clinic)

Each change is audited ("intake-review") in the transaction that makes it
(`app.intake_review`); a hospital number that names no woman of the clinician's care teams
is shown on the page with the field named, and nothing is stored.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Form, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from cervixwatch.access.principal import scope_of
from cervixwatch.app import intake_review
from cervixwatch.app.device_readers import DeviceReaders, load_device_codes
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.web.access import CLINICIANS, PrincipalDep, SignedIn, allow
from cervixwatch.web.audit import entry_for, recorded_by_route
from cervixwatch.web.deps import ProfilesDep, SessionsDep, SettingsDep, TodayDep
from cervixwatch.web.pages.core import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PATH: Final = "/intake/review"


def _page(
    request: Request,
    sessions: SessionsDep,
    *,
    error: tuple[int, str] | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "intake_review.html",
        {
            "reports": intake_review.waiting(sessions),
            "error": error,
            "done": done,
            "stored_at": request.query_params.get("stored"),
        },
        status_code=status_code,
    )


@router.get(PATH)
@allow(SignedIn(CLINICIANS, audit_action="intake-review-list"))
def review_queue(request: Request, sessions: SessionsDep, done: str | None = None) -> Response:
    shown = {"matched": "The report was stored for her.", "discarded": "The report was discarded."}
    return _page(request, sessions, done=shown.get(done or ""))


@router.post(PATH + "/{report_id}/match")
@allow(SignedIn(CLINICIANS, audit_action="intake-review"))
async def match_report(
    request: Request,
    report_id: int,
    principal: PrincipalDep,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    settings: SettingsDep,
    today: TodayDep,
    hospital_number: Annotated[str, Form(max_length=255)] = "",
) -> Response:
    audit = entry_for(request, 303)
    assert audit is not None
    try:
        _, pregnancy_id = await run_in_threadpool(
            intake_review.match,
            sessions,
            report_id,
            hospital_number,
            readers=DeviceReaders(load_device_codes(settings.device_codes_file)),
            profiles=profiles,
            today=today,
            local_system=settings.hospital_number_system,
            scope=scope_of(principal),
            user_id=principal.user_id,
            audit=audit,
        )
    except InvalidField as error:
        return _page(request, sessions, error=(report_id, error.message), status_code=422)
    except (Conflict, NotFound) as error:
        return _page(request, sessions, error=(report_id, str(error)), status_code=409)
    recorded_by_route(request, 303)
    return RedirectResponse(f"{PATH}?done=matched&stored={pregnancy_id}", status_code=303)


@router.post(PATH + "/{report_id}/discard")
@allow(SignedIn(CLINICIANS, audit_action="intake-review"))
async def discard_report(
    request: Request, report_id: int, principal: PrincipalDep, sessions: SessionsDep
) -> Response:
    audit = entry_for(request, 303)
    assert audit is not None
    try:
        await run_in_threadpool(
            intake_review.discard, sessions, report_id, user_id=principal.user_id, audit=audit
        )
    except NotFound as error:
        return _page(request, sessions, error=(report_id, str(error)), status_code=409)
    recorded_by_route(request, 303)
    return RedirectResponse(f"{PATH}?done=discarded", status_code=303)
