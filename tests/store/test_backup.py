"""Backups (issue 12, part 6): `cervixwatch backup` of a database in use (API requests,
FHIR imports, the demo cohort, accounts and their audit entries) and `cervixwatch restore`
into an empty database give back every table's rows, at the newest revision, with an audit
chain that verifies; on SQLite (online backup API) and PostgreSQL (pg_dump / pg_restore).
The commands run as a user runs them (Typer's runner) and print no patient data."""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import MetaData, select
from typer.testing import CliRunner, Result

from cervixwatch.cli import app
from cervixwatch.demo import load_demo_database
from cervixwatch.store.audit import AuditEntry, record
from cervixwatch.store.audit_chain import verify_engine
from cervixwatch.store.database import make_engine
from cervixwatch.store.migrate import head_revision, upgrade
from cervixwatch.web.app import create_app
from tests import fhir_builders as fb
from tests.conftest import BACKENDS, empty_database
from tests.web.accounts import sign_in_as_clinician, test_settings
from tests.web.api_builders import at, ok, seed
from tests.web.fhir_client import imported, post_bundle

runner = CliRunner()
TODAY = dt.date(2026, 3, 2)
#: What no output of the commands may hold: the demo cohort's hospital numbers, and ours.
PATIENT_DATA = re.compile(r"DEMO\d{6}|BK-\d")


@pytest.fixture(params=BACKENDS)
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two new databases of one backend: (the one in use, the one to restore into)."""
    (tmp_path / "in-use").mkdir()
    (tmp_path / "restored").mkdir()
    with (
        empty_database(request.param, tmp_path / "in-use") as in_use,
        empty_database(request.param, tmp_path / "restored") as restored,
    ):
        yield in_use, restored


def use(url: str) -> int:
    """Put the database at `url` to use as a clinic would; how many requests were made."""
    load_demo_database(url, 4, 7, TODAY, Console(file=io.StringIO()))
    engine = make_engine(url)
    try:
        settings = test_settings(engine)
        with TestClient(create_app(settings, today=lambda: TODAY)) as client:
            sign_in_as_clinician(client)
            patient_id = imported(post_bundle(client, fb.v01_bundle()))
            her = seed(client, "BK-1", at("20+0"))
            answers = [
                client.get(f"/api/patients/{patient_id}"),
                client.get(f"/api/patients/{her.patient_id}"),
                client.get("/api/worklist"),
                client.get(f"/fhir/Patient/{patient_id}/$everything"),
            ]
            for answer in answers:
                ok(answer)
            assert client.get("/api/patients/not-there").status_code == 404
    finally:
        engine.dispose()
    return len(answers) + 2


def every_row(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows (the migrations' own table too), in a fixed order."""
    engine = make_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {
                name: sorted(
                    (tuple(row) for row in connection.execute(select(table))),
                    key=repr,
                )
                for name, table in metadata.tables.items()
            }
    finally:
        engine.dispose()


def cli(*args: str) -> Result:
    result = runner.invoke(app, list(args))
    assert not PATIENT_DATA.search(result.output), result.output
    return result


def test_a_backup_restores_every_table_and_a_chain_that_verifies(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    in_use, restored = databases
    requests = use(in_use)
    engine = make_engine(in_use)
    try:
        # After normal use (requests, an import in its own transaction), the chain holds.
        chain = verify_engine(engine)
    finally:
        engine.dispose()
    assert chain.ok, chain.broken
    assert chain.entries >= requests

    dest = tmp_path / "cervixwatch.backup"
    done = cli("backup", str(dest), "--database-url", in_use)
    assert done.exit_code == 0, done.output
    assert done.output.startswith("Backed up the ")
    assert f"(revision {head_revision()}) to {dest} (" in done.output
    assert dest.stat().st_size > 0
    assert not list(tmp_path.glob(".*partial"))
    # Never over an existing file.
    again = cli("backup", str(dest), "--database-url", in_use)
    assert again.exit_code == 2
    assert "exists: a backup never overwrites a file" in again.output

    back = cli("restore", str(dest), "--database-url", restored)
    assert back.exit_code == 0, back.output
    assert "into an empty database" in back.output
    assert (
        f"restored database: audit chain verified: {chain.entries} entries, last entry "
        f"{chain.last_entry_id} ({chain.last_hash[:16]}...)"
    ) in back.output
    rows = every_row(restored)
    assert rows == every_row(in_use)
    assert len(rows["patients"]) == 6  # the demo cohort's 4, the import's and the API's
    assert len(rows["audit_events"]) == chain.entries + chain.waiting
    assert rows["alembic_version"] == [(head_revision(),)]

    # A database that is not empty is replaced only when asked.
    refused = cli("restore", str(dest), "--database-url", restored)
    assert refused.exit_code == 2
    assert "a restore goes into an empty database (--force" in refused.output
    forced = cli("restore", str(dest), "--database-url", restored, "--force")
    assert forced.exit_code == 0, forced.output
    assert "replacing its contents" in forced.output
    assert every_row(restored) == every_row(in_use)


def test_a_restore_of_an_older_revision_is_migrated(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    """A backup of a database at 0006 (before the chain) comes back at head, its entries
    linked by the migration, the chain verified."""
    in_use, restored = databases
    upgrade(in_use, "0006")
    dest = tmp_path / "old.backup"
    assert cli("backup", str(dest), "--database-url", in_use).exit_code == 0
    back = cli("restore", str(dest), "--database-url", restored)
    assert back.exit_code == 0, back.output
    assert f"revision 0006 migrated to {head_revision()}" in back.output
    assert "audit chain verified: 0 entries" in back.output


def test_a_file_that_is_not_a_backup_of_that_database_is_refused(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    _, restored = databases
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup\n")
    refused = cli("restore", str(junk), "--database-url", restored)
    assert refused.exit_code == 2
    assert f"restore: {junk} is not a" in refused.output
    missing = cli("restore", str(tmp_path / "none"), "--database-url", restored)
    assert missing.exit_code == 2


def test_a_backup_taken_while_entries_are_appended_is_of_one_moment(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    """The app keeps writing during the backup: the copy's chain ends exactly at its head
    (a copy of several moments would hold entries past the head, or a head past them)."""
    in_use, restored = databases
    upgrade(in_use)
    engine = make_engine(in_use)
    stop = threading.Event()
    written: list[int] = []

    def keep_writing() -> None:
        while not stop.is_set():
            record(engine, AuditEntry("read", "GET", "/r", "/r", 200, f"w-{len(written)}"))
            written.append(1)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 20:
            stop.wait(0.01)
        dest = tmp_path / "busy.backup"
        assert cli("backup", str(dest), "--database-url", in_use).exit_code == 0
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    back = cli("restore", str(dest), "--database-url", restored)
    assert back.exit_code == 0, back.output
    assert "audit chain verified: " in back.output
