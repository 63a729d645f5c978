"""CervixWatch as a SMART on FHIR authorization server (issue 14, part 2; SMART App Launch
2.x, "standalone launch" and "Backend Services"; RFC 6749, 7636 and 7523).

Two ways in:
- **A user-facing app** (a public client: no secret, PKCE S256 required). The browser is sent
  to `/oauth/authorize`; the user signs in to CervixWatch as usual, sees which app asks for
  what, chooses the woman when the app asked for one (`launch/patient`: a patient user's own
  record, a clinician one of her care teams' women) and approves. The app gets a code on its
  registered redirect URI, and `/oauth/token` exchanges it, with the PKCE verifier, for an
  access token of `TOKEN_MINUTES`.
- **A backend service** (SMART Backend Services): `client_credentials` with a JWT signed by
  one of its registered keys (`private_key_jwt`, RFC 7523), asymmetric algorithms only,
  `aud` the token endpoint, at most five minutes to live, its `jti` never seen before. The
  token acts as the service account the client is registered with.

The token is an API token (`api_tokens`) with its scopes and launch patient: it is revoked by
the user's password reset, a disabled or locked account, the app being disabled, as every
token is, and it reaches only the FHIR API, where every interaction is checked against its
scopes on top of the user's role and care teams (`web.access`).

Errors are Authlib's OAuth 2.0 error classes, so their codes (`invalid_grant`,
`invalid_client`, ...) and statuses are RFC 6749's; the PKCE S256 transform is Authlib's; JWT
signatures are checked by joserfc. No cryptography is written here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from authlib.oauth2.rfc6749 import (
    AccessDeniedError,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
    UnsupportedResponseTypeError,
)
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.credentials import new_secret, same_secret, secret_hash
from cervixwatch.access.principal import Principal, Role
from cervixwatch.access.smart_scopes import LAUNCH_PATIENT, parse_scope, scope_words
from cervixwatch.access.token_cache import forget_everywhere
from cervixwatch.app import account_lookups
from cervixwatch.app.cds_auth import ALGORITHMS
from cervixwatch.store import access_generation, transaction
from cervixwatch.store import smart as store
from cervixwatch.store.accounts import user_by_id
from cervixwatch.store.cds_hooks import jti_key, remember_jti
from cervixwatch.store.models import SmartCodeRow

__all__ = [
    "AccessDeniedError",
    "AuthorizationRequest",
    "InvalidRequestError",
    "OAuth2Error",
    "PageError",
    "TokenAnswer",
    "approve",
    "check_authorization_request",
    "client_credentials",
    "exchange_code",
]

#: Minutes a code may wait for its token request (RFC 6749, 4.1.2: "a maximum ... of 10
#: minutes is RECOMMENDED").
CODE_MINUTES: Final = 5
#: Minutes an access token lives (SMART App Launch: "short-lived"; Backend Services: "no
#: longer than five minutes" is asked of the client's JWT, and an hour is the specification's
#: example for the token itself). No refresh tokens are issued: the app launches again.
TOKEN_MINUTES: Final = 60
#: The longest a backend client's JWT may live (SMART Backend Services: "no more than five
#: minutes in the future").
ASSERTION_MAX_SECONDS: Final = 300
ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: RFC 7636, 4.1: 43 to 128 characters of the unreserved set.
_PKCE: Final = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
#: SMART scopes asked for that this server does not grant, said to the user on the consent
#: page rather than silently dropped: it issues no ID tokens and no refresh tokens.
NOT_OFFERED: Final = frozenset({"openid", "fhirUser", "profile", "offline_access", "online_access"})


class PageError(Exception):
    """An authorization request that cannot be sent back to the app (unknown client, a
    redirect URI not registered): shown to the user, never redirected (RFC 6749, 4.1.2.1)."""


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    client_id: str
    client_name: str
    redirect_uri: str
    state: str | None
    code_challenge: str
    #: What will be granted: the requested scopes the app is registered for.
    scopes: tuple[str, ...]
    #: What was asked for and will not be granted (shown on the consent page).
    refused: tuple[str, ...]

    @property
    def needs_patient(self) -> bool:
        return LAUNCH_PATIENT in self.scopes or any(
            (s := parse_scope(w)) is not None and s.context == "patient" for w in self.scopes
        )


@dataclass(frozen=True, slots=True)
class TokenAnswer:
    """RFC 6749, 5.1, with SMART's launch context."""

    access_token: str
    scope: str
    patient: str | None
    #: The account the token acts as (for the audit log; not sent).
    user_id: str

    def json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_MINUTES * 60,
            "scope": self.scope,
        }
        if self.patient is not None:
            body["patient"] = self.patient
        return body


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _same_base(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def _grantable(asked: Sequence[str], registered: str, *, contexts: frozenset[str]) -> list[str]:
    """The scopes asked for that the app's registration covers, in `contexts`, written in
    SMART v2 (`patient/*.read` is granted as `patient/*.rs`). A `patient/` scope is granted
    for reading and searching only (`patient/Observation.cruds` becomes
    `patient/Observation.rs`; one that asks only to write is not granted): a write in the
    context of one woman could name another or a new one, which this server cannot yet
    confine to her. `user/` and `system/` scopes write as the user could."""
    words = scope_words(registered)
    covering = [s for w in words if (s := parse_scope(w)) is not None]
    out: list[str] = []
    for word in asked:
        if word == LAUNCH_PATIENT:
            if LAUNCH_PATIENT in words and word not in out:
                out.append(word)
            continue
        parsed = parse_scope(word)
        if parsed is None or parsed.context not in contexts:
            continue
        permissions = parsed.permissions
        if parsed.context == "patient":
            permissions = "".join(p for p in permissions if p in "rs")
        if not permissions or not any(
            c.context == parsed.context
            and c.resource_type in ("*", parsed.resource_type)
            and set(permissions) <= set(c.permissions)
            for c in covering
        ):
            continue
        granted = f"{parsed.context}/{parsed.resource_type}.{permissions}"
        if granted not in out:
            out.append(granted)
    return out


def check_authorization_request(
    sessions: sessionmaker[Session], params: Mapping[str, str], *, fhir_base: str
) -> AuthorizationRequest:
    """The app's authorization request, checked (RFC 6749, 4.1.1; RFC 7636, 4.3; SMART App
    Launch, "Obtain authorization code"). `PageError` when it cannot go back to the app;
    an `OAuth2Error` (sent back to the app's redirect URI with `state`) otherwise."""
    client_id = params.get("client_id", "")
    with sessions() as session:
        client = store.client(session, client_id) if client_id else None
        if client is None or client.kind != "public":
            raise PageError("This app is not registered with CervixWatch (unknown client_id).")
        name, uris, registered = client.name, list(client.redirect_uris), client.scopes
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in uris:
        raise PageError(f"{name} asked to be sent back to an address it is not registered with.")
    state = params.get("state")
    if params.get("response_type") != "code":
        raise UnsupportedResponseTypeError("response_type must be code", state=state)
    if "launch" in params:
        raise InvalidRequestError(
            "launch: CervixWatch is not an EHR and offers no EHR launch; use a standalone launch",
            state=state,
        )
    if params.get("code_challenge_method") != "S256":
        raise InvalidRequestError("code_challenge_method must be S256 (PKCE)", state=state)
    challenge = params.get("code_challenge", "")
    if not _PKCE.fullmatch(challenge):
        raise InvalidRequestError(
            "code_challenge must be 43 to 128 characters (RFC 7636)", state=state
        )
    aud = params.get("aud", "")
    if not _same_base(aud, fhir_base):
        raise InvalidRequestError(f"aud must be this server's FHIR base, {fhir_base}", state=state)
    asked = scope_words(params.get("scope"))
    granted = _grantable(asked, registered, contexts=frozenset({"patient", "user"}))
    if not any(parse_scope(w) is not None for w in granted):
        raise InvalidScopeError(
            "none of the scopes asked for can be granted to this app (patient/ or user/ "
            "scopes it is registered for)",
            state=state,
        )
    contexts = frozenset({"patient", "user"})
    refused = tuple(w for w in asked if not _grantable([w], registered, contexts=contexts))
    return AuthorizationRequest(
        client_id, name, redirect_uri, state, challenge, tuple(granted), refused
    )


def approve(
    sessions: sessionmaker[Session],
    request: AuthorizationRequest,
    user: Principal,
    *,
    patient_id: str | None,
) -> str:
    """The user approved: a code for the app (returned once, stored as its hash). The woman
    chosen must be one the user may see; a patient user's is always her own record."""
    if user.role not in (Role.CLINICIAN, Role.PATIENT):
        raise AccessDeniedError(
            "only clinicians and patients may let an app read records", state=request.state
        )
    chosen: str | None = None
    if request.needs_patient:
        chosen = user.patient_id if user.role == Role.PATIENT else patient_id
        if chosen is None:
            raise InvalidRequestError("choose the woman the app may read", state=request.state)
        with sessions() as session:
            if user.role == Role.CLINICIAN and not account_lookups.patient_in_teams(
                session, chosen, user.team_ids
            ):
                raise InvalidRequestError(
                    "the woman chosen is not one of your care teams'", state=request.state
                )
    code = new_secret()
    now = _now()
    with transaction(sessions) as session:
        store.add_code(
            session,
            code_hash=secret_hash(code),
            client_id=request.client_id,
            user_id=user.user_id,
            redirect_uri=request.redirect_uri,
            scopes=" ".join(request.scopes),
            patient_id=chosen,
            code_challenge=request.code_challenge,
            expires_at=now + dt.timedelta(minutes=CODE_MINUTES),
            now=now,
        )
    return code


def _live_user(session: Session, user_id: str | None) -> bool:
    user = user_by_id(session, user_id) if user_id else None
    return user is not None and not user.disabled and user.locked_at is None


def _issue(
    session: Session,
    *,
    user_id: str,
    client_id: str,
    scopes: str,
    patient_id: str | None,
    now: dt.datetime,
) -> TokenAnswer:
    secret = new_secret()
    store.add_smart_token(
        session,
        user_id=user_id,
        client_id=client_id,
        name=f"SMART: {client_id}"[:100],
        token_hash=secret_hash(secret),
        expires_at=now + dt.timedelta(minutes=TOKEN_MINUTES),
        scopes=scopes,
        patient_id=patient_id,
    )
    return TokenAnswer(secret, scopes, patient_id, user_id)


def exchange_code(sessions: sessionmaker[Session], form: Mapping[str, str]) -> TokenAnswer:
    """`grant_type=authorization_code` (RFC 6749, 4.1.3; RFC 7636, 4.5)."""
    code, verifier = form.get("code", ""), form.get("code_verifier", "")
    if not code:
        raise InvalidRequestError("code is missing")
    if not _PKCE.fullmatch(verifier):
        raise InvalidRequestError("code_verifier must be 43 to 128 characters (RFC 7636)")
    now = _now()
    hashed = secret_hash(code)
    with transaction(sessions) as session:
        row = store.take_code(session, hashed, now)
        replayed = row is None and store.code_was_used(session, hashed)
        if row is not None:
            return _checked_exchange(session, row, form, verifier, now)
    if replayed:
        raise _code_replayed(sessions, hashed, now)
    raise InvalidGrantError("the code is unknown or has expired")


def _checked_exchange(
    session: Session, row: SmartCodeRow, form: Mapping[str, str], verifier: str, now: dt.datetime
) -> TokenAnswer:
    """The token for a code just taken, once the request matches the authorization's."""
    if row.client_id != form.get("client_id", row.client_id):
        raise InvalidGrantError("the code was issued to another client")
    if row.redirect_uri != form.get("redirect_uri"):
        raise InvalidGrantError("redirect_uri differs from the authorization request's")
    if not same_secret(create_s256_code_challenge(verifier), row.code_challenge):
        raise InvalidGrantError("code_verifier does not match the code_challenge (PKCE)")
    if store.client(session, row.client_id) is None or not _live_user(session, row.user_id):
        raise InvalidGrantError("the app or the account that approved it is disabled")
    return _issue(
        session,
        user_id=row.user_id,
        client_id=row.client_id,
        scopes=row.scopes,
        patient_id=row.patient_id,
        now=now,
    )


def _code_replayed(sessions: sessionmaker[Session], hashed: str, now: dt.datetime) -> OAuth2Error:
    """A used code presented again: someone else may hold it, so the tokens it gave are
    revoked (RFC 6749, 4.1.2), in a transaction of its own (the caller's rolls back)."""
    with transaction(sessions) as session:
        row = session.get(SmartCodeRow, hashed)
        if row is not None:
            store.revoke_tokens_of_code(session, row.client_id, row.user_id, now)
            access_generation.advance(session)  # refused now in every worker
    forget_everywhere()
    return InvalidGrantError("the code has been used already; the tokens it gave are revoked")


def _unverified_claims(assertion: str) -> Mapping[str, Any]:
    try:
        payload = json.loads(jws.extract_compact(assertion.encode()).payload)
    except (JoseError, ValueError):
        raise InvalidClientError(description="client_assertion is not a JWT") from None
    if not isinstance(payload, dict):
        raise InvalidClientError(description="client_assertion's payload is not a JSON object")
    return payload


def client_credentials(
    sessions: sessionmaker[Session], form: Mapping[str, str], *, token_url: str
) -> TokenAnswer:
    """`grant_type=client_credentials` with `private_key_jwt` (SMART Backend Services;
    RFC 7523, 2.2 and 3)."""
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise InvalidClientError(description=f"client_assertion_type must be {ASSERTION_TYPE}")
    assertion = form.get("client_assertion", "")
    client_id = _unverified_claims(assertion).get("iss")
    if not isinstance(client_id, str):
        raise InvalidClientError(description="client_assertion has no iss")
    with sessions() as session:
        client = store.client(session, client_id)
        if client is None or client.kind != "backend" or client.jwks is None:
            raise InvalidClientError(description="no backend client is registered as its iss")
        jwks, registered, user_id = client.jwks, client.scopes, client.user_id
    now = _now()
    try:
        verified = jwt.decode(assertion, KeySet.import_key_set(jwks), algorithms=list(ALGORITHMS))  # type: ignore[arg-type]
        jwt.JWTClaimsRegistry(
            now=lambda: int(now.timestamp()),
            leeway=30,
            iss={"essential": True, "value": client_id},
            sub={"essential": True, "value": client_id},
            aud={"essential": True, "value": token_url},
            exp={"essential": True},
            jti={"essential": True},
        ).validate(verified.claims)
    except (JoseError, ValueError) as error:
        detail = getattr(error, "description", None) or getattr(error, "error", None) or "invalid"
        raise InvalidClientError(description=f"client_assertion is not valid: {detail}") from None
    expires = float(verified.claims["exp"])
    if expires > now.timestamp() + ASSERTION_MAX_SECONDS + 30:
        raise InvalidClientError(
            description="client_assertion must expire within five minutes (SMART Backend Services)"
        )
    jti = verified.claims["jti"]
    if not isinstance(jti, str) or not jti:
        raise InvalidClientError(description="client_assertion's jti must be a string")
    granted = _grantable(scope_words(form.get("scope")), registered, contexts=frozenset({"system"}))
    if not granted:
        raise InvalidScopeError("none of the scopes asked for is a system/ scope of this client")
    with transaction(sessions) as session:
        if not _live_user(session, user_id):
            raise UnauthorizedClientError("the client's service account is disabled or locked")
        key = jti_key(f"smart-backend:{client_id}", jti)
        if not remember_jti(session, key, dt.datetime.fromtimestamp(expires, dt.UTC), now):
            raise InvalidClientError(description="client_assertion's jti was used before")
        assert user_id is not None
        return _issue(
            session,
            user_id=user_id,
            client_id=client_id,
            scopes=" ".join(granted),
            patient_id=None,
            now=now,
        )


def token(
    sessions: sessionmaker[Session], form: Mapping[str, str], *, token_url: str
) -> TokenAnswer:
    """The token endpoint: by `grant_type`."""
    grant = form.get("grant_type")
    if grant == "authorization_code":
        return exchange_code(sessions, form)
    if grant == "client_credentials":
        return client_credentials(sessions, form, token_url=token_url)
    raise UnsupportedGrantTypeError(f"grant_type {grant!r} is not supported")
