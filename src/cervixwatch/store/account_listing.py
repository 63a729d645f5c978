"""Accounts and care teams as the admin pages list them: one page of accounts (by username)
with each one's care teams and last sign-in, one care team with its members, and the
usernames behind the user ids the audit log records. The SQL only; the rules are in `app/`.

Each query reads what a page shows in a fixed number of statements, however many accounts
there are (the accounts of every patient included)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from cervixwatch.store.models import (
    CareTeamRow,
    Role,
    SignInSessionRow,
    TeamMemberRow,
    TeamPatientRow,
    UserRow,
)

#: An account's state as the admin pages filter it: able to sign in, locked by an earlier
#: version's lock-out (`UserRow.locked_at`), or disabled by an admin.
AccountState = Literal["active", "locked", "disabled"]


@dataclass(frozen=True, slots=True)
class AccountQuery:
    """Which accounts: every criterion given must hold. `search`: words in the username or
    the display name (case-insensitive)."""

    role: Role | None = None
    state: AccountState | None = None
    search: str | None = None


def _like(text: str) -> str:
    """`text` as a LIKE pattern that matches it anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(where: AccountQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if where.role is not None:
        found.append(UserRow.role == where.role)
    if where.state == "disabled":
        found.append(UserRow.disabled.is_(True))
    elif where.state == "locked":
        found += [UserRow.disabled.is_(False), UserRow.locked_at.is_not(None)]
    elif where.state == "active":
        found += [UserRow.disabled.is_(False), UserRow.locked_at.is_(None)]
    if where.search:
        pattern = _like(where.search.lower())
        found.append(
            or_(
                func.lower(UserRow.username).like(pattern, escape="\\"),
                func.lower(func.coalesce(UserRow.display_name, "")).like(pattern, escape="\\"),
            )
        )
    return found


def count_accounts(session: Session, where: AccountQuery) -> int:
    query = select(func.count()).select_from(UserRow).where(*_conditions(where))
    return session.scalar(query) or 0


def accounts_page(
    session: Session, where: AccountQuery, *, limit: int, offset: int
) -> Sequence[UserRow]:
    """One page of the matching accounts, by username."""
    query = (
        select(UserRow)
        .where(*_conditions(where))
        .order_by(UserRow.username)
        .limit(limit)
        .offset(offset)
    )
    return session.scalars(query).all()


def team_names_by_user(session: Session, user_ids: Collection[str]) -> dict[str, list[str]]:
    """The names of each user's care teams (in name order), by user id; users in none left
    out."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(TeamMemberRow.user_id, CareTeamRow.name)
        .join(CareTeamRow, CareTeamRow.id == TeamMemberRow.team_id)
        .where(TeamMemberRow.user_id.in_(user_ids))
        .order_by(CareTeamRow.name)
    )
    found: dict[str, list[str]] = {}
    for user_id, name in rows:
        found.setdefault(user_id, []).append(name)
    return found


def last_sign_ins(session: Session, user_ids: Collection[str]) -> dict[str, dt.datetime]:
    """When each user last began a browser sign-in (by password or single sign-on), by user
    id; users who never did left out."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(SignInSessionRow.user_id, func.max(SignInSessionRow.created_at))
        .where(SignInSessionRow.user_id.in_(user_ids))
        .group_by(SignInSessionRow.user_id)
    )
    return {user_id: started for user_id, started in rows if started is not None}


def usernames_by_id(session: Session, user_ids: Collection[str]) -> dict[str, str]:
    """The username of each user id that names an account (a deleted one's is left out)."""
    if not user_ids:
        return {}
    rows = session.execute(select(UserRow.id, UserRow.username).where(UserRow.id.in_(user_ids)))
    return {row.id: row.username for row in rows}


def team_by_id(session: Session, team_id: str) -> CareTeamRow | None:
    return session.get(CareTeamRow, team_id)


def members_of(session: Session, team_id: str) -> Sequence[UserRow]:
    """The team's members, by username."""
    return session.scalars(
        select(UserRow)
        .join(TeamMemberRow, TeamMemberRow.user_id == UserRow.id)
        .where(TeamMemberRow.team_id == team_id)
        .order_by(UserRow.username)
    ).all()


def patients_in_team(session: Session, team_id: str) -> int:
    """How many women the team cares for."""
    query = (
        select(func.count()).select_from(TeamPatientRow).where(TeamPatientRow.team_id == team_id)
    )
    return session.scalar(query) or 0
