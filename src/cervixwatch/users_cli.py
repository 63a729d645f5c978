"""`cervixwatch users ...`: accounts, API tokens and care teams from the command line (the
first admin of a new installation is made here), and `cervixwatch demo-accounts`.

Passwords are never command-line arguments, which would stay in the shell's history and the
process list: each is asked for twice, hidden, or read from the first line of standard input
with `--password-stdin` (for scripts). Every command migrates the database first. Exit status
0 on success, 2 with one line on stderr for bad input (an unknown user, a taken username, a
weak password...).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app import accounts
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.cohort.demo_accounts import NotADemoDatabase, credentials_text, make_demo_accounts
from cervixwatch.settings import Settings
from cervixwatch.store import make_engine, session_factory, upgrade
from cervixwatch.store.models import Role

users_app = typer.Typer(
    help="Accounts, API tokens and care teams.", no_args_is_help=True, add_completion=False
)

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy database URL (default: CERVIXWATCH_DATABASE_URL, else ./cervixwatch.db).",
        show_default=False,
    ),
]
PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from the first line of standard input."
    ),
]
UsernameArgument = Annotated[str, typer.Argument(help="The account's username.")]

#: The options the use cases' field names stand for, in messages.
_OPTION_OF = {
    "username": "USERNAME",
    "display_name": "--display-name",
    "patient_id": "--patient-id",
    "teams": "--team",
    "add_teams": "TEAM",
    "team": "TEAM",
    "name": "--name",
    "days": "--days",
}


def _fail(message: str) -> typer.Exit:
    print(f"cervixwatch: {message}", file=sys.stderr)
    return typer.Exit(code=2)


@contextmanager
def _database(url: str | None, **names: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the migrated database at `url`; the use cases' refusals become exit 2
    (a field named as its option, or as `names` says for this command)."""
    shown = {**_OPTION_OF, **names}
    url = url or Settings().database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        yield session_factory(engine)
    except InvalidField as error:
        raise _fail(f"{shown.get(error.field, error.field)}: {error.message}") from None
    except (NotFound, Conflict) as error:
        raise _fail(str(error)) from None
    finally:
        engine.dispose()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    entered: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return entered


@users_app.command()
def add(
    username: UsernameArgument,
    role: Annotated[Role, typer.Option("--role", help="What the user may do.")],
    password_stdin: PasswordStdinOption = False,
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
    patient_id: Annotated[
        str | None, typer.Option("--patient-id", help="A patient's record (patients only).")
    ] = None,
    team: Annotated[
        list[str] | None,
        typer.Option("--team", help="A care team (clinicians only; repeat for more)."),
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Add an account (the password is asked for, or read with --password-stdin)."""
    password = _password(password_stdin)
    with _database(database_url) as sessions:
        account = accounts.create_user(
            sessions,
            username,
            role,
            password=password,
            display_name=display_name,
            patient_id=patient_id,
            teams=team or (),
        )
    typer.echo(f"Added {account.user.role.value} {account.user.username} (id {account.user.id}).")


@users_app.command("list")
def list_users(database_url: DatabaseUrlOption = None) -> None:
    """List every account: role, status, care teams, linked record (never a password)."""
    with _database(database_url) as sessions:
        found = accounts.list_accounts(sessions)
    header = ("USERNAME", "ROLE", "STATUS", "FAILED", "PATIENT ID", "TEAMS", "DISPLAY NAME")
    rows = [header]
    for account in found:
        user = account.user
        status = [s for s, on in (("disabled", user.disabled), ("locked", user.locked_at)) if on]
        rows.append(
            (
                user.username,
                user.role.value,
                ",".join(status) or "active",
                str(user.failed_sign_ins),
                user.patient_id or "-",
                "; ".join(sorted(account.teams)) or "-",
                user.display_name or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@users_app.command()
def disable(username: UsernameArgument, database_url: DatabaseUrlOption = None) -> None:
    """Disable an account: its sign-ins end and its API tokens stop working."""
    with _database(database_url) as sessions:
        accounts.update_user(sessions, username, disabled=True)
    typer.echo(f"Disabled {username}.")


@users_app.command()
def enable(username: UsernameArgument, database_url: DatabaseUrlOption = None) -> None:
    """Enable a disabled account again."""
    with _database(database_url) as sessions:
        accounts.update_user(sessions, username, disabled=False)
    typer.echo(f"Enabled {username}.")


@users_app.command()
def unlock(username: UsernameArgument, database_url: DatabaseUrlOption = None) -> None:
    """Unlock an account locked after too many wrong passwords."""
    with _database(database_url) as sessions:
        accounts.update_user(sessions, username, unlock=True)
    typer.echo(f"Unlocked {username}.")


@users_app.command("reset-password")
def reset_password(
    username: UsernameArgument,
    password_stdin: PasswordStdinOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Give an account a new password (asked for twice, or --password-stdin); its sign-ins
    end and a lock is lifted."""
    password = _password(password_stdin)
    with _database(database_url) as sessions:
        accounts.update_user(sessions, username, password=password)
    typer.echo(f"New password set for {username}.")


@users_app.command()
def token(
    username: UsernameArgument,
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    days: Annotated[
        int | None, typer.Option("--days", help="Days it lasts (default: the settings').")
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Issue an API token acting as the user. Only the token is printed on standard output,
    this once (it is stored as a hash); its id and expiry go to standard error."""
    with _database(database_url) as sessions:
        settings = Settings()
        issued = accounts.issue_token(
            sessions,
            username,
            name,
            days=min(settings.token_days, settings.token_max_days) if days is None else days,
            max_days=settings.token_max_days,
        )
    print(f"Token {issued.id} expires {issued.expires_at:%Y-%m-%d %H:%M} UTC.", file=sys.stderr)
    typer.echo(issued.secret)


@users_app.command("revoke-token")
def revoke_token(
    token_id: Annotated[str, typer.Argument(help="The token's id (not its secret).")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Revoke an API token."""
    with _database(database_url) as sessions:
        accounts.revoke_token(sessions, token_id)
    typer.echo(f"Revoked token {token_id}.")


@users_app.command("team-add")
def team_add(
    team: Annotated[str, typer.Argument(help="The care team (made if new).")],
    username: UsernameArgument,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Add a clinician to a care team."""
    with _database(database_url) as sessions:
        accounts.update_user(sessions, username, add_teams=[team])
    typer.echo(f"Added {username} to {team.strip()}.")


@users_app.command()
def assign(
    team: Annotated[str, typer.Argument(help="The care team (made if new).")],
    patient_id: Annotated[str, typer.Argument(help="The woman's CervixWatch id.")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Put a woman under a care team's care."""
    with _database(database_url, patient_id="PATIENT_ID") as sessions:
        assigned = accounts.assign_to_team(sessions, team, patient_id)
    already = "" if assigned.added else " (she already was)"
    typer.echo(f"Patient {assigned.patient_id} is under {assigned.team}{already}.")


def demo_accounts(
    database_url: DatabaseUrlOption = None,
    app_url: Annotated[
        str, typer.Option("--app-url", help="Where the demo is served (for the printout).")
    ] = "http://127.0.0.1:8000",
) -> None:
    """Make one demo user of each role on the SYNTHETIC demo database (or give them new
    passwords) and print their credentials. Refused on a database with real patients."""
    with _database(database_url) as sessions:
        try:
            made = make_demo_accounts(sessions)
        except NotADemoDatabase as error:
            raise _fail(f"demo-accounts: {error}") from None
    typer.echo(credentials_text(made, app_url))
