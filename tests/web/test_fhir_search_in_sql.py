"""Searches filter and page in SQL (issue 12, F1): `Observation?_count=1` across a registry of
300 women exports one woman, not 300; `Patient?_count=50` reads 50 rows; the pages and totals
the SQL gives are those an export of every woman, filtered in Python, would give."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select

import cervixwatch.app.exporting as exporting
from cervixwatch.app.exporting import Criteria, Token, resources_of, search
from cervixwatch.cohort import generate_cohort
from cervixwatch.cohort.load import load_cohort
from cervixwatch.interop.fhir_values import codes_of
from cervixwatch.knowledge import bundled_profiles
from cervixwatch.store.exports import load_exports
from cervixwatch.store.models import PatientRow
from cervixwatch.store.resource_index import DateTest
from tests.store.tables import delete_everything
from tests.web.accounts import under_team
from tests.web.conftest import TODAY
from tests.web.fhir_client import shared_app

WOMEN = 300
RECORD_TYPES = (
    "Observation",
    "Condition",
    "Procedure",
    "MedicationRequest",
    "MedicationStatement",
    "QuestionnaireResponse",
    "Task",
)


@pytest.fixture(scope="module")
def registry(engine: Engine) -> Iterator[TestClient]:
    """An app on a database of 300 demo women (2 of 3 with an active pregnancy), all under
    the care of the client's team."""
    delete_everything(engine)
    with shared_app(engine) as client:
        sessions = client.app.state.sessions  # type: ignore[attr-defined]
        profiles = bundled_profiles()
        cohort = generate_cohort(WOMEN, seed=7, reference=TODAY, active=200)
        load_cohort(sessions, cohort, TODAY, profiles)
        with sessions() as session:
            ids = list(session.scalars(select(PatientRow.id)))
        for patient_id in ids:
            under_team(client, patient_id)
        yield client
    delete_everything(engine)


@contextmanager
def exported_women() -> Iterator[list[str]]:
    """The ids of the women whose records are exported while the block runs."""
    seen: list[str] = []

    def counting(session: Any, patient_ids: Sequence[str], **kwargs: Any) -> Any:
        seen.extend(patient_ids)
        return load_exports(session, patient_ids, **kwargs)

    with patch.object(exporting, "load_exports", counting):
        yield seen


@contextmanager
def statements(client: TestClient) -> Iterator[list[str]]:
    """The SQL statements the app sends while the block runs."""
    engine = client.app.state.sessions.kw["bind"]  # type: ignore[attr-defined]
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_a_page_of_one_exports_one_woman(registry: TestClient, engine: Engine) -> None:
    for resource_type in RECORD_TYPES:
        with exported_women() as women, statements(registry) as sql:
            response = registry.get(f"/fhir/{resource_type}", params={"_count": "1"})
        assert response.status_code == 200, response.text
        bundle = response.json()
        assert len(bundle.get("entry", ())) == min(1, bundle["total"]), resource_type
        assert len(women) <= 1, (resource_type, len(women))
        # A constant number of statements, whatever the registry holds (not one per woman).
        assert 0 < len(sql) < 40, (resource_type, len(sql))
    # The attack of F1: the total says how many there are; only the page's woman is read.
    with exported_women() as women:
        bundle = registry.get("/fhir/Observation", params={"_count": "1"}).json()
    assert bundle["total"] > WOMEN
    assert len(women) == 1


def test_patients_are_paged_in_sql(registry: TestClient, engine: Engine) -> None:
    # Once first, so the count is of the search alone: a token not yet remembered by this
    # worker is looked up (and its use recorded) on its first request, whichever test is first.
    registry.get("/fhir/Patient", params={"_count": "1"})
    with statements(registry) as sql:
        bundle = registry.get("/fhir/Patient", params={"_count": "50"}).json()
    assert bundle["total"] == WOMEN
    assert len(bundle["entry"]) == 50
    patient_reads = [s for s in sql if "FROM patients" in s and "LIMIT" in s.upper()]
    assert patient_reads, sql
    assert len(sql) < 15, sql


