"""Managing accounts and care teams (admins only; mounted under /api):

    GET   /admin/users                     every account (never a password hash)
    POST  /admin/users                     a new account
    PATCH /admin/users/{username}          disable or enable, unlock, new password, teams
    GET   /admin/teams                     care teams: members and how many women
    POST  /admin/teams/{team}/patients     put a woman under a team's care

Admins decide who sees whom but read no clinical data: what these routes answer about a
woman is her id. Every call is in the audit log as "user-admin". Passwords are checked by the
use cases (12 to 256 characters), so a refused one is never echoed back in the 422.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field, StringConstraints

from cervixwatch.access.principal import Role
from cervixwatch.app import accounts
from cervixwatch.web.access import PrincipalDep, SignedIn, allow, audit_patient
from cervixwatch.web.api.errors import BODY, CONFLICT, NOT_FOUND
from cervixwatch.web.api.types import ApiModel, Name
from cervixwatch.web.deps import SessionsDep

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
Password = Annotated[
    str | None,
    Field(description="12 to 256 characters; omit for an account that signs in by SSO only."),
]


class UserCreate(ApiModel):
    username: Username
    role: Role
    password: Password = None
    display_name: Name | None = None
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
    password: Password = Field(
        default=None, description="A new password (12 to 256 characters): ends her sign-ins."
    )
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

    @classmethod
    def of(cls, account: accounts.Account) -> UserPublic:
        user = account.user
        return cls(
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
def create_user(body: UserCreate, sessions: SessionsDep) -> UserPublic:
    account = accounts.create_user(
        sessions,
        body.username,
        body.role,
        password=body.password,
        display_name=body.display_name,
        patient_id=body.patient_id,
        teams=body.teams,
    )
    return UserPublic.of(account)


@router.patch(
    "/users/{username}",
    response_model=UserPublic,
    responses={**NOT_FOUND, **BODY},
    summary="Disable, enable, unlock, reset the password, change care teams",
)
@allow(ADMINS)
def update_user(
    username: Annotated[str, Path(max_length=accounts.USERNAME_MAX)],
    body: UserUpdate,
    sessions: SessionsDep,
    principal: PrincipalDep,
) -> UserPublic:
    account = accounts.update_user(
        sessions,
        username,
        disabled=body.disabled,
        unlock=body.unlock,
        password=body.password,
        add_teams=body.add_teams,
        remove_teams=body.remove_teams,
        by=principal.user_id,
    )
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
