"""The clinic's settings page, for admins only (issue 13, part 4):

    GET  /admin/clinic   the settings, with a warning for each one missing
    POST /admin/clinic   save them (audited as "clinic-settings"); a bad value is shown on
                         the form with its field named, and nothing is saved

The settings are read and saved by `app.clinic_settings`, as `cervixwatch clinic` does.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from cervixwatch.access.principal import Role
from cervixwatch.app import clinic_settings
from cervixwatch.app.errors import InvalidField
from cervixwatch.web.access import PrincipalDep, SignedIn, allow
from cervixwatch.web.deps import ProfilesDep, SessionsDep
from cervixwatch.web.pages.core import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ADMINS: Final = frozenset({Role.ADMIN})
PATH: Final = "/admin/clinic"
#: Far above any field's own limit, so that the use case, not the form parser, says what is
#: wrong (with the field named).
_FORM_MAX: Final = 2000

#: Each field's label, as the form and its error summary name it.
LABELS: Final = {
    "clinic_name": "Clinic name",
    "phone": "Clinic phone number",
    "triage_phone": "Maternity triage phone number",
    "letter_address": "Address line for letters",
    "date_format": "Date format",
    "guidelines": "Guidelines shown",
}

TextField = Annotated[str, Form(max_length=_FORM_MAX)]


def _page(
    request: Request,
    profiles: ProfilesDep,
    values: dict[str, Any],
    settings: clinic_settings.ClinicSettings,
    *,
    error: InvalidField | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "clinic_settings.html",
        {
            "values": values,
            "settings": settings,
            "labels": LABELS,
            "error": error,
            "saved": saved,
            "date_formats": [
                (k, example) for k, (example, _) in clinic_settings.DATE_FORMATS.items()
            ],
            "profiles": [(p.id, p.title) for p in profiles.values()],
            "action": PATH,
        },
        status_code=status_code,
    )


def _values_of(settings: clinic_settings.ClinicSettings, profiles: ProfilesDep) -> dict[str, Any]:
    return {
        "clinic_name": settings.clinic_name or "",
        "phone": settings.phone or "",
        "triage_phone": settings.triage_phone or "",
        "letter_address": settings.letter_address or "",
        "date_format": settings.date_format,
        "guidelines": [p.id for p in clinic_settings.chosen(settings, profiles)],
    }


@router.get(PATH)
@allow(SignedIn(ADMINS))
def clinic_settings_page(
    request: Request, sessions: SessionsDep, profiles: ProfilesDep, saved: bool = False
) -> Response:
    settings = clinic_settings.read_settings(sessions)
    return _page(request, profiles, _values_of(settings, profiles), settings, saved=saved)


@router.post(PATH)
@allow(SignedIn(ADMINS, audit_action="clinic-settings"))
def save_clinic_settings(
    request: Request,
    principal: PrincipalDep,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    clinic_name: TextField = "",
    phone: TextField = "",
    triage_phone: TextField = "",
    letter_address: TextField = "",
    date_format: TextField = "",
    guidelines: Annotated[list[str] | None, Form(max_length=64)] = None,
) -> Response:
    values: dict[str, Any] = {
        "clinic_name": clinic_name,
        "phone": phone,
        "triage_phone": triage_phone,
        "letter_address": letter_address,
        "date_format": date_format,
        "guidelines": guidelines or [],
    }
    try:
        clinic_settings.save_settings(
            sessions, values, known_guidelines=list(profiles), by=principal.user_id
        )
    except InvalidField as error:
        settings = clinic_settings.read_settings(sessions)
        return _page(request, profiles, values, settings, error=error, status_code=400)
    request.app.state.recent_clinic_settings.forget()  # this worker's pages show it at once
    # Post/Redirect/Get: a reload does not save again.
    return RedirectResponse(f"{PATH}?saved=true", status_code=303)
