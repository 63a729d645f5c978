"""Accounts and sign-in: register users, sign in with a password, sign-in sessions for
browsers, bearer tokens for integrations, and care teams. Each use case runs in one
transaction.

A wrong password and an unknown username answer the same (`SignInRefused`) and take the same
time, so the answer does not reveal which usernames exist. Wrong passwords never lock an
account (issue 12, F4: anyone could lock anyone out): the web layer answers them with a
back-off per account and client address (`web.signing_in`). The count kept on the user's row
(`failed_sign_ins`, wrong passwords since the last right one, from anywhere) is for admins
to see; it is counted in one UPDATE, so concurrent guesses are each counted. An account
locked before that change (`locked_at`) stays locked until an admin unlocks it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.credentials import (
    hash_password,
    needs_rehash,
    new_secret,
    same_secret,
    secret_hash,
    spend_verification_time,
    verify_password,
)
from cervixwatch.access.password_rules import WeakPassword, check_new_password
from cervixwatch.access.principal import Principal, SmartGrant
from cervixwatch.access.smart_scopes import GrantedScopes, scope_words
from cervixwatch.access.token_cache import TokenCache, forget_everywhere
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.store import access_generation
from cervixwatch.store import accounts as store
from cervixwatch.store.database import transaction
from cervixwatch.store.models import ApiTokenRow, CareTeamRow, PatientRow, Role, UserRow

USERNAME_MAX = 64


class SignInRefused(Exception):
    """Wrong username or password, or the account is disabled or locked (not said which)."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new browser sign-in: the cookie's secret (shown once, stored hashed) and its CSRF
    token."""

    secret: str
    csrf_token: str
    principal: Principal
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new API token: the secret is shown once, only its hash is kept."""

    id: str
    name: str
    secret: str
    expires_at: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def principal_of(
    session: Session,
    user: UserRow,
    via: str,
    *,
    teams: frozenset[str] | None = None,
    **extra: str,
) -> Principal:
    """`teams`: her care-team ids when already read (else they are read here)."""
    if user.role != Role.CLINICIAN:
        teams = frozenset()
    elif teams is None:
        teams = store.team_ids_of(session, user.id)
    return Principal(
        user_id=user.id,
        role=user.role,
        via="session" if via == "session" else "token",
        patient_id=user.patient_id,
        team_ids=teams,
        csrf_token=extra.get("csrf_token"),
        session_id=extra.get("session_id"),
    )


# --- users ------------------------------------------------------------------------------------


def shown_name(sessions: sessionmaker[Session], user_id: str) -> str | None:
    """How a user is named where her work is recorded (who reviewed a symptom report): her
    display name, else her username; None if there is no such user."""
    with sessions() as session:
        user = store.user_by_id(session, user_id)
        return None if user is None else (user.display_name or user.username)


def _password_hash(password: str | None, username: str) -> str | None:
    """The hash of a new password for the account `username`, refused by the rule it breaks
    (`password_rules`, NIST SP 800-63B: length, common passwords, the username...)."""
    if password is None:
        return None
    try:
        check_new_password(password, username=username)
        return hash_password(password)
    except WeakPassword as error:
        raise InvalidField("password", str(error)) from None


