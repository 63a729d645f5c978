"""A twin pregnancy's chorionicity (issue 13, part 2): recorded with the referral through the
JSON API (twins only; amending it needs a reason, kept as a correction), and through FHIR as
the twin-pregnancy Condition of its SNOMED CT code (standards.md: 459166009 DCDA, 459167000
MC): imported, exported by `$everything`, read, found by a search of its code, and sent back
without storing anything twice. Two codes at once, or a count that is not two, are not kept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.knowledge import codes as c
from cervixwatch.store.models import RecordCorrectionRow
from tests import fhir_builders as fb
from tests.web.api_builders import counts, edd_for, ok, patient
from tests.web.conftest import TODAY
from tests.web.fhir_client import HEADERS, emptied, everything, import_ok, resources, shared_app

DCDA = f"{c.SNOMED}|459166009"


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[TestClient]:
    with shared_app(engine) as client:
        yield client


@pytest.fixture
def client(shared: TestClient, engine: Engine) -> Iterator[TestClient]:
    with emptied(engine, shared) as client:
        yield client


def _start(client: TestClient, **body: object) -> object:
    her = patient(client, "H-TWINS")
    return client.post(
        f"/api/patients/{her['id']}/pregnancies",
        json={"edd": edd_for("19+0").isoformat(), **body},
    )


def test_twins_are_registered_with_their_chorionicity(client: TestClient) -> None:
    created = ok(_start(client, fetuses=2, chorionicity="dichorionic-diamniotic"), 201)
    assert created["chorionicity"] == "dichorionic-diamniotic"
    assert ok(client.get(f"/api/pregnancies/{created['id']}"))["chorionicity"] == (
        "dichorionic-diamniotic"
    )


@pytest.mark.parametrize("fetuses", [1, 3, None])
def test_a_chorionicity_is_refused_unless_there_are_two_fetuses(
    client: TestClient, fetuses: int | None
) -> None:
    before = counts(client)
    refused = _start(client, fetuses=fetuses, chorionicity="monochorionic")
    assert refused.status_code == 422, refused.text  # type: ignore[attr-defined]
    detail = refused.json()["detail"][0]  # type: ignore[attr-defined]
    assert detail["loc"] == ["body", "chorionicity"]
    assert "twins only" in detail["msg"]
    # Only the woman was stored, by the call before.
    assert counts(client)["pregnancies"] == before["pregnancies"]


def test_a_value_that_is_no_chorionicity_is_refused_naming_it(client: TestClient) -> None:
    refused = _start(client, fetuses=2, chorionicity="dichorionic-triamniotic")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert refused.json()["detail"][0]["loc"] == ["body", "chorionicity"]  # type: ignore[attr-defined]


def test_amending_a_recorded_chorionicity_needs_a_reason_and_is_kept(client: TestClient) -> None:
    created = ok(_start(client, fetuses=2, chorionicity="monochorionic"), 201)
    path = f"/api/pregnancies/{created['id']}"
    refused = client.patch(path, json={"chorionicity": "dichorionic-diamniotic"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "reason"]
    assert "amending the recorded chorionicity" in refused.json()["detail"][0]["msg"]
    amended = ok(
        client.patch(
            path, json={"chorionicity": "dichorionic-diamniotic", "reason": "lambda sign seen"}
        )
    )
    assert amended["chorionicity"] == "dichorionic-diamniotic"
    # Down to one fetus while the chorionicity stands: refused, naming it.
    one = client.patch(path, json={"fetuses": 1, "reason": "vanishing twin"})
    assert one.status_code == 422
    assert one.json()["detail"][0]["loc"] == ["body", "chorionicity"]
    ok(client.patch(path, json={"fetuses": 1, "chorionicity": None, "reason": "vanishing twin"}))
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        kept = session.scalars(
            select(RecordCorrectionRow)
            .where(RecordCorrectionRow.record_key == created["id"])
            .order_by(RecordCorrectionRow.id)
        ).all()
    assert [(k.reason, k.before["chorionicity"]) for k in kept] == [
        ("lambda sign seen", "monochorionic"),
        ("vanishing twin", "dichorionic-diamniotic"),
    ]


def _twins_bundle(*conditions: dict[str, object], count: int | None = None) -> dict[str, object]:
    records: list[dict[str, object]] = [fb.edd(edd_for("19+0").isoformat())]
    if count is not None:
        records.append(fb.fetus_count(count))
    return fb.bundle(*records, *conditions)


def test_the_twin_condition_comes_in_and_goes_out_as_fhir(
    client: TestClient, engine: Engine
) -> None:
    twins = fb.condition(c.DCDA_TWIN_PREGNANCY, rid="dcda")
    patient_id = import_ok(client, _twins_bundle(twins))
    listed = ok(client.get(f"/api/patients/{patient_id}/pregnancies"))
    assert [(p["fetuses"], p["chorionicity"]) for p in listed] == [(2, "dichorionic-diamniotic")]
    pregnancy_id = listed[0]["id"]

    exported = everything(client, patient_id)
    (condition,) = [
        r for r in resources(exported, "Condition") if r["id"].startswith("chorionicity-")
    ]
    assert condition["id"] == f"chorionicity-{pregnancy_id}"
    assert condition["code"]["coding"] == [{"system": c.SNOMED, "code": "459166009"}]
    assert condition["clinicalStatus"]["coding"][0]["code"] == "active"
    read = client.get(f"/fhir/Condition/{condition['id']}", headers=HEADERS)
    assert read.status_code == 200, read.text
    assert read.json()["code"] == condition["code"]
    found = client.get("/fhir/Condition", params={"code": DCDA}, headers=HEADERS).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [condition["id"]]
    other = client.get(
        "/fhir/Condition", params={"code": f"{c.SNOMED}|459167000"}, headers=HEADERS
    ).json()
    assert other.get("entry", []) == []

    # Sent back as it was exported: nothing stored twice, and the reader of the export gives
    # the same chorionicity.
    stored = counts(client)
    import_ok(client, exported)
    assert counts(client) == stored
    assert read_bundle(fb.dumps(exported), as_of=TODAY).chorionicity == "dichorionic-diamniotic"


@pytest.mark.parametrize(
    ("conditions", "count", "note"),
    [
        (
            (c.DCDA_TWIN_PREGNANCY, c.MC_TWIN_PREGNANCY),
            None,
            "chorionicity not kept: the Conditions state both",
        ),
        ((c.MC_TWIN_PREGNANCY,), 3, "chorionicity not kept: it is of twins, but the fetus count"),
    ],
    ids=["both-codes", "three-fetuses"],
)
def test_a_chorionicity_that_cannot_hold_is_not_kept_and_says_why(
    conditions: tuple[c.Code, ...], count: int | None, note: str
) -> None:
    found = [fb.condition(code, rid=f"twins-{i}") for i, code in enumerate(conditions)]
    records = read_bundle(fb.dumps(_twins_bundle(*found, count=count)), as_of=TODAY)
    assert records.chorionicity is None
    assert any(n.startswith(note) for n in records.notes), records.notes
