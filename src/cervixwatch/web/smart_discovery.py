"""SMART App Launch discovery (issue 14, part 2): `/.well-known/smart-configuration` at the
FHIR base (`/fhir/...`, where a SMART client looks after reading `iss`) and at the root, and
the `oauth-uris` of `CapabilityStatement.rest.security`.

It claims what the authorization server (`app.smart_server`, `web.smart_routes`) does, and
no more: standalone launch of public apps with PKCE S256 and a patient picker; SMART Backend
Services with `private_key_jwt`; SMART v2 (and v1) clinical scopes in `patient/`, `user/`
and `system/` context. Not offered, so not listed: EHR launch (CervixWatch is not an EHR),
OpenID Connect ID tokens (`openid fhirUser`), refresh tokens (`offline_access`), client
secrets, dynamic registration (apps are registered by the operator: `cervixwatch smart`).

As the SMART specification requires, any origin may read the document (CORS `*`): it holds
no one's data and no secret.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from cervixwatch.app.cds_auth import ALGORITHMS
from cervixwatch.web.access import PUBLIC, allow

router = APIRouter(tags=["SMART"])

AUTHORIZE_PATH: Final = "/oauth/authorize"
TOKEN_PATH: Final = "/oauth/token"
OAUTH_URIS: Final = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"

#: SMART App Launch 2.x capabilities this server has.
CAPABILITIES: Final = (
    "launch-standalone",
    "client-public",
    "client-confidential-asymmetric",
    "context-standalone-patient",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
)
#: The scopes an app may be registered for (each resource type, or `*`).
SCOPES_SUPPORTED: Final = (
    "launch/patient",
    "patient/*.rs",
    "patient/*.cruds",
    "user/*.rs",
    "user/*.cruds",
    "system/*.rs",
    "system/*.cruds",
)


def smart_base(request: Request) -> str:
    """This server's address as apps reach it (`settings.smart_base_url`, else the URL the
    request came to): the FHIR base is this and /fhir, the token endpoint this and
    /oauth/token (a backend client's JWT `aud`)."""
    configured = request.app.state.settings.smart_base_url
    return str(configured or request.base_url).rstrip("/")


def smart_configuration(base: str) -> dict[str, Any]:
    return {
        "authorization_endpoint": base + AUTHORIZE_PATH,
        "token_endpoint": base + TOKEN_PATH,
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
        "scopes_supported": list(SCOPES_SUPPORTED),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": list(CAPABILITIES),
    }


def rest_security(base: str) -> dict[str, Any]:
    """`CapabilityStatement.rest.security`'s SMART part (SMART App Launch, "Conformance"):
    the service code and the authorize and token endpoints."""
    return {
        "extension": [
            {
                "url": OAUTH_URIS,
                "extension": [
                    {"url": "authorize", "valueUri": base + AUTHORIZE_PATH},
                    {"url": "token", "valueUri": base + TOKEN_PATH},
                ],
            }
        ],
        "service": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "SMART-on-FHIR",
                    }
                ],
                "text": "OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)",
            }
        ],
    }


def _document(request: Request) -> JSONResponse:
    return JSONResponse(
        smart_configuration(smart_base(request)),
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"},
    )


@router.get("/.well-known/smart-configuration", summary="SMART configuration")
@allow(PUBLIC)
def smart_configuration_document(request: Request) -> JSONResponse:
    return _document(request)


@router.get("/fhir/.well-known/smart-configuration", summary="SMART configuration (FHIR base)")
@allow(PUBLIC)
def fhir_smart_configuration(request: Request) -> JSONResponse:
    return _document(request)
