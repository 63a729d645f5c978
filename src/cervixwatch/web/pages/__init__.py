"""The web pages: for clinicians the worklist and pregnancy pages, for patients their portal.
Every page module has its own router of `PageRoute`s; they are gathered here."""

from fastapi import APIRouter

from cervixwatch.web.pages import (
    appointments,
    clinic_settings,
    forms,
    letter,
    patient,
    pregnancy,
    pregnancy_amend,
    pregnancy_details,
    pregnancy_list,
    registration,
    sign_in,
    worklist,
)

router = APIRouter(include_in_schema=False)
for _module in (
    sign_in,
    worklist,
    pregnancy,
    forms,
    letter,
    patient,
    clinic_settings,
    appointments,
    registration,
    pregnancy_details,
    pregnancy_amend,
    pregnancy_list,
):
    router.include_router(_module.router)

__all__ = ["router"]
