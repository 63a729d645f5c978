"""Which new passwords are refused (NIST SP 800-63B, section 5.1.1.2; issue 12, low finding).

Length, not composition: 12 to 256 characters, any characters. On top of length, a new
password is compared with what an attacker tries first:

* a list of commonly used and breached passwords: the 30,000 most common of the leaked
  password corpora that zxcvbn ships (`zxcvbn.frequency_lists`, from Mark Burnett's 10 million
  passwords), compared ignoring case and spaces, so `Password 1234` is refused as
  `password1234` is;
* context-specific words: the account's own username;
* repetitive and sequential characters: only spaces, one character or one group of characters
  repeated (`aaaaaaaaaaaa`, `abcabcabcabc`), or one run of consecutive characters
  (`123456789012`, `abcdefghijkl`, `987654321098`).

The refusal names the rule, never the password. Only passwords being set are checked: one
stored by an earlier version still signs in (and is re-hashed if its parameters are old).
"""

from __future__ import annotations

from functools import cache
from itertools import pairwise
from typing import Final

MIN_PASSWORD_LENGTH: Final = 12
MAX_PASSWORD_LENGTH: Final = 256


class WeakPassword(ValueError):
    """A new password refused; the message names the rule (never the password), in words
    that follow "password: "."""


def check_new_password(password: str, *, username: str | None = None) -> None:
    """Raise `WeakPassword` naming the first rule `password` breaks, for the account
    `username` (None when not yet known)."""
    check_password_length(password)
    if not password.strip():
        raise WeakPassword("must not be only spaces")
    if _repeats(password):
        raise WeakPassword("must not be one character or one group of characters repeated")
    if _consecutive(password):
        raise WeakPassword(
            "must not be a run of consecutive characters (digits or letters in order)"
        )
    folded = _folded(password)
    if username is not None and folded == _folded(username):
        raise WeakPassword("must not be the username")
    if folded in common_passwords():
        raise WeakPassword("is one of the most common passwords; choose another")


def check_password_length(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"at most {MAX_PASSWORD_LENGTH} characters")


@cache
def common_passwords() -> frozenset[str]:
    """zxcvbn's list of common passwords, folded as `_folded` folds a new one. Read on first
    use: the list is large, and most processes (the CLI's other commands) never need it."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(_folded(word) for word in FREQUENCY_LISTS["passwords"])


def _folded(text: str) -> str:
    return "".join(text.split()).casefold()


def _repeats(password: str) -> bool:
    """One unit repeated to make the whole password (a password is its own rotation by the
    unit's length exactly then)."""
    return (password + password).find(password, 1) < len(password)


def _consecutive(password: str) -> bool:
    """Each character one code point above (or each one below) the one before, digits
    wrapping from 9 to 0 (and 0 to 9), as on a keyboard's number row."""
    steps = {_step(a, b) for a, b in pairwise(password)}
    return steps in ({1}, {-1})


def _step(a: str, b: str) -> int:
    if a.isdecimal() and b.isdecimal() and a.isascii() and b.isascii():
        return (int(b) - int(a) + 5) % 10 - 5  # 9 -> 0 is +1, 0 -> 9 is -1
    if a.isascii() and b.isascii():
        a, b = a.lower(), b.lower()
    return ord(b) - ord(a)
