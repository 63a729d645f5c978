"""The `cervixwatch` commands that need the database, the web app or the demo cohort:
`demo-data`, `demo-accounts`, `refresh`, `serve`, `demo`, `db ...`, `users ...`, `audit ...`,
`notify ...`, `backup` and `restore`.

`cli.py` loads this module only when one of these commands (or the full `--help`) is asked
for, so that `cervixwatch assess` and `cervixwatch rules` start without SQLAlchemy, Alembic,
pydantic-settings or the cohort (issue 10, `tests/unit/test_cli_startup.py`). Typer builds the
options of every command it registers, defaults and types included, before it runs any one of
them: importing lazily inside the functions would not be enough, since these commands' defaults
(`DEFAULT_SEED`, `DEMO_DATABASE_URL`) and option types (`Role`) live in the heavy modules.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cervixwatch import demo as demo_module
from cervixwatch.audit_cli import audit_app, backup_command, restore_command
from cervixwatch.cli import KnowledgeOption, choose_profiles, fail, parse_as_of
from cervixwatch.clinic_cli import clinic_app
from cervixwatch.cohort import DEFAULT_SEED
from cervixwatch.import_cli import import_command
from cervixwatch.intake_cli import dicom_listen, hl7_listen
from cervixwatch.knowledge import BUNDLED_PROFILES
from cervixwatch.notify_cli import notify_app
from cervixwatch.population_cli import population_app
from cervixwatch.settings import Settings, get_settings
from cervixwatch.smart_cli import smart_app
from cervixwatch.store.commands import db_app
from cervixwatch.users_cli import demo_accounts, users_app
from cervixwatch.validation_cli import validate_model

#: Mounted under the main `cervixwatch` command with the same settings as `cli.app`.
service_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy database URL (default: CERVIXWATCH_DATABASE_URL, else ./cervixwatch.db).",
        show_default=False,
    ),
]


@service_app.command("demo-data")
def demo_data(
    patients: Annotated[int, typer.Option("--patients", "-n", min=1, help="How many women.")] = 500,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same cohort.")] = DEFAULT_SEED,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The cohort's reference date (default today)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write FHIR Bundles to this directory.", file_okay=False),
    ] = None,
    ndjson: Annotated[
        bool, typer.Option("--ndjson", help="With --out: one NDJSON file of Bundles.")
    ] = False,
    bulk: Annotated[
        bool,
        typer.Option(
            "--bulk",
            help="With --out: a Bulk Data export (one NDJSON file per resource type and a "
            "manifest), written a woman at a time.",
        ),
    ] = False,
    db: Annotated[bool, typer.Option("--db", help="Load the cohort into the database.")] = False,
    database_url: DatabaseUrlOption = None,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="With --db: load only into an empty database.")
    ] = False,
) -> None:
    """Make a SYNTHETIC demo cohort: FHIR Bundles (--out DIR) or rows in the database (--db)."""
    if (out is None) == (not db):
        raise fail("demo-data: give exactly one of --out DIR or --db")
    if (ndjson or bulk) and out is None:
        raise fail("demo-data: --ndjson and --bulk need --out DIR")
    if ndjson and bulk:
        raise fail("demo-data: give --ndjson or --bulk, not both")
    if if_empty and not db:
        raise fail("demo-data: --if-empty needs --db")
    reference = parse_as_of(as_of)
    console = Console(highlight=False, stderr=True)
    if out is not None:
        written = demo_module.write_demo_files(
            out, patients, seed, reference, ndjson=ndjson, bulk=bulk
        )
        console.print(
            f"Wrote {patients} synthetic patients (seed {seed}, as of {reference}) to {written}"
        )
        return
    url = database_url or Settings().database_url
    demo_module.load_demo_database(url, patients, seed, reference, console, if_empty=if_empty)


service_app.command("demo-accounts")(demo_accounts)


@service_app.command()
def refresh(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Reassess as of this date (default today).")
    ] = None,
    database_url: DatabaseUrlOption = None,
    knowledge: KnowledgeOption = BUNDLED_PROFILES,
) -> None:
    """Reassess every active pregnancy whose stored assessment is not of today (gestational
    age, scan status and open recommendations move with the calendar). Run it daily, e.g.
    just after midnight, so the first worklist request of the day does not do it."""
    from cervixwatch.app.reassessing import refresh_assessments
    from cervixwatch.store import make_engine, session_factory, upgrade

    day = parse_as_of(as_of)
    profiles = choose_profiles("all", knowledge)
    url = database_url or Settings().database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        count = refresh_assessments(session_factory(engine), day, profiles)
    finally:
        engine.dispose()
    print(f"Reassessed {count} active pregnancies as of {day}.")


@service_app.command()
def serve(
    host: Annotated[str | None, typer.Option("--host", help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="TCP port.")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Worker processes.")
    ] = None,
    database_url: DatabaseUrlOption = None,
    log_level: Annotated[str, typer.Option("--log-level", help="Uvicorn log level.")] = "info",
) -> None:
    """Run the web app (production entry point). Defaults come from the settings
    (CERVIXWATCH_HOST, _PORT, _WORKERS, _DATABASE_URL or .env); the database is migrated
    before the workers start."""
    settings = _serve_settings(host, port, workers, database_url)
    demo_module.serve(settings, log_level=log_level)


def _serve_settings(
    host: str | None, port: int | None, workers: int | None, database_url: str | None
) -> Settings:
    """The settings with the options applied, also put in the environment: worker processes
    build their app from the environment (`create_app()` reads `get_settings()`)."""
    given = {"host": host, "port": port, "workers": workers, "database_url": database_url}
    for name, value in given.items():
        if value is not None:
            os.environ[f"CERVIXWATCH_{name.upper()}"] = str(value)
    get_settings.cache_clear()
    return get_settings()


@service_app.command()
def demo(
    text: Annotated[
        bool, typer.Option("--text", help="Only assess the example patients and print them.")
    ] = False,
    patients: Annotated[int, typer.Option("--patients", "-n", min=1)] = 500,
    seed: Annotated[int, typer.Option("--seed")] = DEFAULT_SEED,
    database_url: Annotated[
        str, typer.Option("--database-url", help="The demo database.")
    ] = demo_module.DEMO_DATABASE_URL,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
) -> None:
    """The demo: load a synthetic cohort into the demo database (if it is empty) and serve it;
    with --text, print the example patients' assessments instead."""
    if text:
        demo_module.text_demo()
        return
    console = Console(highlight=False, stderr=True)
    demo_module.load_demo_database(
        database_url,
        patients,
        seed,
        parse_as_of(None),
        console,
        if_empty=True,
    )
    # The same accounts `make demo` prints: one of each role, with fresh passwords.
    demo_accounts(database_url=database_url, app_url=f"http://{host}:{port}")
    demo_module.serve(_serve_settings(host, port, 1, database_url))


service_app.add_typer(db_app, name="db")
service_app.add_typer(users_app, name="users")
service_app.add_typer(audit_app, name="audit")
service_app.add_typer(notify_app, name="notify")
service_app.add_typer(clinic_app, name="clinic")
service_app.add_typer(population_app, name="population")
service_app.add_typer(smart_app, name="smart")
service_app.command("import")(import_command)
service_app.command("validate-model")(validate_model)
service_app.command("backup")(backup_command)
service_app.command("restore")(restore_command)
service_app.command("dicom-listen")(dicom_listen)
service_app.command("hl7-listen")(hl7_listen)
