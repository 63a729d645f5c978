"""What every page shares: templates, the signed-in user in every template, and errors shown
as pages.

Pages are server-rendered (Jinja2, autoescaped) with htmx for partial updates; every asset is
served by the app from /static, and no page has an inline script or style (the
content-security policy forbids both). Every route declares its access policy with
`web.access.allow`, as the API's routes do; a page that needs a signed-in user and has none
redirects to the sign-in page rather than answering 401.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlsplit

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from cervixwatch.access.principal import Principal, Role
from cervixwatch.app.clinic_settings import ClinicSettings, RecentSettings
from cervixwatch.web.access import CSRF_FIELD, SESSION_COOKIE, access_record, authenticate
from cervixwatch.web.pages.forms_fields import CHORIONICITY_WORDS_OF, DATING_WORDS_OF

log = logging.getLogger(__name__)

TEMPLATE_DIR: Final = Path(__file__).parent.parent / "templates"
templates: Final = Jinja2Templates(directory=TEMPLATE_DIR)
#: A twin pregnancy's chorionicity in words, wherever a page shows it.
templates.env.globals["chorionicity_words"] = CHORIONICITY_WORDS_OF
templates.env.globals["dating_words"] = DATING_WORDS_OF

#: An ISO date inside a sentence the clinical core wrote ("Next scan from 18+0 (2027-01-21)").
_ISO_DATE: Final = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


@pass_context
def clinic_dates(context: Context, text: Any) -> Any:
    """A sentence of the clinical core (a course-of-care state, a treatment, the history line)
    with each ISO date in it written as the page writes dates (the clinic's format: "21 Jan
    2027"), so one page never shows a date two ways. The core keeps ISO dates, which the JSON
    API and FHIR answer as they are; the letter does the same for its sentences."""
    write = context.get("date")
    if not isinstance(text, str) or write is None:
        return text

    def written(found: re.Match[str]) -> str:
        try:
            return str(write(found.group(1)))
        except ValueError:  # not a calendar date after all: left as it was
            return found.group(0)

    return _ISO_DATE.sub(written, text)


templates.env.filters["clinic_dates"] = clinic_dates

#: Where each role lands after signing in.
HOME: Final = {
    Role.CLINICIAN: "/worklist",
    Role.PATIENT: "/my",
    Role.ADMIN: "/admin/users",
    Role.AUDITOR: "/audit",
    Role.QUALITY_LEAD: "/quality/audit",
}

#: The pages an admin or an auditor can use: a page asked for before signing in (`next`)
#: outside them would only answer 403, so she lands on her home page instead. Clinicians and
#: patients go back to any page asked for.
_OWN_PAGES: Final = {
    Role.ADMIN: ("/admin/", "/account"),
    Role.AUDITOR: ("/audit/", "/audit", "/quality/", "/account"),
    Role.QUALITY_LEAD: ("/quality/", "/account"),
}


def landing(role: Role, target: str | None) -> str:
    """Where a user of `role` goes once signed in: back to `target` (a local path, checked
    by `safe_next`) if her role can use it, else her home page."""
    own = _OWN_PAGES.get(role)
    if target and own is not None:
        path = target.split("?", 1)[0]
        if not any(path == p or (p.endswith("/") and path.startswith(p)) for p in own):
            return HOME[role]
    return target or HOME[role]


_ERROR_TITLES: Final = {
    400: "That request could not be read",
    403: "You do not have access to this page",
    404: "Not found",
    405: "Not allowed",
    413: "Too large",
    429: "Too many requests",
}


def _clinic_settings(request: Request) -> ClinicSettings:
    recent: RecentSettings | None = getattr(request.app.state, "recent_clinic_settings", None)
    # Before the app has started (no database yet): the defaults.
    return recent.get() if recent is not None else ClinicSettings()


def principal_of(request: Request) -> Principal | None:
    try:
        return authenticate(request)
    except HTTPException:
        return None


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """The template `name` with what every page needs: the signed-in user, her CSRF token
    (every form carries it in the `csrf_token` field) and the clinic's date."""
    principal = principal_of(request)
    today: dt.date = request.app.state.today()
    response = templates.TemplateResponse(
        request,
        name,
        {
            "principal": principal,
            "csrf_field": CSRF_FIELD,
            "csrf_token": principal.csrf_token if principal else None,
            "today": today,
            # Dates as the clinic writes them (its settings; "6 Mar 2026" by default), on
            # every page; a page that has read the settings itself may pass its own.
            "date": _clinic_settings(request).short_date,
            "home": HOME.get(principal.role, "/") if principal else "/sign-in",
            **(context or {}),
        },
        status_code=status_code,
    )
    # Pages show patient data: never kept by the browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    title = _ERROR_TITLES.get(status, "Something went wrong")
    return render(
        request,
        "error.html",
        {"title": title, "detail": detail, "status": status},
        status_code=status,
    )


def _to_sign_in(request: Request) -> Response:
    """Send the browser to sign in, and back here afterwards. A request htmx made for part of
    a page (a worklist refreshing itself after the sign-in idled out) is told to take the
    whole window there (`HX-Redirect`), so the sign-in page never lands inside a table and the
    patients' data leaves the screen."""
    # A browser that still sends its sign-in cookie had signed in: her sign-in has ended (it
    # idled out, or was ended by signing out elsewhere or a password change), and the sign-in
    # page says so instead of leaving her to wonder why the worklist went away.
    ended = "&ended=1" if request.cookies.get(SESSION_COOKIE) else ""
    if request.headers.get("HX-Request") == "true":
        page = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = safe_next(page.path + (f"?{page.query}" if page.query else "")) or "/"
        return Response(
            status_code=204, headers={"HX-Redirect": f"/sign-in?next={quote(back)}{ended}"}
        )
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(f"/sign-in?next={quote(target)}{ended}", status_code=303)


class PageRoute(APIRoute):
    """A page: refusals become pages (401 sends the browser to sign in), never JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as error:
                if error.status_code == 401:
                    # Recorded as the refusal it is, not as the redirect's success.
                    access_record(request).refused = 401
                    return _to_sign_in(request)
                return error_page(request, error.status_code, str(error.detail))
            except RequestValidationError as error:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}"
                    for e in error.errors()
                )
                return error_page(request, 400, problems)

        return route


def safe_next(target: str | None) -> str | None:
    """A local path to go back to after signing in; anything else (another site) is dropped."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    return target
