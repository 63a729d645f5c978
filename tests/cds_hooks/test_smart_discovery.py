"""SMART discovery as a server claims only what works: no authorization server is built yet,
so the configuration lists no grant types, endpoints, scopes or PKCE methods, and the
CapabilityStatement's security says how a client does authenticate."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_the_smart_configuration_lists_nothing_that_does_not_work(cds: TestClient) -> None:
    for path in ("/fhir/.well-known/smart-configuration", "/.well-known/smart-configuration"):
        answer = cds.get(path, headers={"Origin": "https://any-app.example.com"})
        assert answer.status_code == 200, path
        assert answer.headers["access-control-allow-origin"] == "*"
        document = answer.json()
        assert document["grant_types_supported"] == []
        assert document["code_challenge_methods_supported"] == []
        assert "plain" not in document["code_challenge_methods_supported"]
        assert "authorization_endpoint" not in document
        assert "token_endpoint" not in document


def test_the_capability_statement_says_how_to_authenticate(cds: TestClient) -> None:
    rest = cds.get("/fhir/metadata").json()["rest"][0]
    security = rest["security"]
    assert security["cors"] is False  # no app-wide CORS origins in the test settings
    assert "bearer token" in security["description"]
    assert "service" not in security  # not SMART-on-FHIR: no authorization server yet
