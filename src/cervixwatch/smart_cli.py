"""`cervixwatch smart`: the apps allowed to use the FHIR API through SMART on FHIR (issue 14,
part 2; docs/integrations.md, "SMART apps").

    cervixwatch smart add-app CLIENT_ID --name NAME --redirect-uri URI [--redirect-uri ...]
                              [--scope "launch/patient patient/*.rs"]
    cervixwatch smart add-backend CLIENT_ID --name NAME --jwks FILE --account USERNAME
                              [--scope "system/*.rs"]
    cervixwatch smart apps                     every app registered (never a key)
    cervixwatch smart disable CLIENT_ID        it can no longer get tokens; its tokens revoked

A user-facing app is a public client: no secret, PKCE S256 at every launch, sent back only to
its registered redirect URIs. A backend service signs a JWT with its private key; CervixWatch
keeps its public JWK Set only, and the service acts as the account named (its role and care
teams: make it a clinician account of the teams it may read). Every command migrates the
database first. Exit status 0 on success, 2 with one line on stderr for bad input.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app import smart_clients
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.cli import fail
from cervixwatch.settings import Settings
from cervixwatch.store import make_engine, session_factory, upgrade

smart_app = typer.Typer(
    help="SMART on FHIR apps and backend services allowed to use the FHIR API.",
    add_completion=False,
    no_args_is_help=True,
)

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy database URL (default: CERVIXWATCH_DATABASE_URL, else ./cervixwatch.db).",
        show_default=False,
    ),
]
ClientIdArgument = Annotated[str, typer.Argument(help="The app's client_id.")]
NameOption = Annotated[str, typer.Option("--name", help="The app's name, as users see it.")]


@contextmanager
def _database(url: str | None) -> Iterator[sessionmaker[Session]]:
    url = url or Settings().database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        yield session_factory(engine)
    except InvalidField as error:
        raise fail(f"--{error.field.replace('_', '-')}: {error.message}") from None
    except (NotFound, Conflict) as error:
        raise fail(str(error)) from None
    finally:
        engine.dispose()


@smart_app.command("add-app")
def add_app(
    client_id: ClientIdArgument,
    name: NameOption,
    redirect_uri: Annotated[
        list[str], typer.Option("--redirect-uri", help="Where the app may be sent back (repeat).")
    ],
    scope: Annotated[
        str, typer.Option("--scope", help="The most it may be granted (space-separated).")
    ] = smart_clients.DEFAULT_APP_SCOPES,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Register a user-facing app (public client: standalone launch with PKCE)."""
    with _database(database_url) as sessions:
        smart_clients.add_app(
            sessions, client_id, name=name, redirect_uris=redirect_uri, scopes=scope
        )
    typer.echo(f"App {client_id} registered.")


@smart_app.command("add-backend")
def add_backend(
    client_id: ClientIdArgument,
    name: NameOption,
    jwks: Annotated[
        Path, typer.Option("--jwks", help="A file with the service's public JWK Set (JSON).")
    ],
    account: Annotated[str, typer.Option("--account", help="The account it acts as.")],
    scope: Annotated[
        str, typer.Option("--scope", help="The most it may be granted (space-separated).")
    ] = smart_clients.DEFAULT_BACKEND_SCOPES,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Register a backend service (SMART Backend Services, private_key_jwt)."""
    try:
        key_set = json.loads(jwks.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise fail(f"--jwks: cannot read a JSON JWK Set from {jwks} ({error})") from None
    with _database(database_url) as sessions:
        smart_clients.add_backend(
            sessions, client_id, name=name, jwks=key_set, username=account, scopes=scope
        )
    typer.echo(f"Backend service {client_id} registered, acting as {account}.")


@smart_app.command("apps")
def list_apps(database_url: DatabaseUrlOption = None) -> None:
    """Every app registered, with what it may be granted (never a key)."""
    with _database(database_url) as sessions:
        apps = smart_clients.list_clients(sessions)
    if not apps:
        typer.echo("No SMART apps are registered.")
    for a in apps:
        state = "disabled" if a.disabled else "active"
        where = ", ".join(a.redirect_uris) if a.kind == "public" else f"acts as {a.account}"
        typer.echo(f"{a.client_id}  {a.kind}  {state}  {a.name}  [{a.scopes}]  {where}")


@smart_app.command("disable")
def disable(client_id: ClientIdArgument, database_url: DatabaseUrlOption = None) -> None:
    """Disable an app: it can no longer get tokens, and every token it has is revoked."""
    with _database(database_url) as sessions:
        smart_clients.disable(sessions, client_id)
    typer.echo(f"App {client_id} disabled; its tokens are revoked.")
