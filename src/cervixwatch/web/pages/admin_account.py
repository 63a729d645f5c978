"""One account, as an admin manages it (issue 13, part 9).

    GET  /admin/users/{user_id}                  the account, and a form for each change
    POST /admin/users/{user_id}/role             another role (her sign-ins and tokens end)
    POST /admin/users/{user_id}/teams            add her to a care team ("access-grant")
    POST /admin/users/{user_id}/teams/remove     take her out of one
    POST /admin/users/{user_id}/disable          disable (her sign-ins and tokens end) ...
    POST /admin/users/{user_id}/enable           ... or enable her account
    POST /admin/users/{user_id}/unlock           lift an old lock, clear the wrong-password count
    POST /admin/users/{user_id}/reset-password   her password stops working; a one-time code

Accounts are named by id in the path, so the audit log's path holds no username. A change
answers with a redirect to the account's page and a notice of what was done (post, redirect,
get: reloading it changes nothing again); a refused change comes back (422) with the reason
beside its field. A reset answers with the code itself, shown this once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from cervixwatch.access.principal import Role
from cervixwatch.app import account_admin, accounts
from cervixwatch.app.account_admin import AccountLine
from cervixwatch.app.errors import InvalidField, NotFound
from cervixwatch.web.access import PrincipalDep, access_record, allow, audit_target
from cervixwatch.web.deps import SessionsDep, SettingsDep
from cervixwatch.web.pages.admin_shared import (
    ADMIN_PAGES,
    ROLE_LABELS,
    STATE_LABELS,
    problems,
    sentence,
)
from cervixwatch.web.pages.core import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

UserId = Annotated[str, Path(max_length=36)]

#: The account page's forms: the field each one's errors are shown beside, by its id.
FIELDS: Final = {
    "role": "account-role",
    "add_team": "account-add-team",
    "remove_team": "account-teams",
    "disabled": "account-sign-in",
    "unlock": "account-sign-in",
    "reset": "account-sign-in",
}

#: What the page says after a change (`?done=`): fixed words, never a value from the URL.
NOTICES: Final = {
    "role": "The role is changed. Her sign-ins have ended and her tokens are revoked.",
    "team-added": "She is added to the care team: she can now see its women's records.",
    "team-removed": "She is taken out of the care team.",
    "disabled": "The account is disabled. Her sign-ins have ended and her tokens are revoked.",
    "enabled": "The account is enabled. Tokens revoked before stay revoked.",
    "unlocked": "The account is unlocked and its count of wrong passwords cleared.",
}


def _line(sessions: SessionsDep, user_id: str) -> AccountLine:
    try:
        return account_admin.account_line(sessions, user_id)
    except NotFound:
        raise HTTPException(404, "There is no such account.") from None


def _page(
    request: Request,
    sessions: SessionsDep,
    line: AccountLine,
    *,
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    errors = errors or {}
    all_teams = [t.name for t in accounts.list_team_summaries(sessions)]
    return render(
        request,
        "admin_user.html",
        {
            "account": line,
            "errors": errors,
            "summary": problems(errors, FIELDS),
            "ids": FIELDS,
            "notice": notice,
            "roles": ROLE_LABELS,
            "states": STATE_LABELS,
            "other_roles": [
                r
                for r in (Role.CLINICIAN, Role.ADMIN, Role.AUDITOR, Role.QUALITY_LEAD)
                if r != line.role
            ],
            "teams_to_add": [t for t in all_teams if t not in line.teams],
        },
        status_code=status_code,
    )


@router.get("/admin/users/{user_id}")
@allow(ADMIN_PAGES)
def account_page(
    request: Request,
    sessions: SessionsDep,
    user_id: UserId,
    done: Annotated[str, Query()] = "",
) -> Response:
    line = _line(sessions, user_id)
    audit_target(request, line.id)  # which account an admin looked at
    return _page(request, sessions, line, notice=NOTICES.get(done))


def _change(
    request: Request,
    sessions: SessionsDep,
    user_id: str,
    field: str,
    done: str,
    change: Callable[[str], Any],
) -> Response:
    """Make `change` (given the account's username) and go back to the account's page; a
    refusal comes back beside `field`. The audit entry names the account either way."""
    line = _line(sessions, user_id)
    audit_target(request, line.id)
    try:
        change(line.username)
    except InvalidField as error:
        fresh = _line(sessions, user_id)
        errors = {field: sentence(error.message)}
        return _page(request, sessions, fresh, errors=errors, status_code=422)
    except NotFound:
        raise HTTPException(404, "There is no such account.") from None
    return RedirectResponse(f"/admin/users/{line.id}?done={done}", status_code=303)


@router.post("/admin/users/{user_id}/role")
@allow(ADMIN_PAGES)
def change_role(
    request: Request,
    sessions: SessionsDep,
    principal: PrincipalDep,
    user_id: UserId,
    role: Annotated[str, Form()] = "",
) -> Response:
    try:
        chosen = Role(role)
    except ValueError:
        line = _line(sessions, user_id)
        audit_target(request, line.id)
        errors = {"role": "Choose a role."}
        return _page(request, sessions, line, errors=errors, status_code=422)
    return _change(
        request,
        sessions,
        user_id,
        "role",
        "role",
        lambda username: account_admin.change_role(
            sessions, username, chosen, by=principal.user_id
        ),
    )


@router.post("/admin/users/{user_id}/teams")
@allow(ADMIN_PAGES)
def add_to_team(
    request: Request,
    sessions: SessionsDep,
    principal: PrincipalDep,
    user_id: UserId,
    team: Annotated[str, Form()] = "",
) -> Response:
    """A grant of access: the clinician sees the team's women from now on."""
    access_record(request).action = "access-grant"
    if not team.strip():
        line = _line(sessions, user_id)
        audit_target(request, line.id)
        errors = {"add_team": "Choose a care team."}
        return _page(request, sessions, line, errors=errors, status_code=422)
    return _change(
        request,
        sessions,
        user_id,
        "add_team",
        "team-added",
        lambda username: accounts.update_user(
            sessions, username, add_teams=[team], by=principal.user_id
        ),
    )


@router.post("/admin/users/{user_id}/teams/remove")
@allow(ADMIN_PAGES)
def remove_from_team(
    request: Request,
    sessions: SessionsDep,
    principal: PrincipalDep,
    user_id: UserId,
    team: Annotated[str, Form()] = "",
) -> Response:
    return _change(
        request,
        sessions,
        user_id,
        "remove_team",
        "team-removed",
        lambda username: accounts.update_user(
            sessions, username, remove_teams=[team], by=principal.user_id
        ),
    )


def _set_disabled(
    request: Request, sessions: SessionsDep, by: str, user_id: str, disabled: bool
) -> Response:
    return _change(
        request,
        sessions,
        user_id,
        "disabled",
        "disabled" if disabled else "enabled",
        lambda username: accounts.update_user(sessions, username, disabled=disabled, by=by),
    )


@router.post("/admin/users/{user_id}/disable")
@allow(ADMIN_PAGES)
def disable(
    request: Request, sessions: SessionsDep, principal: PrincipalDep, user_id: UserId
) -> Response:
    """Her sign-ins end and her tokens are revoked, for good (enabling revives none)."""
    return _set_disabled(request, sessions, principal.user_id, user_id, True)


@router.post("/admin/users/{user_id}/enable")
@allow(ADMIN_PAGES)
def enable(
    request: Request, sessions: SessionsDep, principal: PrincipalDep, user_id: UserId
) -> Response:
    return _set_disabled(request, sessions, principal.user_id, user_id, False)


@router.post("/admin/users/{user_id}/unlock")
@allow(ADMIN_PAGES)
def unlock(
    request: Request, sessions: SessionsDep, principal: PrincipalDep, user_id: UserId
) -> Response:
    return _change(
        request,
        sessions,
        user_id,
        "unlock",
        "unlocked",
        lambda username: accounts.update_user(
            sessions, username, unlock=True, by=principal.user_id
        ),
    )


@router.post("/admin/users/{user_id}/reset-password")
@allow(ADMIN_PAGES)
def reset_password(
    request: Request,
    sessions: SessionsDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    user_id: UserId,
) -> Response:
    """Her password stops working, her sign-ins end, her tokens are revoked; the answer
    holds a one-time code with which she sets a new one herself (issue 12, F2)."""
    access_record(request).action = "password-reset"
    line = _line(sessions, user_id)
    audit_target(request, line.id)
    try:
        account = accounts.update_user(
            sessions,
            line.username,
            reset_password=True,
            one_time_code_hours=settings.one_time_code_hours,
            by=principal.user_id,
        )
    except InvalidField as error:
        errors = {"reset": sentence(error.message)}
        return _page(request, sessions, line, errors=errors, status_code=422)
    return render(
        request,
        "admin_code.html",
        {
            "username": account.user.username,
            "user_id": account.user.id,
            "code": account.code,
            "made": False,
            "hours": settings.one_time_code_hours,
        },
    )
