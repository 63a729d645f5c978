"""What the admin and audit pages share: their access policies, a form's problems as the page
shows them (each beside its field, and a summary linking to each), pages of a list, and the
one-line notices a page shows after a change.

Admins manage accounts and care teams and read no clinical data; auditors read the audit log
(`docs/security.md`, roles). Every admin page's request is in the audit log: a change names
the account it changed (`web.access.audit_target`), a care team given to a clinician is an
"access-grant" and a password reset a "password-reset"; the auditors' reads are
"audit-read", and their export "audit-export".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode

from cervixwatch.access.principal import Role
from cervixwatch.web.access import SignedIn

ADMIN_PAGES: Final = SignedIn(frozenset({Role.ADMIN}), audit_action="user-admin")
AUDIT_PAGES: Final = SignedIn(frozenset({Role.AUDITOR}), audit_action="audit-read")
AUDIT_EXPORT: Final = SignedIn(frozenset({Role.AUDITOR}), audit_action="audit-export")

#: The accounts or entries a page lists.
PAGE_SIZE: Final = 50

#: Role names as the pages show them.
ROLE_LABELS: Final = {
    Role.CLINICIAN: "Clinician",
    Role.PATIENT: "Patient",
    Role.ADMIN: "Admin",
    Role.AUDITOR: "Auditor",
    Role.QUALITY_LEAD: "Quality lead",
}
STATE_LABELS: Final = {"active": "Active", "locked": "Locked", "disabled": "Disabled"}


@dataclass(frozen=True, slots=True)
class Problem:
    """One error of a form: its message, and the id of the field it is about (None: the
    form as a whole)."""

    message: str
    field_id: str | None = None

    @property
    def href(self) -> str | None:
        return f"#{self.field_id}" if self.field_id else None


def problems(errors: Mapping[str, str], field_ids: Mapping[str, str]) -> list[Problem]:
    """The summary of a form's `errors` (by field name; "" for the whole form), each linked
    to its field's id."""
    return [Problem(message, field_ids.get(name)) for name, message in errors.items()]


def sentence(text: str) -> str:
    """A use case's message as a sentence: "1 to 64 characters" -> "1 to 64 characters."."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


@dataclass(frozen=True, slots=True)
class Pages:
    """Where a list is: page `page` (from 1) of `pages`, `size` a page, `total` in all."""

    page: int
    pages: int
    size: int
    total: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def first_shown(self) -> int:
        return 0 if self.total == 0 else self.offset + 1

    @property
    def last_shown(self) -> int:
        return min(self.total, self.offset + self.size)


def page_number(raw: str) -> int:
    """The page asked for: a whole number from 1; anything else is the first page."""
    raw = raw.strip()
    return max(1, int(raw)) if raw.isascii() and raw.isdigit() and len(raw) <= 7 else 1


def pages_of(total: int, asked: int, size: int = PAGE_SIZE) -> Pages:
    """Page `asked` of a list of `total`, kept within the pages there are (a page past the
    end is the last one)."""
    count = max(1, -(-total // size))
    return Pages(min(max(1, asked), count), count, size, total)


def query_string(values: Mapping[str, str | int | None]) -> str:
    """A query string of the values given (empty ones left out)."""
    return urlencode({k: v for k, v in values.items() if v not in ("", None)})
