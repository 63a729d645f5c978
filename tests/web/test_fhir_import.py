"""POST /fhir: Bundles imported all or nothing, idempotent on resource ids, and exported by
`$everything` so that `cervixwatch assess` gives the same assessment as of any day."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cervixwatch.clinical.assessment import assess
from cervixwatch.interop.fhir_assessment import ASSESSMENT_TYPES
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.knowledge import bundled_profiles
from cervixwatch.knowledge import codes as c
from cervixwatch.views.json_view import assessment_json
from tests import fhir_builders as fb
from tests.web.conftest import TODAY
from tests.web.fhir_client import (
    SCENARIOS_TODAY,
    Clock,
    counts,
    emptied,
    everything,
    import_ok,
    post_bundle,
    resources,
    shared_app,
)

SCENARIOS = Path(__file__).parents[1] / "scenarios"
CASES = sorted(p.parent for p in SCENARIOS.glob("*/*/expected.json"))
PROFILES = list(bundled_profiles().values())


#: The app's today: `TODAY`, moved to `SCENARIOS_TODAY` by the tests that import scenarios.
CLOCK = Clock()


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[TestClient]:
    with shared_app(engine, CLOCK) as client:
        yield client


@pytest.fixture
def client(shared: TestClient, engine: Engine) -> Iterator[TestClient]:
    """One app per module and database backend, its database emptied around each test."""
    try:
        with emptied(engine, shared) as client:
            yield client
    finally:
        CLOCK.day = TODAY


def _assessment(raw: bytes, as_of: dt.date) -> dict[str, Any]:
    """`cervixwatch assess --format json` of a Bundle, less the patient's id."""
    records = read_bundle(raw, as_of)
    document = assessment_json(assess(records, as_of, PROFILES), records, PROFILES)
    document.pop("patient")
    return document


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_round_trip_gives_the_same_assessment(client: TestClient, case: Path) -> None:
    CLOCK.day = SCENARIOS_TODAY
    as_of = dt.date.fromisoformat(json.loads((case / "expected.json").read_text())["as_of"])
    raw = (case / "bundle.json").read_bytes()
    patient_id = import_ok(client, raw)
    exported = everything(client, patient_id)
    assert exported["type"] == "searchset"
    assert exported["total"] == len(exported["entry"])
    assert all(e["search"]["mode"] == "match" for e in exported["entry"])
    assert all(e["fullUrl"].startswith("http") for e in exported["entry"])
    original = _assessment(raw, as_of)
    again = _assessment(orjson.dumps(exported), as_of)
    # The notes say what reading the sent Bundle left out (a provisional Condition): the
    # export holds only what was kept, so reading it leaves nothing out.
    assert again.pop("notes") == []
    original.pop("notes")
    assert again == original


def test_duplicate_entries_are_read_alike_by_the_command_line_and_the_server(
    client: TestClient,
) -> None:
    # Issue 10, item 8: a feed repeating a resource under its id. Two copies of one previous
    # sPTB must not become two (RCOG75-01 counts them): read once by both, the last standing.
    prior = fb.prior_pregnancy(rid="prior-1")
    raw = fb.dumps(
        fb.bundle(
            fb.edd(),
            prior,
            fb.prior_pregnancy(rid="prior-2", ended="2021-03-01"),
            copy.deepcopy(prior),
            fb.cervical_length(30, rid="cl-1"),
            fb.cervical_length(22, rid="cl-1"),
        )
    )
    as_of = dt.date(2026, 2, 2)
    records = read_bundle(raw, as_of)
    assert len(records.prior_pregnancies) == 2
    assert [m.length_mm for m in records.cervical_lengths] == [22]
    patient_id = import_ok(client, raw)
    exported = orjson.dumps(everything(client, patient_id))
    assert len(read_bundle(exported, as_of).prior_pregnancies) == 2
    original, again = _assessment(raw, as_of), _assessment(exported, as_of)
    original.pop("notes"), again.pop("notes")
    assert again == original


