"""Search as generic clients use it (issue 11, part 5): every search parameter the
CapabilityStatement declares, on every type, works, and one it does not declare is refused
(or, with `Prefer: handling=lenient`, ignored and said so); `_sort`, `_summary=count`,
`_elements`, `_include`, `_revinclude`, POST `_search`, GET and POST `$everything`; no empty
`entry`. Every answer is checked with the FHIR R4B models and the R4 JSON schema, and fhirpy,
over real HTTP, searches with each parameter, includes, follows `next` links and asks
`$everything`."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class
from fhirpy import SyncFHIRClient
from sqlalchemy import Engine, select

from cervixwatch.app import accounts
from cervixwatch.clinical.records import (
    Complication,
    ComplicationRecord,
    DeclinableCode,
    DeclinedDecision,
    FetalFibronectin,
    MaternalCondition,
    Medication,
    MedicationOrder,
    ReviewOutcome,
    Symptom,
    SymptomReport,
    SymptomReview,
)
from cervixwatch.cohort import generate_cohort
from cervixwatch.cohort.load import load_cohort
from cervixwatch.cohort.model import CohortPatient
from cervixwatch.knowledge import bundled_profiles
from cervixwatch.knowledge import codes as c
from cervixwatch.store.database import session_factory
from cervixwatch.store.models import PatientRow, Role
from cervixwatch.web.fhir.routes import MANDATORY_ELEMENTS
from tests.r4_schema import assert_r4
from tests.store.tables import delete_everything
from tests.web import live_server
from tests.web.accounts import TEAM, under_team
from tests.web.conftest import TODAY
from tests.web.fhir_client import FHIR_JSON, resources, shared_app

WOMEN = 150
#: Types whose searches are served to a clinician here (AuditEvent is an auditor's).
SKIPPED = {"AuditEvent"}


@pytest.fixture(scope="module")
def registry(engine: Engine) -> Iterator[TestClient]:
    """An app on a database of 150 demo women, all under the care of the client's team."""
    delete_everything(engine)
    with shared_app(engine) as client:
        sessions = client.app.state.sessions  # type: ignore[attr-defined]
        cohort = generate_cohort(WOMEN, seed=3, reference=TODAY)
        load_cohort(
            sessions, [_every_kind(w) for w in cohort[:3]] + cohort[3:], TODAY, bundled_profiles()
        )

        with sessions() as session:
            for patient_id in session.scalars(select(PatientRow.id)):
                under_team(client, patient_id)
        yield client
    delete_everything(engine)


