"""`cervixwatch notify ...`: delivering the notifications of urgent symptom reports, and
where each care team's go (issue 13, part 1; docs/deployment.md, "Notifications").

    cervixwatch notify --once                 one run: escalations due, then every delivery due
    cervixwatch notify                        a run every CERVIXWATCH_NOTIFY_INTERVAL_SECONDS
    cervixwatch notify contacts               every care team's contacts and escalation setting
    cervixwatch notify contact-add TEAM ...   an e-mail address or a webhook (its secret asked for)
    cervixwatch notify contact-remove TEAM ID
    cervixwatch notify escalation TEAM --minutes N | --site
    cervixwatch notify deliveries [--limit N] the newest deliveries and how they went

A webhook's secret is never a command-line argument (it would stay in the shell's history and
the process list): it is asked for, hidden, or read from standard input with --secret-stdin,
and never printed. Every command migrates the database first. Exit status 0 on success, 2
with one line on stderr for bad input.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app import notifications
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.app.notify_dispatch import NotifyConfig, dispatch_once
from cervixwatch.settings import Settings
from cervixwatch.store import make_engine, session_factory, upgrade
from cervixwatch.store.models import NotifyChannel, NotifyReceives

notify_app = typer.Typer(
    help="Notifications of urgent symptom reports: deliver them, and where they go.",
    add_completion=False,
    invoke_without_command=True,
)

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy database URL (default: CERVIXWATCH_DATABASE_URL, else ./cervixwatch.db).",
        show_default=False,
    ),
]
TeamArgument = Annotated[str, typer.Argument(help="The care team's name.")]

_OPTION_OF = {
    "limit": "--limit",
    "address": "--email/--webhook",
    "secret": "secret",
    "escalate_after_minutes": "--minutes",
}


def _fail(message: str) -> typer.Exit:
    print(f"cervixwatch: {message}", file=sys.stderr)
    return typer.Exit(code=2)


@contextmanager
def _database(url: str | None) -> Iterator[sessionmaker[Session]]:
    url = url or Settings().database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        yield session_factory(engine)
    except InvalidField as error:
        raise _fail(f"{_OPTION_OF.get(error.field, error.field)}: {error.message}") from None
    except (NotFound, Conflict) as error:
        raise _fail(str(error)) from None
    finally:
        engine.dispose()


@notify_app.callback()
def notify(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="One run, then exit (for cron or a systemd timer).")
    ] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Deliver the notifications due (escalations first queued): once with --once, else a run
    every CERVIXWATCH_NOTIFY_INTERVAL_SECONDS until interrupted."""
    if ctx.invoked_subcommand is not None:
        return
    settings = Settings()
    config = NotifyConfig.of(settings)
    with _database(database_url) as sessions:
        if once:
            run = dispatch_once(sessions, config)
            typer.echo(
                f"Escalations queued {run.escalated}; sent {run.sent}, to retry {run.retrying}, "
                f"failed {run.failed}, cancelled {run.cancelled}."
            )
            return
        stop = threading.Event()
        try:
            while not stop.is_set():
                dispatch_once(sessions, config)
                stop.wait(config.interval_seconds)
        except KeyboardInterrupt:
            return


@notify_app.command("contacts")
def list_contacts(database_url: DatabaseUrlOption = None) -> None:
    """Every care team's contacts (never a secret) and escalation setting."""
    with _database(database_url) as sessions:
        teams = notifications.team_contacts(sessions)
    site = Settings().notify_escalate_after_minutes
    for team in teams:
        minutes = team.escalate_after_minutes
        shown = (
            f"{minutes} min"
            if minutes is not None
            else (f"site's {site} min" if site is not None else "none")
        )
        typer.echo(f"{team.team}: escalation after {shown}")
        if not team.contacts:
            typer.echo("  (no contacts: its women's urgent reports notify no one)")
        for c in team.contacts:
            only = " (escalations only)" if c.receives is NotifyReceives.ESCALATIONS else ""
            signed = ", signed" if c.has_secret else ""
            typer.echo(f"  {c.id}  {c.channel.value}  {c.address}{signed}{only}")


def _secret(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    entered: str = typer.prompt("Webhook secret", hide_input=True, confirmation_prompt=True)
    return entered


@notify_app.command("contact-add")
def contact_add(
    team: TeamArgument,
    email: Annotated[str | None, typer.Option("--email", help="An e-mail address.")] = None,
    webhook: Annotated[
        str | None, typer.Option("--webhook", help="A webhook's URL (its secret is asked for).")
    ] = None,
    secret_stdin: Annotated[
        bool,
        typer.Option("--secret-stdin", help="Read the webhook's secret from standard input."),
    ] = False,
    escalations_only: Annotated[
        bool, typer.Option("--escalations-only", help="Send it escalations only.")
    ] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Add a contact to a care team: --email ADDRESS, or --webhook URL with its secret."""
    if (email is None) == (webhook is None):
        raise _fail("contact-add: give exactly one of --email or --webhook")
    channel = NotifyChannel.EMAIL if email is not None else NotifyChannel.WEBHOOK
    secret = _secret(secret_stdin) if webhook is not None else None
    receives = NotifyReceives.ESCALATIONS if escalations_only else NotifyReceives.ALL
    with _database(database_url) as sessions:
        added = notifications.add_contact(
            sessions, team, channel, email or webhook or "", secret=secret, receives=receives
        )
    typer.echo(f"Added {added.channel.value} contact {added.id} to {added.team}.")


@notify_app.command("contact-remove")
def contact_remove(
    team: TeamArgument,
    contact_id: Annotated[int, typer.Argument(help="The contact's id (`notify contacts`).")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Remove a care team's contact; what still waits to be sent to it is cancelled."""
    with _database(database_url) as sessions:
        notifications.remove_contact(sessions, team, contact_id)
    typer.echo(f"Removed contact {contact_id} of {team.strip()}.")


@notify_app.command("escalation")
def escalation(
    team: TeamArgument,
    minutes: Annotated[
        int | None,
        typer.Option("--minutes", help="Minutes a red-flag report may wait unreviewed."),
    ] = None,
    site: Annotated[
        bool, typer.Option("--site", help="Clear the team's own: the site's setting applies.")
    ] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Set a care team's escalation: --minutes N, or --site for the site's setting
    (CERVIXWATCH_NOTIFY_ESCALATE_AFTER_MINUTES; unset: no escalation)."""
    if (minutes is None) == (not site):
        raise _fail("escalation: give exactly one of --minutes N or --site")
    with _database(database_url) as sessions:
        notifications.set_escalation(sessions, team, minutes)
    shown = (
        f"after {minutes} minute{'' if minutes == 1 else 's'}"
        if minutes is not None
        else "as the site's setting says"
    )
    typer.echo(f"{team.strip()} escalates {shown}.")


@notify_app.command("deliveries")
def deliveries(
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.")] = 20,
    database_url: DatabaseUrlOption = None,
) -> None:
    """The newest deliveries and how they went (ids, never a name or a clinical value)."""
    with _database(database_url) as sessions:
        found = notifications.recent_deliveries(sessions, limit)
    for d in found:
        when = d.sent_at or d.next_attempt_at
        shown = f" {when:%Y-%m-%d %H:%M} UTC" if when is not None else ""
        error = f" ({d.last_error})" if d.last_error else ""
        typer.echo(
            f"{d.id}  notification {d.notification_id} {d.kind.value}  {d.channel.value} "
            f"{d.recipient}  {d.status.value}{shown}  attempts {d.attempts}{error}"
        )
