"""CervixWatch launched as a SMART app by an EHR (`app.ehr_launch` does the work):

    GET /smart/launch     ?iss=<the EHR's FHIR base>&launch=<opaque> (EHR launch), or ?iss=
                          alone (standalone: the EHR asks which patient): to the EHR's
                          authorization endpoint, with PKCE S256 and state
    GET /smart/callback   ?code&state (or ?error): her records read from the EHR's FHIR
                          server and imported, then her pregnancy page

Both are a signed-in clinician's (anyone else is sent to sign in first, then back): the woman
read from the EHR joins her care teams, as her import would. Each is audited
("smart-launch"), the callback naming the woman.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from cervixwatch.app import ehr_launch
from cervixwatch.web.access import CLINICIANS, PrincipalDep, SignedIn, allow, audit_patient
from cervixwatch.web.deps import ProfilesDep, SessionsDep, SettingsDep, TodayDep
from cervixwatch.web.pages.core import PageRoute, error_page
from cervixwatch.web.smart_discovery import smart_base

router = APIRouter(route_class=PageRoute, include_in_schema=False)

LAUNCH_PATH: Final = "/smart/launch"
CALLBACK_PATH: Final = "/smart/callback"
_FIELD_MAX: Final = 2000


def _param(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return value[:_FIELD_MAX] if value else None


@router.get(LAUNCH_PATH)
@allow(SignedIn(CLINICIANS, audit_action="smart-launch"))
async def launch(
    request: Request, sessions: SessionsDep, settings: SettingsDep, principal: PrincipalDep
) -> Response:
    iss = _param(request, "iss")
    if iss is None:
        return error_page(request, 400, "The launch names no EHR (iss is missing).")
    try:
        started = await run_in_threadpool(
            ehr_launch.begin,
            sessions,
            settings.smart_ehrs,
            iss=iss,
            launch=_param(request, "launch"),
            user=principal,
            redirect_uri=smart_base(request) + CALLBACK_PATH,
        )
    except ehr_launch.LaunchError as error:
        return error_page(request, 400, f"CervixWatch could not be launched: {error}.")
    return RedirectResponse(started.authorize_url, status_code=303)


@router.get(CALLBACK_PATH)
@allow(SignedIn(CLINICIANS, audit_action="smart-launch"))
async def callback(
    request: Request,
    sessions: SessionsDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    profiles: ProfilesDep,
    today: TodayDep,
) -> Response:
    refused = _param(request, "error")
    if refused is not None:
        return error_page(request, 403, f"The EHR did not let CervixWatch in ({refused[:80]}).")
    state, code = _param(request, "state"), _param(request, "code")
    if state is None or code is None:
        return error_page(request, 400, "The EHR sent back no code or no state.")
    try:
        imported = await run_in_threadpool(
            ehr_launch.finish,
            sessions,
            settings.smart_ehrs,
            state=state,
            code=code,
            user=principal,
            today=today,
            profiles=profiles,
            local_system=settings.hospital_number_system,
        )
    except ehr_launch.LaunchError as error:
        return error_page(request, 400, f"CervixWatch could not be launched: {error}.")
    audit_patient(request, imported.patient_id)
    return RedirectResponse(f"/pregnancies/{imported.pregnancy_id}", status_code=303)
