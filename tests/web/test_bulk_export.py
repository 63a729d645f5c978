"""FHIR Bulk Data `$export` (issue 15, part 1), used as the IG tells a client to: kick off with
`Prefer: respond-async`, poll the Content-Location until 200, fetch every file of the manifest.
The client is plain httpx (the TestClient is one), nothing of CervixWatch's; the files read
back with `interop.bulk_layout` and assessed by `app.population.run_population`."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select

from cervixwatch.app.population import run_population
from cervixwatch.interop.bulk_layout import bulk_files, ndjson_resources
from cervixwatch.store.models import AuditEventRow, CareTeamRow, Role, TeamPatientRow
from cervixwatch.web.app import create_app
from tests.store.tables import delete_everything
from tests.web.accounts import TEAM, bearer, make_user, test_settings, under_team
from tests.web.api_builders import at, seed
from tests.web.conftest import TODAY

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


@pytest.fixture
def bulk(engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    delete_everything(engine)
    settings = test_settings(engine, export_dir=tmp_path / "exports")
    with TestClient(create_app(settings, today=lambda: TODAY)) as client:
        _, token = make_user(client, Role.CLINICIAN, teams=(TEAM,))
        client.headers.update(bearer(token))
        yield client
    delete_everything(engine)


def _export(
    client: TestClient,
    url: str,
    *,
    poll_only: bool = False,
    headers: dict[str, str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Kick off (unless `poll_only`: `url` is the status URL), poll until complete; the status
    URL and the manifest."""
    status_url = url
    if not poll_only:
        kicked = client.get(url, headers={**ASYNC, **(headers or {})})
        assert kicked.status_code == 202, kicked.text
        status_url = kicked.headers["Content-Location"]
    deadline = time.monotonic() + 60
    while True:
        polled = client.get(status_url, headers=headers)
        if polled.status_code == 200:
            assert "Expires" in polled.headers
            return status_url, polled.json()
        assert polled.status_code == 202, polled.text
        assert polled.headers["X-Progress"].endswith(" women")
        assert int(polled.headers["Retry-After"]) > 0
        assert time.monotonic() < deadline, "the export did not finish"
        time.sleep(0.05)


def _files(
    client: TestClient, manifest: dict[str, Any], into: Path, **headers: str
) -> dict[str, list[Any]]:
    """Every file of the manifest, saved into `into` (with the manifest) and parsed."""
    into.mkdir(parents=True, exist_ok=True)
    by_type: dict[str, list[Any]] = {}
    for output in manifest["output"]:
        got = client.get(output["url"], headers=headers)
        assert got.status_code == 200, got.text
        assert got.headers["content-type"].startswith("application/fhir+ndjson")
        (into / output["url"].rsplit("/", 1)[-1]).write_bytes(got.content)
        lines = [orjson.loads(line) for line in got.content.splitlines() if line.strip()]
        assert len(lines) == output["count"]
        assert {r["resourceType"] for r in lines} == {output["type"]}
        by_type[output["type"]] = lines
    (into / "manifest.json").write_bytes(orjson.dumps(manifest))
    return by_type