def _everyone(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every woman's resources by type, as an export of each makes them."""
    from cervixwatch.store.database import session_factory

    with session_factory(engine)() as session:
        ids = list(session.scalars(select(PatientRow.id).order_by(PatientRow.id)))
        out: dict[str, list[dict[str, Any]]] = {}
        for export in load_exports(session, ids):
            for resource in resources_of(export):
                out.setdefault(resource["resourceType"], []).append(resource)
    return out


_DATE_FIELDS = {
    "Observation": "effectiveDateTime",
    "Condition": "onsetDateTime",
    "Procedure": "performedDateTime",
    "MedicationRequest": "authoredOn",
    "MedicationStatement": "effectiveDateTime",
    "QuestionnaireResponse": "authored",
}


def _day(resource: dict[str, Any]) -> dt.date | None:
    # Previous pregnancies and excisions are dated by partial dates (a year; the month and day
    # when known), which are not searched by date (docs/fhir-api.md).
    if resource["id"].startswith(("prior-", "excision-")):
        return None
    text = resource.get(_DATE_FIELDS.get(resource["resourceType"], ""), "")
    return dt.date.fromisoformat(text) if text else None


def _all(registry: TestClient, resource_type: str, criteria: Criteria) -> list[dict[str, Any]]:
    sessions = registry.app.state.sessions  # type: ignore[attr-defined]
    result = search(sessions, resource_type, criteria, count=10_000)
    assert result.total == len(result.resources)
    return result.resources


def _ids(resources: Sequence[dict[str, Any]]) -> list[str]:
    return sorted(r["id"] for r in resources)


def test_sql_finds_what_an_export_holds(registry: TestClient, engine: Engine) -> None:
    everyone = _everyone(engine)
    for resource_type in RECORD_TYPES:
        expected = everyone.get(resource_type, [])
        found = _all(registry, resource_type, Criteria())
        assert _ids(found) == _ids(expected), resource_type
        # by each code the type's resources carry, with and without its system
        codes = {pair for r in expected for pair in codes_of(r.get("code"))} | {
            pair for r in expected for pair in codes_of(r.get("medicationCodeableConcept"))
        }
        for system, code in sorted(codes):
            for token in (Token(system, code), Token(None, code), Token(system, None)):
                wanted = [
                    r
                    for r in expected
                    if token.matches(
                        codes_of(r.get("code")) | codes_of(r.get("medicationCodeableConcept"))
                    )
                ]
                got = _all(registry, resource_type, Criteria(codes=[[token]]))
                assert _ids(got) == _ids(wanted), (resource_type, token)
        # by status
        for status in {r.get("status") for r in expected} - {None}:
            got = _all(registry, resource_type, Criteria(tokens={"status": [[str(status)]]}))
            assert _ids(got) == _ids([r for r in expected if r.get("status") == status])


@pytest.mark.parametrize("prefix", ["eq", "ne", "lt", "le", "gt", "ge", "sa", "eb"])
def test_dates_with_each_prefix(registry: TestClient, engine: Engine, prefix: str) -> None:
    everyone = _everyone(engine)
    tests: dict[str, Callable[[dt.date, dt.date, dt.date], bool]] = {
        "eq": lambda d, low, high: low <= d <= high,
        "ne": lambda d, low, high: not low <= d <= high,
        "lt": lambda d, low, high: d < low,
        "eb": lambda d, low, high: d < low,
        "le": lambda d, low, high: d <= high,
        "gt": lambda d, low, high: d > high,
        "sa": lambda d, low, high: d > high,
        "ge": lambda d, low, high: d >= low,
    }
    for resource_type, expected in everyone.items():
        if resource_type not in _DATE_FIELDS:
            continue
        days = sorted({d for r in expected if (d := _day(r)) is not None})
        if not days:
            continue
        middle = days[len(days) // 2]
        for low, high in ((middle, middle), (middle.replace(day=1), middle.replace(day=28))):
            got = _all(registry, resource_type, Criteria(dates=[DateTest(prefix, low, high)]))
            wanted = [
                r for r in expected if (d := _day(r)) is not None and tests[prefix](d, low, high)
            ]
            assert _ids(got) == _ids(wanted), (resource_type, prefix, low, high)
