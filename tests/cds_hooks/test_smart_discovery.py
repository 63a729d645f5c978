"""SMART discovery as a server claims what the authorization server does and nothing more
(issue 14, part 2): endpoints, PKCE S256 only (never `plain`), the two grant types, no EHR
launch, no OpenID Connect, no refresh tokens; readable from any origin. The flows themselves
are in tests/web/test_smart_server.py."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_the_smart_configuration_lists_what_works_and_nothing_else(cds: TestClient) -> None:
    for path in ("/fhir/.well-known/smart-configuration", "/.well-known/smart-configuration"):
        answer = cds.get(path, headers={"Origin": "https://any-app.example.com"})
        assert answer.status_code == 200, path
        assert answer.headers["access-control-allow-origin"] == "*"
        document = answer.json()
        assert sorted(document["grant_types_supported"]) == [
            "authorization_code",
            "client_credentials",
        ]
        assert document["code_challenge_methods_supported"] == ["S256"]
        assert document["authorization_endpoint"] == "http://testserver/oauth/authorize"
        assert document["token_endpoint"] == "http://testserver/oauth/token"
        capabilities = set(document["capabilities"])
        assert {"launch-standalone", "client-public", "client-confidential-asymmetric"} <= (
            capabilities
        )
        assert not capabilities & {"launch-ehr", "sso-openid-connect", "permission-offline"}
        assert "openid" not in document["scopes_supported"]
        assert "client_secret_basic" not in document["token_endpoint_auth_methods_supported"]


def test_the_capability_statement_says_how_to_authenticate(cds: TestClient) -> None:
    rest = cds.get("/fhir/metadata").json()["rest"][0]
    security = rest["security"]
    assert security["cors"] is False  # no app-wide CORS origins in the test settings
    assert "bearer token" in security["description"]
    [service] = security["service"]
    assert service["coding"][0]["code"] == "SMART-on-FHIR"