def test_export_of_a_care_team_read_back_and_assessed(
    bulk: TestClient, engine: Engine, tmp_path: Path
) -> None:
    women = [
        seed(bulk, "B1", at("19+0").with_prior_sptb("30+0").with_length(30, at="18+0")),
        seed(bulk, "B2", at("22+0")),
        seed(bulk, "B3", at("17+0").with_length(22, at="16+0")),
    ]
    stranger = seed(bulk, "B9", at("20+0"))
    under_team(bulk, stranger.patient_id, "Other bulk team")
    sessions = bulk.app.state.sessions  # type: ignore[attr-defined]
    with sessions.begin() as session:
        team_id = session.scalar(select(CareTeamRow.id).where(CareTeamRow.name == TEAM))
        other_team = session.scalar(
            select(CareTeamRow.id).where(CareTeamRow.name == "Other bulk team")
        )
        # `seed` put her under TEAM too: she is the other team's only.
        session.execute(
            delete(TeamPatientRow).where(
                TeamPatientRow.team_id == team_id,
                TeamPatientRow.patient_id == stranger.patient_id,
            )
        )

    # The IG's client: kick-off, poll, files.
    status_url, manifest = _export(bulk, f"/fhir/Group/{team_id}/$export")
    assert manifest["requiresAccessToken"] is True
    assert manifest["error"] == []
    assert manifest["request"].endswith(f"/fhir/Group/{team_id}/$export")
    assert all(o["url"].startswith("http") for o in manifest["output"])
    files = _files(bulk, manifest, tmp_path / "group")
    patients = {p["id"] for p in files["Patient"]}
    assert patients == {w.patient_id for w in women}
    for kind, resources in files.items():
        ids = Counter(r["id"] for r in resources)
        assert max(ids.values()) == 1, f"{kind} resources written twice: {ids.most_common(2)}"
    assert "Observation" in files

    # The same export as `$everything` gives, woman by woman.
    for w in women:
        everything = bulk.get(f"/fhir/Patient/{w.patient_id}/$everything").json()
        hers = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in everything["entry"]}
        exported = {
            (r["resourceType"], r["id"])
            for rs in files.values()
            for r in rs
            if (r["resourceType"] == "Patient" and r["id"] == w.patient_id)
            or (r.get("subject") or r.get("for") or {}).get("reference")
            == f"Patient/{w.patient_id}"
        }
        assert exported <= hers
        assert ("Patient", w.patient_id) in exported

    # Read back through the Bulk Data layout and assessed: one row per woman per profile.
    assert {f.resource_type for f in bulk_files(tmp_path / "group")} == set(files)
    read = sum(1 for f in bulk_files(tmp_path / "group") for _ in ndjson_resources(f.path))
    assert read == sum(len(rs) for rs in files.values())
    profiles = list(bulk.app.state.profiles.values())  # type: ignore[attr-defined]
    run = run_population(tmp_path / "group", tmp_path / "run", TODAY, profiles, workers=1)
    assert run.women == 3
    assert run.refused == 0
    rows = duckdb.sql(
        f"select patient_id, profile, count(*) as n from '{run.parquet}' group by all"
    ).fetchall()
    assert len(rows) == 3 * len(profiles)
    assert all(n == 1 for _, _, n in rows)

    # Only the account that kicked off may poll, download or cancel; another clinician (of
    # another team) is told there is no such export.
    _, other = make_user(bulk, Role.CLINICIAN, teams=("Other bulk team",))
    as_other = bearer(other)
    assert bulk.get(status_url, headers=as_other).status_code == 404
    assert bulk.get(manifest["output"][0]["url"], headers=as_other).status_code == 404
    assert bulk.delete(status_url, headers=as_other).status_code == 404
    assert (
        bulk.get(f"/fhir/Group/{team_id}/$export", headers={**ASYNC, **as_other}).status_code == 404
    )
    # ... her own team's export holds only her team's woman.
    _, theirs = _export(bulk, f"/fhir/Group/{other_team}/$export", headers=as_other)
    assert {
        p["id"]
        for p in _files(
            bulk,
            theirs,
            tmp_path / "other",
            **as_other,
        )["Patient"]
    } == {stranger.patient_id}
    assert bulk.get(f"/fhir/Group/{other_team}/$export", headers=ASYNC).status_code == 404

    # Cancelled (here: deleted once complete): 202, then 404 for the status and the files.
    assert bulk.delete(status_url).status_code == 202
    assert bulk.get(status_url).status_code == 404
    assert bulk.get(manifest["output"][0]["url"]).status_code == 404


def test_type_and_since_narrow_the_export(bulk: TestClient) -> None:
    first = seed(bulk, "S1", at("19+0").with_length(30, at="18+0"))
    _, everyone = _export(bulk, "/fhir/$export?_type=Patient,Observation")
    assert {o["type"] for o in everyone["output"]} == {"Patient", "Observation"}
    files = _files(bulk, everyone, Path(bulk.app.state.settings.export_dir) / "read")  # type: ignore[attr-defined]
    assert [p["id"] for p in files["Patient"]] == [first.patient_id]

    time.sleep(0.01)
    since = dt.datetime.now(dt.UTC)
    time.sleep(0.01)
    later = seed(bulk, "S2", at("20+0").with_length(28, at="19+0"))
    # POSTed as a Parameters resource, as the IG also allows.
    kicked = bulk.post(
        "/fhir/Patient/$export",
        headers=ASYNC,
        json={
            "resourceType": "Parameters",
            "parameter": [
                {"name": "_since", "valueInstant": since.isoformat().replace("+00:00", "Z")},
                {"name": "_outputFormat", "valueString": "ndjson"},
            ],
        },
    )
    assert kicked.status_code == 202, kicked.text
    _, changed = _export(bulk, kicked.headers["Content-Location"], poll_only=True)
    files = _files(bulk, changed, Path(bulk.app.state.settings.export_dir) / "since")  # type: ignore[attr-defined]
    assert [p["id"] for p in files["Patient"]] == [later.patient_id]
    assert all(
        r["subject"]["reference"] == f"Patient/{later.patient_id}" for r in files["Observation"]
    )


