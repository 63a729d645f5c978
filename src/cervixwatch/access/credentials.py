"""Passwords (Argon2, argon2-cffi) and random bearer secrets (session cookies, API tokens).

Bearer secrets are 256 random bits, so a fast hash (SHA-256) is enough to store them: unlike a
password they cannot be guessed from a list. Passwords get Argon2id, which is slow on purpose.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cervixwatch.access.password_rules import check_password_length

#: argon2-cffi's defaults are RFC 9106's recommended "low memory" parameters.
_HASHER: Final = PasswordHasher()
#: Verified against when there is no account (or it is locked), so a sign-in takes as long
#: whether or not the username exists.
_DUMMY_HASH: Final = _HASHER.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """The Argon2id hash of a password of an acceptable length. A new password is first
    checked by `password_rules.check_new_password`; a re-hash at sign-in checks only this."""
    check_password_length(password)
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches; a missing hash never matches (and costs the same time)."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def spend_verification_time(password: str) -> None:
    """Do the work of a verification that cannot succeed (unknown or locked account)."""
    verify_password(None, password)


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)


def new_secret() -> str:
    """A bearer secret for a cookie or an API token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_secret(a: str, b: str) -> bool:
    return secrets.compare_digest(a.encode(), b.encode())
