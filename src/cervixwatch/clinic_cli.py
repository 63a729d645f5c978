"""`cervixwatch clinic show` and `cervixwatch clinic set`: the clinic's settings from the
command line, as the admin page (`/admin/clinic`) edits them (`app.clinic_settings`).

`set` changes only the options given; an empty value ("") unsets a text field. Exit status 0
when done, 2 with one line on stderr naming the option for bad input. What is printed is the
clinic's own details, never patient data.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import typer

from cervixwatch.app import clinic_settings
from cervixwatch.app.errors import InvalidField
from cervixwatch.cli import fail
from cervixwatch.knowledge import load_profiles
from cervixwatch.settings import Settings
from cervixwatch.store import make_engine, session_factory, upgrade

clinic_app = typer.Typer(
    help="The clinic's settings: name, phone numbers, letters' address, date format, guidelines.",
    no_args_is_help=True,
    add_completion=False,
)

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy database URL (default: CERVIXWATCH_DATABASE_URL, else ./cervixwatch.db).",
        show_default=False,
    ),
]

#: The option each field of the use case is set by, for messages.
_OPTION_OF = {
    "clinic_name": "--name",
    "phone": "--phone",
    "triage_phone": "--triage-phone",
    "letter_address": "--address",
    "date_format": "--date-format",
    "guidelines": "--guideline",
}


def _shown(settings: clinic_settings.ClinicSettings, known: list[str]) -> str:
    def value(text: str | None) -> str:
        return text if text else "(not set)"

    example, _ = clinic_settings.DATE_FORMATS[settings.date_format]
    lines = [
        f"Name:            {value(settings.clinic_name)}",
        f"Clinic phone:    {value(settings.phone)}",
        f"Triage phone:    {value(settings.triage_phone)}",
        f"Letter address:  {value(settings.letter_address)}",
        f"Date format:     {settings.date_format} ({example})",
        f"Guidelines:      {' '.join(clinic_settings.chosen(settings, {k: k for k in known}))}",
    ]
    lines += [f"Warning: {warning}" for warning in settings.missing]
    return "\n".join(lines)


@clinic_app.command()
def show(database_url: DatabaseUrlOption = None) -> None:
    """Print the clinic's settings, and what is missing."""
    url = database_url or Settings().database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        settings = clinic_settings.read_settings(session_factory(engine))
    finally:
        engine.dispose()
    typer.echo(_shown(settings, list(load_profiles(Settings().knowledge_dir))))


@clinic_app.command("set")
def set_(
    name: Annotated[str | None, typer.Option("--name", help="The clinic's name.")] = None,
    phone: Annotated[
        str | None, typer.Option("--phone", help="The clinic's number (office hours).")
    ] = None,
    triage_phone: Annotated[
        str | None,
        typer.Option("--triage-phone", help="Maternity triage, answered day and night."),
    ] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="The address line letters carry.")
    ] = None,
    date_format: Annotated[
        str | None,
        typer.Option("--date-format", help=f"One of: {', '.join(clinic_settings.DATE_FORMATS)}."),
    ] = None,
    guideline: Annotated[
        list[str] | None,
        typer.Option("--guideline", help="A guideline profile to show (repeat for more)."),
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Change the settings given; the others stay as they are."""
    url = database_url or Settings().database_url
    known = list(load_profiles(Settings().knowledge_dir))
    upgrade(url)
    engine = make_engine(url)
    try:
        sessions = session_factory(engine)
        now = clinic_settings.read_settings(sessions)
        values: dict[str, Any] = dataclasses.asdict(now)
        values["guidelines"] = list(now.guidelines) or known
        given = {
            "clinic_name": name,
            "phone": phone,
            "triage_phone": triage_phone,
            "letter_address": address,
            "date_format": date_format,
            "guidelines": guideline,
        }
        values.update({k: v for k, v in given.items() if v is not None})
        try:
            saved = clinic_settings.save_settings(sessions, values, known_guidelines=known, by=None)
        except InvalidField as error:
            raise fail(f"{_OPTION_OF.get(error.field, error.field)}: {error.message}") from None
    finally:
        engine.dispose()
    typer.echo(_shown(saved, known))
