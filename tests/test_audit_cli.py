"""`cervixwatch audit verify` and `cervixwatch audit checkpoint` (issue 12, part 4), as a user
runs them: a checkpoint kept in a file, a verification that passes through it, and a log
tampered with (triggers dropped) named at its first broken entry with exit status 1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from cervixwatch.cli import app
from cervixwatch.store.audit import record
from cervixwatch.store.audit_chain import read_checkpoints
from cervixwatch.store.database import make_engine
from cervixwatch.store.migrate import upgrade
from tests.store.test_audit_chain import EVENTS, append, drop_append_only_triggers, entry

runner = CliRunner()


@pytest.fixture
def url(empty_url: str) -> str:
    upgrade(empty_url)
    return empty_url


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    made = make_engine(url)
    try:
        yield made
    finally:
        made.dispose()


def audit(url: str, *args: str) -> Result:
    return runner.invoke(app, ["audit", *args, "--database-url", url])


def test_checkpoint_then_verify_through_it(url: str, engine: Engine, tmp_path: Path) -> None:
    ids = append(engine, 3)
    kept = tmp_path / "checkpoints.jsonl"
    first = audit(url, "checkpoint", "--out", str(kept))
    assert first.exit_code == 0, first.output
    line = orjson.loads(first.output)
    assert (line["entry_id"], line["entries"]) == (ids[-1], 3)
    append(engine, 2)
    assert audit(url, "checkpoint", "--out", str(kept)).exit_code == 0
    assert [c.entries for c in read_checkpoints(kept.read_bytes().splitlines())] == [3, 5]

    verified = audit(url, "verify", "--checkpoint", str(kept))
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("audit log: audit chain verified: 5 entries, last entry ")
    assert "through 2 kept checkpoints" in verified.output


def test_a_tampered_log_fails_naming_the_entry(url: str, engine: Engine) -> None:
    ids = append(engine, 4)
    assert audit(url, "verify").exit_code == 0
    drop_append_only_triggers(engine)
    with engine.begin() as connection:
        connection.execute(EVENTS.update().where(EVENTS.c.id == ids[1]).values(status=403))
    broken = audit(url, "verify")
    assert broken.exit_code == 1
    assert (
        f"audit log: audit chain BROKEN at entry {ids[1]}: entry {ids[1]} does not match its "
        "hash: it was changed"
    ) in broken.output
    assert f"verified up to then: 1 entry, last entry {ids[0]}" in broken.output


def test_entries_written_while_no_server_ran_are_sealed_by_the_command(
    url: str, engine: Engine
) -> None:
    """On PostgreSQL entries appended with no server running (whose workers seal) wait; the
    verification says how many, and `audit seal` seals them. On SQLite none ever waits."""
    append(engine, 2)
    for n in range(3):
        record(engine, entry(n))
    waiting = 3 if engine.dialect.name == "postgresql" else 0
    verified = audit(url, "verify")
    assert verified.exit_code == 0, verified.output
    assert ("3 waiting to be sealed" in verified.output) == bool(waiting)
    sealed = audit(url, "seal")
    assert sealed.exit_code == 0, sealed.output
    assert sealed.output == f"audit log: {waiting} entries sealed\n"
    verified = audit(url, "verify")
    assert verified.output.startswith("audit log: audit chain verified: 5 entries, last entry ")
    assert "waiting" not in verified.output


def test_an_unreadable_checkpoint_file_is_refused(url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"entry_id": 1}\n')
    refused = audit(url, "verify", "--checkpoint", str(bad))
    assert refused.exit_code == 2
    assert f"--checkpoint {bad}: line 1: not a checkpoint" in refused.output
    missing = audit(url, "verify", "--checkpoint", str(tmp_path / "none"))
    assert missing.exit_code == 2


def test_a_database_not_migrated_is_refused_plainly(empty_url: str) -> None:
    for args in (["verify"], ["checkpoint"], ["seal"]):
        refused = audit(empty_url, *args)
        assert refused.exit_code == 2, refused.output
        assert "cannot read the database (" in refused.output
        assert "cervixwatch db upgrade" in refused.output
