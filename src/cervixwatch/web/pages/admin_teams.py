"""Care teams, as admins manage them (issue 13, part 9).

    GET  /admin/teams                              every team: members, how many women
    POST /admin/teams                              a new, empty team
    GET  /admin/teams/{team_id}                    one team's members
    POST /admin/teams/{team_id}/members            add a clinician ("access-grant")
    POST /admin/teams/{team_id}/members/remove     take one out

A clinician sees the records of her teams' women: adding her to a team is a grant of access,
audited as "access-grant" naming her account. Which women a team cares for is set where they
are registered (or by the admin API); admins see how many, never who.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Final

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from cervixwatch.app import account_admin, accounts
from cervixwatch.app.account_admin import TeamDetail
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.web.access import PrincipalDep, access_record, allow, audit_target
from cervixwatch.web.deps import SessionsDep
from cervixwatch.web.pages.admin_shared import ADMIN_PAGES, STATE_LABELS, problems, sentence
from cervixwatch.web.pages.core import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TeamId = Annotated[str, Path(max_length=36)]

TEAMS_FIELDS: Final = {"name": "team-name"}
TEAM_FIELDS: Final = {"username": "member-username", "member": "team-members"}

NOTICES: Final = {
    "made": "The care team is made. Add its clinicians below.",
    "added": "The clinician is added: she can now see this team's women's records.",
    "removed": "The clinician is taken out of the team.",
}


def _teams_page(
    request: Request,
    sessions: SessionsDep,
    *,
    name: str = "",
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    errors = errors or {}
    return render(
        request,
        "admin_teams.html",
        {
            "teams": accounts.list_team_summaries(sessions),
            "name": name,
            "errors": errors,
            "summary": problems(errors, TEAMS_FIELDS),
            "ids": TEAMS_FIELDS,
            "name_max": accounts.NAME_MAX,
        },
        status_code=status_code,
    )


@router.get("/admin/teams")
@allow(ADMIN_PAGES)
def teams_page(request: Request, sessions: SessionsDep) -> Response:
    return _teams_page(request, sessions)


@router.post("/admin/teams")
@allow(ADMIN_PAGES)
def create_team(
    request: Request, sessions: SessionsDep, name: Annotated[str, Form()] = ""
) -> Response:
    if not name.strip():
        return _teams_page(
            request, sessions, name=name, errors={"name": "Enter the team's name."}, status_code=422
        )
    try:
        team = account_admin.create_team(sessions, name)
    except InvalidField as error:
        errors = {"name": sentence(error.message)}
        return _teams_page(request, sessions, name=name, errors=errors, status_code=422)
    except Conflict:
        errors = {"name": "A care team has that name already: choose another."}
        return _teams_page(request, sessions, name=name, errors=errors, status_code=409)
    return RedirectResponse(f"/admin/teams/{team.id}?done=made", status_code=303)


def _team(sessions: SessionsDep, team_id: str) -> TeamDetail:
    try:
        return account_admin.team_detail(sessions, team_id)
    except NotFound:
        raise HTTPException(404, "There is no such care team.") from None


def _team_page(
    request: Request,
    team: TeamDetail,
    *,
    username: str = "",
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    errors = errors or {}
    return render(
        request,
        "admin_team.html",
        {
            "team": team,
            "username": username,
            "errors": errors,
            "summary": problems(errors, TEAM_FIELDS),
            "ids": TEAM_FIELDS,
            "notice": notice,
            "states": STATE_LABELS,
        },
        status_code=status_code,
    )


@router.get("/admin/teams/{team_id}")
@allow(ADMIN_PAGES)
def team_page(
    request: Request,
    sessions: SessionsDep,
    team_id: TeamId,
    done: Annotated[str, Query()] = "",
) -> Response:
    return _team_page(request, _team(sessions, team_id), notice=NOTICES.get(done))


@router.post("/admin/teams/{team_id}/members")
@allow(ADMIN_PAGES)
def add_member(
    request: Request,
    sessions: SessionsDep,
    principal: PrincipalDep,
    team_id: TeamId,
    username: Annotated[str, Form()] = "",
) -> Response:
    """A grant of access: the clinician sees the team's women from now on."""
    access_record(request).action = "access-grant"
    team = _team(sessions, team_id)
    user_id = account_admin.user_id_of(sessions, username) if username.strip() else None
    audit_target(request, user_id)
    if user_id is None:
        message = "No account has that username." if username.strip() else "Enter a username."
        return _team_page(
            request, team, username=username, errors={"username": message}, status_code=422
        )
    try:
        accounts.update_user(sessions, username, add_teams=[team.name], by=principal.user_id)
    except InvalidField as error:
        errors = {"username": sentence(error.message)}
        return _team_page(request, team, username=username, errors=errors, status_code=422)
    return RedirectResponse(f"/admin/teams/{team.id}?done=added", status_code=303)


@router.post("/admin/teams/{team_id}/members/remove")
@allow(ADMIN_PAGES)
def remove_member(
    request: Request,
    sessions: SessionsDep,
    principal: PrincipalDep,
    team_id: TeamId,
    user_id: Annotated[str, Form()] = "",
) -> Response:
    team = _team(sessions, team_id)
    member = next((m for m in team.members if m.id == user_id), None)
    if member is None:
        errors = {"member": "That account is not a member of this team."}
        return _team_page(request, team, errors=errors, status_code=422)
    audit_target(request, member.id)
    accounts.update_user(sessions, member.username, remove_teams=[team.name], by=principal.user_id)
    return RedirectResponse(f"/admin/teams/{team.id}?done=removed", status_code=303)
