"""Single sign-on through an OpenID Connect provider: off unless `settings.oidc_issuer` is set.

    GET /auth/oidc/sign-in    sends the browser to the provider (authorization code flow with
                              PKCE S256, state and nonce; scope "openid")
    GET /auth/oidc/callback   where the provider sends it back: the code is exchanged, the ID
                              token checked (signature against the provider's JWKS, issuer,
                              audience, nonce, expiry), and the account whose `oidc_subject` is
                              the token's `sub` gets the same sign-in cookie as a password
                              sign-in; then the browser goes to "/"

Accounts are made by admins, with the subject; an unknown subject is refused (403) and no
account is ever made here. A disabled or locked account is refused too. Each callback is an
attempt recorded in the audit log ("sign-in") and counted against the sign-in rate limit of
its client address.

Between the two requests the flow's state (state, nonce, PKCE verifier) lives in a signed
cookie (Starlette's `SessionMiddleware`, itsdangerous, keyed by `settings.oidc_state_secret`):
HttpOnly, SameSite=Lax (the provider's redirect back is a top-level GET, which Lax lets
through), sent only to /auth/oidc, valid for ten minutes, Secure when
`settings.cookie_secure` is true. `add_oidc(app, settings)` installs the routes and that
middleware, and refuses to start with an incomplete configuration.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import RedirectResponse

from cervixwatch.app import account_lookups as account_store
from cervixwatch.app import accounts
from cervixwatch.settings import Settings
from cervixwatch.web.access import PUBLIC, access_record, allow
from cervixwatch.web.deps import SessionsDep, SettingsDep
from cervixwatch.web.signing_in import set_session_cookie

log = logging.getLogger(__name__)

PREFIX: Final = "/auth/oidc"
#: The signed cookie holding a sign-in's state between the redirect and the callback.
STATE_COOKIE: Final = "cw_oidc_state"
#: Seconds a browser has to come back from the provider.
STATE_MAX_AGE: Final = 10 * 60
#: Shortest `oidc_state_secret` accepted (it is an HMAC key).
STATE_SECRET_MIN: Final = 32
#: Seconds to wait for the provider (metadata, keys, token) before answering 502.
PROVIDER_TIMEOUT: Final = 10.0
#: Where the browser goes once signed in.
SIGNED_IN_HOME: Final = "/"


class OIDCConfigurationError(RuntimeError):
    """Single sign-on is switched on (`oidc_issuer`) but cannot work as configured."""


@dataclass(frozen=True, slots=True)
class _Config:
    issuer: str
    client_id: str
    client_secret: str
    state_secret: str


def _local_host(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _config(settings: Settings) -> _Config | None:
    """The provider's configuration, None when single sign-on is off; raises
    `OIDCConfigurationError` naming every setting that is missing or unusable."""
    issuer = settings.oidc_issuer
    if not issuer:
        return None
    client_id = settings.oidc_client_id or ""
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else ""
    state = settings.oidc_state_secret.get_secret_value() if settings.oidc_state_secret else ""
    problems = [
        f"CERVIXWATCH_OIDC_{name} is not set"
        for name, value in (
            ("CLIENT_ID", client_id),
            ("CLIENT_SECRET", secret),
            ("STATE_SECRET", state),
        )
        if not value
    ]
    if state and len(state) < STATE_SECRET_MIN:
        problems.append(
            f"CERVIXWATCH_OIDC_STATE_SECRET must be at least {STATE_SECRET_MIN} characters "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    parts = urlsplit(issuer)
    # OpenID Connect Discovery requires https; plain http only reaches a provider on this
    # machine (a development or test provider), never one across a network.
    if not parts.hostname or (parts.scheme != "https" and not _local_host(parts.hostname)):
        problems.append(
            "CERVIXWATCH_OIDC_ISSUER must be an https URL (http only for a provider on this "
            "machine)"
        )
    if parts.query or parts.fragment:
        problems.append("CERVIXWATCH_OIDC_ISSUER must have no query or fragment")
    if problems:
        raise OIDCConfigurationError(
            "single sign-on is on (CERVIXWATCH_OIDC_ISSUER is set) but cannot start: "
            + "; ".join(problems)
        )
    return _Config(issuer, client_id, secret, state)


def _sign_in_subject(
    sessions: sessionmaker[Session], subject: str, session_hours: int
) -> accounts.SignedIn | None:
    """A new sign-in for the account linked to `subject`; None if no account is. Raises
    `accounts.SignInRefused` if that account is disabled or locked."""
    with sessions() as session:
        user = account_store.user_by_oidc_subject(session, subject)
        user_id = user.id if user is not None else None
    if user_id is None:
        return None
    return accounts.sign_in_as(sessions, user_id, session_hours=session_hours)


def oidc_router(settings: Settings) -> APIRouter | None:
    """The single sign-on routes, or None when `settings.oidc_issuer` is not set."""
    config = _config(settings)
    if config is None:
        return None
    # Imported here: with single sign-on off (the default) the app needs neither Authlib's web
    # client nor the HTTP client it talks to the provider with (httpx2).
    try:
        import httpx2
        from authlib.integrations.starlette_client import (  # type: ignore[import-untyped]
            OAuth,
            OAuthError,
        )
        from joserfc.errors import JoseError
    except ImportError as error:
        raise OIDCConfigurationError(
            f"single sign-on needs Authlib and httpx2 installed ({error})"
        ) from error

    provider: Any = OAuth().register(
        name="oidc",
        client_id=config.client_id,
        client_secret=config.client_secret,
        server_metadata_url=f"{config.issuer.rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid",
            "code_challenge_method": "S256",
            "timeout": PROVIDER_TIMEOUT,
        },
    )
    # The provider's unavailability, as Authlib lets it through: a network or HTTP error, a
    # body that is not JSON, or metadata without the endpoints it needs.
    unreachable = (httpx2.HTTPError, ValueError, RuntimeError)

    def claims_options() -> dict[str, Any]:
        # Authlib checks signature, nonce and expiry itself, but the issuer only against the
        # provider's own metadata and the audience only through `azp` (a token for another
        # client that names us in `azp` would pass): both are pinned here. (A new dict each
        # time: Authlib consumes it.)
        return {
            "iss": {"essential": True, "value": config.issuer},
            "aud": {"essential": True, "value": config.client_id},
            "sub": {"essential": True},
        }

    router = APIRouter(prefix=PREFIX, tags=["access"])

    @router.get(
        "/sign-in",
        status_code=302,
        response_class=RedirectResponse,
        summary="Sign in through the OpenID Connect provider (redirects there)",
        responses={502: {"description": "The provider could not be reached"}},
    )
    @allow(PUBLIC)
    async def oidc_sign_in(request: Request) -> RedirectResponse:
        try:
            redirect: RedirectResponse = await provider.authorize_redirect(
                request, str(request.url_for("oidc_callback"))
            )
        except unreachable as error:
            log.warning("OpenID Connect provider unreachable: %s", type(error).__name__)
            raise HTTPException(502, "the sign-in provider could not be reached") from None
        return redirect

    @router.get(
        "/callback",
        status_code=303,
        response_class=RedirectResponse,
        summary="Where the OpenID Connect provider sends the browser back (sets the cookie)",
        responses={
            401: {"description": "The provider did not prove who this is (or state mismatch)"},
            403: {"description": "No account is linked to this identity, or it is disabled"},
            502: {"description": "The provider could not be reached"},
        },
    )
    @allow(PUBLIC)
    async def oidc_callback(
        request: Request, sessions: SessionsDep, settings: SettingsDep
    ) -> RedirectResponse:
        record = access_record(request)
        record.action = "sign-in"
        address = request.client.host if request.client else "unknown"
        await run_in_threadpool(
            request.app.state.rate_limiter.check,
            settings.sign_in_rate_limit,
            "sign-in-address",
            address,
        )
        try:
            token = await provider.authorize_access_token(request, claims_options=claims_options())
        except OAuthError as error:
            # A state that is missing or not this browser's, a refusal or cancellation at the
            # provider, or a code the provider would not exchange.
            log.info("single sign-on refused: %s", error.error)
            raise HTTPException(
                401, f"single sign-on failed ({error.error}); start again at {PREFIX}/sign-in"
            ) from None
        except JoseError as error:
            log.warning("single sign-on: the ID token is not valid (%s)", type(error).__name__)
            raise HTTPException(401, "the sign-in provider's ID token is not valid") from None
        except unreachable as error:
            log.warning("OpenID Connect provider unreachable: %s", type(error).__name__)
            raise HTTPException(502, "the sign-in provider could not be reached") from None
        # Authlib sets "userinfo" only from a verified ID token: without one, nobody is proved.
        claims = token.get("userinfo")
        subject = claims.get("sub") if claims else None
        if not isinstance(subject, str) or not subject:
            raise HTTPException(401, "the sign-in provider sent no ID token with a subject")
        try:
            signed_in = await run_in_threadpool(
                _sign_in_subject, sessions, subject, settings.session_hours
            )
        except accounts.SignInRefused:
            raise HTTPException(
                403, "this account is disabled or locked (an admin can enable or unlock it)"
            ) from None
        if signed_in is None:
            raise HTTPException(
                403,
                "no CervixWatch account is linked to this identity; an admin must link one "
                "(its OpenID Connect subject) before you can sign in this way",
            )
        record.principal = signed_in.principal
        request.state.principal = signed_in.principal
        response = RedirectResponse(SIGNED_IN_HOME, status_code=303)
        set_session_cookie(response, request, settings, signed_in.secret)
        return response

    return router


def add_oidc(app: FastAPI, settings: Settings) -> None:
    """Install single sign-on when `settings.oidc_issuer` is set (else do nothing): its routes
    and the signed state cookie's middleware. Call it before the app starts; raises
    `OIDCConfigurationError` if the configuration is incomplete."""
    router = oidc_router(settings)
    if router is None:
        return
    state_secret = settings.oidc_state_secret
    assert state_secret is not None  # checked by `oidc_router`
    app.include_router(router)
    app.add_middleware(
        SessionMiddleware,
        secret_key=state_secret.get_secret_value(),
        session_cookie=STATE_COOKIE,
        max_age=STATE_MAX_AGE,
        path=PREFIX,
        same_site="lax",
        # Starlette's cookie is always HttpOnly. With `cookie_secure` unset (None: "when the
        # request came over https") it cannot follow each request's scheme, so it is sent
        # over plain http too; it holds no credential, only the flow's one-time state.
        https_only=settings.cookie_secure is True,
    )