def _every_kind(woman: CohortPatient) -> CohortPatient:
    """A woman with a record of each kind the demo cohort makes rarely (fetal fibronectin,
    conditions, orders, declined offers, a reviewed report), so that every type has something
    to search."""
    day = TODAY - dt.timedelta(days=20)
    records = replace(
        woman.records,
        maternal_conditions=frozenset({MaternalCondition.CERVICAL_INSUFFICIENCY}),
        fibronectin=(FetalFibronectin(day, ng_per_ml=12.0), FetalFibronectin(day, positive=False)),
        complications=(
            ComplicationRecord(Complication.VAGINAL_BLEEDING, day, day + dt.timedelta(days=2)),
            ComplicationRecord(Complication.PLACENTA_PRAEVIA, day),
        ),
        medications=(
            MedicationOrder(Medication.VAGINAL_PROGESTERONE, day, stopped_on=day + dt.timedelta(5)),
            MedicationOrder(Medication.VAGINAL_PROGESTERONE, day + dt.timedelta(days=6)),
        ),
        declined=(
            DeclinedDecision(DeclinableCode.VAGINAL_PROGESTERONE, day),
            DeclinedDecision(DeclinableCode.HISTORY_INDICATED_CERCLAGE, day),
        ),
        symptom_reports=(
            SymptomReport(
                day,
                present=frozenset({Symptom.CRAMPING}),
                absent=frozenset(),
                reviews=(SymptomReview(day, ReviewOutcome.ADVISED_BY_PHONE),),
            ),
        ),
    )
    return replace(woman, records=records)


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """`resource`, checked against its FHIR R4B model and the official R4 JSON schema."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return assert_r4(resource)


def bundle_of(
    client: TestClient, path: str, params: Any = None, *, check: bool = True, **kw: Any
) -> dict[str, Any]:
    """A search's Bundle, validated (unless `check` is False: the schema takes seconds on a
    Bundle of hundreds of resources, and the pages of the same searches are validated)."""
    response = client.get(f"/fhir/{path}", params=params, **kw)
    assert response.status_code == 200, (path, params, response.text)
    assert response.headers["content-type"].startswith(FHIR_JSON)
    bundle: dict[str, Any] = response.json()
    if check:
        valid(bundle)
    assert bundle["type"] == "searchset"
    assert bundle.get("entry") != []
    return bundle


def matches(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", ()) if e["search"]["mode"] == "match"]


def _first(client: TestClient, kind: str) -> dict[str, Any] | None:
    found = matches(bundle_of(client, kind, {"_count": "1"}))
    return found[0] if found else None


_DATES = {
    "date": ("effectiveDateTime", "performedDateTime"),
    "onset-date": ("onsetDateTime",),
    "authoredon": ("authoredOn",),
    "effective": ("effectiveDateTime",),
    "authored": ("authored",),
    "birthdate": ("birthDate",),
}


def _value(
    name: str, kind: str, param: dict[str, Any], sample: dict[str, Any], declared: dict[str, Any]
) -> str:
    """A value of parameter `name` that `sample` (a resource of `kind`) matches."""
    if name == "_id":
        return str(sample["id"])
    if name in ("patient", "subject"):
        ref = sample.get("subject") or sample.get("for") or {"reference": f"Patient/{sample['id']}"}
        return str(ref["reference"])
    if name == "code":
        concept = sample.get("code") or sample["medicationCodeableConcept"]
        coding = concept["coding"][0]
        return f"{coding['system']}|{coding['code']}"
    if name == "status":
        return str(sample["status"])
    if name == "clinical-status":
        return str(sample["clinicalStatus"]["coding"][0]["code"])
    if name == "category":
        return str(sample["category"][0]["coding"][0]["code"])
    if name == "_lastUpdated":
        return "ge" + str(sample["meta"]["lastUpdated"])
    if name == "questionnaire":
        return str(sample["questionnaire"])
    if name == "url":
        return str(sample["url"])
    if name == "identifier":
        identifier = sample["identifier"][0]
        return f"{identifier['system']}|{identifier['value']}"
    if name in ("family", "given"):
        human = sample["name"][0]
        return str(human["family"] if name == "family" else human["given"][0])[:3]
    if param["type"] == "date" and name in _DATES:
        for field in _DATES.get(name, ()):
            if len(sample.get(field, "")) >= 10:
                return "eq" + str(sample[field])[:10]
        return "ge1900-01-01"
    if name == "_sort":
        return "_id"
    if name == "_count":
        return "1"
    if name == "_offset":
        return "0"
    if name == "_summary":
        return "count"
    if name == "_elements":
        return "id,subject"
    if name == "_include":
        return str(declared["searchInclude"][0])
    if name == "_revinclude":
        return str(declared["searchRevInclude"][0])
    raise AssertionError(f"{kind}: no sample value for declared parameter {name}")


_EVERY: dict[tuple[int, str], list[dict[str, Any]]] = {}


def _sample(client: TestClient, kind: str, name: str) -> dict[str, Any] | None:
    """A resource of `kind` that has what `name` searches (a day, for a date)."""
    key = (id(client), kind)
    if key not in _EVERY:
        _EVERY[key] = matches(bundle_of(client, kind, {"_count": "200"}, check=False))
    for resource in _EVERY[key]:
        if name in _DATES and (
            not any(len(resource.get(f, "")) >= 10 for f in _DATES[name])
            # dated by a partial date, which is not searched by date (docs/fhir-api.md)
            or resource["id"].startswith(("prior-", "excision-"))
        ):
            continue
        if name == "code" and not (
            resource.get("code") or resource.get("medicationCodeableConcept")
        ):
            continue
        if name == "category" and not resource.get("category"):
            continue
        return resource
    return None


def test_every_declared_search_parameter_works(registry: TestClient) -> None:
    statement = valid(registry.get("/fhir/metadata").json())
    declared_types = statement["rest"][0]["resource"]
    exercised = 0
    for declared in declared_types:
        kind = declared["type"]
        if kind in SKIPPED:
            continue
        for param in declared.get("searchParam", ()):  # Group: only exported, not searched
            name = param["name"]
            sample = _sample(registry, kind, name)
            if sample is None:
                pytest.fail(f"the demo cohort holds no {kind} to search by {name}")
            value = _value(name, kind, param, sample, declared)
            params = {name: value}
            if name in ("_sort", "_offset", "_elements"):
                params["_count"] = "5"
            elif name not in ("_id", "_count", "_summary"):
                # ANDed with the sample's id: the parameter must match the sample.
                params["_id"] = sample["id"]
            bundle = bundle_of(registry, kind, params)
            found = matches(bundle)
            exercised += 1
            if name == "_summary":
                assert "entry" not in bundle
                assert bundle["total"] > 0
            elif name == "_count":
                assert len(found) == 1
            elif name in ("_sort", "_offset"):
                assert found
            elif name == "_elements":
                assert found
                kept = {"resourceType", "id", "meta", "subject", *MANDATORY_ELEMENTS.get(kind, ())}
                assert all(set(r) <= kept for r in found)
                assert all(r["meta"]["tag"][-1]["code"] == "SUBSETTED" for r in found)
            elif name in ("_include", "_revinclude"):
                assert [r["id"] for r in found] == [sample["id"]]
                included = [e for e in bundle["entry"] if e["search"]["mode"] == "include"]
                assert included, (kind, name, value)
            else:
                assert [r["id"] for r in found] == [sample["id"]], (kind, name, value)
                assert bundle["total"] == 1
    assert exercised > 60


@pytest.mark.parametrize(
    "kind", ["Patient", "Observation", "Condition", "Procedure", "Task", "GuidanceResponse"]
)
def test_what_is_not_declared_is_refused_or_ignored_when_lenient(
    registry: TestClient, kind: str
) -> None:
    statement = registry.get("/fhir/metadata").json()
    declared = next(r for r in statement["rest"][0]["resource"] if r["type"] == kind)
    names = {p["name"] for p in declared["searchParam"]}
    for name, value in (("_content", "x"), ("performer", "x"), ("_text", "x")):
        assert name not in names
        strict = registry.get(f"/fhir/{kind}", params={name: value})
        assert strict.status_code == 400, (kind, name)
        assert strict.json()["issue"][0]["code"] == "not-supported"
        also = registry.get(
            f"/fhir/{kind}", params={name: value}, headers={"Prefer": "handling=strict"}
        )
        assert also.status_code == 400
        lenient = bundle_of(
            registry, kind, {name: value, "_count": "2"}, headers={"Prefer": "handling=lenient"}
        )
        outcomes = [e for e in lenient["entry"] if e["search"]["mode"] == "outcome"]
        assert len(outcomes) == 1
        assert name in outcomes[0]["resource"]["issue"][0]["diagnostics"]
        assert outcomes[0]["resource"]["issue"][0]["severity"] == "warning"


def test_sort_by_date_and_id(registry: TestClient) -> None:
    def days(sort: str) -> list[str]:
        found = matches(
            bundle_of(
                registry,
                "Observation",
                {"code": "http://loinc.org|11961-0", "_sort": sort, "_count": "500"},
                check=False,
            )
        )
        return [r["effectiveDateTime"] for r in found]

    ascending = days("date")
    assert ascending == sorted(ascending)
    assert len(ascending) > 5
    assert days("-date") == sorted(ascending, reverse=True)
    ids = [
        r["id"]
        for r in matches(bundle_of(registry, "Observation", {"_sort": "_id", "_count": "50"}))
    ]
    assert ids == sorted(ids)
    refused = registry.get("/fhir/Observation", params={"_sort": "value-quantity"})
    assert refused.status_code == 400
    # A type's date parameter is its own name (Condition: onset-date), not `date`.
    assert registry.get("/fhir/Condition", params={"_sort": "date"}).status_code == 400
    assert registry.get("/fhir/Condition", params={"_sort": "-onset-date"}).status_code == 200


def test_date_prefixes_and_precision(registry: TestClient) -> None:
    every = matches(
        bundle_of(
            registry,
            "Observation",
            {"code": "http://loinc.org|11961-0", "_count": "500"},
            check=False,
        )
    )
    days = sorted(dt.date.fromisoformat(r["effectiveDateTime"]) for r in every)
    middle = days[len(days) // 2]

    def count(value: str) -> int:
        bundle = bundle_of(
            registry,
            "Observation",
            {"code": "http://loinc.org|11961-0", "date": value, "_summary": "count"},
        )
        return int(bundle["total"])

    assert count(f"eq{middle}") == count(str(middle)) == days.count(middle)
    assert count(f"lt{middle}") + count(f"ge{middle}") == len(days)
    assert count(f"gt{middle}") + count(f"le{middle}") == len(days)
    assert count(f"ne{middle}") == len(days) - days.count(middle)
    assert count(f"sa{middle}") == count(f"gt{middle}")
    assert count(f"eb{middle}") == count(f"lt{middle}")
    month = f"{middle:%Y-%m}"
    assert count(month) == sum(1 for d in days if f"{d:%Y-%m}" == month)
    assert count(f"{middle:%Y}") == sum(1 for d in days if d.year == middle.year)
    assert count(f"ge{middle}T10:00:00Z") == count(f"ge{middle}")
    for bad in ("2026-13", "xx2026", "ap2026-01-01", "2026-02-30"):
        assert registry.get("/fhir/Observation", params={"date": bad}).status_code == 400


def test_category_finds_exactly_the_observations_written_with_it(registry: TestClient) -> None:
    system = "http://terminology.hl7.org/CodeSystem/observation-category"
    codes = {
        "imaging": [c.CERVICAL_LENGTH],
        "exam": [c.DILATION, c.EFFACEMENT, c.MEMBRANES_EXPOSED],
        "laboratory": [c.FFN_QUANTITATIVE, c.FFN_QUALITATIVE],
    }

    def total(params: dict[str, str]) -> int:
        return int(bundle_of(registry, "Observation", {**params, "_summary": "count"})["total"])

    for category, kinds in codes.items():
        by_code = total({"code": ",".join(f"{system_}|{code}" for system_, code in kinds)})
        assert total({"category": category}) == by_code, category
        assert total({"category": f"{system}|{category}"}) == by_code
        found = matches(bundle_of(registry, "Observation", {"category": category, "_count": "50"}))
        assert found, category
        for resource in found:
            assert resource["category"][0]["coding"][0] == {"system": system, "code": category}
    assert total({"category": "vital-signs"}) == 0
    assert total({"category": f"http://example.org|{'imaging'}"}) == 0


def test_post_search_answers_as_get(registry: TestClient) -> None:
    query = {"code": "http://loinc.org|11961-0", "_count": "3", "_sort": "-date"}
    got = bundle_of(registry, "Observation", query)
    posted = registry.post(
        "/fhir/Observation/_search",
        data=query,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert posted.status_code == 200, posted.text
    answer = valid(posted.json())
    assert matches(answer) == matches(got)
    assert answer["total"] == got["total"]
    following = next(link["url"] for link in answer["link"] if link["relation"] == "next")
    assert "_offset=3" in following
    assert "code=" in following
    assert (
        registry.post(
            "/fhir/Observation/_search", content=b"{}", headers={"Content-Type": "application/json"}
        ).status_code
        == 415
    )
    assert registry.post("/fhir/Observation/_search", data={"nonsense": "1"}).status_code == 400
    assert registry.get("/fhir/Observation/_search").status_code in (404, 405)


def test_everything_by_get_and_post(registry: TestClient) -> None:
    patient = _first(registry, "Patient")
    assert patient is not None
    path = f"/fhir/Patient/{patient['id']}/$everything"
    got = registry.get(path)
    assert got.status_code == 200
    posted = registry.post(path, headers={"Content-Type": FHIR_JSON})
    assert posted.status_code == 200, posted.text
    assert resources(valid(posted.json())) == resources(valid(got.json()))
    only = registry.post(
        path,
        json={
            "resourceType": "Parameters",
            "parameter": [{"name": "_type", "valueString": "Observation"}],
        },
        headers={"Content-Type": FHIR_JSON},
    )
    assert only.status_code == 200, only.text
    assert {r["resourceType"] for r in resources(only.json())} == {"Observation"}
    assert (
        registry.post(path, content=b"[1]", headers={"Content-Type": FHIR_JSON}).status_code == 400
    )


def test_includes(registry: TestClient) -> None:
    bundle = bundle_of(registry, "Observation", {"_include": "Observation:patient", "_count": "5"})
    women = {r["subject"]["reference"] for r in matches(bundle)}
    included = [e for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert {f"Patient/{e['resource']['id']}" for e in included} == women
    assert (
        registry.get("/fhir/Observation", params={"_include": "Observation:performer"}).status_code
        == 400
    )
    bundle = bundle_of(registry, "Patient", {"_revinclude": "Observation:patient", "_count": "2"})
    women = {f"Patient/{r['id']}" for r in matches(bundle)}
    included = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert included
    assert {r["subject"]["reference"] for r in included} <= women
    assert {r["resourceType"] for r in included} == {"Observation"}


def test_no_match_has_no_entry(registry: TestClient) -> None:
    for kind, params in (
        ("Observation", {"code": "http://loinc.org|0000-0"}),
        ("Patient", {"family": "Nobody-at-all"}),
        ("Condition", {"onset-date": "lt1901"}),
    ):
        bundle = bundle_of(registry, kind, params)
        assert bundle["total"] == 0
        assert "entry" not in bundle


@pytest.fixture(scope="module")
def fhir(registry: TestClient, engine: Engine) -> Iterator[SyncFHIRClient]:
    """fhirpy's client of the app served on a free port, acting for a clinician of `TEAM`."""
    sessions = session_factory(engine)
    username = f"fhirpy-search-{time.monotonic_ns()}"
    accounts.add_user(sessions, username, Role.CLINICIAN, password=None, teams=(TEAM,))
    token = accounts.issue_token(sessions, username, "fhirpy", days=1).secret
    with live_server.served(engine) as base:
        yield SyncFHIRClient(f"{base}/fhir", authorization=f"Bearer {token}")


