"""Control characters refused at the edge (issue 12, F7): on PostgreSQL a NUL in a path, a
search value or an import answered 500. Every request here reaches the real app on SQLite and
on PostgreSQL; each answer is a 400 naming where the character was, and nothing is stored."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cervixwatch.web.control_characters import control_character_in, nul_in_body
from tests import fhir_builders as fb
from tests.web.fhir_client import HEADERS, counts, issue, post_bundle

JSON = b"application/json"


@pytest.mark.parametrize(
    "url",
    [
        "/fhir/Patient?family=a%00b",
        "/fhir/Observation?patient=p%00",
        "/fhir/Patient/abc%00def",
        "/api/patients?q=a%00",
        "/api/patients?q=tab%09",
        "/api/patients/x%7f",
    ],
)
def test_a_control_character_in_the_path_or_query_answers_400(client: TestClient, url: str) -> None:
    answer = client.get(url, headers={"Accept": "application/fhir+json"})
    assert answer.status_code == 400, answer.text
    if url.startswith("/fhir"):
        assert "control character" in issue(answer, 400)["diagnostics"]
    else:
        assert "control character" in answer.json()["detail"]


def test_a_nul_in_an_imported_name_is_refused_and_nothing_stored(
    client: TestClient, engine: Engine
) -> None:
    resource = fb.patient()
    resource["name"] = [{"family": "Nul\u0000Name", "given": ["Test"]}]
    before = counts(engine)
    answer = post_bundle(client, fb.bundle(resource, fb.edd()))
    assert "the body" in issue(answer, 400)["diagnostics"]
    assert counts(engine) == before


def test_a_nul_in_a_json_api_body_is_refused(client: TestClient, engine: Engine) -> None:
    before = counts(engine)
    answer = client.post("/api/patients", json={"hospital_number": "H-\u0000-1"})
    assert answer.status_code == 400
    assert "NUL" in answer.json()["detail"]
    assert counts(engine) == before


def test_a_nul_in_a_form_is_refused(client: TestClient) -> None:
    answer = client.post(
        "/auth/sign-in",
        content=b"username=a%00b&password=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 400


def test_the_text_backslash_u0000_is_not_a_nul(client: TestClient) -> None:
    # "\\u0000" in JSON is a backslash followed by "u0000": ordinary text, judged by the route.
    body = orjson.dumps({"hospital_number": "H\\u0000"})
    assert b"\\\\u0000" in body
    answer = client.post(
        "/api/patients", content=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code != 400 or "control character" not in answer.text


def test_ordinary_requests_pass(client: TestClient) -> None:
    assert client.get("/fhir/Patient?family=O%27Brien", headers=HEADERS).status_code == 200
    assert client.get("/api/patients?q=a+b").status_code == 200


@pytest.mark.parametrize(
    ("content_type", "body", "refused"),
    [
        (JSON, b'{"a": "x\\u0000"}', True),
        (b"application/fhir+json; charset=utf-8", b'["\\u0000"]', True),
        (JSON, b'{"a": "x\\\\u0000"}', False),  # an escaped backslash, then text
        (JSON, b'{"a": "x\\\\\\u0000"}', True),  # an escaped backslash, then a NUL
        (JSON, b'{"a": "x\x00"}', True),
        (b"application/x-www-form-urlencoded", b"a=%00", True),
        (b"application/x-www-form-urlencoded", b"a=%000", True),
        (JSON, b'{"a": "%00"}', False),  # in JSON, %00 is three characters of text
        (b"application/dicom", b"\x00\x00DICM", False),  # binary bodies pass untouched
        (b"text/plain", b"MSH|\x00", False),
    ],
)
def test_which_bodies_carry_a_nul(content_type: bytes, body: bytes, refused: bool) -> None:
    assert nul_in_body(content_type, body) is refused


def test_the_character_is_named() -> None:
    assert control_character_in(b"ab\x1fc") == "U+001F"
    assert control_character_in(b"\x7f") == "U+007F"
    assert control_character_in("é ✓".encode()) is None
