"""The admins' list of accounts and the form that makes one (issue 13, part 9).

    GET  /admin/users        every account, a page at a time: search, role and state filters
    GET  /admin/users/new    the form for a new account
    POST /admin/users/new    make it; the answer shows her one-time code, once

An admin never sets a password (issue 12, F2): a new account gets a one-time code, shown in
the answer only, with which the user sets her own password at /set-password; until then the
account cannot sign in. A clinician made with care teams is recorded as an "access-grant",
naming her account, as the admin API records it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Query, Request, Response

from cervixwatch.access.principal import Role
from cervixwatch.app import account_admin, accounts
from cervixwatch.app.account_admin import AccountQuery, AccountState
from cervixwatch.app.errors import Conflict, InvalidField
from cervixwatch.web.access import access_record, allow, audit_target
from cervixwatch.web.deps import SessionsDep, SettingsDep
from cervixwatch.web.pages.admin_shared import (
    ADMIN_PAGES,
    PAGE_SIZE,
    ROLE_LABELS,
    STATE_LABELS,
    page_number,
    pages_of,
    problems,
    query_string,
    sentence,
)
from cervixwatch.web.pages.core import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: The new-account form's fields and their element ids (the error summary links to them).
NEW_FIELDS: Final = {
    "username": "new-username",
    "display_name": "new-display-name",
    "role": "new-role-clinician",
    "patient_id": "new-patient-id",
    "teams": "new-teams",
}


def _role(raw: str) -> Role | None:
    try:
        return Role(raw)
    except ValueError:
        return None


def _state(raw: str) -> AccountState | None:
    return raw if raw in ("active", "locked", "disabled") else None  # type: ignore[return-value]


@router.get("/admin/users")
@allow(ADMIN_PAGES)
def users_page(
    request: Request,
    sessions: SessionsDep,
    q: Annotated[str, Query()] = "",
    role: Annotated[str, Query()] = "",
    state: Annotated[str, Query()] = "",
    page: Annotated[str, Query()] = "1",
) -> Response:
    """Every account (staff and patients), by username."""
    search = q.strip()[:100]
    where = AccountQuery(role=_role(role), state=_state(state), search=search or None)
    asked = page_number(page)
    found = account_admin.account_lines(
        sessions, where, limit=PAGE_SIZE, offset=(asked - 1) * PAGE_SIZE
    )
    shown = pages_of(found.total, asked)
    if shown.page != asked:  # past the end: the last page instead
        found = account_admin.account_lines(sessions, where, limit=shown.size, offset=shown.offset)
    filters = {
        "q": search,
        "role": where.role.value if where.role else "",
        "state": where.state or "",
    }
    return render(
        request,
        "admin_users.html",
        {
            "lines": found.lines,
            "pages": shown,
            "filters": filters,
            "filtered": any(filters.values()),
            "roles": ROLE_LABELS,
            "states": STATE_LABELS,
            "page_link": lambda n: "/admin/users?" + query_string({**filters, "page": n}),
        },
    )


def _new_form(
    request: Request,
    sessions: SessionsDep,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    status_code: int = 200,
) -> Response:
    teams = [t.name for t in accounts.list_team_summaries(sessions)]
    return render(
        request,
        "admin_user_new.html",
        {
            "values": values,
            "errors": errors,
            "summary": problems(errors, NEW_FIELDS),
            "ids": NEW_FIELDS,
            "roles": ROLE_LABELS,
            "teams": teams,
            "username_max": accounts.USERNAME_MAX,
            "name_max": accounts.NAME_MAX,
        },
        status_code=status_code,
    )


@router.get("/admin/users/new")
@allow(ADMIN_PAGES)
def new_user_form(request: Request, sessions: SessionsDep) -> Response:
    return _new_form(request, sessions, {"role": Role.CLINICIAN.value, "teams": []}, {})


def _check_new(
    username: str, role: Role | None, patient_id: str, teams: list[str]
) -> dict[str, str]:
    """What the form can tell at once (the use case checks everything again as it saves)."""
    errors: dict[str, str] = {}
    if not username.strip():
        errors["username"] = "Enter a username."
    elif len(username.strip()) > accounts.USERNAME_MAX:
        errors["username"] = f"A username is at most {accounts.USERNAME_MAX} characters."
    elif any(c.isspace() or not c.isprintable() for c in username.strip()):
        errors["username"] = "A username has no spaces or control characters."
    if role is None:
        errors["role"] = "Choose a role."
    elif role == Role.PATIENT and not patient_id.strip():
        errors["patient_id"] = "A patient's account needs the id of her record."
    elif role != Role.PATIENT and patient_id.strip():
        errors["patient_id"] = "Only a patient's account names a record: leave this empty."
    if teams and role not in (None, Role.CLINICIAN):
        errors["teams"] = "Only clinicians belong to care teams: clear the teams chosen."
    return errors


@router.post("/admin/users/new")
@allow(ADMIN_PAGES)
def create_user(
    request: Request,
    sessions: SessionsDep,
    settings: SettingsDep,
    username: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    patient_id: Annotated[str, Form()] = "",
    teams: Annotated[list[str] | None, Form()] = None,
) -> Response:
    chosen = _role(role)
    team_names = [t for t in teams or [] if t.strip()]
    values = {
        "username": username,
        "display_name": display_name,
        "role": role,
        "patient_id": patient_id,
        "teams": team_names,
    }
    errors = _check_new(username, chosen, patient_id, team_names)
    if errors or chosen is None:
        return _new_form(request, sessions, values, errors, 422)
    if team_names:
        access_record(request).action = "access-grant"
    try:
        account = accounts.create_user(
            sessions,
            username.strip(),
            chosen,
            display_name=display_name or None,
            patient_id=patient_id.strip() or None,
            teams=team_names,
            one_time_code_hours=settings.one_time_code_hours,
        )
    except InvalidField as error:
        field = error.field if error.field in NEW_FIELDS else ""
        return _new_form(request, sessions, values, {field: sentence(error.message)}, 422)
    except Conflict as error:
        # The use case's two conflicts: the username taken, or the woman's account made.
        field = "patient_id" if "patient" in str(error) else "username"
        message = (
            "That woman already has an account."
            if field == "patient_id"
            else "That username is taken: choose another."
        )
        return _new_form(request, sessions, values, {field: message}, 409)
    audit_target(request, account.user.id)
    return render(
        request,
        "admin_code.html",
        {
            "username": account.user.username,
            "user_id": account.user.id,
            "code": account.code,
            "made": True,
            "hours": settings.one_time_code_hours,
        },
        status_code=201,
    )