def test_sending_a_bundle_twice_stores_nothing_twice(client: TestClient, engine: Engine) -> None:
    CLOCK.day = SCENARIOS_TODAY
    raw = (CASES[1] / "bundle.json").read_bytes()
    first = post_bundle(client, raw)
    patient_id = import_ok(client, raw)  # the second time
    assert first.json()["entry"][0]["response"]["location"] == f"Patient/{patient_id}"
    stored = counts(engine)
    assert stored["patients"] == 1
    again = post_bundle(client, raw)
    assert counts(engine) == stored
    # Each entry is answered with the same location whether she was new (the locations come
    # from what was just written) or known (they are looked up).
    locations = [e["response"].get("location") for e in first.json()["entry"]]
    assert [e["response"].get("location") for e in again.json()["entry"]] == locations
    assert sum(1 for loc in locations if loc) > 2
    summary = again.json()["entry"][0]["response"]
    assert summary["status"] == "200 OK"
    assert " 0 stored new" in summary["outcome"]["issue"][0]["diagnostics"]
    # A transaction Bundle of the same resources POSTed is the same too: she is found by her
    # identifier and each record by the id its source gave it.
    bundle = orjson.loads(raw)
    bundle["type"] = "transaction"
    for entry in bundle["entry"]:
        entry["request"] = {"method": "POST", "url": entry["resource"]["resourceType"]}
    import_ok(client, bundle)
    assert counts(engine) == stored
    # PUT to a source's own id is not an update here: ids are this server's (updateCreate
    # false), so the resource could not be read where the PUT put it. Refused, nothing stored.
    for entry in bundle["entry"]:
        kind, rid = entry["resource"]["resourceType"], entry["resource"]["id"]
        entry["request"] = {"method": "PUT", "url": f"{kind}/{rid}"}
    refused = post_bundle(client, bundle)
    assert refused.status_code == 405, refused.text
    assert "updateCreate" in refused.json()["issue"][0]["diagnostics"]
    assert counts(engine) == stored


def test_an_export_sent_back_stores_nothing_twice(client: TestClient, engine: Engine) -> None:
    patient_id = import_ok(client, fb.v01_bundle())
    stored = counts(engine)
    exported = everything(client, patient_id)
    assert import_ok(client, exported) == patient_id
    assert counts(engine) == stored
    # The same records, and the same assessment (made again: `meta.lastUpdated` is when).
    assert _unstamped(everything(client, patient_id)) == _unstamped(exported)


def _unstamped(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for entry in bundle["entry"]:
        resource = dict(entry["resource"])
        if resource["resourceType"] in ASSESSMENT_TYPES:
            resource.pop("meta")
        out.append({**entry, "resource": resource})
    return out


def test_a_record_sent_back_changed_under_its_id_is_updated(
    client: TestClient, engine: Engine
) -> None:
    patient_id = import_ok(client, fb.v01_bundle())
    stored = counts(engine)
    [length] = resources(everything(client, patient_id), "Observation")[3:4]
    assert length["code"]["coding"][0]["code"] == "11961-0"
    read = client.get(f"/fhir/Observation/{length['id']}").json()
    read["valueQuantity"]["value"] = 18
    answer = post_bundle(
        client,
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "resource": read,
                    "request": {"method": "PUT", "url": f"Observation/{read['id']}"},
                }
            ],
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["entry"][0]["response"]["location"] == f"Observation/{read['id']}"
    after = counts(engine)
    # The same row, now also known by the id it was sent under.
    assert after.pop("source_identifiers") == stored.pop("source_identifiers") + 1
    assert after == stored
    again = client.get(f"/fhir/Observation/{length['id']}").json()
    assert again["valueQuantity"]["value"] == 18


