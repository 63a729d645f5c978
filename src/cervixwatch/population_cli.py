"""`cervixwatch population run`: a Bulk Data export assessed woman by woman, written as
Parquet (issue 15, part 2; `app.population`).

Exit status 0 when done; 2 with one line on stderr naming the option or the file for bad
input. The summary printed holds counts and paths, never patient data.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cervixwatch.app.population import PopulationRun, run_population
from cervixwatch.cli import KnowledgeOption, choose_profiles, fail, parse_as_of
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.import_cli import DatabaseUrlOption
from cervixwatch.knowledge import BUNDLED_PROFILES

population_app = typer.Typer(
    help="Population audit: assess a whole registry's pregnancies from a Bulk Data export.",
    no_args_is_help=True,
    add_completion=False,
)


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


@population_app.command("run")
def run(
    out: Annotated[
        Path, typer.Option("--out", help="Directory for assessments.parquet.", file_okay=False)
    ],
    source: Annotated[
        Path | None,
        typer.Option(
            "--input",
            help="A Bulk Data export: its manifest.json, the directory holding it, or a "
            "directory of <ResourceType>.ndjson files.",
            show_default=False,
        ),
    ] = None,
    database: Annotated[
        bool,
        typer.Option(
            "--database",
            help="Run over the app's database instead of an export (every woman; her care "
            "team is her unit).",
        ),
    ] = False,
    database_url: DatabaseUrlOption = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Assess as of this date (YYYY-MM-DD; default today)."),
    ] = None,
    engine: Annotated[Engine, typer.Option("--engine", help="Where the run happens.")] = (
        Engine.duckdb
    ),
    guideline: Annotated[
        str, typer.Option("--guideline", "-g", help="acog, nice, another loaded profile, or all.")
    ] = "all",
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Assessing processes (default: one per CPU)."),
    ] = None,
    spark_master: Annotated[
        str,
        typer.Option(
            "--spark-master",
            help="With --engine spark: local[*], local[N] or a cluster's URL (spark://host:7077).",
        ),
    ] = "local[*]",
    knowledge: KnowledgeOption = BUNDLED_PROFILES,
) -> None:
    """Assess every woman's pregnancy in a Bulk Data export, or in the app's database, with
    the same `assess` as the app, and write one Parquet row per pregnancy per guideline
    profile."""
    day = parse_as_of(as_of)
    profiles = choose_profiles(guideline, knowledge)
    console = Console(highlight=False, stderr=True)
    if (source is None) == (not database):
        raise fail("population run: give --input EXPORT or --database, one of them")
    if source is not None:
        _run(console, source, out, day, profiles, engine, workers, spark_master, knowledge)
        return
    from cervixwatch.app.population_database import database_as_export
    from cervixwatch.settings import Settings
    from cervixwatch.store import make_engine, session_factory

    url = database_url or Settings().database_url
    db_engine = make_engine(url)
    try:
        with database_as_export(session_factory(db_engine), out) as export:
            _run(console, export, out, day, profiles, engine, workers, spark_master, knowledge)
    finally:
        db_engine.dispose()


def _run(
    console: Console,
    source: Path,
    out: Path,
    day: dt.date,
    profiles: list[GuidelineProfile],
    engine: Engine,
    workers: int | None,
    spark_master: str,
    knowledge: Path,
) -> None:
    if engine is Engine.spark:
        from cervixwatch.app.population_spark import run_population_spark

        try:
            result = run_population_spark(
                source, out, day, profiles, knowledge=knowledge, master=spark_master
            )
        except ValueError as error:
            raise fail(f"population run: {error}") from None
        _summary(console, result, day, len(profiles))
        return
    with Progress(
        TextColumn("assessing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("women"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("assessing", total=None)
        try:
            result = run_population(
                source,
                out,
                day,
                profiles,
                knowledge=knowledge,
                workers=workers,
                progress=lambda done: bar.update(task, completed=done),
            )
        except ValueError as error:
            raise fail(f"population run: {error}") from None
    _summary(console, result, day, len(profiles))


def _summary(console: Console, result: PopulationRun, day: dt.date, profiles: int) -> None:
    console.print(
        f"Assessed {result.women:,} women as of {day} in {result.seconds:.1f} s: "
        f"{result.rows:,} rows ({profiles} profile(s)) in {result.parquet}"
    )
    if result.refused:
        console.print(
            f"{result.refused:,} women's data was refused by the reader: their rows say why "
            "(column `error`)."
        )
    if result.not_about_a_woman:
        console.print(f"{result.not_about_a_woman:,} resources named no woman and were left out.")


class QuarterKind(StrEnum):
    calendar = "calendar"
    financial = "financial"


@population_app.command("report")
def report(
    source: Annotated[
        Path,
        typer.Option(
            "--input",
            help="The rows of `population run`: its --out directory, or assessments.parquet.",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", help="Directory for the reports (HTML, PDF, JSON).", file_okay=False),
    ],
    audit: Annotated[
        list[str] | None,
        typer.Option(
            "--audit",
            help="sbl (Saving Babies' Lives v3.1 element 5), acog (ACOG/SMFM pathway) or an "
            "audit file (YAML); repeat for several (default: both bundled).",
        ),
    ] = None,
    quarters: Annotated[
        QuarterKind,
        typer.Option(
            "--quarters", help="Quarters of the EDD: calendar, or the UK financial year's."
        ),
    ] = QuarterKind.calendar,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write a PDF.")] = True,
    knowledge: KnowledgeOption = BUNDLED_PROFILES,
) -> None:
    """Count the audit's measures over the assessed rows, per unit, quarter and risk tier,
    with 95% confidence intervals and funnel plots, and write each audit as a self-contained
    HTML report, a PDF and the counts as JSON."""
    from cervixwatch.app.audit_measures import AuditError, bundled_audit, load_audit
    from cervixwatch.app.audit_report import write_report
    from cervixwatch.app.population_audit import run_audit
    from cervixwatch.knowledge import load_profiles

    console = Console(highlight=False, stderr=True)
    profiles = load_profiles(knowledge)
    generated_at = dt.datetime.now(dt.UTC)
    for name in audit or ["sbl", "acog"]:
        try:
            definition = load_audit(bundled_audit(name), profiles)
            result = run_audit(source, definition, quarters=quarters.value)
        except (AuditError, FileNotFoundError) as error:
            raise fail(f"population report: {error}") from None
        written = write_report(result, out, generated_at=generated_at, pdf=pdf)
        console.print(
            f"{definition.title}: {len(definition.measures)} measures over {result.rows:,} "
            f"pregnancies ({len(result.units)} units) -> "
            + ", ".join(str(path) for path in written)
        )
