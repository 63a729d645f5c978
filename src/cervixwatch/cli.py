"""The `cervixwatch` command line.

`assess` follows the contract in shared/DESIGN.md: exit 0 on success, 2 with one clear line on
stderr for an unreadable or invalid bundle (or bad options).
"""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from cervixwatch.clinical.assessment import assess as assess_records
from cervixwatch.clinical.guidelines import GuidelineProfile, KnowledgeError
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.interop.fhir_values import BundleError
from cervixwatch.knowledge import BUNDLED_PROFILES, load_profiles
from cervixwatch.store.commands import db_app
from cervixwatch.views.json_view import assessment_json
from cervixwatch.views.text_view import render_text

app = typer.Typer(
    help="CervixWatch: cervical insufficiency and preterm-birth prevention.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


app.add_typer(db_app, name="db")


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
    """List every rule of the knowledge base with its source and provenance, for review."""
    profiles = _choose_profiles(guideline, knowledge)
    if output is OutputFormat.json:
        document = [
            {
                "profile": p.id,
                "version": p.version,
                "title": p.title,
                "recommendations": [
                    {
                        "code": r.code,
                        "rule": r.rule,
                        "rules": list(r.rule_ids),
                        "strength": r.strength,
                        "provenance": r.provenance,
                        "summary": r.summary,
                        "sources": [
                            {
                                "id": s,
                                "citation": p.citation_for(s),
                                "words": p.sources[s].words,
                                "provenance": p.sources[s].provenance_label,
                            }
                            for s in r.rule_ids
                        ],
                    }
                    for r in p.rules
                ],
                "suppressions": [
                    {"rule": s.rule, "codes": sorted(s.codes), "reason": s.reason}
                    for s in p.suppressions
                ],
            }
            for p in profiles
        ]
        sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    console = Console(highlight=False)
    for p in profiles:
        table = Table(
            title=f"{p.title} ({p.id} {p.version})",
            show_lines=True,
            expand=True,
            title_justify="left",
        )
        table.add_column("Code / strength", ratio=2)
        table.add_column("Rule", ratio=1)
        table.add_column("Provenance", ratio=1)
        table.add_column("Source's words and citation", ratio=6)
        for r in p.rules:
            sources = "\n".join(
                f"{s} [{p.sources[s].provenance}]: {p.sources[s].words}\n  {p.citation_for(s)}"
                for s in r.rule_ids
            )
            table.add_row(
                f"{r.code}\n{r.strength}",
                " + ".join(r.rule_ids),
                r.provenance,
                f"{r.summary}\n\n{sources}",
            )
        for s in p.suppressions:
            table.add_row(
                "withholds " + ", ".join(sorted(s.codes)),
                s.rule,
                "",
                f"{s.reason}\n  {p.citation_for(s.rule)}",
            )
        console.print(table)


def main() -> None:  # pragma: no cover - console entry point
    app()
