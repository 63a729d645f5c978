"""`cervixwatch import` (issue 15, part 1): a Bulk Data export loaded woman by woman through
the one import, on both databases: every woman stored under the team, what the app then
says of each is what `assess` says of her own records, a second import changes nothing, an
interrupted import resumes after the last woman noted, and a woman the reader refuses is
counted with the reason while the others are stored."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cervixwatch.app import accounts, bulk_import
from cervixwatch.app.bulk_import import BulkImport, import_export
from cervixwatch.app.importing import import_bundle
from cervixwatch.app.patient_identity import Sender
from cervixwatch.app.population import run_population
from cervixwatch.app.population_rows import bundle_of
from cervixwatch.app.registering import Registered
from cervixwatch.cli import app
from cervixwatch.cohort import iter_cohort
from cervixwatch.cohort.bulk import write_bulk
from cervixwatch.knowledge import bundled_profiles
from cervixwatch.knowledge.codes import DEFAULT_HOSPITAL_NUMBER_SYSTEM
from cervixwatch.store.accounts import team_by_name
from cervixwatch.store.models import (
    AssessmentRow,
    CareTeamRow,
    NotificationRow,
    PatientRow,
    PregnancyRow,
    Role,
    SourceIdentifierRow,
    TeamPatientRow,
)
from cervixwatch.store.records import load_records
from tests.store.tables import delete_everything, row_counts

AS_OF = dt.date(2026, 12, 1)
WOMEN = 150
PROFILES = bundled_profiles()
TEAM = "Import team"


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("export")
    write_bulk(iter_cohort(WOMEN, 21, AS_OF), directory, AS_OF)
    return directory


@pytest.fixture
def team(factory: sessionmaker[Session]) -> str:
    return _team(factory)


def _team(factory: sessionmaker[Session]) -> str:
    # Accounts outlive `factory`'s emptying, and id(factory) can be the last test's again
    # (CPython reuses a freed object's address): a fresh name each time.
    accounts.add_user(
        factory, f"importer-{uuid.uuid4().hex}", Role.CLINICIAN, password=None, teams=(TEAM,)
    )
    with factory() as session:
        found = team_by_name(session, TEAM)
        assert found is not None
        return found.id


def _import(factory: sessionmaker[Session], export: Path, team: str, **options: Any) -> BulkImport:
    return import_export(
        factory,
        export,
        source="registry-test",
        today=AS_OF,
        profiles=PROFILES,
        team_ids=[team],
        local_system=DEFAULT_HOSPITAL_NUMBER_SYSTEM,
        **options,
    )


def _count(factory: sessionmaker[Session], table: type) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_every_woman_is_stored_assessed_as_her_records_say_and_a_second_import_changes_nothing(
    factory: sessionmaker[Session], export: Path, team: str, tmp_path: Path
) -> None:
    done = _import(factory, export, team)
    assert (done.stored, done.created, done.refused, done.skipped) == (WOMEN, WOMEN, 0, 0)
    assert _count(factory, PatientRow) == WOMEN
    assert _count(factory, TeamPatientRow) == WOMEN
    # What the app stored of each woman is what the population run (the same reader and
    # `assess`, straight from the files) says of her.
    run = run_population(export, tmp_path / "run", AS_OF, list(PROFILES.values()), workers=1)
    expected = {
        (tier, tuple(sorted(codes)))
        for tier, codes in duckdb.sql(
            f"SELECT risk_tier, codes FROM read_parquet('{run.parquet}') WHERE profile = 'nice'"
        ).fetchall()
    }
    with factory() as session:
        stored = {
            (tier, tuple(sorted(codes.get("nice", []))))
            for tier, codes in session.execute(select(AssessmentRow.risk_tier, AssessmentRow.codes))
        }
    assert stored == expected
    before = row_counts(factory)
    again = _import(factory, export, team, restart=True)
    assert (again.stored, again.created, again.refused) == (WOMEN, 0, 0)
    assert row_counts(factory) == before


def test_an_interrupted_import_resumes_after_the_last_woman_noted(
    factory: sessionmaker[Session], export: Path, team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk_import, "NOTE_EVERY", 40)  # batches of 40, 40, 40, 30

    def interrupt(done: int) -> None:
        if done == 80:  # after the second batch was noted
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _import(factory, export, team, progress=interrupt)
    assert _count(factory, PatientRow) == 80
    resumed = _import(factory, export, team)
    assert (resumed.skipped, resumed.stored, resumed.created) == (80, WOMEN - 80, WOMEN - 80)
    assert _count(factory, PatientRow) == WOMEN


def test_several_processes_import_the_same(
    factory: sessionmaker[Session], export: Path, team: str
) -> None:
    url = factory.kw["bind"].url.render_as_string(hide_password=False)
    done = _import(factory, export, team, workers=2, database_url=url)
    assert (done.stored, done.created, done.refused) == (WOMEN, WOMEN, 0)
    assert _count(factory, PatientRow) == WOMEN
    assert _count(factory, AssessmentRow) == WOMEN


def test_a_woman_registered_meanwhile_by_another_writer_is_found_not_stored_twice(
    factory: sessionmaker[Session], export: Path, team: str
) -> None:
    """Between the batch's look-up and its writes another writer registers one of its women
    (her own import, committed): the batch's writes are refused by her identifier's unique
    constraint, nothing of the batch is kept, and every woman of it is then imported one by
    one, she being found. PostgreSQL only: on SQLite the batch holds the one write lock from
    its first statement, so no one registers her meanwhile."""
    engine = factory.kw["bind"]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's single writer leaves no meanwhile")
    first = [orjson.loads(line) for line in (export / "Patient.ndjson").read_bytes().splitlines()]
    her = first[0]
    registered: list[str] = []

    def register_her(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # Right after the batch's look-up of who is stored: her import, in its own
        # transaction and connection, committed before the batch writes anything.
        if registered or "UNION ALL" not in statement or "source_identifiers" not in statement:
            return
        registered.append(her["id"])
        imported = import_bundle(
            factory,
            bundle_of([her]),
            today=AS_OF,
            profiles=PROFILES,
            sender=Sender("bulk:registry-test", DEFAULT_HOSPITAL_NUMBER_SYSTEM),
            new_patient_teams=[team],
        )
        assert imported.patient_created

    event.listen(engine, "after_cursor_execute", register_her)
    try:
        done = _import(factory, export, team)
    finally:
        event.remove(engine, "after_cursor_execute", register_her)
    assert registered == [her["id"]]
    assert (done.stored, done.refused) == (WOMEN, 0)
    assert done.created == WOMEN - 1  # she was found, not registered again
    assert _count(factory, PatientRow) == WOMEN
    assert _count(factory, AssessmentRow) == WOMEN


def test_a_woman_the_reader_refuses_is_counted_with_the_reason_and_the_others_stored(
    factory: sessionmaker[Session], export: Path, team: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(export, broken)
    bad = {
        "resourceType": "Observation",
        "id": "bad-length",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "11961-0"}]},
        "subject": {"reference": "Patient/demo-000003"},
        "effectiveDateTime": "2026-11-20",
        "valueQuantity": {
            "value": 2,
            "unit": "furlong",
            "system": "http://unitsofmeasure.org",
            "code": "[fur_us]",
        },
    }
    # And a line about another woman that is not a resource (no resourceType): her import is
    # refused naming it, never the whole export stopped.
    typeless = {"id": "typeless", "subject": {"reference": "Patient/demo-000004"}}
    with (broken / "Observation.ndjson").open("ab") as lines:
        lines.write(orjson.dumps(bad) + b"\n" + orjson.dumps(typeless) + b"\n")
        # And one about nobody: left out, and counted.
        lines.write(b'{"resourceType":"Observation","id":"nobody","status":"final"}\n')
    done = _import(factory, broken, team)
    assert done.not_about_a_woman == 1
    assert (done.stored, done.refused) == (WOMEN - 2, 2)
    reasons = dict(done.reasons)
    assert "bad-length" in reasons["demo-000003"]
    assert "missing resourceType" in reasons["demo-000004"]
    assert _count(factory, PatientRow) == WOMEN - 2


def _as_stored(factory: sessionmaker[Session]) -> dict[str, Any]:
    """What the database holds of each woman, by her id in the source, free of the ids the
    database gave: her records, assessment, care teams and notifications."""
    out: dict[str, Any] = {}
    with factory() as session:
        for patient in session.scalars(select(PatientRow)):
            rid = min(
                session.scalars(
                    select(SourceIdentifierRow.value).where(
                        SourceIdentifierRow.patient_id == patient.id,
                        SourceIdentifierRow.value.like("patients/%"),
                        SourceIdentifierRow.system.like("urn:cervixwatch:source:%"),
                    )
                )
            )
            pregnancy = session.scalars(
                select(PregnancyRow).where(PregnancyRow.patient_id == patient.id)
            ).one()
            assessment = session.scalars(
                select(AssessmentRow).where(AssessmentRow.pregnancy_id == pregnancy.id)
            ).one()
            result = orjson.dumps(assessment.result, option=orjson.OPT_SORT_KEYS).decode()
            for own_id in (patient.id, pregnancy.id):
                result = result.replace(own_id, "<id>")
            out[str(rid)] = (
                patient.family_name,
                patient.birth_date,
                patient.hospital_number,
                replace(load_records(session, pregnancy.id), patient_id=""),
                assessment.risk_tier,
                assessment.codes,
                result,
                sorted(
                    session.scalars(
                        select(TeamPatientRow.team_id).where(
                            TeamPatientRow.patient_id == patient.id
                        )
                    )
                ),
                session.scalar(
                    select(func.count())
                    .select_from(NotificationRow)
                    .where(NotificationRow.patient_id == patient.id)
                ),
            )
    return out


def test_a_batch_of_new_women_is_stored_as_one_by_one_imports_store_them(
    factory: sessionmaker[Session],
    export: Path,
    team: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The batch path (`app.registering`: one transaction and one INSERT per table for a
    batch's new women) stores exactly what `import_bundle` stores woman by woman, the same
    woman sent twice in one batch (under two Patient ids, one hospital number) included."""
    twice = tmp_path / "twice"
    shutil.copytree(export, twice)
    first = orjson.loads((export / "Patient.ndjson").read_bytes().splitlines()[0])
    # In the first batch with her (women are taken in the order of their ids).
    again = {**first, "id": "demo-000001a", "name": [{"family": "Renamed", "given": ["Tess"]}]}
    with (twice / "Patient.ndjson").open("ab") as lines:
        lines.write(orjson.dumps(again) + b"\n")
    batched = _import(factory, twice, team)
    assert (batched.stored, batched.created, batched.refused) == (WOMEN + 1, WOMEN, 0)
    stored_by_batches = _as_stored(factory)
    counts = row_counts(factory)
    delete_everything(factory.kw["bind"])
    one_team = _team(factory)

    def none_registered(_sessions: Any, bundles: Any, **_: Any) -> Registered:
        return Registered(one_by_one=[woman for woman, _ in bundles])

    monkeypatch.setattr(bulk_import, "register_new_women", none_registered)
    one_by_one = _import(factory, twice, one_team)
    assert (one_by_one.stored, one_by_one.created) == (WOMEN + 1, WOMEN)
    assert row_counts(factory) == counts
    stored_one_by_one = _as_stored(factory)
    assert len(stored_one_by_one) == WOMEN
    for woman in stored_one_by_one.values():
        woman[7][:] = ["<team>"]  # the team was made again, under another id
    for woman in stored_by_batches.values():
        woman[7][:] = ["<team>"]
    assert stored_by_batches == stored_one_by_one
    # The second Patient was found by her hospital number: one woman, named as last sent.
    assert stored_by_batches["patients/demo-000001"][0] == "Renamed"