def test_a_bundle_without_her_patient_adds_to_a_stored_woman(
    client: TestClient, engine: Engine
) -> None:
    patient_id = import_ok(client, fb.v01_bundle())
    before = counts(engine)
    later = fb.cervical_length(15, "2026-02-16", rid="cl-2")
    later["subject"] = {"reference": f"Patient/{patient_id}"}
    answer = post_bundle(client, fb.bundle(later, with_patient=False))
    assert answer.status_code == 200, answer.text
    # By the id her first Bundle gave her (Patient/p1), too.
    latest = fb.cervical_length(14, "2026-02-23", rid="cl-3")
    assert post_bundle(client, fb.bundle(latest, with_patient=False)).status_code == 200
    after = counts(engine)
    assert after["cervical_lengths"] == before["cervical_lengths"] + 2
    assert after["patients"] == 1
    values = [
        r["valueQuantity"]["value"]
        for r in resources(everything(client, patient_id), "Observation")
        if r["code"]["coding"][0]["code"] == "11961-0"
    ]
    assert values == [22, 15, 14]


def test_another_womans_bundle_with_the_same_ids_leaves_hers_alone(
    client: TestClient, engine: Engine
) -> None:
    first = import_ok(client, fb.v01_bundle())
    hers = everything(client, first)
    other = fb.v01_bundle()
    other["entry"][0]["resource"] = {
        "resourceType": "Patient",
        "id": "p2",
        "identifier": [{"system": "urn:mrn", "value": "MRN-2"}],
    }
    for entry in other["entry"][1:]:
        entry["resource"]["subject"] = {"reference": "Patient/p2"}
        if entry["resource"]["id"] == "cl":
            entry["resource"]["valueQuantity"]["value"] = 35
    second = import_ok(client, other)
    assert second != first
    assert everything(client, first)["entry"] == hers["entry"]
    assert counts(engine)["patients"] == 2
    [length] = [
        r for r in resources(everything(client, second), "Observation") if r["id"].startswith("cl-")
    ]
    assert length["valueQuantity"]["value"] == 35


def test_the_patient_is_registered_from_her_resource(client: TestClient) -> None:
    bundle = fb.v01_bundle()
    bundle["entry"][0]["resource"] |= {
        "identifier": [
            {"system": "urn:nhs", "value": "943 476 5919"},
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                    ]
                },
                "value": "RX1234",
            },
        ],
        "name": [{"use": "official", "family": "Okafor", "given": ["Ada", "Grace"]}],
    }
    patient_id = import_ok(client, bundle)
    patient = client.get(f"/fhir/Patient/{patient_id}").json()
    # Every identifier, with its system and type, and the name with its use.
    assert patient["identifier"] == bundle["entry"][0]["resource"]["identifier"]
    assert patient["name"] == [{"use": "official", "family": "Okafor", "given": ["Ada", "Grace"]}]
    assert patient["birthDate"] == "1990-05-01"


@pytest.mark.parametrize(
    ("finding", "element", "problem"),
    [
        # A scan of tomorrow (the clock is at 2026-03-02; she is due 2026-07-04).
        (fb.cervical_length(20, "2026-03-03", rid="cl-x"), "effectiveDateTime", "in the future"),
        # A scan before this pregnancy began (2025-09-27) and one after its end (2026-08-15).
        (fb.cervical_length(20, "2025-09-26", rid="cl-x"), "effectiveDateTime", "outside"),
        (fb.symptom_report("2026-03-09", cramping=True), "authored", "in the future"),
        (
            fb.procedure(c.CERCLAGE_VAGINAL, "2025-01-10", rid="cl-x"),
            "performedDateTime",
            "outside this pregnancy",
        ),
        (
            fb.medication_request(c.VAGINAL_PROGESTERONE, authored="2024-05-01"),
            "authoredOn",
            "outside this pregnancy",
        ),
    ],
    ids=["scan-tomorrow", "scan-before", "report-next-week", "cerclage-before", "order-before"],
)
def test_a_finding_dated_in_the_future_or_outside_the_pregnancy_is_refused(
    client: TestClient, engine: Engine, finding: dict[str, Any], element: str, problem: str
) -> None:
    """Issue 12, F8: the import refuses what the JSON API refuses (app.checks), naming the
    entry and element, and stores nothing."""
    before = counts(engine)
    answer = post_bundle(client, fb.bundle(fb.edd(), fb.cervical_length(25), finding))
    assert answer.status_code == 422, answer.text
    issue = answer.json()["issue"][0]
    assert issue["expression"] == [f"Bundle.entry[3].resource.{element}"]
    assert problem in issue["diagnostics"]
    assert "(entry 3)" in issue["diagnostics"]
    assert counts(engine) == before


