"""Bad Bundles answer 4xx with an OperationOutcome naming the entry and field, and store
nothing: every table holds as many rows after the request as before it (all or nothing, even
when the bad entry comes after good ones)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cervixwatch.store.models import Role
from tests import fhir_builders as fb
from tests.web.accounts import TEAM, bearer, make_user
from tests.web.fhir_client import (
    HEADERS,
    counts,
    emptied,
    import_ok,
    imported,
    issue,
    post_bundle,
    shared_app,
)


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[TestClient]:
    with shared_app(engine) as client:
        yield client


@pytest.fixture
def client(shared: TestClient, engine: Engine) -> Iterator[TestClient]:
    with emptied(engine, shared) as client:
        yield client


def _other_woman() -> dict[str, Any]:
    """A valid Bundle of another woman (Patient/p9), good records first."""
    bundle = fb.v01_bundle()
    bundle["entry"][0]["resource"] = {
        "resourceType": "Patient",
        "id": "p9",
        "identifier": [{"value": "MRN-9"}],
    }
    for entry in bundle["entry"][1:]:
        entry["resource"]["subject"] = {"reference": "Patient/p9"}
    return bundle


def _with(change: Callable[[dict[str, Any]], None]) -> bytes:
    bundle = _other_woman()
    change(bundle)
    return orjson.dumps(bundle)


def _resource(bundle: dict[str, Any], rid: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        e["resource"] for e in bundle["entry"] if e["resource"].get("id") == rid
    )
    return found


def _add(bundle: dict[str, Any], resource: dict[str, Any]) -> None:
    bundle["entry"].append({"resource": resource})


@dataclass(frozen=True)
class Bad:
    id: str
    body: bytes
    status: int
    #: Words the diagnostics must hold (the entry and the field, where there is one).
    says: tuple[str, ...]
    #: The FHIRPath the issue must name, if any.
    expression: str | None = None
    content_type: str = "application/fhir+json"


def _unit_kg(b: dict[str, Any]) -> None:
    _resource(b, "cl")["valueQuantity"] = fb.quantity(2.5, "kg")


def _february_31(b: dict[str, Any]) -> None:
    _resource(b, "cl")["effectiveDateTime"] = "2026-02-31"


def _missing_patient(b: dict[str, Any]) -> None:
    stray = fb.cervical_length(20, "2026-02-10", rid="cl-stray")
    stray["subject"] = {"reference": "Patient/nobody"}
    _add(b, stray)


def _no_subject(b: dict[str, Any]) -> None:
    del _resource(b, "membranes")["subject"]


def _two_patients(b: dict[str, Any]) -> None:
    _add(b, fb.patient("p10"))


def _anonymous_patient(b: dict[str, Any]) -> None:
    b["entry"][0]["resource"] = {"resourceType": "Patient", "birthDate": "1990-05-01"}


def _thousand_fetuses(b: dict[str, Any]) -> None:
    _resource(b, "fetuses")["valueInteger"] = 1000


def _born_tomorrow(b: dict[str, Any]) -> None:
    b["entry"][0]["resource"]["birthDate"] = "2026-03-03"


def _bad_id(b: dict[str, Any]) -> None:
    _resource(b, "cl")["id"] = "not an id!"


def _no_resource(b: dict[str, Any]) -> None:
    b["entry"][2] = {"fullUrl": "urn:uuid:1", "request": {"method": "DELETE", "url": "x"}}


def _batch(b: dict[str, Any]) -> None:
    b["type"] = "batch"


def _message(b: dict[str, Any]) -> None:
    b["type"] = "message"


CASES = [
    Bad(
        "malformed JSON",
        b'{"resourceType": "Bundle", "type": "collection", "entry": [',
        400,
        ("JSON",),
    ),
    Bad("a JSON array", b"[]", 400, ("JSON object",)),
    Bad(
        "wrong resourceType", orjson.dumps(fb.patient()), 400, ("resourceType", "Bundle", "Patient")
    ),
    Bad("another Bundle type", _with(_message), 400, ("Bundle.type", "message")),
    Bad("an entry without a resource", _with(_no_resource), 400, ("entry[2]",)),
    Bad("an invalid id", _with(_bad_id), 400, ("entry 4", "id", "not an id!")),
    Bad(
        "a reference to a missing patient",
        _with(_missing_patient),
        422,
        ("Observation/cl-stray (entry 7)", "subject.reference", "Patient/nobody"),
        "Bundle.entry[7].resource.subject.reference",
    ),
    Bad(
        "a length in kg",
        _with(_unit_kg),
        422,
        ("Observation/cl (entry 4)", "valueQuantity.code", "kg"),
        "Bundle.entry[4].resource.valueQuantity.code",
    ),
    Bad(
        "a date of 31 February",
        _with(_february_31),
        422,
        ("Observation/cl (entry 4)", "effectiveDateTime", "2026-02-31"),
        "Bundle.entry[4].resource.effectiveDateTime",
    ),
    Bad("a record about nobody", _with(_no_subject), 422, ("entry 6", "subject")),
    Bad("two patients", _with(_two_patients), 422, ("2 Patient resources",)),
    Bad(
        "a patient without identifier or id",
        _with(_anonymous_patient),
        422,
        ("entry 0", "identifier"),
    ),
    Bad("a thousand fetuses", _with(_thousand_fetuses), 422, ("entry 2", "fetuses")),
    Bad("born tomorrow", _with(_born_tomorrow), 422, ("entry 0", "birthDate", "future")),
    Bad(
        "XML",
        b"<Bundle xmlns='http://hl7.org/fhir'/>",
        415,
        ("application/fhir+json",),
        content_type="application/fhir+xml",
    ),
]


@pytest.mark.parametrize("bad", CASES, ids=[b.id for b in CASES])
def test_bad_bundles_store_nothing(client: TestClient, engine: Engine, bad: Bad) -> None:
    import_ok(client, fb.v01_bundle())
    before = counts(engine)
    response = client.post(
        "/fhir", content=bad.body, headers={**HEADERS, "Content-Type": bad.content_type}
    )
    found = issue(response, bad.status)
    for word in bad.says:
        assert word in found["diagnostics"], found
    if bad.expression is not None:
        assert found["expression"] == [bad.expression]
    assert counts(engine) == before


def test_the_same_bundle_without_the_fault_is_stored(client: TestClient, engine: Engine) -> None:
    """The bad Bundles above are good but for the fault: this one is stored."""
    before = counts(engine)
    import_ok(client, _other_woman())
    assert counts(engine)["cervical_lengths"] == before["cervical_lengths"] + 1


def test_ten_megabytes_of_junk_are_refused(client: TestClient, engine: Engine) -> None:
    import_ok(client, fb.v01_bundle())
    before = counts(engine)
    junk = b"\x00junk" * (2 * 1024 * 1024)
    found = issue(client.post("/fhir", content=junk, headers=HEADERS), 413)
    assert found["code"] == "too-costly"
    # Sent in chunks, without a Content-Length: refused as it arrives.
    chunks = (junk[i : i + 65536] for i in range(0, len(junk), 65536))
    issue(client.post("/fhir", content=chunks, headers=HEADERS), 413)
    assert counts(engine) == before


def test_a_record_of_another_stored_woman_is_refused(client: TestClient, engine: Engine) -> None:
    first = import_ok(client, fb.v01_bundle())
    before = counts(engine)
    bundle = _other_woman()
    _resource(bundle, "cl")["subject"] = {"reference": f"Patient/{first}"}
    found = issue(post_bundle(client, bundle), 422)
    assert "entry 4" in found["diagnostics"]
    assert "not the Bundle's Patient" in found["diagnostics"]
    assert counts(engine) == before


def test_a_reference_names_the_woman_its_own_source_sent(
    client: TestClient, engine: Engine
) -> None:
    """Two sources both send a Patient/p1 without identifiers: two women. A Bundle without a
    Patient that refers to Patient/p1 adds to its own source's woman; from a source that never
    sent a p1 it names no one."""
    mine = import_ok(client, fb.v01_bundle())
    _, other_token = make_user(client, Role.CLINICIAN, teams=(TEAM,))
    theirs = imported(
        client.post(
            "/fhir", content=orjson.dumps(fb.v01_bundle()), headers=HEADERS | bearer(other_token)
        )
    )
    assert theirs != mine
    lonely = fb.bundle(fb.cervical_length(12, "2026-02-20", rid="cl-9"), with_patient=False)
    added = post_bundle(client, lonely)
    assert added.status_code == 200, added.text
    assert f"Patient/{mine}:" in str(added.json()["entry"][0]["response"]["outcome"])
    before = counts(engine)
    _, stranger = make_user(client, Role.CLINICIAN, teams=(TEAM,))
    refused = client.post("/fhir", content=orjson.dumps(lonely), headers=HEADERS | bearer(stranger))
    assert "names no Patient" in issue(refused, 422)["diagnostics"]
    assert counts(engine) == before


def test_a_bundle_of_no_one_is_refused(client: TestClient, engine: Engine) -> None:
    before = counts(engine)
    empty = {"resourceType": "Bundle", "type": "collection", "entry": []}
    assert "no Patient" in issue(post_bundle(client, empty), 422)["diagnostics"]
    assert counts(engine) == before