def test_the_command_line(export: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    missing_team = runner.invoke(
        app, ["import", str(export), "--team", "Nobody's", "--database-url", url]
    )
    assert missing_team.exit_code == 2
    assert "no care team" in missing_team.output
    added = runner.invoke(
        app,
        [
            "users",
            "add",
            "imp",
            "--role",
            "clinician",
            "--team",
            TEAM,
            "--password-stdin",
            "--database-url",
            url,
        ],
        input="a long random password for an import\n",
    )
    assert added.exit_code == 0, added.output
    done = runner.invoke(
        app,
        [
            "import",
            str(export),
            "--team",
            TEAM,
            "--source",
            "reg",
            "--as-of",
            "2026-12-01",
            "--database-url",
            url,
        ],
    )
    assert done.exit_code == 0, done.output
    assert f"Stored {WOMEN} women ({WOMEN} new)" in done.output


def test_the_command_line_imports_by_one_process_per_cpu_on_postgresql(
    factory: sessionmaker[Session], export: Path, team: str
) -> None:
    """Without `--workers`: one process per CPU on PostgreSQL, one on SQLite (one writer);
    every woman stored either way."""
    url = factory.kw["bind"].url.render_as_string(hide_password=False)
    with factory() as session:
        found = session.get(CareTeamRow, team)
        assert found is not None
        team_name = found.name
    done = CliRunner().invoke(
        app, ["import", str(export), "--team", team_name, "--source", "reg", "--database-url", url]
    )
    assert done.exit_code == 0, done.output
    assert f"Stored {WOMEN} women ({WOMEN} new)" in done.output
    processes = 1 if url.startswith("sqlite") else os.cpu_count()
    assert f"/s, {processes} process" in done.output
    assert _count(factory, PatientRow) == WOMEN
