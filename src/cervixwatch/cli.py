"""The `cervixwatch` command line.

`assess` follows the contract in shared/DESIGN.md: exit 0 on success, 2 with one clear line on
stderr for an unreadable or invalid bundle (or bad options). `serve` runs the web app,
`demo-data` makes the synthetic demo cohort and `demo` puts the two together.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from cervixwatch import demo as demo_module
from cervixwatch.clinical.assessment import assess as assess_records
from cervixwatch.clinical.guidelines import GuidelineProfile, KnowledgeError
from cervixwatch.cohort import DEFAULT_SEED
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.interop.fhir_values import BundleError
from cervixwatch.knowledge import BUNDLED_PROFILES, load_profiles
from cervixwatch.settings import Settings, get_settings
from cervixwatch.store.commands import db_app
from cervixwatch.users_cli import demo_accounts, users_app
from cervixwatch.views.json_view import assessment_json
from cervixwatch.views.text_view import render_text

app = typer.Typer(
    help="CervixWatch: cervical insufficiency and preterm-birth prevention.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")


class OutputFormat(StrEnum):
    json = "json"
    text = "text"


def _fail(message: str) -> typer.Exit:
    print(f"cervixwatch: {message}", file=sys.stderr)
    return typer.Exit(code=2)


def _choose_profiles(guideline: str, knowledge: Path) -> list[GuidelineProfile]:
    try:
        profiles = load_profiles(knowledge)
    except (KnowledgeError, OSError) as error:
        raise _fail(f"knowledge base: {error}") from None
    if guideline == "all":
        return list(profiles.values())
    if guideline not in profiles:
        raise _fail(f"--guideline: {guideline!r} is not one of all, {', '.join(profiles)}")
    return [profiles[guideline]]


def _parse_as_of(as_of: str | None) -> dt.date:
    if as_of is None:
        return dt.date.today()  # noqa: DTZ011 - the clinic's local calendar day is meant
    try:
        return dt.date.fromisoformat(as_of)
    except ValueError:
        raise _fail(f"--as-of: {as_of!r} is not a date (YYYY-MM-DD)") from None


GuidelineOption = Annotated[
    str, typer.Option("--guideline", "-g", help="acog, nice, any other loaded profile, or all.")
]
KnowledgeOption = Annotated[
    Path,
    typer.Option("--knowledge", help="Directory of guideline profile files.", show_default=False),
]


@app.command()
def assess(
    file: Annotated[Path, typer.Argument(help="A FHIR R4 Bundle (JSON) for one patient.")],
    guideline: GuidelineOption = "all",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Assess as of this date (default today).")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="json or text.")] = (
        OutputFormat.text
    ),
    knowledge: KnowledgeOption = BUNDLED_PROFILES,
) -> None:
    """Assess one pregnancy from a FHIR Bundle against the guidelines."""
    day = _parse_as_of(as_of)
    profiles = _choose_profiles(guideline, knowledge)
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise _fail(f"cannot read {file}: {error.strerror or error}") from None
    try:
        records = read_bundle(raw, day)
    except BundleError as error:
        raise _fail(f"invalid bundle {file}: {error}") from None
    assessment = assess_records(records, day, profiles)
    if output is OutputFormat.json:
        document = assessment_json(assessment, records, profiles)
        sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        render_text(assessment, records, profiles, Console(highlight=False))


@app.command()
def rules(
    guideline: GuidelineOption = "all",
    output: Annotated[OutputFormat, typer.Option("--format", help="json or text.")] = (
        OutputFormat.text
    ),
    knowledge: KnowledgeOption = BUNDLED_PROFILES,
) -> None:
    """List every rule of the knowledge base with its source and provenance, the assumptions
    each may make (CD-01) and each treatment's course, for review."""
    from cervixwatch.views.rules_view import render_rules, rules_json

    profiles = _choose_profiles(guideline, knowledge)
    if output is OutputFormat.json:
        document = rules_json(profiles)
        sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    render_rules(profiles, Console(highlight=False))


DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy database URL (default: CERVIXWATCH_DATABASE_URL, else ./cervixwatch.db).",
        show_default=False,
    ),
]


@app.command("demo-data")
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
    db: Annotated[bool, typer.Option("--db", help="Load the cohort into the database.")] = False,
    database_url: DatabaseUrlOption = None,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="With --db: load only into an empty database.")
    ] = False,
) -> None:
    """Make a SYNTHETIC demo cohort: FHIR Bundles (--out DIR) or rows in the database (--db)."""
    if (out is None) == (not db):
        raise _fail("demo-data: give exactly one of --out DIR or --db")
    if ndjson and out is None:
        raise _fail("demo-data: --ndjson needs --out DIR")
    if if_empty and not db:
        raise _fail("demo-data: --if-empty needs --db")
    reference = _parse_as_of(as_of)
    console = Console(highlight=False, stderr=True)
    if out is not None:
        written = demo_module.write_demo_files(out, patients, seed, reference, ndjson=ndjson)
        console.print(
            f"Wrote {patients} synthetic patients (seed {seed}, as of {reference}) to {written}"
        )
        return
    url = database_url or Settings().database_url
    demo_module.load_demo_database(url, patients, seed, reference, console, if_empty=if_empty)


app.command("demo-accounts")(demo_accounts)


@app.command()
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
    from cervixwatch.store import make_engine, refresh_assessments, session_factory, upgrade

    day = _parse_as_of(as_of)
    profiles = _choose_profiles("all", knowledge)
    url = database_url or Settings().database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        count = refresh_assessments(session_factory(engine), day, profiles)
    finally:
        engine.dispose()
    print(f"Reassessed {count} active pregnancies as of {day}.")


@app.command()
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


@app.command()
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
        _parse_as_of(None),
        console,
        if_empty=True,
    )
    # The same accounts `make demo` prints: one of each role, with fresh passwords.
    demo_accounts(database_url=database_url, app_url=f"http://{host}:{port}")
    demo_module.serve(_serve_settings(host, port, 1, database_url))


def main() -> None:  # pragma: no cover - console entry point
    app()
