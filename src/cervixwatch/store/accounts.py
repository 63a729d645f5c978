"""Accounts, care teams, sign-in sessions and API tokens: the SQL (no rules here; the rules
are in `app.accounts` and `web.access`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    delete,
    exists,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import QueryableAttribute, Session

from cervixwatch.access.principal import Scope
from cervixwatch.store import access_generation
from cervixwatch.store.bulk_rows import insert_rows
from cervixwatch.store.models import (
    ApiTokenRow,
    CareTeamRow,
    PatientRow,
    PregnancyRow,
    PregnancyStatus,
    Role,
    SignInSessionRow,
    TeamMemberRow,
    TeamPatientRow,
    UserRow,
)


def user_by_username(session: Session, username: str, *, lock: bool = False) -> UserRow | None:
    query = select(UserRow).where(UserRow.username == username)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def user_by_oidc_subject(session: Session, subject: str) -> UserRow | None:
    return session.scalars(select(UserRow).where(UserRow.oidc_subject == subject)).one_or_none()


def list_users(session: Session, role: Role | None = None) -> Sequence[UserRow]:
    query = select(UserRow).order_by(UserRow.username)
    if role is not None:
        query = query.where(UserRow.role == role)
    return session.scalars(query).all()


def team_ids_of(session: Session, user_id: str) -> frozenset[str]:
    return frozenset(
        session.scalars(select(TeamMemberRow.team_id).where(TeamMemberRow.user_id == user_id))
    )


def team_by_name(session: Session, name: str) -> CareTeamRow | None:
    return session.scalars(select(CareTeamRow).where(CareTeamRow.name == name)).one_or_none()


def list_teams(session: Session) -> Sequence[CareTeamRow]:
    return session.scalars(select(CareTeamRow).order_by(CareTeamRow.name)).all()


def add_member(session: Session, team_id: str, user_id: str) -> None:
    if session.get(TeamMemberRow, (team_id, user_id)) is None:
        session.add(TeamMemberRow(team_id=team_id, user_id=user_id))
        # Her tokens' remembered care teams are out of date in every worker.
        access_generation.advance(session)


def remove_member(session: Session, team_id: str, user_id: str) -> None:
    session.execute(
        delete(TeamMemberRow).where(
            TeamMemberRow.team_id == team_id, TeamMemberRow.user_id == user_id
        )
    )
    access_generation.advance(session)


def add_patients_to_teams(
    session: Session, patient_id: str, team_ids: Iterable[str], *, new_patient: bool = False
) -> None:
    """Put the woman under these teams' care (once each). `new_patient`: she was registered
    in this transaction, so she is under no team yet and nothing need be looked up."""
    teams = sorted(set(team_ids))
    if new_patient:
        add_new_patients_to_teams(session, [patient_id], teams)
        return
    for team_id in teams:
        if session.get(TeamPatientRow, (team_id, patient_id)) is None:
            session.add(TeamPatientRow(team_id=team_id, patient_id=patient_id))


def add_new_patients_to_teams(
    session: Session, patient_ids: Iterable[str], team_ids: Iterable[str]
) -> None:
    """Put women registered in this transaction (under no team yet, so nothing need be
    looked up) under these teams' care: one INSERT, as their other first rows are
    (`records.save_first_records`)."""
    teams = sorted(set(team_ids))
    rows = [{"team_id": t, "patient_id": p} for p in patient_ids for t in teams]
    insert_rows(session.connection(), cast("Table", TeamPatientRow.__table__), rows)


def patient_in_teams(session: Session, patient_id: str, team_ids: Iterable[str]) -> bool:
    teams = sorted(set(team_ids))
    if not teams:
        return False
    return bool(
        session.scalar(
            select(
                exists().where(
                    TeamPatientRow.patient_id == patient_id, TeamPatientRow.team_id.in_(teams)
                )
            )
        )
    )


def in_scope(
    patient_id: ColumnElement[str] | QueryableAttribute[str], scope: Scope
) -> ColumnElement[bool]:
    """A condition on a column of patient ids: the woman is one `scope` may see."""
    conditions: list[ColumnElement[bool]] = []
    if scope.team_ids:
        conditions.append(
            patient_id.in_(
                select(TeamPatientRow.patient_id).where(
                    TeamPatientRow.team_id.in_(sorted(scope.team_ids))
                )
            )
        )
    if scope.patient_id is not None:
        conditions.append(patient_id == scope.patient_id)
    return or_(*conditions) if conditions else false()


def visible_patient_ids(session: Session, scope: Scope) -> frozenset[str]:
    """Every woman `scope` may see (a Bulk Data export's list); to ask about a few women,
    `visible_among` reads only them."""
    return frozenset(session.scalars(select(PatientRow.id).where(in_scope(PatientRow.id, scope))))


def visible_among(session: Session, patient_ids: Iterable[str], scope: Scope) -> frozenset[str]:
    """Those of `patient_ids` that `scope` may see: a query of those women alone, whatever
    the size of the care teams (an import for one woman once read every id of a 50,000-woman
    team to ask about her)."""
    wanted = sorted(set(patient_ids))
    if not wanted:
        return frozenset()
    query = select(PatientRow.id).where(PatientRow.id.in_(wanted), in_scope(PatientRow.id, scope))
    return frozenset(session.scalars(query))


def patient_exists(session: Session, patient_id: str) -> bool:
    return bool(session.scalar(select(exists().where(PatientRow.id == patient_id))))


def patient_of_pregnancy(session: Session, pregnancy_id: str) -> str | None:
    return session.scalar(select(PregnancyRow.patient_id).where(PregnancyRow.id == pregnancy_id))


# --- sign-in sessions -------------------------------------------------------------------------


def start_session(
    session: Session, user_id: str, token_hash: str, csrf_token: str, expires_at: dt.datetime
) -> SignInSessionRow:
    row = SignInSessionRow(
        user_id=user_id, token_hash=token_hash, csrf_token=csrf_token, expires_at=expires_at
    )
    session.add(row)
    session.flush()
    return row


def _team_ids_column() -> Any:
    """The user's care-team ids, comma-separated, as a column of the same query: asked on
    every request, so one round trip rather than two."""
    return (
        select(func.aggregate_strings(TeamMemberRow.team_id, ","))
        .where(TeamMemberRow.user_id == UserRow.id)
        .correlate(UserRow)
        .scalar_subquery()
    )


def _teams(joined: str | None) -> frozenset[str]:
    return frozenset(joined.split(",")) if joined else frozenset()


def live_session(
    session: Session, token_hash: str, now: dt.datetime, idle_since: dt.datetime
) -> tuple[SignInSessionRow, UserRow, frozenset[str]] | None:
    """The sign-in with this token, its user and her care teams, if it has not ended,
    expired or idled out, and the user may still sign in."""
    row = session.execute(
        select(SignInSessionRow, UserRow, _team_ids_column())
        .join(UserRow, UserRow.id == SignInSessionRow.user_id)
        .where(
            SignInSessionRow.token_hash == token_hash,
            SignInSessionRow.ended_at.is_(None),
            SignInSessionRow.expires_at > now,
            SignInSessionRow.last_seen_at > idle_since,
            UserRow.disabled.is_(False),
            UserRow.locked_at.is_(None),
        )
    ).one_or_none()
    return (row[0], row[1], _teams(row[2])) if row is not None else None


def touch_session(session: Session, session_id: str, now: dt.datetime) -> None:
    session.execute(
        update(SignInSessionRow).where(SignInSessionRow.id == session_id).values(last_seen_at=now)
    )


def touch_token(session: Session, token_id: str, now: dt.datetime) -> None:
    session.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=now))


def end_session(session: Session, session_id: str, now: dt.datetime) -> None:
    session.execute(
        update(SignInSessionRow)
        .where(SignInSessionRow.id == session_id, SignInSessionRow.ended_at.is_(None))
        .values(ended_at=now)
    )


def end_sessions_of(session: Session, user_id: str, now: dt.datetime) -> None:
    """End every sign-in of the user (disabled, locked, password reset)."""
    session.execute(
        update(SignInSessionRow)
        .where(SignInSessionRow.user_id == user_id, SignInSessionRow.ended_at.is_(None))
        .values(ended_at=now)
    )


# --- API tokens -------------------------------------------------------------------------------


def add_token(
    session: Session, user_id: str, name: str, token_hash: str, expires_at: dt.datetime
) -> ApiTokenRow:
    row = ApiTokenRow(user_id=user_id, name=name, token_hash=token_hash, expires_at=expires_at)
    session.add(row)
    session.flush()
    return row


def live_token(
    session: Session, token_hash: str, now: dt.datetime
) -> tuple[ApiTokenRow, UserRow, frozenset[str]] | None:
    """The live token with this hash, its user and her care teams."""
    row = session.execute(
        select(ApiTokenRow, UserRow, _team_ids_column())
        .join(UserRow, UserRow.id == ApiTokenRow.user_id)
        .where(
            ApiTokenRow.token_hash == token_hash,
            ApiTokenRow.revoked_at.is_(None),
            ApiTokenRow.expires_at > now,
            UserRow.disabled.is_(False),
            UserRow.locked_at.is_(None),
        )
    ).one_or_none()
    return (row[0], row[1], _teams(row[2])) if row is not None else None


def revoke_tokens_of(session: Session, user_id: str, now: dt.datetime) -> None:
    """Revoke every live token of the user (disabled, locked, password reset)."""
    session.execute(
        update(ApiTokenRow)
        .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    access_generation.advance(session)  # refused now in every worker (issue 12, part 5)


def session_started_at(session: Session, session_id: str) -> dt.datetime | None:
    """When a browser sign-in that has not ended began."""
    return session.scalar(
        select(SignInSessionRow.created_at).where(
            SignInSessionRow.id == session_id, SignInSessionRow.ended_at.is_(None)
        )
    )


def tokens_of(session: Session, user_id: str | None = None) -> Sequence[ApiTokenRow]:
    query = select(ApiTokenRow).order_by(ApiTokenRow.created_at)
    if user_id is not None:
        query = query.where(ApiTokenRow.user_id == user_id)
    return session.scalars(query).all()


def revoke_token(session: Session, token_id: str, now: dt.datetime) -> bool:
    result = session.execute(
        update(ApiTokenRow)
        .where(ApiTokenRow.id == token_id, ApiTokenRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    revoked = bool(getattr(result, "rowcount", 0))
    if revoked:
        access_generation.advance(session)  # refused now in every worker (issue 12, part 5)
    return revoked


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(UserRow)) or 0


def user_by_id(session: Session, user_id: str) -> UserRow | None:
    return session.get(UserRow, user_id)


# --- administration ---------------------------------------------------------------------------


def user_by_patient(session: Session, patient_id: str) -> UserRow | None:
    """The account linked to a woman's record, if she has one."""
    return session.scalars(select(UserRow).where(UserRow.patient_id == patient_id)).one_or_none()


def team_names_of(session: Session, user_id: str) -> frozenset[str]:
    return frozenset(
        session.scalars(
            select(CareTeamRow.name)
            .join(TeamMemberRow, TeamMemberRow.team_id == CareTeamRow.id)
            .where(TeamMemberRow.user_id == user_id)
        )
    )


def team_members(session: Session) -> dict[str, list[str]]:
    """The usernames of each care team's members, by team id (teams without any left out)."""
    members: dict[str, list[str]] = {}
    rows = session.execute(
        select(TeamMemberRow.team_id, UserRow.username)
        .join(UserRow, UserRow.id == TeamMemberRow.user_id)
        .order_by(UserRow.username)
    )
    for team_id, username in rows:
        members.setdefault(team_id, []).append(username)
    return members


def team_patient_counts(session: Session) -> dict[str, int]:
    """How many women each care team holds, by team id (empty teams left out)."""
    rows = session.execute(
        select(TeamPatientRow.team_id, func.count()).group_by(TeamPatientRow.team_id)
    )
    return dict(rows.all())


def add_team_patients(session: Session, team_id: str, patient_ids: Iterable[str]) -> int:
    """Put the women under the team's care (those already under it are left); returns how
    many were added."""
    present = set(
        session.scalars(select(TeamPatientRow.patient_id).where(TeamPatientRow.team_id == team_id))
    )
    new = sorted(set(patient_ids) - present)
    session.add_all(TeamPatientRow(team_id=team_id, patient_id=p) for p in new)
    session.flush()
    return len(new)


def patients_for_linking(session: Session) -> list[tuple[str, str | None, bool, bool]]:
    """Every woman as (id, hospital number or None, has an active pregnancy, has an account),
    in order of hospital number."""
    active = exists().where(
        PregnancyRow.patient_id == PatientRow.id, PregnancyRow.status == PregnancyStatus.ACTIVE
    )
    linked = exists().where(UserRow.patient_id == PatientRow.id)
    rows = session.execute(
        select(PatientRow.id, PatientRow.hospital_number, active, linked).order_by(
            PatientRow.hospital_number
        )
    )
    return [(pid, number, bool(a), bool(u)) for pid, number, a, u in rows]


def count_failed_sign_in(session: Session, user_id: str) -> None:
    """One more wrong password, in one statement (concurrent ones each count). It never locks
    the account (issue 12, F4): the web layer backs off per account and address."""
    session.execute(
        update(UserRow)
        .where(UserRow.id == user_id)
        .values(failed_sign_ins=UserRow.failed_sign_ins + 1)
    )


def clear_failed_sign_ins(session: Session, user_id: str) -> bool:
    """A right password: the count starts again, if the account is (still) unlocked and
    enabled. False if it is not."""
    result = session.execute(
        update(UserRow)
        .where(UserRow.id == user_id, UserRow.locked_at.is_(None), UserRow.disabled.is_(False))
        .values(failed_sign_ins=0)
    )
    return bool(getattr(result, "rowcount", 0))
