"""Signing in and out from the browser, and the front door that sends each role home."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from cervixwatch.app import accounts
from cervixwatch.app.errors import InvalidField
from cervixwatch.settings import Settings
from cervixwatch.web.access import (
    EVERYONE_SIGNED_IN,
    PUBLIC,
    PrincipalDep,
    SignedIn,
    access_record,
    allow,
)
from cervixwatch.web.deps import SessionsDep, SettingsDep
from cervixwatch.web.pages.core import HOME, PageRoute, landing, principal_of, render, safe_next
from cervixwatch.web.signing_in import (
    ForgedSignIn,
    TooManyAttempts,
    check_backoff,
    check_not_forged,
    clear_wrong_passwords,
    count_wrong_password,
    end_sign_in,
    password_sign_in,
    set_session_cookie,
    set_sign_in_form_cookie,
    sign_in_form_token,
    sign_in_refused_for,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/")
@allow(PUBLIC)
def front_door(request: Request) -> Response:
    principal = principal_of(request)
    if principal is None:
        return RedirectResponse("/sign-in", status_code=303)
    return RedirectResponse(HOME[principal.role], status_code=303)


def _sign_in_form(
    request: Request, settings: Settings, context: dict[str, Any], status_code: int = 200
) -> Response:
    """The sign-in page, its form carrying this browser's pre-session token (login CSRF,
    `web.signing_in`), whose cookie is set (again) with it."""
    token = sign_in_form_token(request, settings)
    page = render(
        request, "sign_in.html", {**context, "sign_in_token": token}, status_code=status_code
    )
    set_sign_in_form_cookie(page, request, settings, token)
    return page


@router.get("/sign-in")
@allow(PUBLIC)
def sign_in_page(
    request: Request, settings: SettingsDep, next: str | None = None, ended: bool = False
) -> Response:
    """The sign-in form; `ended`: she was signed in, and is told why she is asked again."""
    return _sign_in_form(
        request,
        settings,
        {
            "next": safe_next(next),
            "error": None,
            "ended": ended,
            "idle_minutes": settings.session_idle_minutes,
        },
    )


@router.post("/sign-in")
@allow(PUBLIC)
async def sign_in(
    request: Request,
    sessions: SessionsDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str | None, Form()] = None,
) -> Response:
    record = access_record(request)
    record.action = "sign-in"
    target = safe_next(next)
    try:
        await check_not_forged(request, settings, json=False)
    except ForgedSignIn:
        # Login CSRF (issue 12): the username is not shown back, it may be an attacker's.
        error = "This sign-in did not come from this page, or the page had expired. Sign in here."
        return _sign_in_form(request, settings, {"next": target, "error": error}, 403)
    try:
        signed_in = await password_sign_in(request, sessions, settings, username, password)
    except TooManyAttempts as refused:
        waiting = _sign_in_form(
            request,
            settings,
            {
                "next": target,
                "username": username,
                "error": "Too many attempts. Wait a few minutes and try again.",
            },
            429,
        )
        waiting.headers["Retry-After"] = str(refused.retry_after)
        return waiting
    except accounts.SignInRefused:
        return _sign_in_form(
            request,
            settings,
            {"next": target, "username": username, "error": "Wrong username or password."},
            401,
        )
    record.principal = signed_in.principal
    response = RedirectResponse(landing(signed_in.principal.role, target), status_code=303)
    set_session_cookie(response, request, settings, signed_in.secret)
    return response


@router.get("/set-password")
@allow(PUBLIC)
def set_password_page(request: Request, settings: SettingsDep) -> Response:
    """Where a user sets her own password with the one-time code an admin gave her (issue 12,
    F2: an admin never sets one)."""
    context = {"error": None, "done": False, "hours": settings.one_time_code_hours}
    return render(request, "set_password.html", context)


@router.post("/set-password")
@allow(PUBLIC)
async def set_password(
    request: Request,
    sessions: SessionsDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)] = "",
    code: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    again: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    record = access_record(request)
    record.action = "password-set"

    def refused(error: str, status: int) -> Response:
        context = {
            "error": error,
            "done": False,
            "username": username,
            "hours": settings.one_time_code_hours,
        }
        return render(request, "set_password.html", context, status_code=status)

    if password != again:
        return refused("The two passwords differ.", 422)
    if sign_in_refused_for(request, settings, username) is not None:
        return refused("Too many attempts. Wait a few minutes and try again.", 429)
    try:
        check_backoff(request, username)
    except TooManyAttempts:
        return refused("Too many attempts. Wait a few minutes and try again.", 429)
    try:
        user = await run_in_threadpool(
            accounts.set_password_with_code, sessions, username, code, password
        )
    except accounts.CodeRefused:
        count_wrong_password(request, settings, username)
        return refused("That username and code do not match a code still valid.", 401)
    except InvalidField as error:
        return refused(f"The new password: {error.message}.", 422)
    clear_wrong_passwords(request, username)
    record.target_user_id = user.id
    return render(request, "set_password.html", {"error": None, "done": True})


@router.post("/sign-out")
@allow(SignedIn(EVERYONE_SIGNED_IN))
def sign_out(principal: PrincipalDep, sessions: SessionsDep) -> Response:
    return end_sign_in(RedirectResponse("/sign-in", status_code=303), sessions, principal)


@router.get("/account")
@allow(SignedIn(EVERYONE_SIGNED_IN))
def account(request: Request) -> Response:
    """Home of admins and auditors, whose work is on the command line and the API."""
    return render(request, "account.html")
