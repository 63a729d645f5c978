"""Fuzzed readers (issue 12, part 8): Hypothesis over valid and broken FHIR. Bundles written
from generated records are broken one element at a time (a value of another JSON type, a
missing element, a string of junk, an entry dropped or sent twice, a reference to nobody) and
sent as they are: the command line's reader refuses only with an `IntakeError` naming where,
and the FHIR facade answers only 200 or a clean 4xx OperationOutcome, never a 500, and a refused
Bundle leaves every table as it was (one transaction per import)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.interop.fhir_write import bundle_from_records
from cervixwatch.interop.intake import IntakeError
from tests.store.tables import delete_everything
from tests.strategies import pregnancy_records
from tests.web.fhir_client import HEADERS, counts, shared_app

#: A day after every generated record: the import refuses findings dated after today.
TODAY = dt.date(2027, 1, 1)

#: What a value may be replaced by: each JSON type, and strings a reader may trip on.
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            "",
            " ",
            "0000-00-00",
            "2026-02-30",
            "9999-12-31",
            "0001-01-01",
            "2026-13",
            "Patient/",
            "urn:uuid:",
            "../../etc",
            "Observation?code=x",
            "\u200bH-1",
            "1e400",
        ]
    ),
    st.text(max_size=12),
    st.just([]),
    st.just({}),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(node: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into a JSON value (dict keys and list indexes)."""
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*at, index))


def _set(document: Any, path: tuple[Any, ...], value: Any, *, remove: bool = False) -> Any:
    if not path:
        return value
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    if remove:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return document


@st.composite
def broken_bundles(draw: st.DrawFn) -> bytes:
    """A Bundle of generated records, then broken (or not) a few times over."""
    woman = draw(st.integers(0, 10**9))
    # Each Bundle a woman of her own (her id and hospital number), so that most are new
    # women to store and the answers are not all "another woman's id" (409).
    records = replace(draw(pregnancy_records()).records, patient_id=f"fz-{woman}")
    bundle = bundle_from_records(records)
    bundle["type"] = draw(st.sampled_from(["collection", "transaction", "batch"]))
    if bundle["type"] != "collection":
        for entry in bundle["entry"]:
            entry["request"] = {"method": "POST", "url": entry["resource"]["resourceType"]}
    bundle["entry"][0]["resource"]["identifier"] = [
        {"system": "urn:oid:1.2.826.0.1.1", "value": f"FUZZ-{woman}"}
    ]
    for _ in range(draw(st.integers(0, 3))):
        paths = [p for p in _paths(bundle) if p]
        path = draw(st.sampled_from(paths))
        how = draw(st.sampled_from(["replace", "remove", "duplicate-entry"]))
        if how == "replace":
            bundle = _set(bundle, path, draw(JUNK))
        elif how == "remove" and not isinstance(path[-1], int):
            bundle = _set(bundle, path, None, remove=True)
        elif how == "duplicate-entry" and isinstance(bundle.get("entry"), list) and bundle["entry"]:
            bundle["entry"].append(copy.deepcopy(draw(st.sampled_from(bundle["entry"]))))
    # The standard library's writer: it writes integers beyond 64 bits, which a reader must
    # refuse cleanly too.
    return json.dumps(bundle).encode()


FUZZ_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ_SETTINGS
@given(broken_bundles())
def test_the_reader_refuses_only_with_an_intake_error(raw: bytes) -> None:
    try:
        read_bundle(raw, TODAY)
    except IntakeError as error:
        refusal = str(error)  # names where, for the command line's one line
        assert refusal


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    delete_everything(engine)
    try:
        with shared_app(engine) as client:
            yield client
    finally:
        delete_everything(engine)


@FUZZ_SETTINGS
@given(raw=broken_bundles())
def test_the_facade_answers_cleanly_and_writes_all_or_nothing(
    client: TestClient, engine: Engine, raw: bytes
) -> None:
    before = counts(engine)
    answer = client.post("/fhir", content=raw, headers=HEADERS)
    assert answer.status_code in (200, 400, 403, 404, 405, 409, 412, 422), answer.text
    body = answer.json()
    if answer.status_code != 200:
        assert body["resourceType"] == "OperationOutcome"
        assert body["issue"][0]["diagnostics"]
        assert counts(engine) == before
    elif body["type"] == "batch-response":
        assert all(e["response"]["status"][:3].isdigit() for e in body["entry"])
