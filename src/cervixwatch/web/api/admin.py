"""Managing accounts and care teams (admins only; mounted under /api):

    GET   /admin/users                     every account (never a password hash)
    POST  /admin/users                     a new account
    PATCH /admin/users/{username}          disable or enable, unlock, new password, teams
    GET   /admin/teams                     care teams: members and how many women
    POST  /admin/teams/{team}/patients     put a woman under a team's care

Admins decide who sees whom but read no clinical data: what these routes answer about a
woman is her id. Every call is in the audit log naming the account it changed
(`target_user_id`): as "access-grant" when it puts a clinician in care teams, as
"password-reset" when it resets a password, else as "user-admin".

An admin never sets or learns a password (issue 12, F2): a new account, and a reset one, get
a one-time code (shown once, in this answer) that the admin hands to the user, who sets her
own password with it (`POST /auth/set-password`); until then the account cannot sign in.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from cervixwatch.access.principal import Role
from cervixwatch.app import accounts
from cervixwatch.web.access import (
    PrincipalDep,
    SignedIn,
    access_record,
    allow,
    audit_patient,
    audit_target,
)
from cervixwatch.web.api.errors import BODY, CONFLICT, NOT_FOUND, invalid
from cervixwatch.web.api.types import ApiModel, Name
from cervixwatch.web.deps import SessionsDep, SettingsDep

router = APIRouter(prefix="/admin", tags=["admin"])

ADMINS: Final = SignedIn(frozenset({Role.ADMIN}), audit_action="user-admin")

Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=accounts.USERNAME_MAX),
    Field(pattern=r"^[^\s\x00-\x1f\x7f-\x9f]+$", description="1 to 64 characters, no spaces."),
]
PatientId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=36),
    Field(description="The woman's CervixWatch id."),
]


#: A password sent by an admin: accepted as a field only to be refused by name, without the
#: echo of its value that an unknown field's 422 would carry (issue 12, F2).
NotSet = SkipJsonSchema[str | None]


def _no_password(body: UserCreate | UserUpdate) -> None:
    if body.password is not None:
        raise invalid(
            "body",
            "password",
            "an admin does not set passwords: the answer's one-time code lets the user set her own",
        )


class UserCreate(ApiModel):
    username: Username
    role: Role
    sign_in_by_password: bool = Field(
        default=True,
        description="true: the answer holds a one-time code with which the user sets her own "
        "password; false: she signs in by single sign-on only.",
    )
    display_name: Name | None = None
    password: NotSet = None
    patient_id: PatientId | None = Field(
        default=None, description="A patient's account, and only hers, names her record."
    )
    teams: list[Name] = Field(
        default=[], max_length=50, description="Care teams of a clinician (made if new)."
    )


class UserUpdate(ApiModel):
    """Only what is sent changes."""

    disabled: bool | None = Field(
        default=None, description="true ends her sign-ins and stops her tokens working."
    )
    unlock: bool = Field(default=False, description="true lifts a lock after wrong passwords.")
    reset_password: bool = Field(
        default=False,
        description="true: her password stops working, her sign-ins and tokens end, and the "
        "answer holds a one-time code with which she sets a new one herself.",
    )
    password: NotSet = None
    add_teams: list[Name] = Field(default=[], max_length=50)
    remove_teams: list[Name] = Field(default=[], max_length=50)


class UserPublic(BaseModel):
    id: str
    username: str
    display_name: str | None
    role: Role
    patient_id: str | None
    teams: list[str]
    disabled: bool
    locked: bool = Field(description="Locked after too many wrong passwords in a row.")
    failed_sign_ins: int
    created_at: dt.datetime
    one_time_code: str | None = Field(
        default=None,
        description="Only in the answer that issued it: give it to the user (in person or by "
        "a channel of her own); she sets her password with it at POST /auth/set-password.",
    )
    one_time_code_expires_at: dt.datetime | None = None

    @classmethod
    def of(cls, account: accounts.Account) -> UserPublic:
        user = account.user
        code = account.code
        return cls(
            one_time_code=code.secret if code else None,
            one_time_code_expires_at=code.expires_at if code else None,
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            patient_id=user.patient_id,
            teams=sorted(account.teams),
            disabled=user.disabled,
            locked=user.locked_at is not None,
            failed_sign_ins=user.failed_sign_ins,
            created_at=user.created_at,
        )


class TeamPublic(BaseModel):
    id: str
    name: str
    members: list[str] = Field(description="Usernames of its clinicians.")
    patients: int = Field(description="How many women it cares for.")


class PatientAssign(ApiModel):
    patient_id: PatientId


class TeamAssignmentPublic(BaseModel):
    team_id: str
    team: str
    patient_id: str
    added: bool = Field(description="false: she already was under the team's care.")


@router.get("/users", response_model=list[UserPublic], summary="Every account")
@allow(ADMINS)
def list_users(sessions: SessionsDep) -> list[UserPublic]:
    return [UserPublic.of(a) for a in accounts.list_accounts(sessions)]


@router.post(
    "/users",
    status_code=201,
    response_model=UserPublic,
    responses={**CONFLICT, **BODY},
    summary="A new account",
)
@allow(ADMINS)
def create_user(
    body: UserCreate, request: Request, sessions: SessionsDep, settings: SettingsDep
) -> UserPublic:
    _no_password(body)
    if body.teams:
        access_record(request).action = "access-grant"
    account = accounts.create_user(
        sessions,
        body.username,
        body.role,
        display_name=body.display_name,
        patient_id=body.patient_id,
        teams=body.teams,
        one_time_code_hours=settings.one_time_code_hours if body.sign_in_by_password else None,
    )
    audit_target(request, account.user.id)
    return UserPublic.of(account)


@router.patch(
    "/users/{username}",
    response_model=UserPublic,
    responses={**NOT_FOUND, **BODY},
    summary="Disable, enable, unlock, reset the password (a one-time code), change care teams",
)
@allow(ADMINS)
def update_user(
    username: Annotated[str, Path(max_length=accounts.USERNAME_MAX)],
    body: UserUpdate,
    request: Request,
    sessions: SessionsDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> UserPublic:
    _no_password(body)
    if body.add_teams:
        access_record(request).action = "access-grant"
    elif body.reset_password:
        access_record(request).action = "password-reset"
    account = accounts.update_user(
        sessions,
        username,
        disabled=body.disabled,
        unlock=body.unlock,
        reset_password=body.reset_password,
        one_time_code_hours=settings.one_time_code_hours,
        add_teams=body.add_teams,
        remove_teams=body.remove_teams,
        by=principal.user_id,
    )
    audit_target(request, account.user.id)
    return UserPublic.of(account)


@router.get("/teams", response_model=list[TeamPublic], summary="Care teams")
@allow(ADMINS)
def list_teams(sessions: SessionsDep) -> list[TeamPublic]:
    return [
        TeamPublic(id=t.id, name=t.name, members=list(t.members), patients=t.patients)
        for t in accounts.list_team_summaries(sessions)
    ]


@router.post(
    "/teams/{team}/patients",
    response_model=TeamAssignmentPublic,
    responses=BODY,
    summary="Put a woman under a care team's care (the team is made if new)",
)
@allow(ADMINS)
def assign_patient(
    team: Annotated[str, Path(min_length=1, max_length=accounts.NAME_MAX)],
    body: PatientAssign,
    request: Request,
    sessions: SessionsDep,
) -> TeamAssignmentPublic:
    assigned = accounts.assign_to_team(sessions, team, body.patient_id)
    audit_patient(request, assigned.patient_id)
    return TeamAssignmentPublic(
        team_id=assigned.team_id,
        team=assigned.team,
        patient_id=assigned.patient_id,
        added=assigned.added,
    )
