"""`cervixwatch demo-data`: bundles to files or NDJSON, or a database loaded through the store
that the worklist then lists."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cervixwatch.cli import app
from cervixwatch.store import make_engine, session_factory, worklist, worklist_count

runner = CliRunner()


def test_demo_data_loads_a_sqlite_database_that_the_worklist_lists(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    args = ["demo-data", "--patients", "20", "--seed", "4", "--as-of", "2026-03-02"]
    result = runner.invoke(app, [*args, "--db", "--database-url", url])
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            assert worklist_count(session) == 20
            entries = worklist(session, limit=100)
        assert {e.hospital_number for e in entries} == {f"DEMO{i:06d}" for i in range(1, 21)}
        assert all(str(e.as_of) == "2026-03-02" for e in entries)
    finally:
        engine.dispose()

    again = runner.invoke(app, [*args, "--db", "--database-url", url, "--if-empty"])
    assert again.exit_code == 0, again.output
    assert "not loading" in again.output


def test_demo_data_writes_one_bundle_per_patient_or_ndjson(tmp_path: Path) -> None:
    args = ["demo-data", "--patients", "3", "--as-of", "2026-03-02", "--out"]
    assert runner.invoke(app, [*args, str(tmp_path / "files")]).exit_code == 0
    assert len(list((tmp_path / "files").glob("demo-*.json"))) == 3
    assert runner.invoke(app, [*args, str(tmp_path / "nd"), "--ndjson"]).exit_code == 0
    lines = (tmp_path / "nd" / "demo-cohort.ndjson").read_text().splitlines()
    assert [json.loads(line)["resourceType"] for line in lines] == ["Bundle"] * 3


def test_demo_data_needs_exactly_one_destination(tmp_path: Path) -> None:
    neither = runner.invoke(app, ["demo-data", "--patients", "2"])
    assert neither.exit_code == 2
    both = runner.invoke(app, ["demo-data", "--db", "--out", str(tmp_path)])
    assert both.exit_code == 2
