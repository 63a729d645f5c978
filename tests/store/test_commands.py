"""`cervixwatch db upgrade` and `db current` (the database is chosen like the app's)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cervixwatch.store import commands
from cervixwatch.store.commands import db_app
from cervixwatch.store.migrate import current_revision, head_revision


def test_upgrade_migrates_the_configured_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cw.db'}"
    monkeypatch.setenv("CERVIXWATCH_DATABASE_URL", url)
    runner = CliRunner()
    before = runner.invoke(db_app, ["current"])
    assert before.exit_code == 0, before.output
    assert "none (empty)" in before.output
    result = runner.invoke(db_app, ["upgrade"])
    assert result.exit_code == 0, result.output
    assert f"at revision {head_revision()}" in result.output
    assert current_revision(url) == head_revision()


def test_a_password_is_never_printed() -> None:
    shown = commands._shown("postgresql+psycopg://cw:s3cret@db.example/cw")
    assert "s3cret" not in shown
    assert "db.example/cw" in shown
