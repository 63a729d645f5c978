"""Who is calling a CDS service: the EHR's JWT checked as CDS Hooks 2.0 ("Trusting CDS
Clients") says, with joserfc (Authlib's JOSE library; no cryptography of our own).

A request carries `Authorization: Bearer <JWT>` signed with the EHR's private key. It is
accepted only when:
- its `alg` is an asymmetric one (never `none`, never HMAC) and its header names a `kid`;
- its `iss` is an issuer allow-listed in `cds_hooks_clients` (else 403: a caller we do not
  trust, however well it signs);
- its key comes from the JWK Set its `jku` names, and only if that URL is one of the issuer's
  `jwks_urls` (else 403), or, without a `jku`, from the issuer's configured keys (`jwks`, or
  its `jwks_urls`);
- the signature verifies with that key; `aud` is exactly the URL called; `exp` has not passed
  and `iat` is not in the future; `jti` is present and not seen before: it is stored, shared by
  every worker through the database, until the JWT expires (else 401).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx2
from joserfc import jws, jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.settings import CdsHooksClient
from cervixwatch.store import transaction
from cervixwatch.store.cds_hooks import jti_key, remember_jti

#: Asymmetric signatures only (CDS Hooks 2.0: ES384 and RS384 recommended; never `none` or a
#: shared secret, which would let the service forge the EHR's requests).
ALGORITHMS: Final = (
    "ES256",
    "ES384",
    "ES512",
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
)
#: Seconds of clock difference allowed between the EHR and this server for `exp` and `iat`.
LEEWAY_SECONDS: Final = 30
#: Seconds before a JWK Set is read again for a kid not found in it (key rotation).
REFETCH_SECONDS: Final = 10.0
#: The namespace of the stable id an issuer is recorded under in the audit log (36 characters,
#: as every actor id there; the issuer's URL itself is in the CDS Hooks tables).
ISSUER_NAMESPACE: Final = uuid.UUID("0f1c3b8e-6a55-4d8e-9d61-cd5400000014")


class CdsAuthError(Exception):
    """The request is refused: `status` 401 (no valid JWT) or 403 (a caller not trusted)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True, slots=True)
class CdsCaller:
    """The EHR whose JWT was accepted, and the JWT's id, which must still be claimed
    (`claim_jti`) in the transaction that answers the request: a replay is refused there."""

    issuer: str
    tenant: str | None
    jti_key: str
    expires_at: dt.datetime

    @property
    def actor_id(self) -> str:
        return issuer_id(self.issuer)


def claim_jti(session: Session, caller: CdsCaller, now: dt.datetime) -> None:
    """Remember the caller's JWT id in `session`'s transaction; `CdsAuthError` (401) if it
    was seen before. The request's own writes go in the same transaction, so a replayed
    JWT stores nothing and a request answered stores its JWT's id with it: one write
    transaction per request (two would wait twice on SQLite's one writer)."""
    if not remember_jti(session, caller.jti_key, caller.expires_at, now):
        raise CdsAuthError(401, "the JWT's jti has been used before (a replay)")


def issuer_id(issuer: str) -> str:
    """The id an issuer is recorded under in the audit log."""
    return str(uuid.uuid5(ISSUER_NAMESPACE, issuer))


