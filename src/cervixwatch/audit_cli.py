"""`cervixwatch audit ...` (verify the audit log's hash chain, seal the entries waiting, take
a checkpoint of it) and
`cervixwatch backup` / `cervixwatch restore` (issue 12, parts 4 and 6).

Mounted by `service_cli`. Exit status 0 when done (and the chain holds), 1 when the chain is
broken, 2 for a bad option, an unreadable file or a backup or restore that could not be done.
What they print names files, revisions, entry ids and hashes, never patient data.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from cervixwatch.cli import fail
from cervixwatch.settings import Settings
from cervixwatch.store import make_engine
from cervixwatch.store.audit_chain import (
    Checkpoint,
    Verification,
    checkpoint_engine,
    read_checkpoints,
    seal_engine,
    verify_engine,
)
from cervixwatch.store.backup import BackupError, backup, restore

audit_app = typer.Typer(
    help="The audit log: verify its hash chain, take checkpoints to keep elsewhere.",
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


def _database_error(error: SQLAlchemyError | RuntimeError) -> typer.Exit:
    """Exit 2 naming the kind of database error only: its message may quote a statement."""
    cause = getattr(error, "orig", None) or error
    return fail(
        f"cannot read the database ({type(cause).__name__}): is it reachable and migrated "
        "(cervixwatch db upgrade)?"
    )


def _said(found: Verification) -> str:
    last = "none" if found.last_entry_id is None else f"entry {found.last_entry_id}"
    entries = "1 entry" if found.entries == 1 else f"{found.entries} entries"
    waiting = f"; {found.waiting} waiting to be sealed" if found.waiting else ""
    return f"{entries}, last {last} ({found.last_hash[:16]}...){waiting}"


def _report(found: Verification, what: str) -> None:
    """Print the verification; exit 1 if the chain is broken."""
    if found.broken is None:
        kept = f"; through {found.checkpoints} kept checkpoints" if found.checkpoints else ""
        print(f"{what}: audit chain verified: {_said(found)}{kept}")
        return
    where = "" if found.broken.entry_id is None else f" at entry {found.broken.entry_id}"
    print(f"cervixwatch: {what}: audit chain BROKEN{where}: {found.broken.reason}", file=sys.stderr)
    print(f"cervixwatch: verified up to then: {_said(found)}", file=sys.stderr)
    raise typer.Exit(code=1)


@audit_app.command()
def verify(
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            help="A file of checkpoints (JSON lines from `audit checkpoint`); may be repeated.",
            dir_okay=False,
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Prove the audit log's hash chain, from its first entry to its head, and that it still
    passes, unchanged, through every kept checkpoint; or name the first broken entry."""
    kept: list[Checkpoint] = []
    for path in checkpoint or ():
        try:
            kept += read_checkpoints(path.read_bytes().splitlines())
        except OSError as error:
            raise fail(f"--checkpoint {path}: {error.strerror}") from None
        except ValueError as error:
            raise fail(f"--checkpoint {path}: {error}") from None
    engine = make_engine(database_url or Settings().database_url)
    try:
        found = verify_engine(engine, kept)
    except (SQLAlchemyError, RuntimeError) as error:
        raise _database_error(error) from None
    finally:
        engine.dispose()
    _report(found, "audit log")


@audit_app.command()
def seal(database_url: DatabaseUrlOption = None) -> None:
    """Seal the entries waiting onto the chain now. A running server does this about once a
    second; this is for a database no server has sealed since entries were written (a
    command run while the service was down)."""
    engine = make_engine(database_url or Settings().database_url)
    try:
        sealed = seal_engine(engine)
    except (SQLAlchemyError, RuntimeError) as error:
        raise _database_error(error) from None
    finally:
        engine.dispose()
    print(f"audit log: {sealed} entr{'y' if sealed == 1 else 'ies'} sealed")


@audit_app.command("checkpoint")
def take_checkpoint(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also append the checkpoint to this file.", dir_okay=False),
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Print the head of the audit chain (last entry id, its hash, how many entries, when)
    as one JSON line, to keep somewhere the database's users cannot write (another host,
    write-once storage). `audit verify --checkpoint FILE` then proves the log still holds it."""
    engine = make_engine(database_url or Settings().database_url)
    try:
        taken = checkpoint_engine(engine, dt.datetime.now(dt.UTC))
    except (SQLAlchemyError, RuntimeError) as error:
        raise _database_error(error) from None
    finally:
        engine.dispose()
    line = taken.to_json().decode()
    if out is not None:
        try:
            with out.open("a", encoding="utf-8") as file:
                file.write(line + "\n")
        except OSError as error:
            raise fail(f"--out {out}: {error.strerror}") from None
    print(line)


def backup_command(
    dest: Annotated[Path, typer.Argument(help="The backup file to write (must not exist).")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Write a consistent copy of the database to DEST while the app runs: SQLite's online
    backup API, or `pg_dump --format=custom` for PostgreSQL."""
    url = database_url or Settings().database_url
    try:
        done = backup(url, dest)
    except BackupError as error:
        raise fail(f"backup: {error}") from None
    except SQLAlchemyError as error:
        raise _database_error(error) from None
    print(
        f"Backed up the {done.backend} database (revision {done.revision or 'none'}) to "
        f"{done.path} ({done.size} bytes)."
    )


def restore_command(
    src: Annotated[
        Path,
        typer.Argument(help="A backup written by `cervixwatch backup`.", dir_okay=False),
    ],
    database_url: DatabaseUrlOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the contents of a database that is not empty.")
    ] = False,
) -> None:
    """Restore SRC into an empty database (stop the app first), migrate it to the newest
    revision and verify its audit chain (exit 1 if the chain is broken)."""
    url = database_url or Settings().database_url
    try:
        done = restore(url, src, force=force)
    except BackupError as error:
        raise fail(f"restore: {error}") from None
    except SQLAlchemyError as error:
        raise _database_error(error) from None
    how = "replacing its contents" if done.replaced else "into an empty database"
    print(
        f"Restored {src} into the {done.backend} database ({how}); revision "
        f"{done.revision_restored or 'none'} migrated to {done.revision}."
    )
    _report(done.verification, "restored database")
