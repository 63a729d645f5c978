"""Which new passwords are refused (issue 12, low finding: `password1234` and twelve spaces
were accepted, length being the only rule). NIST SP 800-63B: a blocklist of common and
breached passwords, context-specific words and repetitive or sequential characters; no
composition rules."""

from __future__ import annotations

import pytest

from cervixwatch.access.password_rules import (
    WeakPassword,
    check_new_password,
    common_passwords,
)


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("password1234", "most common passwords"),
        ("PASSWORD1234", "most common passwords"),
        ("Password 1234", "most common passwords"),
        ("qwertyuiop12", "most common passwords"),
        (" " * 12, "only spaces"),
        ("\t \u00a0" * 4, "only spaces"),
        ("a" * 12, "one character or one group of characters repeated"),
        ("ß" * 12, "one character or one group of characters repeated"),
        ("abcabcabcabc", "one character or one group of characters repeated"),
        ("horse battery horse battery ", "one character or one group of characters repeated"),
        ("123456789012", "consecutive characters"),
        ("987654321098", "consecutive characters"),
        ("abcdefghijklm", "consecutive characters"),
        ("ZYXWVUTSRQPO", "consecutive characters"),
        ("short", "at least 12 characters"),
        ("x" * 257, "at most 256 characters"),
    ],
)
def test_a_weak_password_is_refused_naming_the_rule_not_the_password(
    password: str, rule: str
) -> None:
    with pytest.raises(WeakPassword) as refused:
        check_new_password(password, username="cleo")
    assert rule in str(refused.value)
    if password.strip():
        assert password.strip() not in str(refused.value)


@pytest.mark.parametrize("password", ["midwife.cleo.", "Midwife.Cleo.", " midwife.cleo. "])
def test_the_username_itself_is_refused(password: str) -> None:
    with pytest.raises(WeakPassword, match="must not be the username"):
        check_new_password(password, username="midwife.cleo.")
    check_new_password(password, username="someone-else")  # not a rule of its own


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "a much longer new passphrase",
        "Tr0ub4dor&3-and-more",
        "aaaaaaaaaaab",
        "123456789013",
        "x" * 11 + "y",
        "\u0130" * 11 + "a",
    ],
)
def test_a_password_that_breaks_no_rule_is_accepted(password: str) -> None:
    check_new_password(password, username="cleo")


def test_the_list_is_the_packaged_one_not_typed_here() -> None:
    common = common_passwords()
    assert len(common) > 25_000
    assert {"password1234", "qwertyuiop12", "123456"} <= common
