"""Registering SMART on FHIR apps (`cervixwatch smart`; `app.smart_server` uses them).

An app's registration is checked as it is made, so that a launch never meets a broken one:
the client_id's characters, redirect URIs that are absolute https (http only for loopback, as
RFC 8252 allows native apps), scopes this server understands in the contexts of the app's
kind, and, for a backend service, a JWK Set of public keys only (a private key sent here
would be a leaked secret: refused) and an account that exists and is not disabled.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.smart_scopes import LAUNCH_PATIENT, parse_scope, scope_words
from cervixwatch.access.token_cache import forget_everywhere
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.store import access_generation, transaction
from cervixwatch.store import smart as store
from cervixwatch.store.accounts import user_by_id, user_by_username

DEFAULT_APP_SCOPES: Final = "launch/patient patient/*.rs user/*.rs"
DEFAULT_BACKEND_SCOPES: Final = "system/*.rs"
_CLIENT_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})
#: JWK members that only a private key has (RFC 7518, 6.2.2 and 6.3.2; RFC 8037).
_PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


@dataclass(frozen=True, slots=True)
class RegisteredApp:
    client_id: str
    name: str
    kind: str
    scopes: str
    redirect_uris: list[str]
    account: str | None
    disabled: bool


def _client_id(client_id: str) -> str:
    if not _CLIENT_ID.fullmatch(client_id):
        raise InvalidField(
            "client_id", "1 to 100 letters, digits and . _ : - (starting with a letter or digit)"
        )
    return client_id


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200 or not name.isprintable():
        raise InvalidField("name", "1 to 200 printable characters")
    return name


def _redirect_uri(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.fragment or not parts.netloc:
        raise InvalidField("redirect_uri", f"{uri!r}: an absolute URL without a fragment")
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        return uri
    raise InvalidField("redirect_uri", f"{uri!r}: https, or http on the loopback address only")


def _scopes(text: str, contexts: frozenset[str], *, launch: bool) -> str:
    words = scope_words(text)
    if not words:
        raise InvalidField("scope", "at least one scope")
    for word in words:
        if word == LAUNCH_PATIENT and launch:
            continue
        parsed = parse_scope(word)
        if parsed is None or parsed.context not in contexts:
            allowed = " or ".join(sorted(f"{c}/" for c in contexts))
            raise InvalidField("scope", f"{word!r} is not a {allowed} scope this server grants")
    return " ".join(words)


def _public_key_set(jwks: Any) -> dict[str, Any]:
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise InvalidField("jwks", 'a JWK Set: {"keys": [...]} with at least one key')
    for key in jwks["keys"]:
        if not isinstance(key, dict) or _PRIVATE_MEMBERS & set(key):
            raise InvalidField(
                "jwks", "public keys only: a private or symmetric key must never leave its owner"
            )
    try:
        KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise InvalidField("jwks", f"not a JWK Set joserfc can read ({error})") from None
    return jwks


def _not_taken(session: Session, client_id: str) -> None:
    if store.client_exists(session, client_id):
        raise Conflict(f"an app is registered as {client_id} already")


def add_app(
    sessions: sessionmaker[Session],
    client_id: str,
    *,
    name: str,
    redirect_uris: Sequence[str],
    scopes: str = DEFAULT_APP_SCOPES,
) -> None:
    """A user-facing app: a public client launched in the browser (PKCE, no secret)."""
    uris = [_redirect_uri(u) for u in redirect_uris]
    if not uris:
        raise InvalidField("redirect_uri", "at least one")
    with transaction(sessions) as session:
        _not_taken(session, _client_id(client_id))
        store.add_client(
            session,
            client_id=client_id,
            name=_name(name),
            kind="public",
            redirect_uris=uris,
            scopes=_scopes(scopes, frozenset({"patient", "user"}), launch=True),
            jwks=None,
            user_id=None,
        )


def add_backend(
    sessions: sessionmaker[Session],
    client_id: str,
    *,
    name: str,
    jwks: Any,
    username: str,
    scopes: str = DEFAULT_BACKEND_SCOPES,
) -> None:
    """A backend service: signs JWTs with its private key, acts as `username`."""
    keys = _public_key_set(jwks)
    with transaction(sessions) as session:
        _not_taken(session, _client_id(client_id))
        user = user_by_username(session, username)
        if user is None or user.disabled:
            raise NotFound(f"no active account {username!r} (make it first: cervixwatch users)")
        store.add_client(
            session,
            client_id=client_id,
            name=_name(name),
            kind="backend",
            redirect_uris=[],
            scopes=_scopes(scopes, frozenset({"system"}), launch=False),
            jwks=keys,
            user_id=user.id,
        )


def list_clients(sessions: sessionmaker[Session]) -> list[RegisteredApp]:
    with sessions() as session:
        out = []
        for row in store.clients(session):
            user = user_by_id(session, row.user_id) if row.user_id else None
            out.append(
                RegisteredApp(
                    row.client_id,
                    row.name,
                    row.kind,
                    row.scopes,
                    list(row.redirect_uris),
                    user.username if user is not None else None,
                    row.disabled_at is not None,
                )
            )
    return out


def disable(sessions: sessionmaker[Session], client_id: str) -> None:
    """The app gets no more tokens, and those it has stop working in every worker."""
    with transaction(sessions) as session:
        if not store.disable_client(session, client_id, dt.datetime.now(dt.UTC)):
            raise NotFound(f"no active app {client_id}")
        access_generation.advance(session)
    forget_everywhere()
