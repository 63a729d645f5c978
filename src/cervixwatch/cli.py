"""The `cervixwatch` command line.

`assess` follows the contract in shared/DESIGN.md: exit 0 on success, 2 with one clear line on
stderr for an unreadable or invalid bundle (or bad options). `serve` runs the web app,
`demo-data` makes the synthetic demo cohort and `demo` puts the two together.

Only `assess` and `rules` are defined here, on the pure path (clinical, interop, knowledge,
views). The commands that need the database, the web app or the demo cohort are in
`service_cli` and are loaded when one of them is asked for, so that `cervixwatch assess`
starts without importing SQLAlchemy, Alembic or the cohort (`docs/performance.md`, "CLI
start-up").
"""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.console import Console
from typer.core import TyperGroup
from typer.main import get_command

from cervixwatch.clinical.assessment import assess as assess_records
from cervixwatch.clinical.guidelines import GuidelineProfile, KnowledgeError
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.interop.fhir_values import BundleError
from cervixwatch.knowledge import BUNDLED_PROFILES, bundled_evidence, load_profiles
from cervixwatch.views.json_view import assessment_json
from cervixwatch.views.text_view import render_text

if TYPE_CHECKING:
    # Typer 0.29 carries its own copy of Click; these are the types its groups use.
    from typer._click import Command, Context


class _Commands(TyperGroup):
    """The `cervixwatch` group: `assess` and `rules` are built with it; the commands of
    `service_cli` join it the first time a command not yet here is asked for, or the list of
    all of them (`--help`). They are then the same click commands, in the same order, as if
    they had been registered here."""

    _service_loaded = False

    def _load_service_commands(self) -> None:
        if self._service_loaded:
            return
        from cervixwatch.service_cli import service_app

        service = get_command(service_app)
        assert isinstance(service, TyperGroup)
        self.commands.update(service.commands)
        self._service_loaded = True

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in self.commands:
            self._load_service_commands()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: Context) -> list[str]:
        self._load_service_commands()
        return super().list_commands(ctx)


app = typer.Typer(
    cls=_Commands,
    help="CervixWatch: cervical insufficiency and preterm-birth prevention.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(asked: bool) -> None:
    if asked:
        from cervixwatch.build_info import describe_build

        print(describe_build())
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and whether the compiled build runs (`make compiled`).",
        ),
    ] = False,
) -> None:
    """CervixWatch: cervical insufficiency and preterm-birth prevention."""


class OutputFormat(StrEnum):
    json = "json"
    text = "text"


#: Modules the pure path (`assess`, `rules`) must not import: the store and its libraries, the
#: web app and its server, the PDF letter, settings, accounts, the cohort and the demo. Checked
#: by tests/unit/test_cli_startup.py and benchmarks/startup.py.
PURE_PATH_EXCLUDES = (
    "sqlalchemy",
    "alembic",
    "psycopg",
    "fastapi",
    "starlette",
    "uvicorn",
    "weasyprint",
    "pydantic_settings",
    "argon2",
    "cervixwatch.store",
    "cervixwatch.web",
    "cervixwatch.app",
    "cervixwatch.access",
    "cervixwatch.cohort",
    "cervixwatch.demo",
    "cervixwatch.serving",
    "cervixwatch.settings",
    "cervixwatch.users_cli",
    "cervixwatch.audit_cli",
    "cervixwatch.service_cli",
)


def fail(message: str) -> typer.Exit:
    """One line on stderr; raise the result to exit with status 2 (also used by service_cli)."""
    print(f"cervixwatch: {message}", file=sys.stderr)
    return typer.Exit(code=2)


def choose_profiles(guideline: str, knowledge: Path) -> list[GuidelineProfile]:
    """The profiles `--guideline` names from the knowledge directory; exit 2 if it cannot."""
    try:
        profiles = load_profiles(knowledge)
    except (KnowledgeError, OSError) as error:
        raise fail(f"knowledge base: {error}") from None
    if guideline == "all":
        return list(profiles.values())
    if guideline not in profiles:
        raise fail(f"--guideline: {guideline!r} is not one of all, {', '.join(profiles)}")
    return [profiles[guideline]]


def parse_as_of(as_of: str | None) -> dt.date:
    """The `--as-of` date (YYYY-MM-DD), today if not given; exit 2 if it is not a date."""
    if as_of is None:
        return dt.date.today()  # noqa: DTZ011 - the clinic's local calendar day is meant
    try:
        return dt.date.fromisoformat(as_of)
    except ValueError:
        raise fail(f"--as-of: {as_of!r} is not a date (YYYY-MM-DD)") from None


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
    day = parse_as_of(as_of)
    profiles = choose_profiles(guideline, knowledge)
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise fail(f"cannot read {file}: {error.strerror or error}") from None
    try:
        records = read_bundle(raw, day)
    except BundleError as error:
        raise fail(f"invalid bundle {file}: {error}") from None
    assessment = assess_records(records, day, profiles, bundled_evidence())
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

    profiles = choose_profiles(guideline, knowledge)
    if output is OutputFormat.json:
        document = rules_json(profiles)
        sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    render_rules(profiles, Console(highlight=False))


def main() -> None:  # pragma: no cover - console entry point
    app()
