"""`cervixwatch refresh`: the daily reassessment, run against a real SQLite database."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cervixwatch.cli import app


def test_refresh_reassesses_a_demo_database_once_per_day(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    runner = CliRunner()
    loaded = runner.invoke(
        app,
        [
            "demo-data",
            "--patients",
            "5",
            "--seed",
            "3",
            "--db",
            "--database-url",
            url,
            "--as-of",
            "2026-03-02",
        ],
    )
    assert loaded.exit_code == 0, loaded.output
    first = runner.invoke(app, ["refresh", "--as-of", "2026-03-09", "--database-url", url])
    assert first.exit_code == 0, first.output
    assert "as of 2026-03-09" in first.output
    assert not first.output.startswith("Reassessed 0 ")
    again = runner.invoke(app, ["refresh", "--as-of", "2026-03-09", "--database-url", url])
    assert again.output.startswith("Reassessed 0 ")
