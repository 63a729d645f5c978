"""SMART App Launch discovery as a server (issue 14, part 2, first step):
`/.well-known/smart-configuration` at the FHIR base (`/fhir/...`, where a SMART client looks
after reading `iss`) and at the root.

It claims only what works. CervixWatch does not yet run an OAuth 2.0 authorization server: no
authorization-code flow with PKCE, no backend services (client credentials with
private_key_jwt), no SMART scopes. So the document lists no endpoints, grant types, scopes,
capabilities or PKCE methods, and a SMART client learns at once that it cannot launch here,
instead of being sent to endpoints that do not exist. Access to the FHIR API is by
CervixWatch's own bearer tokens (`CapabilityStatement.rest.security` says so). When the
authorization server is built, its endpoints and what it supports are added here, and only
then.

As the SMART specification requires, any origin may read the document (CORS `*`): it holds
no one's data and no secret.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from cervixwatch.web.access import PUBLIC, allow

router = APIRouter(tags=["SMART"])

#: What the authorization server supports: nothing yet (see the module's docstring).
SMART_CONFIGURATION: Final[dict[str, Any]] = {
    "capabilities": [],
    "grant_types_supported": [],
    "scopes_supported": [],
    "response_types_supported": [],
    "code_challenge_methods_supported": [],
    "token_endpoint_auth_methods_supported": [],
}


def _document() -> JSONResponse:
    return JSONResponse(
        dict(SMART_CONFIGURATION),
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"},
    )


@router.get("/.well-known/smart-configuration", summary="SMART configuration")
@allow(PUBLIC)
def smart_configuration() -> JSONResponse:
    return _document()


@router.get("/fhir/.well-known/smart-configuration", summary="SMART configuration (FHIR base)")
@allow(PUBLIC)
def fhir_smart_configuration() -> JSONResponse:
    return _document()
