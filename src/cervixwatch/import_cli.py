"""`cervixwatch import EXPORT --team TEAM`: a Bulk Data export loaded into the database
through the one import (`app.bulk_import`), with a progress bar, resumable after an
interruption, idempotent; on PostgreSQL by one process per CPU unless `--workers` says.

Exit status 0 when every woman was stored; 1 when some were refused (counted, the first
reasons printed: her id in the source and the entry and field, never a value); 2 with one
line on stderr for bad input (the export, the team).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cervixwatch.cli import KnowledgeOption, fail, parse_as_of
from cervixwatch.knowledge import BUNDLED_PROFILES, load_profiles
from cervixwatch.settings import Settings

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy database URL (default: CERVIXWATCH_DATABASE_URL, else ./cervixwatch.db).",
        show_default=False,
    ),
]


def import_command(
    export: Annotated[
        Path,
        typer.Argument(
            help="A Bulk Data export: its manifest.json, the directory holding it, or a "
            "directory of <ResourceType>.ndjson files."
        ),
    ],
    team: Annotated[str, typer.Option("--team", help="The care team the women new here join.")],
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="A name for the system the export came from: the ids and system-less "
            "identifiers of its Patients are its (default: the export's absolute path). "
            "Use the same name for every export of one system.",
            show_default=False,
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Assess as of this date (YYYY-MM-DD; default today)."),
    ] = None,
    restart: Annotated[
        bool,
        typer.Option("--restart", help="From the first woman, whatever an earlier run noted."),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Processes importing batches at once (default: one per CPU on PostgreSQL; "
            "one on SQLite, which takes one writer at a time).",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    knowledge: KnowledgeOption = BUNDLED_PROFILES,
) -> None:
    """Load a Bulk Data export (ours or another server's) into the database through the
    same reader and checks as POST /fhir: the women new here a batch at a time, any other
    woman in her own transaction."""
    from sqlalchemy.engine import make_url

    from cervixwatch.app.bulk_import import import_export
    from cervixwatch.store import make_engine, session_factory, upgrade
    from cervixwatch.store.accounts import team_by_name

    day = parse_as_of(as_of)
    settings = Settings()
    url = database_url or settings.database_url
    if workers is None:
        workers = 1 if make_url(url).get_backend_name() == "sqlite" else os.cpu_count() or 1
    upgrade(url)
    engine = make_engine(url)
    console = Console(highlight=False, stderr=True)
    try:
        sessions = session_factory(engine)
        with sessions() as session:
            found = team_by_name(session, team)
            team_id = found.id if found is not None else None
        if team_id is None:
            raise fail(f"import: --team: no care team {team!r} (cervixwatch users team-add)")
        name = source or str(export.resolve())
        with Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("women"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ) as bar:
            task = bar.add_task("importing", total=None)
            try:
                result = import_export(
                    sessions,
                    export,
                    source=name,
                    today=day,
                    profiles=load_profiles(knowledge),
                    team_ids=[team_id],
                    local_system=settings.hospital_number_system,
                    restart=restart,
                    workers=workers,
                    database_url=url,
                    knowledge=knowledge,
                    progress=lambda done: bar.update(task, completed=done),
                )
            except ValueError as error:
                raise fail(f"import: {error}") from None
    finally:
        engine.dispose()
    rate = result.stored / result.seconds if result.seconds else 0.0
    console.print(
        f"Stored {result.stored:,} women ({result.created:,} new) in {result.seconds:.1f} s "
        f"({rate:,.0f}/s, {workers} {'process' if workers == 1 else 'processes'}); "
        f"{result.skipped:,} stored by an earlier run; {result.refused:,} refused."
    )
    if result.not_about_a_woman:
        console.print(f"{result.not_about_a_woman:,} resources named no woman and were left out.")
    for woman, reason in result.reasons:
        console.print(f"  refused {woman}: {reason}")
    if result.refused:
        raise typer.Exit(code=1)