@pytest.mark.parametrize(
    ("query", "headers", "expression"),
    [
        ("", {"Accept": "application/fhir+json"}, "Prefer"),
        ("?_outputFormat=text/csv", ASYNC, "_outputFormat"),
        ("?_type=Patient,Spaceship", ASYNC, "_type"),
        ("?_since=yesterday", ASYNC, "_since"),
        ("?_since=2026-01-01T00:00:00", ASYNC, "_since"),
        ("?_typeFilter=Observation%3Fcode%3Dx", ASYNC, "_typeFilter"),
    ],
)
def test_kick_off_refusals_name_the_field(
    bulk: TestClient, query: str, headers: dict[str, str], expression: str
) -> None:
    answer = bulk.get(f"/fhir/$export{query}", headers=headers)
    assert answer.status_code == 400, answer.text
    issue = answer.json()["issue"][0]
    assert answer.json()["resourceType"] == "OperationOutcome"
    assert issue["expression"] == [expression]


def test_kick_off_and_downloads_are_audited_by_job(bulk: TestClient) -> None:
    seed(bulk, "A1", at("19+0"))
    kicked = bulk.get("/fhir/$export", headers=ASYNC)
    job_id = kicked.headers["Content-Location"].rsplit("/", 1)[-1]
    status_url, manifest = _export(bulk, "/fhir/$export")
    _files(bulk, manifest, Path(bulk.app.state.settings.export_dir) / "audit")  # type: ignore[attr-defined]
    assert bulk.delete(status_url).status_code == 202
    sessions = bulk.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        events = session.scalars(select(AuditEventRow)).all()
    kick_offs = [e for e in events if e.route == "/fhir/$export" and e.action == "export"]
    assert job_id in {e.request_id for e in kick_offs}
    second = status_url.rsplit("/", 1)[-1]
    downloads = [e for e in events if e.path.startswith(f"/fhir/$export-files/{second}/")]
    assert len(downloads) == len(manifest["output"])
    assert {e.action for e in downloads} == {"export"}
    # (The audit log outlives the other tests' data: this test's entries are found by job.)
    cancels = [e for e in events if e.path == f"/fhir/$export-status/{second}"]
    assert [(e.method, e.action, e.status) for e in cancels] == [("DELETE", "export-cancel", 202)]


def test_an_abandoned_export_fails_and_expired_files_are_swept(bulk: TestClient) -> None:
    seed(bulk, "E1", at("19+0"))
    root = Path(bulk.app.state.settings.export_dir)  # type: ignore[attr-defined]
    abandoned_url, _ = _export(bulk, "/fhir/$export")
    expired_url, expired = _export(bulk, "/fhir/$export")

    # A writer that died mid-way (its worker ended): no manifest, progress 3 minutes old.
    abandoned = root / abandoned_url.rsplit("/", 1)[-1]
    (abandoned / "manifest.json").unlink()
    stale = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)).isoformat()
    (abandoned / "progress.json").write_bytes(orjson.dumps({"done": 0, "total": 1, "beat": stale}))
    failed = bulk.get(abandoned_url)
    assert failed.status_code == 500
    assert failed.json()["resourceType"] == "OperationOutcome"
    assert "stopped" in failed.json()["issue"][0]["diagnostics"]

    # Files written 25 hours ago (the default keeps them 24): gone at the next status call.
    job = root / expired_url.rsplit("/", 1)[-1]
    long_ago = time.time() - 25 * 3600
    for path in job.iterdir():
        os.utime(path, (long_ago, long_ago))
    assert bulk.get(expired_url).status_code == 404
    assert not job.exists()
    assert bulk.get(expired["output"][0]["url"]).status_code == 404
