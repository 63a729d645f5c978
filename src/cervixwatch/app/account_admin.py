"""What the admin pages need beside `app.accounts`: accounts listed a page at a time with
their care teams, state and last sign-in; one account; a role changed; a care team made
empty, and one team with its members. Admins read no clinical data: a team shows how many
women it cares for, never who.

A role change ends the account's sign-ins and tokens, as a password reset does (issue 12,
F3): what a sign-in or a token may do was decided by the role it was made under.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.token_cache import forget_everywhere
from cervixwatch.app.accounts import NAME_MAX, Account, TeamSummary
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.store import account_listing as listing
from cervixwatch.store import accounts as store
from cervixwatch.store.account_listing import AccountQuery, AccountState
from cervixwatch.store.database import transaction
from cervixwatch.store.models import CareTeamRow, Role, UserRow

__all__ = [
    "AccountLine",
    "AccountQuery",
    "AccountState",
    "AccountsFound",
    "TeamDetail",
    "account_line",
    "account_lines",
    "change_role",
    "create_team",
    "team_detail",
    "user_id_of",
    "usernames_of",
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    # SQLite gives back naive datetimes (stored as UTC).
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class AccountLine:
    """An account as an admin sees it (never its password hash nor its one-time code)."""

    id: str
    username: str
    display_name: str | None
    role: Role
    teams: tuple[str, ...]
    state: AccountState
    #: Wrong passwords since the last right one (they slow sign-in down, never lock it).
    failed_sign_ins: int
    last_sign_in: dt.datetime | None
    created_at: dt.datetime
    #: She has a password of her own (else: single sign-on only, or waiting for her code).
    has_password: bool
    #: When the one-time code she was given stops working, if she has one not yet used.
    code_expires_at: dt.datetime | None


def _state(user: UserRow) -> AccountState:
    if user.disabled:
        return "disabled"
    return "locked" if user.locked_at is not None else "active"


def _line(
    user: UserRow, teams: Sequence[str], last: dt.datetime | None, now: dt.datetime
) -> AccountLine:
    expires = _aware(user.one_time_code_expires_at)
    return AccountLine(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        teams=tuple(teams),
        state=_state(user),
        failed_sign_ins=user.failed_sign_ins,
        last_sign_in=_aware(last),
        created_at=_aware(user.created_at) or user.created_at,
        has_password=user.password_hash is not None,
        code_expires_at=expires if expires is not None and expires > now else None,
    )


def _lines(session: Session, users: Sequence[UserRow]) -> list[AccountLine]:
    ids = [u.id for u in users]
    teams = listing.team_names_by_user(session, ids)
    last = listing.last_sign_ins(session, ids)
    now = _now()
    return [_line(u, teams.get(u.id, ()), last.get(u.id), now) for u in users]


@dataclass(frozen=True, slots=True)
class AccountsFound:
    """One page of accounts and how many match."""

    total: int
    lines: list[AccountLine]


def account_lines(
    sessions: sessionmaker[Session], where: AccountQuery, *, limit: int, offset: int
) -> AccountsFound:
    """The accounts that match `where`, by username: `limit` of them after the first
    `offset`, with the number of all matches (read in one session)."""
    with sessions() as session:
        total = listing.count_accounts(session, where)
        users = listing.accounts_page(session, where, limit=limit, offset=offset)
        return AccountsFound(total, _lines(session, users))


def account_line(sessions: sessionmaker[Session], user_id: str) -> AccountLine:
    """One account by id; `NotFound` if there is none."""
    with sessions() as session:
        user = store.user_by_id(session, user_id)
        if user is None:
            raise NotFound("no such user")
        return _lines(session, [user])[0]


def change_role(
    sessions: sessionmaker[Session], username: str, role: Role, *, by: str | None
) -> Account:
    """Give an account another role; its sign-ins end and its tokens are revoked. A
    clinician who becomes an admin or an auditor leaves her care teams (only clinicians
    belong to them). Refused by field (`role`): a patient's account, or a patient's role
    (each is linked to one woman's record: make a new account), her own (`by`: an admin
    cannot change her own role, so the last admin cannot demote herself), and the role she
    already has."""
    with transaction(sessions) as session:
        user = store.user_by_username(session, username.strip(), lock=True)
        if user is None:
            raise NotFound("no such user")
        if Role.PATIENT in (user.role, role):
            raise InvalidField(
                "role",
                "a patient's account is linked to her record: it cannot change role, nor can "
                "another account become a patient's",
            )
        if by is not None and user.id == by:
            raise InvalidField("role", "an admin cannot change her own role")
        if user.role == role:
            raise InvalidField("role", f"the account already has the {role.value} role")
        if user.role == Role.CLINICIAN:
            for team_id in store.team_ids_of(session, user.id):
                store.remove_member(session, team_id, user.id)
        user.role = role
        now = _now()
        store.end_sessions_of(session, user.id, now)
        store.revoke_tokens_of(session, user.id, now)
        session.flush()
        account = Account(user, store.team_names_of(session, user.id))
    forget_everywhere()
    return account


def _team_name(name: str) -> str:
    trimmed = name.strip()
    if not 1 <= len(trimmed) <= NAME_MAX or not trimmed.isprintable():
        raise InvalidField("name", f"a care team's name is 1 to {NAME_MAX} printable characters")
    return trimmed


def create_team(sessions: sessionmaker[Session], name: str) -> TeamSummary:
    """A new, empty care team; `Conflict` if one has that name."""
    trimmed = _team_name(name)
    with transaction(sessions) as session:
        if store.team_by_name(session, trimmed) is not None:
            raise Conflict(f"a care team named {trimmed!r} exists")
        row = CareTeamRow(name=trimmed)
        session.add(row)
        session.flush()
        return TeamSummary(row.id, row.name, (), 0)


@dataclass(frozen=True, slots=True)
class TeamDetail:
    """A care team, its members (as accounts) and how many women it cares for."""

    id: str
    name: str
    members: list[AccountLine]
    patients: int


def team_detail(sessions: sessionmaker[Session], team_id: str) -> TeamDetail:
    """One care team by id; `NotFound` if there is none."""
    with sessions() as session:
        team = listing.team_by_id(session, team_id)
        if team is None:
            raise NotFound("no such care team")
        members = _lines(session, listing.members_of(session, team.id))
        return TeamDetail(team.id, team.name, members, listing.patients_in_team(session, team.id))


def usernames_of(sessions: sessionmaker[Session], user_ids: Sequence[str]) -> Mapping[str, str]:
    """The usernames of the accounts these ids name (the audit log records ids)."""
    with sessions() as session:
        return listing.usernames_by_id(session, set(user_ids))


def user_id_of(sessions: sessionmaker[Session], username: str) -> str | None:
    """The id of the account with this username, or None."""
    with sessions() as session:
        user = store.user_by_username(session, username.strip())
        return None if user is None else user.id