def test_a_scan_after_the_pregnancy_ended_is_refused(client: TestClient) -> None:
    CLOCK.day = SCENARIOS_TODAY  # 2026-09-01: past her pregnancy's last day, 2026-08-15
    answer = post_bundle(client, fb.bundle(fb.edd(), fb.cervical_length(20, "2026-08-20")))
    assert answer.status_code == 422, answer.text
    issue = answer.json()["issue"][0]
    assert "outside this pregnancy, which runs from 2025-09-27" in issue["diagnostics"]
    assert issue["expression"] == ["Bundle.entry[2].resource.effectiveDateTime"]


def test_history_dated_before_the_pregnancy_is_history(client: TestClient) -> None:
    """A previous pregnancy, an excision and an old complication are dated before this
    pregnancy by nature: not this pregnancy's findings, so not refused."""
    bundle = fb.bundle(
        fb.edd(),
        fb.prior_pregnancy(rid="prior-1", ended="2021-03-01"),
        fb.procedure(c.LLETZ, "2019-06-01", rid="lletz"),
    )
    import_ok(client, bundle)


def test_records_taken_back_are_taken_back(client: TestClient, engine: Engine) -> None:
    progesterone = fb.medication_request(c.VAGINAL_PROGESTERONE, authored="2026-02-02")
    bleeding = fb.condition(c.VAGINAL_BLEEDING, rid="bleeding")
    bundle = fb.bundle(fb.edd(), fb.cervical_length(22), progesterone, bleeding)
    patient_id = import_ok(client, bundle)
    kinds = {r["resourceType"] for r in resources(everything(client, patient_id))}
    assert {"MedicationRequest", "Condition"} <= kinds
    taken_back = copy.deepcopy(bundle)
    for entry in taken_back["entry"]:
        resource = entry["resource"]
        if resource.get("id") == "cl":
            resource["status"] = "entered-in-error"
        elif resource["resourceType"] == "MedicationRequest":
            resource["status"] = "stopped"
        elif resource["resourceType"] == "Condition":
            resource["clinicalStatus"] = fb.concept((c.CONDITION_CLINICAL, "resolved"))
    answer = post_bundle(client, taken_back)
    assert answer.status_code == 200, answer.text
    left = [
        r
        for r in resources(everything(client, patient_id))
        if r["resourceType"] not in ASSESSMENT_TYPES
    ]
    # The length is gone; the order and the bleeding stay in her record, ended today, so an
    # assessment of an earlier day still sees them (CD-06).
    assert [r["resourceType"] for r in left] == [
        "Patient",
        "Observation",  # the EDD
        "Condition",
        "MedicationRequest",
    ]
    condition, order = left[2], left[3]
    assert condition["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert condition["abatementDateTime"] == TODAY.isoformat()
    assert order["status"] == "stopped"
    assert order["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"] == {
        "start": "2026-02-02",
        "end": TODAY.isoformat(),
    }
    assert counts(engine)["cervical_lengths"] == 0


def test_a_transaction_of_temporary_ids_is_imported(client: TestClient, engine: Engine) -> None:
    """POST entries with urn:uuid fullUrls and no ids, as transactions are often sent; sent
    twice, equal records are recognised by their values."""
    bundle = fb.v01_bundle()
    bundle["type"] = "transaction"
    patient_url = bundle["entry"][0]["fullUrl"]
    bundle["entry"][0]["resource"] = {
        "resourceType": "Patient",
        "identifier": [{"value": "T-1"}],
        "birthDate": "1990-05-01",
    }
    for entry in bundle["entry"]:
        entry["request"] = {"method": "POST", "url": entry["resource"]["resourceType"]}
        entry["resource"].pop("id", None)
        if "subject" in entry["resource"]:
            entry["resource"]["subject"] = {"reference": patient_url}
    patient_id = import_ok(client, bundle)
    stored = counts(engine)
    assert stored["cervical_lengths"] == 1
    assert import_ok(client, bundle) == patient_id
    assert counts(engine) == stored
