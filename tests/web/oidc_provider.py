"""A real, minimal OpenID Connect provider for the single sign-on tests, served over HTTP on
127.0.0.1 (Authlib's client fetches the metadata, the keys and the token with httpx2, so it
must be a real server, not an in-process fake).

It speaks the authorization code flow and nothing else, strictly enough to catch a client
that cuts corners: `/authorize` refuses a request without scope "openid", a state, a nonce
or a PKCE S256 challenge, and answers at once (nobody to ask) with a code for `subject`;
`/token` wants the client's secret (HTTP Basic), the same redirect URI, the PKCE verifier
that matches, and takes each code once. ID tokens are RS256, signed with an RSA key made when
the provider is (its public half at `/jwks`).

`tamper` puts claims into (or over) the next ID tokens, so a test can have a bad one issued:
another audience, another issuer, a wrong nonce, an expired token; `forge_with` signs them
with a key that is not the provider's.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "cervixwatch-tests"
#: Seconds an ID token is valid.
ID_TOKEN_LIFETIME = 300


@dataclass(frozen=True, slots=True)
class Grant:
    """What an authorization code stands for until it is exchanged."""

    subject: str
    client_id: str
    redirect_uri: str
    nonce: str
    code_challenge: str


@dataclass
class OpenIDProvider:
    issuer: str
    client_id: str = CLIENT_ID
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    #: Who signs in next: the `sub` of the codes `/authorize` issues.
    subject: str = "sso-subject"
    #: Claims put into (or over) the ID tokens issued, to make a bad one.
    tamper: dict[str, Any] = field(default_factory=dict)
    #: The query of every authorization request received, oldest first.
    authorizations: list[dict[str, str]] = field(default_factory=list)
    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(
            2048, {"kid": "test-key", "use": "sig", "alg": "RS256"}
        )
    )
    #: Signs the ID tokens instead of `key` (under `key`'s kid): a forgery.
    forge_with: RSAKey | None = None
    _grants: dict[str, Grant] = field(default_factory=dict)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.metadata),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )

    # --- endpoints ------------------------------------------------------------------------------

    async def metadata(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: Request) -> Response:
        query = dict(request.query_params)
        self.authorizations.append(query)
        missing = [
            name
            for name in ("client_id", "redirect_uri", "state", "nonce", "code_challenge")
            if not query.get(name)
        ]
        if (
            missing
            or query.get("response_type") != "code"
            or "openid" not in query.get("scope", "").split()
            or query.get("code_challenge_method") != "S256"
            or query["client_id"] != self.client_id
        ):
            return JSONResponse({"error": "invalid_request", "missing": missing}, 400)
        code = secrets.token_urlsafe(24)
        self._grants[code] = Grant(
            self.subject,
            query["client_id"],
            query["redirect_uri"],
            query["nonce"],
            query["code_challenge"],
        )
        back = urlencode({"code": code, "state": query["state"]})
        return RedirectResponse(f"{query['redirect_uri']}?{back}", status_code=302)

    async def token(self, request: Request) -> Response:
        if not self._client_authenticated(request.headers.get("authorization", "")):
            return JSONResponse({"error": "invalid_client"}, 401)
        form = await request.form()
        code = str(form.get("code", ""))
        grant = self._grants.pop(code, None)  # a code is good once
        verifier = str(form.get("code_verifier", ""))
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or grant.client_id != self.client_id
            or form.get("redirect_uri") != grant.redirect_uri
            or _s256(verifier) != grant.code_challenge
        ):
            return JSONResponse({"error": "invalid_grant"}, 400)
        access_token = secrets.token_urlsafe(32)
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": ID_TOKEN_LIFETIME,
                "id_token": self.id_token(grant),
            },
            headers={"Cache-Control": "no-store"},
        )

    # --- helpers --------------------------------------------------------------------------------

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": grant.subject,
            "aud": grant.client_id,
            "nonce": grant.nonce,
            "iat": now,
            "exp": now + ID_TOKEN_LIFETIME,
            **self.tamper,
        }
        signer = self.forge_with or self.key
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, signer)

    def _client_authenticated(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        # RFC 6749 2.3.1: both are form-encoded before they are joined.
        client_id, secret = unquote_plus(client_id), unquote_plus(secret)
        return secrets.compare_digest(client_id, self.client_id) and secrets.compare_digest(
            secret, self.client_secret
        )


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@contextmanager
def serving_provider(**fields: Any) -> Iterator[OpenIDProvider]:
    """An `OpenIDProvider` served by uvicorn on a free port of 127.0.0.1, in a background
    thread, for the duration of the `with` block."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    provider = OpenIDProvider(issuer=f"http://127.0.0.1:{port}", **fields)
    config = uvicorn.Config(
        provider.app(), log_level="warning", lifespan="off", ws="none", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="oidc-provider", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test OpenID Connect provider did not start")
            time.sleep(0.01)
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
