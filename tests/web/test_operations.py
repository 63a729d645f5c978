"""The operator's endpoints (issue 12, part 7): /healthz, /readyz (503 with Retry-After when
the database is not at the migrations' head), /metrics (Prometheus' text format, by route
template, without patient data, open to loopback or the metrics token only), and no audit
entries for any of them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

from cervixwatch.clinical.records import Symptom
from cervixwatch.store.audit_chain import checkpoint_engine
from cervixwatch.store.database import make_engine
from cervixwatch.store.migrate import upgrade
from cervixwatch.web.app import create_app
from tests.fhir_builders import bundle, edd
from tests.store.tables import delete_everything
from tests.web.accounts import bearer, make_user, sign_in_as_clinician, test_settings
from tests.web.api_builders import at, ok, seed
from tests.web.conftest import TODAY
from tests.web.fhir_client import import_ok, post_bundle

LOOPBACK = ("127.0.0.1", 40000)
FAMILY, GIVEN, NUMBER = "Wrenfield", "Isolde", "OPS0042"


def _app_client(engine: Engine, client: tuple[str, int] = LOOPBACK, **settings: Any) -> TestClient:
    app = create_app(test_settings(engine, **settings), today=lambda: TODAY)
    return TestClient(app, client=client)


def _audit_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM audit_events")).scalar_one())


def _samples(metrics: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def _requests(metrics: str, method: str, route: str, status: str) -> float:
    key = (("method", method), ("route", route), ("status", status))
    return _samples(metrics, "cervixwatch_http_requests_total").get(key, 0.0)


def test_health_and_readiness_answer_and_leave_no_audit_entry(engine: Engine) -> None:
    with _app_client(engine, client=("203.0.113.9", 5000)) as client:
        before = _audit_count(engine)
        health = client.get("/healthz")
        ready = client.get("/readyz")
        assert _audit_count(engine) == before
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ready", "database": "ok", "migrations": "head"},
    )
    assert ready.headers["Cache-Control"] == "no-store"


@pytest.fixture
def migrated_url(empty_url: str) -> str:
    upgrade(empty_url)
    return empty_url


def test_readiness_is_503_when_the_database_is_not_at_the_head(migrated_url: str) -> None:
    """A database an older version left (its schema stamped one revision back)."""
    engine = make_engine(migrated_url)
    try:
        with _app_client(engine) as client:
            assert client.get("/readyz").status_code == 200
            with engine.begin() as connection:
                connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
            answer = client.get("/readyz")
    finally:
        engine.dispose()
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.json() == {"status": "not ready", "database": "ok", "migrations": "not at head"}


def test_metrics_count_by_route_template_and_hold_no_patient_data(engine: Engine) -> None:
    with _app_client(engine) as client:
        _, token = make_user(client, teams=("Ops team",))
        woman = {
            "hospital_number": NUMBER,
            "family_name": FAMILY,
            "given_name": GIVEN,
            "birth_date": "1992-02-03",
        }
        created = client.post("/api/patients", json=woman, headers=bearer(token))
        assert created.status_code == 201
        patient_id = created.json()["id"]
        first = client.get("/metrics").text
        searches = 3
        for _ in range(searches):
            found = client.get(
                f"/fhir/Patient?family={FAMILY}&given={GIVEN}&identifier={NUMBER}",
                headers=bearer(token),
            )
            assert found.status_code == 200
        assert client.get(f"/api/patients/{patient_id}", headers=bearer(token)).status_code == 200
        assert client.get(f"/fhir/No/{NUMBER}/{FAMILY}").status_code == 404  # the catch-all
        answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    metrics = answer.text
    route = "/fhir/{resource_type}"
    assert _requests(metrics, "GET", route, "200") - _requests(first, "GET", route, "200") == 3
    single = "/api/patients/{patient_id}"
    assert _requests(metrics, "GET", single, "200") - _requests(first, "GET", single, "200") == 1
    assert _requests(metrics, "GET", "/fhir/{path:path}", "404") >= 1
    assert _samples(metrics, "cervixwatch_database_up") == {(): 1.0}
    assert () in _samples(metrics, "cervixwatch_urgent_reports_waiting")
    latency = _samples(metrics, "cervixwatch_http_request_duration_seconds_count")
    assert latency[(("method", "GET"), ("route", route))] >= 3
    for value in (FAMILY, GIVEN, NUMBER, patient_id, "Wrenf", "family="):
        assert value not in metrics, f"{value!r} in /metrics"


@pytest.mark.parametrize(
    ("client", "headers"),
    [
        (("203.0.113.9", 5000), {}),  # from another host
        (LOOPBACK, {"X-Forwarded-For": "203.0.113.9"}),  # through a proxy on this host
        (LOOPBACK, {"Forwarded": "for=203.0.113.9"}),
        (LOOPBACK, {"X-Real-IP": "203.0.113.9"}),
    ],
    ids=["remote", "x-forwarded-for", "forwarded", "x-real-ip"],
)
def test_metrics_without_a_token_answer_only_loopback_not_proxied(
    engine: Engine, client: tuple[str, int], headers: dict[str, str]
) -> None:
    with _app_client(engine, client=client) as asking:
        assert asking.get("/metrics", headers=headers).status_code == 403


def test_metrics_with_a_token_answer_whoever_sends_it(engine: Engine) -> None:
    with _app_client(engine, client=("203.0.113.9", 5000), metrics_token="s" * 40) as client:
        _, user_token = make_user(client)
        assert client.get("/metrics").status_code == 403
        assert client.get("/metrics", headers=bearer("t" * 40)).status_code == 403
        # A user's own token is not the metrics token, whatever her role.
        assert client.get("/metrics", headers=bearer(user_token)).status_code == 403
        assert client.get("/metrics", headers=bearer("s" * 40)).status_code == 200
    with _app_client(engine, metrics_token="s" * 40) as client:  # loopback needs it too
        assert client.get("/metrics").status_code == 403


def test_metrics_show_the_newest_audit_checkpoints_age(engine: Engine, tmp_path: Path) -> None:
    """The file `cervixwatch audit checkpoint --out FILE` appends to: its last line counts."""
    kept = tmp_path / "checkpoints.jsonl"
    now = dt.datetime.now(dt.UTC)
    older = checkpoint_engine(engine, now - dt.timedelta(days=3)).to_json()
    newest = checkpoint_engine(engine, now - dt.timedelta(hours=2)).to_json()
    kept.write_bytes(older + b"\n" + newest + b"\n\n")
    with _app_client(engine, audit_checkpoints=kept) as client:
        metrics = client.get("/metrics").text
    with _app_client(engine, audit_checkpoints=tmp_path / "none-yet.jsonl") as client:
        missing = client.get("/metrics").text
    with _app_client(engine) as client:
        unset = client.get("/metrics").text
    age = _samples(metrics, "cervixwatch_audit_checkpoint_age_seconds")[()]
    assert 2 * 3600 <= age < 2 * 3600 + 120
    assert "cervixwatch_audit_checkpoint_age_seconds" not in missing + unset


def test_metrics_count_imports_and_the_urgent_reports_waiting(engine: Engine) -> None:
    delete_everything(engine)
    try:
        with _app_client(engine) as client:
            sign_in_as_clinician(client)
            first = client.get("/metrics").text
            import_ok(client, bundle(edd()))
            assert post_bundle(client, b'{"resourceType": "Bundle"').status_code == 400
            urgent = at("24+0").with_symptoms(Symptom.FLUID_LEAK, reported_on=TODAY)
            pregnancy_id = seed(client, "URG1", urgent).pregnancy_id
            waiting = client.get("/metrics").text
            reports = ok(client.get(f"/api/pregnancies/{pregnancy_id}/symptom-reports"))
            review = {"outcome": "admitted"}
            path = f"/api/symptom-reports/{reports[0]['id']}/reviews"
            ok(client.post(path, json=review), 201)
            reviewed = client.get("/metrics").text
    finally:
        delete_everything(engine)

    def imports(metrics: str, outcome: str) -> float:
        return _samples(metrics, "cervixwatch_imports_total").get((("outcome", outcome),), 0.0)

    assert imports(waiting, "stored") - imports(first, "stored") == 1
    assert imports(waiting, "refused") - imports(first, "refused") == 1
    assert _samples(first, "cervixwatch_urgent_reports_waiting") == {(): 0.0}
    assert _samples(waiting, "cervixwatch_urgent_reports_waiting") == {(): 1.0}
    assert _samples(reviewed, "cervixwatch_urgent_reports_waiting") == {(): 0.0}
