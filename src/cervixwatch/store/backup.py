"""Backing up the whole database and restoring it (issue 12, part 6).

SQLite: SQLite's online backup API (`sqlite3.Connection.backup`) through the app's own
driver connection: a consistent copy, taken while the app keeps running, written as one
self-contained file. PostgreSQL: `pg_dump --format=custom` of the configured database, and
`pg_restore` (Debian's postgresql-client, of the server's major version or newer). A backup
is written to a temporary name beside DEST and renamed when complete, so DEST is never half a
backup; an existing DEST is refused.

A restore goes into an empty database (a non-empty one only when asked: `force`), is then
migrated to the newest revision and its audit chain verified (`store.audit_chain`). Nothing
here prints or returns patient data: what was done is told by paths, sizes, revisions and
entry ids.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL, make_url

from cervixwatch.store.audit_chain import Verification, verify_engine
from cervixwatch.store.database import make_engine
from cervixwatch.store.migrate import current_revision, upgrade

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why (no patient data)."""


@dataclass(frozen=True, slots=True)
class BackupDone:
    backend: str
    path: Path
    size: int
    revision: str | None


@dataclass(frozen=True, slots=True)
class RestoreDone:
    backend: str
    replaced: bool
    revision_restored: str | None
    revision: str | None
    verification: Verification


def backup(url: str, dest: Path) -> BackupDone:
    """Write a consistent copy of the database at `url` to `dest` (which must not exist)."""
    parsed = make_url(url)
    if dest.exists():
        raise BackupError(f"{dest} exists: a backup never overwrites a file")
    if not dest.parent.is_dir():
        raise BackupError(f"{dest.parent} is not a directory")
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    revision = current_revision(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            _sqlite_backup(url, partial)
        elif parsed.get_backend_name() == "postgresql":
            _run(["pg_dump", "--format=custom", f"--file={partial}"], parsed)
        else:
            raise BackupError(f"no backup for {parsed.get_backend_name()} databases")
        partial.rename(dest)
    finally:
        partial.unlink(missing_ok=True)
    return BackupDone(parsed.get_backend_name(), dest, dest.stat().st_size, revision)


def restore(url: str, src: Path, *, force: bool = False) -> RestoreDone:
    """Restore the backup `src` into the database at `url`, migrate it to the newest revision
    and verify its audit chain. The database must be empty unless `force` (its contents are
    then replaced)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    expected = {"sqlite": SQLITE_MAGIC, "postgresql": PG_DUMP_MAGIC}.get(backend)
    if expected is None:
        raise BackupError(f"no restore for {backend} databases")
    try:
        with src.open("rb") as file:
            magic = file.read(len(expected))
    except OSError as error:
        raise BackupError(f"cannot read {src}: {error.strerror}") from None
    if magic != expected:
        kind = "a pg_dump custom-format archive" if backend == "postgresql" else "a SQLite file"
        raise BackupError(f"{src} is not {kind}: a {backend} database restores only that")
    engine = make_engine(url)
    try:
        tables = _tables(engine)
    finally:
        engine.dispose()
    if tables and not force:
        raise BackupError(
            f"the database holds {len(tables)} tables: a restore goes into an empty database "
            "(--force replaces its contents)"
        )
    if backend == "sqlite":
        _sqlite_restore(parsed, src)
    else:
        command = ["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction"]
        if tables:
            command += ["--clean", "--if-exists"]
        _run([*command, str(src)], parsed)
    restored = current_revision(url)
    upgrade(url)
    engine = make_engine(url)
    try:
        verification = verify_engine(engine)
    finally:
        engine.dispose()
    return RestoreDone(backend, bool(tables), restored, current_revision(url), verification)


def _tables(engine: Engine) -> list[str]:
    return [t for t in inspect(engine).get_table_names() if not t.startswith("sqlite_")]


def _sqlite_path(parsed: URL) -> Path:
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up or restore")
    return Path(parsed.database)


def _sqlite_backup(url: str, partial: Path) -> None:
    _sqlite_path(make_url(url))
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            source = connection.connection.driver_connection
            assert isinstance(source, sqlite3.Connection)
            with closing(sqlite3.connect(partial)) as target:
                # One step: the copy is of one moment, whatever the app writes meanwhile.
                source.backup(target)
                # One self-contained file, not a database expecting its -wal beside it.
                target.execute("PRAGMA journal_mode=DELETE")
    finally:
        engine.dispose()


def _sqlite_restore(parsed: URL, src: Path) -> None:
    target_path = _sqlite_path(parsed)
    with (
        closing(sqlite3.connect(f"file:{src}?mode=ro", uri=True)) as source,
        closing(sqlite3.connect(target_path)) as target,
    ):
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")


def _run(command: list[str], parsed: URL) -> None:
    """Run a PostgreSQL client program on the database of `parsed`: its password in the
    environment (PGPASSWORD), not on the command line where `ps` would show it."""
    program = shutil.which(command[0])
    if program is None:
        raise BackupError(f"{command[0]} not found: install postgresql-client")
    environment = dict(os.environ)
    if parsed.password is not None:
        environment["PGPASSWORD"] = str(parsed.password)
    target = parsed.set(drivername="postgresql", password=None)
    database = target.render_as_string(hide_password=False)
    done = subprocess.run(  # a fixed program, our arguments, no shell
        [program, f"--dbname={database}", *command[1:]],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        said = " / ".join(_error_lines(command[0], done.stderr)[:3])
        raise BackupError(f"{command[0]} failed (exit status {done.returncode}): {said}")


#: Lines of a PostgreSQL client's errors that may quote stored values (a key, a COPY line, a
#: statement): never shown.
_QUOTING = ("DETAIL", "CONTEXT", "Command was", "LINE ", "COPY ")


def _error_lines(program: str, stderr: str) -> list[str]:
    """The client's own error lines, without the parts that may quote a row's values."""
    lines = []
    for line in stderr.splitlines():
        line = line.strip()
        if not line.startswith(f"{program}:") or any(part in line for part in _QUOTING):
            continue
        # "... ERROR:  duplicate key value ..." stays; anything after a value's quote goes.
        lines.append(line.split('"', 1)[0].split("(", 1)[0].rstrip())
    return lines or ["see the PostgreSQL server's log"]
