"""Issue 12 (low findings): a deeply nested JSON body at the anonymous sign-in and `"days":
1e400` at token minting answered 500. Now each is a clean refusal that names the problem, and
nothing is written."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.web.fhir_client import counts, emptied, shared_app

DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[TestClient]:
    with shared_app(engine) as client:
        yield client


@pytest.fixture
def client(shared: TestClient, engine: Engine) -> Iterator[TestClient]:
    with emptied(engine, shared) as client:
        yield client


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/auth/sign-in", "application/json"),
        ("/api/patients", "application/json"),
        ("/fhir", "application/fhir+json"),
        ("/fhir/Observation", "application/fhir+json"),
    ],
)
def test_deeply_nested_json_is_refused_as_unreadable(
    client: TestClient, engine: Engine, path: str, content_type: str
) -> None:
    before = counts(engine)
    headers = {"Content-Type": content_type}
    if path == "/auth/sign-in":
        headers["Authorization"] = ""  # anonymous, as the attacker was
    answer = client.post(path, content=DEEP, headers=headers)
    assert answer.status_code == 400, answer.text
    assert counts(engine) == before


def test_an_infinite_number_is_a_422_naming_the_field(client: TestClient) -> None:
    answer = client.post(
        "/api/tokens",
        content=b'{"name": "x", "days": 1e400}',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["body", "days"]
    assert problem["input"] == "Infinity"