class KeySets:
    """JWK Sets fetched from their URLs (httpx2), each kept `cache_seconds`: an EHR's keys
    change seldom, and fetching them on every request would double each request's time."""

    def __init__(
        self,
        timeout_seconds: float,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._timeout = timeout_seconds
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._sets: dict[str, tuple[float, KeySet]] = {}

    def fetch(self, url: str, *, again: bool = False) -> KeySet:
        """The JWK Set at `url`, from the cache unless it is older than `cache_seconds` or
        `again` is set (a `kid` not in it: the EHR may have rotated its keys)."""
        now = self._clock()
        with self._lock:
            cached = self._sets.get(url)
        if cached is not None:
            age = now - cached[0]
            # Read again on request at most every REFETCH_SECONDS: a JWT naming a kid that
            # does not exist (anyone can send one) must not make us fetch on every request.
            if age < (REFETCH_SECONDS if again else self._cache_seconds):
                return cached[1]
        try:
            response = httpx2.get(url, timeout=self._timeout, follow_redirects=False)
            response.raise_for_status()
            key_set = KeySet.import_key_set(response.json())
        except (httpx2.HTTPError, ValueError, JoseError) as error:
            raise CdsAuthError(
                401, f"the JWK Set at the JWT's key URL could not be read ({type(error).__name__})"
            ) from None
        with self._lock:
            self._sets[url] = (now, key_set)
        return key_set


def _unverified(token: str) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    try:
        compact = jws.extract_compact(token.encode())
        payload = json.loads(compact.payload)
    except (JoseError, ValueError):
        raise CdsAuthError(401, "the bearer token is not a JWT") from None
    if not isinstance(payload, dict):
        raise CdsAuthError(401, "the JWT's payload is not a JSON object")
    return compact.protected, payload


def _client(issuer: object, clients: Sequence[CdsHooksClient]) -> CdsHooksClient:
    if not isinstance(issuer, str) or not issuer:
        raise CdsAuthError(401, "the JWT has no iss")
    for client in clients:
        if client.issuer == issuer:
            return client
    raise CdsAuthError(403, "the JWT's issuer is not allowed to call these services")


def _keys(
    header: Mapping[str, Any], client: CdsHooksClient, fetched: KeySets, again: bool = False
) -> KeySet:
    jku = header.get("jku")
    if jku is not None:
        if jku not in client.jwks_urls:
            raise CdsAuthError(403, "the JWT's jku is not a key URL allowed for its issuer")
        return fetched.fetch(jku, again=again)
    if client.jwks is not None:
        try:
            return KeySet.import_key_set(client.jwks)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            raise CdsAuthError(401, "the issuer's configured keys cannot be read") from None
    keys = [key for url in client.jwks_urls for key in fetched.fetch(url, again=again).keys]
    if not keys:
        raise CdsAuthError(401, "no keys are configured for the JWT's issuer")
    return KeySet(keys)


def verify_jwt(
    token: str,
    *,
    audience: str,
    clients: Sequence[CdsHooksClient],
    key_sets: KeySets,
    sessions: sessionmaker[Session],
    now: dt.datetime,
    claim: bool = True,
) -> CdsCaller:
    """The caller of a request whose bearer token is `token`, sent to the URL `audience`;
    `CdsAuthError` if it is refused. Its `jti` is remembered only once everything else holds,
    so a refused JWT changes nothing; with `claim=False` the caller claims it (`claim_jti`)
    in the transaction that answers the request."""
    header, claims = _unverified(token)
    if header.get("alg") not in ALGORITHMS:
        raise CdsAuthError(401, f"the JWT's alg must be one of {', '.join(ALGORITHMS)}")
    if not isinstance(header.get("kid"), str):
        raise CdsAuthError(401, "the JWT's header has no kid")
    client = _client(claims.get("iss"), clients)
    key_set = _keys(header, client, key_sets)
    try:
        try:
            verified = jwt.decode(token, key_set, algorithms=list(ALGORITHMS))
        except InvalidKeyIdError:
            if client.jwks is not None and header.get("jku") is None:
                raise
            # A kid not among the keys fetched: read the JWK Set again, once (key rotation).
            key_set = _keys(header, client, key_sets, again=True)
            verified = jwt.decode(token, key_set, algorithms=list(ALGORITHMS))
    except JoseError as error:
        raise CdsAuthError(401, f"the JWT is not valid: {error.error}") from None
    registry = jwt.JWTClaimsRegistry(
        now=lambda: int(now.timestamp()),
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": client.issuer},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
        iat={"essential": True},
        jti={"essential": True},
    )
    try:
        registry.validate(verified.claims)
    except JoseError as error:
        raise CdsAuthError(
            401, f"the JWT is not valid: {error.description or error.error}"
        ) from None
    issued = verified.claims["iat"]
    if not isinstance(issued, int | float) or issued > now.timestamp() + LEEWAY_SECONDS:
        raise CdsAuthError(401, "the JWT's iat is in the future")
    jti = verified.claims["jti"]
    if not isinstance(jti, str) or not jti:
        raise CdsAuthError(401, "the JWT's jti must be a non-empty string")
    expires = dt.datetime.fromtimestamp(float(verified.claims["exp"]), dt.UTC)
    tenant = verified.claims.get("tenant")
    caller = CdsCaller(
        client.issuer,
        tenant if isinstance(tenant, str) else None,
        jti_key(client.issuer, jti),
        expires,
    )
    if claim:
        with transaction(sessions) as session:
            claim_jti(session, caller, now)
    return caller
