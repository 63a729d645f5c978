"""`cervixwatch db ...`: migrate the database from the command line.

Mounted by the main CLI with `app.add_typer(db_app, name="db")`.
"""

from __future__ import annotations

from typing import Annotated

import typer
from alembic import command
from sqlalchemy.engine import make_url

from cervixwatch.store import migrate
from cervixwatch.store.database import database_url

db_app = typer.Typer(
    help="The CervixWatch database: migrations.", no_args_is_help=True, add_completion=False
)

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url", help="Database URL (default: CERVIXWATCH_DATABASE_URL or ./cervixwatch.db)."
    ),
]


def _shown(url: str | None) -> str:
    return make_url(url or database_url()).render_as_string(hide_password=True)


@db_app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    url: UrlOption = None,
) -> None:
    """Migrate the database to the newest schema (or to REVISION)."""
    migrate.upgrade(url, revision)
    typer.echo(f"{_shown(url)}: at revision {migrate.current_revision(url)}")


@db_app.command()
def current(url: UrlOption = None) -> None:
    """Print the database's revision and the newest one this CervixWatch knows."""
    typer.echo(
        f"{_shown(url)}: at revision {migrate.current_revision(url) or 'none (empty)'};"
        f" newest {migrate.head_revision()}"
    )


@db_app.command()
def revision(
    message: Annotated[str, typer.Option("--message", "-m", help="What the migration does.")],
    url: UrlOption = None,
) -> None:
    """For developers: write a new migration from the difference between the models and a
    database at the newest revision (review it before committing)."""
    command.revision(migrate.alembic_config(url), message=message, autogenerate=True)
