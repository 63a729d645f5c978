"""`cervixwatch population run --database` (issue 15, part 2): the run over the app's own
database, on both databases. A registry imported into the database and run from there gives the
rows the run over the registry's own files gives, row for row but for the ids the database gave
the women and their unit, which is their care team."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cervixwatch.app import accounts
from cervixwatch.app.bulk_import import import_export
from cervixwatch.app.population import run_population
from cervixwatch.app.population_database import database_as_export
from cervixwatch.cli import app
from cervixwatch.cohort import iter_cohort
from cervixwatch.cohort.bulk import write_bulk
from cervixwatch.knowledge import bundled_profiles
from cervixwatch.knowledge.codes import DEFAULT_HOSPITAL_NUMBER_SYSTEM
from cervixwatch.store.accounts import team_by_name
from cervixwatch.store.models import Role

AS_OF = dt.date(2026, 12, 1)
WOMEN = 120
PROFILES = bundled_profiles()
TEAM = "Database run team"
#: What the database renames: the woman's id, and her unit (her care team there).
_RENAMED = ("patient_id", "unit")


def _rows(parquet: Path) -> list[tuple[Any, ...]]:
    relation = duckdb.sql(f"SELECT * FROM read_parquet('{parquet}')")
    keep = [i for i, name in enumerate(relation.columns) if name not in _RENAMED]
    return sorted(tuple(repr(r[i]) for i in keep) for r in relation.fetchall())


def _units(parquet: Path) -> set[Any]:
    return {
        u for (u,) in duckdb.sql(f"SELECT DISTINCT unit FROM read_parquet('{parquet}')").fetchall()
    }


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("export")
    # Women under way and women delivered, whose births end their pregnancies.
    write_bulk(iter_cohort(WOMEN, 31, AS_OF, active=40), directory, AS_OF)
    return directory


def test_the_database_run_gives_the_rows_of_the_files_it_was_imported_from(
    factory: sessionmaker[Session], export: Path, tmp_path: Path
) -> None:
    # Accounts outlive `factory`'s emptying: a fresh name each time.
    accounts.add_user(
        factory, f"db-run-{uuid.uuid4().hex}", Role.CLINICIAN, password=None, teams=(TEAM,)
    )
    with factory() as session:
        team = team_by_name(session, TEAM)
        assert team is not None
    done = import_export(
        factory,
        export,
        source="registry-db-run",
        today=AS_OF,
        profiles=PROFILES,
        team_ids=[team.id],
        local_system=DEFAULT_HOSPITAL_NUMBER_SYSTEM,
    )
    assert (done.stored, done.refused) == (WOMEN, 0)
    profiles = list(PROFILES.values())
    from_files = run_population(export, tmp_path / "files", AS_OF, profiles, workers=1)
    with database_as_export(factory, tmp_path / "database") as exported:
        assert exported.parent == tmp_path / "database"
        from_database = run_population(exported, tmp_path / "database", AS_OF, profiles, workers=1)
    # The scratch export is gone; the Parquet stays.
    assert sorted(p.name for p in (tmp_path / "database").iterdir()) == ["assessments.parquet"]
    assert from_database.women == WOMEN
    assert _rows(from_database.parquet) == _rows(from_files.parquet)
    assert _units(from_database.parquet) == {TEAM}


def test_the_command_takes_an_export_or_the_database_not_both(tmp_path: Path) -> None:
    both = CliRunner().invoke(
        app,
        ["population", "run", "--input", str(tmp_path), "--database", "--out", str(tmp_path)],
    )
    assert both.exit_code == 2
    assert "give --input EXPORT or --database, one of them" in both.output
    neither = CliRunner().invoke(app, ["population", "run", "--out", str(tmp_path)])
    assert neither.exit_code == 2