def _total(search: Any) -> int:
    """The total of a search, asked with `_summary=count` (fhirpy's `count()` adds its own
    `_totalMethod`, a parameter this server does not take)."""
    return int(search.search(_summary="count").fetch_raw()["total"])


def test_fhirpy_searches_with_each_parameter(fhir: SyncFHIRClient) -> None:
    lengths = fhir.resources("Observation").search(code="http://loinc.org|11961-0")
    every = lengths.limit(500).fetch()
    assert every
    first = every[0]
    day = first["effectiveDateTime"]
    patient = first["subject"]["reference"]
    assert first["id"] in [r["id"] for r in lengths.search(date=f"eq{day}").fetch_all()]
    assert first["id"] in [r["id"] for r in lengths.search(date__ge=day, date__le=day).fetch_all()]
    hers = fhir.resources("Observation").search(patient=patient, status="final").fetch_all()
    assert {r["subject"]["reference"] for r in hers} == {patient}
    by_date = lengths.sort("-date").limit(10).fetch()
    assert [r["effectiveDateTime"] for r in by_date] == sorted(
        (r["effectiveDateTime"] for r in by_date), reverse=True
    )
    assert _total(lengths) == len(lengths.fetch_all())
    stopped = fhir.resources("MedicationRequest").search(status="active,stopped").fetch_all()
    assert {r["status"] for r in stopped} <= {"active", "stopped"}
    resolved = fhir.resources("Condition").search(**{"clinical-status": "active"}).fetch_all()
    assert all(r["clinicalStatus"]["coding"][0]["code"] == "active" for r in resolved)
    elements = fhir.resources("Observation").elements("status").limit(3).fetch()
    assert elements
    assert all("valueQuantity" not in r and "code" in r for r in elements)


