"""Passwords are hashed at the production cost (RFC 9106's low-memory Argon2id parameters,
argon2-cffi's defaults) outside the test process, whose own accounts use the lowest cost
(tests/conftest.py, `quick_password_hashes`)."""

from __future__ import annotations

import subprocess
import sys

PRODUCTION = "$argon2id$v=19$m=65536,t=3,p=4$"


def test_a_password_is_hashed_at_the_production_cost() -> None:
    made = subprocess.run(
        [
            sys.executable,
            "-c",
            "from cervixwatch.access.credentials import hash_password, verify_password, "
            "needs_rehash\n"
            "h = hash_password('a long enough passphrase')\n"
            "assert verify_password(h, 'a long enough passphrase')\n"
            "assert not verify_password(h, 'another passphrase')\n"
            "assert not needs_rehash(h)\n"
            "print(h)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert made.stdout.startswith(PRODUCTION), made.stdout


def test_a_hash_of_a_lower_cost_is_made_again_at_sign_in() -> None:
    """A hash made at another cost (the tests', or an older release's) is re-hashed at the
    production cost the next time its password is verified (`needs_rehash`)."""
    checked = subprocess.run(
        [
            sys.executable,
            "-c",
            "from argon2 import PasswordHasher\n"
            "from cervixwatch.access.credentials import needs_rehash\n"
            "quick = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)\n"
            "print(needs_rehash(quick.hash('a long enough passphrase')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert checked.stdout.strip() == "True"