def add_user(
    sessions: sessionmaker[Session],
    username: str,
    role: Role,
    *,
    password: str | None = None,
    display_name: str | None = None,
    patient_id: str | None = None,
    teams: tuple[str, ...] = (),
    oidc_subject: str | None = None,
) -> UserRow:
    """A new account. A patient's account is linked to her record (`patient_id`); a
    clinician joins the named care teams (made if new)."""
    username = username.strip()
    if not username or len(username) > USERNAME_MAX:
        raise InvalidField("username", f"1 to {USERNAME_MAX} characters")
    if (role == Role.PATIENT) != (patient_id is not None):
        raise InvalidField("patient_id", "a patient's account, and only hers, names her record")
    if teams and role != Role.CLINICIAN:
        raise InvalidField("teams", "only clinicians belong to care teams")
    hashed = _password_hash(password, username)
    with transaction(sessions) as session:
        if store.user_by_username(session, username) is not None:
            raise Conflict(f"username {username!r} is taken")
        if patient_id is not None and session.get(PatientRow, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        user = UserRow(
            username=username,
            role=role,
            password_hash=hashed,
            display_name=display_name,
            patient_id=patient_id,
            oidc_subject=oidc_subject,
            password_changed_at=_now() if hashed else None,
        )
        session.add(user)
        session.flush()
        for name in teams:
            team = store.team_by_name(session, name) or CareTeamRow(name=name)
            session.add(team)
            session.flush()
            store.add_member(session, team.id, user.id)
    return user


def list_users(sessions: sessionmaker[Session]) -> list[tuple[UserRow, frozenset[str]]]:
    """Every account with the names of its care teams."""
    with sessions() as session:
        teams = {t.id: t.name for t in store.list_teams(session)}
        return [
            (user, frozenset(teams[t] for t in store.team_ids_of(session, user.id)))
            for user in store.list_users(session)
        ]


def _user(session: Session, username: str) -> UserRow:
    user = store.user_by_username(session, username, lock=True)
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def set_disabled(sessions: sessionmaker[Session], username: str, disabled: bool) -> UserRow:
    with transaction(sessions) as session:
        user = _user(session, username)
        user.disabled = disabled
        if disabled:
            # Every way in ends, for good: enabling her again revives no token (F3).
            store.end_sessions_of(session, user.id, _now())
            store.revoke_tokens_of(session, user.id, _now())
    forget_everywhere()  # her tokens stop working now, not when a cached entry runs out
    return user


def unlock(sessions: sessionmaker[Session], username: str) -> UserRow:
    with transaction(sessions) as session:
        user = _user(session, username)
        user.locked_at = None
        user.failed_sign_ins = 0
    return user


def reset_password(sessions: sessionmaker[Session], username: str, password: str) -> UserRow:
    """A new password; every sign-in and every API token of the old one ends (issue 12, F3),
    and a lock is lifted."""
    hashed = _password_hash(password, username)
    with transaction(sessions) as session:
        user = _user(session, username)
        user.password_hash = hashed
        user.password_changed_at = _now()
        user.locked_at = None
        user.failed_sign_ins = 0
        store.end_sessions_of(session, user.id, _now())
        store.revoke_tokens_of(session, user.id, _now())
    forget_everywhere()
    return user


def add_to_team(sessions: sessionmaker[Session], team: str, *, username: str) -> None:
    with transaction(sessions) as session:
        user = _user(session, username)
        if user.role != Role.CLINICIAN:
            raise InvalidField("username", "only clinicians belong to care teams")
        row = store.team_by_name(session, team) or CareTeamRow(name=team)
        session.add(row)
        session.flush()
        store.add_member(session, row.id, user.id)
    forget_everywhere()  # her principal's care teams have changed


def assign_patient(sessions: sessionmaker[Session], team: str, patient_id: str) -> None:
    """Put a woman under the care of a team (made if new)."""
    with transaction(sessions) as session:
        if session.get(PatientRow, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        row = store.team_by_name(session, team) or CareTeamRow(name=team)
        session.add(row)
        session.flush()
        store.add_patients_to_teams(session, patient_id, [row.id])


# --- signing in -------------------------------------------------------------------------------


def sign_in(
    sessions: sessionmaker[Session],
    username: str,
    password: str,
    *,
    session_hours: int,
) -> SignedIn:
    """Check the password and start a browser sign-in; `SignInRefused` otherwise.

    The slow part (Argon2) runs outside any transaction, so concurrent attempts never wait
    on the database for it; what must be exact is done by single UPDATE statements on the
    user's row: a wrong password counts one more, and a right one clears the count only if
    the account is still enabled (and not locked by an earlier version) at that moment."""
    username = username.strip()
    if "\x00" in username:  # no username holds one (and PostgreSQL text cannot)
        spend_verification_time(password)
        raise SignInRefused
    with sessions() as session:
        user = store.user_by_username(session, username)
        candidate = (
            (user.id, user.password_hash)
            if user is not None and not user.disabled and user.locked_at is None
            else None
        )
    if candidate is None:
        spend_verification_time(password)
        raise SignInRefused
    user_id, stored_hash = candidate
    right = verify_password(stored_hash, password)
    with transaction(sessions) as session:
        if not right:
            store.count_failed_sign_in(session, user_id)
            # Committed although the sign-in is refused: the count must survive.
            session.commit()
            raise SignInRefused
        if not store.clear_failed_sign_ins(session, user_id):
            raise SignInRefused  # locked or disabled meanwhile
        user = session.get(UserRow, user_id)
        assert user is not None
        if user.password_hash and needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        return _start(session, user, session_hours)


def sign_in_as(sessions: sessionmaker[Session], user_id: str, *, session_hours: int) -> SignedIn:
    """Start a browser sign-in for a user whose identity was proved elsewhere (single sign-on)."""
    with transaction(sessions) as session:
        user = session.get(UserRow, user_id, with_for_update=True)
        if user is None or user.disabled or user.locked_at is not None:
            raise SignInRefused
        return _start(session, user, session_hours)


def _start(session: Session, user: UserRow, session_hours: int) -> SignedIn:
    secret, csrf = new_secret(), new_secret()
    expires = _now() + dt.timedelta(hours=session_hours)
    row = store.start_session(session, user.id, secret_hash(secret), csrf, expires)
    principal = principal_of(session, user, "session", csrf_token=csrf, session_id=row.id)
    return SignedIn(secret, csrf, principal, expires)


def sign_out(sessions: sessionmaker[Session], session_id: str) -> None:
    with transaction(sessions) as session:
        store.end_session(session, session_id, _now())


#: A sign-in's last-seen time is written at most this often (not on every request).
TOUCH_EVERY = dt.timedelta(minutes=1)


def session_principal(
    sessions: sessionmaker[Session], secret: str, *, idle_minutes: int, renew: bool = True
) -> Principal | None:
    """Who the sign-in cookie `secret` is, or None (unknown, ended, expired or idle).
    `renew`: the request is the person's own, so the sign-in is no longer idle; False for
    what a page asks for by itself (an open worklist's event stream and live refreshes),
    which must not keep an unattended screen signed in past the idle limit."""
    now = _now()
    with sessions() as session:
        found = store.live_session(
            session, secret_hash(secret), now, now - dt.timedelta(minutes=idle_minutes)
        )
        if found is None:
            return None
        row, user, teams = found
        principal = principal_of(
            session, user, "session", teams=teams, csrf_token=row.csrf_token, session_id=row.id
        )
    if renew and now - row.last_seen_at > TOUCH_EVERY:
        _touch(sessions, store.touch_session, row.id, now)
    return principal


def _touch(
    sessions: sessionmaker[Session],
    touch: Callable[[Session, str, dt.datetime], None],
    row_id: str,
    now: dt.datetime,
) -> None:
    """Write a sign-in's or token's last-used time in a write transaction of its own: a read
    that turned into a write mid-way (SQLite) would fail at once, busy, when another request
    is writing (8 imports at once answered 503), where a write transaction waits its turn."""
    with transaction(sessions) as session:
        touch(session, row_id, now)


# --- API tokens -------------------------------------------------------------------------------


#: The longest a token may last unless the settings say less (`settings.token_max_days`).
TOKEN_MAX_DAYS = 90


class ReauthenticationNeeded(Exception):
    """A token is made only by someone who has just proved she is its user: the password
    was missing or wrong, or (an account without one) the sign-in is not recent."""


def issue_token(
    sessions: sessionmaker[Session],
    username: str,
    name: str,
    *,
    days: int,
    max_days: int = TOKEN_MAX_DAYS,
) -> IssuedToken:
    """A token acting as the user, lasting `days` (1 to `max_days`). Whoever calls this has
    established that the user asked for it: the CLI (the server's operator) or
    `issue_token_reauthenticated`."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidField("name", "1 to 100 characters")
    if not 1 <= days <= max_days:
        raise InvalidField("days", f"1 to {max_days}")
    secret = new_secret()
    expires = _now() + dt.timedelta(days=days)
    with transaction(sessions) as session:
        user = _user(session, username)
        if user.disabled:
            raise InvalidField("username", "the account is disabled")
        row = store.add_token(session, user.id, name, secret_hash(secret), expires)
    return IssuedToken(row.id, name, secret, expires)


def issue_token_reauthenticated(
    sessions: sessionmaker[Session],
    user_id: str,
    name: str,
    *,
    password: str | None,
    session_id: str | None,
    days: int,
    max_days: int,
    reauth_minutes: int,
) -> IssuedToken:
    """A token for the signed-in user, made only after she has proved again that she is
    herself (NIST SP 800-63B, 7.2, reauthentication): her password, checked as at sign-in;
    for an account without one (single sign-on only), a browser sign-in begun at most
    `reauth_minutes` ago. A stolen sign-in cookie (or token) alone cannot make a token that
    outlives it. `ReauthenticationNeeded` otherwise."""
    with sessions() as session:
        user = store.user_by_id(session, user_id)
        if user is None or user.disabled:
            raise ReauthenticationNeeded
        username, stored_hash = user.username, user.password_hash
        started = (
            store.session_started_at(session, session_id)
            if stored_hash is None and session_id is not None
            else None
        )
    if stored_hash is not None:
        if password is None:
            spend_verification_time("")
            raise ReauthenticationNeeded
        if not verify_password(stored_hash, password):
            raise ReauthenticationNeeded
    elif started is None or _now() - _aware(started) > dt.timedelta(minutes=reauth_minutes):
        raise ReauthenticationNeeded
    return issue_token(sessions, username, name, days=days, max_days=max_days)


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite gives back naive datetimes (stored as UTC).
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def token_principal(
    sessions: sessionmaker[Session], secret: str, cache: TokenCache | None = None
) -> Principal | None:
    """Who the bearer token `secret` is, or None (unknown, expired, revoked, or its account
    disabled). With `cache`, a token found live is remembered for the cache's few seconds,
    and used only while the access generation has not moved (`access.token_cache`): a
    revocation made by any process is seen on the next request."""
    hashed = secret_hash(secret)
    now = _now()
    with sessions() as session:
        generation = None
        if cache is not None and cache.enabled:
            # Read before the lookup: a revocation committed between the two moves it. On a
            # connection of its own: the session's stays unused when the token is remembered.
            generation = access_generation.read(session.get_bind())
            if (cached := cache.get(hashed, generation)) is not None:
                return cached
        found = store.live_token(session, hashed, now)
        if found is None:
            return None
        token, user, teams = found
        principal = principal_of(session, user, "token", teams=teams)
        if token.smart_scopes is not None:
            principal = replace(principal, smart=smart_grant(token))
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        _touch(sessions, store.touch_token, token.id, now)
    if cache is not None and generation is not None:
        cache.put(hashed, principal, token.expires_at, generation)
    return principal


def smart_grant(token: ApiTokenRow) -> SmartGrant:
    """What a SMART access token was granted (`app.smart_server` issued it)."""
    return SmartGrant(
        client_id=token.smart_client_id or "",
        scopes=GrantedScopes.of(scope_words(token.smart_scopes)),
        patient_id=token.smart_patient_id,
    )


def revoke_token(sessions: sessionmaker[Session], token_id: str) -> None:
    with transaction(sessions) as session:
        if not store.revoke_token(session, token_id, _now()):
            raise NotFound(f"no live token {token_id}")
    forget_everywhere()


# --- administration (the admin API and `cervixwatch users`) ----------------------------------

#: The longest care-team and display name the database holds.
NAME_MAX = 200


@dataclass(frozen=True, slots=True)
class Account:
    """A user and the names of her care teams (never shown: her password hash). `code`: a
    one-time code just issued to her, shown this once."""

    user: UserRow
    teams: frozenset[str]
    code: OneTimeCode | None = None


@dataclass(frozen=True, slots=True)
class OneTimeCode:
    """What an admin hands over instead of a password (issue 12, F2): the user sets her own
    password with it (`set_password_with_code`), once, before `expires_at`. Only its
    SHA-256 is stored."""

    secret: str
    expires_at: dt.datetime


#: How long a one-time code lasts unless the caller says.
ONE_TIME_CODE_HOURS = 24


def _issue_code(user: UserRow, hours: int) -> OneTimeCode:
    secret = new_secret()
    code = OneTimeCode(secret, _now() + dt.timedelta(hours=hours))
    user.one_time_code_hash = secret_hash(secret)
    user.one_time_code_expires_at = code.expires_at
    return code


@dataclass(frozen=True, slots=True)
class TeamSummary:
    """A care team: who is in it (usernames) and how many women it cares for."""

    id: str
    name: str
    members: tuple[str, ...]
    patients: int


@dataclass(frozen=True, slots=True)
class TeamAssignment:
    """A woman under a team's care: ids only (admins read no clinical data). `added` is
    False when she already was."""

    team_id: str
    team: str
    patient_id: str
    added: bool


def _names(field: str, names: Iterable[str]) -> tuple[str, ...]:
    """Care-team names, trimmed and checked, each once, in the order given."""
    found: dict[str, None] = {}
    for name in names:
        trimmed = name.strip()
        if not 1 <= len(trimmed) <= NAME_MAX or not trimmed.isprintable():
            raise InvalidField(field, f"a care team's name is 1 to {NAME_MAX} printable characters")
        found[trimmed] = None
    return tuple(found)


def _check_password_text(password: str | None) -> None:
    # A lone surrogate (JSON's "\ud800") cannot be encoded to hash it. The value is never
    # echoed back in the error.
    if password is not None:
        try:
            password.encode()
        except UnicodeEncodeError:
            raise InvalidField("password", "must be text (no lone surrogates)") from None


def _team_row(session: Session, name: str) -> CareTeamRow:
    row = store.team_by_name(session, name)
    if row is None:
        row = CareTeamRow(name=name)
        session.add(row)
        session.flush()
    return row


def create_user(
    sessions: sessionmaker[Session],
    username: str,
    role: Role,
    *,
    password: str | None = None,
    display_name: str | None = None,
    patient_id: str | None = None,
    teams: Iterable[str] = (),
    one_time_code_hours: int | None = None,
) -> Account:
    """`add_user` with what an admin can get wrong refused by field: a display name too
    long, a bad team name, a woman who does not exist or already has an account (422), and
    a username taken even by a concurrent request (409). With `one_time_code_hours` (the
    admin API) the account gets no password but a one-time code with which the user sets
    her own: an admin never knows a usable password of anyone's (issue 12, F2)."""
    if one_time_code_hours is not None and password is not None:
        raise InvalidField("password", "an admin does not set passwords")
    team_names = _names("teams", teams)
    if any(c.isspace() or not c.isprintable() for c in username.strip()):
        raise InvalidField("username", "no spaces or control characters")
    if display_name is not None:
        display_name = display_name.strip() or None
        if display_name is not None and len(display_name) > NAME_MAX:
            raise InvalidField("display_name", f"at most {NAME_MAX} characters")
    _check_password_text(password)
    if role == Role.PATIENT and patient_id is not None:
        with sessions() as session:
            if not store.patient_exists(session, patient_id):
                raise InvalidField("patient_id", "no such patient", patient_id)
            if store.user_by_patient(session, patient_id) is not None:
                raise Conflict(f"patient {patient_id} already has an account")
    try:
        user = add_user(
            sessions,
            username,
            role,
            password=password,
            display_name=display_name,
            patient_id=patient_id,
            teams=team_names,
        )
    except IntegrityError:
        # Another request took the username (or linked the woman) between check and write.
        raise Conflict("the username, or the patient's account, is taken") from None
    code = None
    if one_time_code_hours is not None:
        with transaction(sessions) as session:
            row = session.get(UserRow, user.id, with_for_update=True)
            assert row is not None
            code = _issue_code(row, one_time_code_hours)
    return Account(user, frozenset(team_names), code)


def update_user(
    sessions: sessionmaker[Session],
    username: str,
    *,
    disabled: bool | None = None,
    unlock: bool = False,
    password: str | None = None,
    reset_password: bool = False,
    one_time_code_hours: int = ONE_TIME_CODE_HOURS,
    add_teams: Iterable[str] = (),
    remove_teams: Iterable[str] = (),
    by: str | None = None,
) -> Account:
    """Change an account in one transaction: disable or enable it (disabling ends its
    sign-ins; its tokens stop working), unlock it, set a new password (ending its sign-ins
    and lifting a lock), and add or remove care teams (clinicians only; a team is made when
    first named). `by` is the acting admin's user id: she cannot disable herself.

    `reset_password` (the admin API's reset): the password stops working and a one-time code
    is issued with which the user sets a new one herself (issue 12, F2); her sign-ins and
    tokens end. `password` is for the server's operator (`cervixwatch users`) only."""
    if reset_password and password is not None:
        raise InvalidField("password", "an admin does not set passwords")
    adding = _names("add_teams", add_teams)
    removing = _names("remove_teams", remove_teams)
    _check_password_text(password)
    # Slow on purpose: before the row is locked.
    hashed = _password_hash(password, username.strip())
    now = _now()
    with transaction(sessions) as session:
        user = store.user_by_username(session, username.strip(), lock=True)
        if user is None:
            raise NotFound("no such user")
        if adding and user.role != Role.CLINICIAN:
            raise InvalidField("add_teams", "only clinicians belong to care teams")
        if disabled and by is not None and user.id == by:
            raise InvalidField("disabled", "an admin cannot disable her own account")
        removed = []
        for name in removing:
            team = store.team_by_name(session, name)
            if team is None:
                raise InvalidField("remove_teams", f"no care team named {name!r}")
            removed.append(team)
        if hashed is not None:
            user.password_hash = hashed
            user.password_changed_at = now
            user.one_time_code_hash = user.one_time_code_expires_at = None
        code = None
        if reset_password:
            user.password_hash = None
            user.password_changed_at = now
            code = _issue_code(user, one_time_code_hours)
        if hashed is not None or reset_password or unlock:
            user.locked_at = None
            user.failed_sign_ins = 0
        if disabled is not None:
            user.disabled = disabled
        if hashed is not None or reset_password or disabled:
            # Her sign-ins and her tokens end together (issue 12, F3).
            store.end_sessions_of(session, user.id, now)
            store.revoke_tokens_of(session, user.id, now)
        for name in adding:
            store.add_member(session, _team_row(session, name).id, user.id)
        for team in removed:
            store.remove_member(session, team.id, user.id)
        session.flush()
        account = Account(user, store.team_names_of(session, user.id), code)
    # Disabled, or her care teams changed: her tokens' cached principals are out of date.
    forget_everywhere()
    return account


class CodeRefused(Exception):
    """The username and one-time code do not match a live code (unknown, used, expired)."""


def set_password_with_code(
    sessions: sessionmaker[Session], username: str, code: str, password: str
) -> UserRow:
    """The user sets her own password with the one-time code an admin gave her (issue 12,
    F2): the code works once, before its expiry, for that username only. `CodeRefused`
    (the same for every reason) otherwise; `InvalidField("password")` for a weak one."""
    _check_password_text(password)
    hashed = _password_hash(password, username.strip())
    now = _now()
    with transaction(sessions) as session:
        user = store.user_by_username(session, username.strip(), lock=True)
        expires = user.one_time_code_expires_at if user is not None else None
        if (
            user is None
            or user.disabled
            or user.one_time_code_hash is None
            or expires is None
            or _aware(expires) <= now
            or not same_secret(user.one_time_code_hash, secret_hash(code))
        ):
            raise CodeRefused
        user.password_hash = hashed
        user.password_changed_at = now
        user.one_time_code_hash = user.one_time_code_expires_at = None
        user.locked_at = None
        user.failed_sign_ins = 0
        store.end_sessions_of(session, user.id, now)
        store.revoke_tokens_of(session, user.id, now)
    forget_everywhere()
    return user


def list_accounts(sessions: sessionmaker[Session]) -> list[Account]:
    """Every account with the names of its care teams, by username."""
    return [Account(user, teams) for user, teams in list_users(sessions)]


def list_team_summaries(sessions: sessionmaker[Session]) -> list[TeamSummary]:
    with sessions() as session:
        members = store.team_members(session)
        counts = store.team_patient_counts(session)
        return [
            TeamSummary(t.id, t.name, tuple(members.get(t.id, ())), counts.get(t.id, 0))
            for t in store.list_teams(session)
        ]


def assign_to_team(sessions: sessionmaker[Session], team: str, patient_id: str) -> TeamAssignment:
    """Put a woman under the care of a team (made if new); a woman who does not exist is
    refused by field (`patient_id`)."""
    (name,) = _names("team", [team])
    with transaction(sessions) as session:
        if not store.patient_exists(session, patient_id):
            raise InvalidField("patient_id", "no such patient", patient_id)
        row = _team_row(session, name)
        added = store.add_team_patients(session, row.id, [patient_id])
        return TeamAssignment(row.id, row.name, patient_id, bool(added))


def assign_many_to_team(
    sessions: sessionmaker[Session], team: str, patient_ids: Iterable[str]
) -> int:
    """Put many women (ids that exist) under a team's care in one transaction; returns how
    many were not already."""
    (name,) = _names("team", [team])
    with transaction(sessions) as session:
        return store.add_team_patients(session, _team_row(session, name).id, patient_ids)