def test_fhirpy_includes_and_follows_next_links(fhir: SyncFHIRClient) -> None:
    pages = fhir.resources("Observation").search(code="http://loinc.org|11961-0").limit(7)
    every = pages.fetch_all()  # follows the `next` links, 7 at a time
    assert len(every) == _total(pages) > 7
    assert len({r["id"] for r in every}) == len(every)
    raw = fhir.resources("Observation").include("Observation", "patient").limit(4).fetch_raw()
    modes = [e["search"]["mode"] for e in raw["entry"]]
    assert modes.count("match") == 4
    assert "include" in modes
    patients = fhir.resources("Patient").revinclude("Observation", "patient").limit(1).fetch_raw()
    kinds = {e["resource"]["resourceType"] for e in patients["entry"]}
    assert kinds == {"Patient", "Observation"}


def test_fhirpy_everything(fhir: SyncFHIRClient) -> None:
    patient = fhir.resources("Patient").limit(1).fetch()[0]
    got = fhir.execute(f"Patient/{patient['id']}/$everything", method="get")
    posted = fhir.execute(
        f"Patient/{patient['id']}/$everything", method="post", data={"resourceType": "Parameters"}
    )
    assert got["type"] == posted["type"] == "searchset"
    assert [e["fullUrl"] for e in got["entry"]] == [e["fullUrl"] for e in posted["entry"]]
    valid(got)
