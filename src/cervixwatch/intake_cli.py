"""`cervixwatch dicom-listen` and `cervixwatch hl7-listen`: the listeners for ultrasound
machines (DICOM C-STORE) and their reporting systems (HL7 v2 over MLLP), each handing what
it receives to the intake desk (`app.device_intake`); docs/integrations.md says how a
hospital connects them.

The database is migrated first (as `serve` does). Settings come from the environment
(CERVIXWATCH_DATABASE_URL, _HOSPITAL_NUMBER_SYSTEM, _DEVICE_CODES_FILE) unless an option
says otherwise. Exit status 2 with one line on stderr for a bad option or codes file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from pathlib import Path
from typing import Annotated

import typer

from cervixwatch.app.device_intake import IntakeDesk
from cervixwatch.app.device_readers import DeviceReaders, load_device_codes
from cervixwatch.cli import fail
from cervixwatch.knowledge import load_profiles
from cervixwatch.settings import Settings, get_settings
from cervixwatch.store import make_engine, session_factory, upgrade

__all__ = ["dicom_listen", "hl7_listen", "intake_desk"]

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy database URL (default: CERVIXWATCH_DATABASE_URL, else ./cervixwatch.db).",
        show_default=False,
    ),
]
CodesOption = Annotated[
    Path | None,
    typer.Option(
        "--device-codes",
        help="The site's device codes and patient-ID issuers (YAML; default: "
        "CERVIXWATCH_DEVICE_CODES_FILE).",
        show_default=False,
    ),
]
HostOption = Annotated[str, typer.Option("--host", help="Interface to listen on.")]


def intake_desk(
    settings: Settings, database_url: str | None = None, codes_file: Path | None = None
) -> IntakeDesk:
    """The intake desk on the settings' database (migrated first) and codes."""
    url = database_url or settings.database_url
    try:
        codes = load_device_codes(codes_file or settings.device_codes_file)
    except ValueError as error:
        raise fail(f"device codes: {error}") from None
    upgrade(url)
    return IntakeDesk(
        sessions=session_factory(make_engine(url)),
        readers=DeviceReaders(codes),
        profiles=load_profiles(settings.knowledge_dir),
        today=dt.date.today,
        local_system=settings.hospital_number_system,
    )


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")


def dicom_listen(
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 11112,
    ae_title: Annotated[
        str, typer.Option("--ae-title", help="This listener's AE title (called AE).")
    ] = "CERVIXWATCH",
    host: HostOption = "0.0.0.0",
    allow: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-ae",
            help="A calling AE title accepted (repeat; default: any). Put the listener on the "
            "hospital's imaging network only: DICOM has no passwords.",
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    device_codes: CodesOption = None,
) -> None:
    """Receive DICOM SRs (OB-GYN ultrasound reports, TID 5000) by C-STORE and store their
    cervical lengths, due date and fetus count for the woman each names (or keep them for
    review at /intake/review)."""
    from cervixwatch.dicom_listener import start_dicom_listener

    if not ae_title.strip() or len(ae_title) > 16:
        raise fail("--ae-title: 1 to 16 characters")
    desk = intake_desk(get_settings(), database_url, device_codes)
    _logging()
    typer.echo(f"Listening for DICOM C-STORE as {ae_title} on {host}:{port} (Ctrl+C stops)")
    start_dicom_listener(desk, host=host, port=port, ae_title=ae_title, allowed_callers=allow or ())


def hl7_listen(
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 2575,
    host: HostOption = "0.0.0.0",
    database_url: DatabaseUrlOption = None,
    device_codes: CodesOption = None,
) -> None:
    """Receive HL7 v2 ORU^R01 results over MLLP and store their cervical lengths, due date and
    fetus count for the woman each names (or keep them for review at /intake/review),
    answering each with an ACK (AA, AE or AR with ERR)."""
    import asyncio

    from cervixwatch.hl7_listener import serve_hl7

    desk = intake_desk(get_settings(), database_url, device_codes)
    _logging()
    typer.echo(f"Listening for HL7 v2 over MLLP on {host}:{port} (Ctrl+C stops)")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: stopped as asked
        asyncio.run(serve_hl7(desk, host=host, port=port))
