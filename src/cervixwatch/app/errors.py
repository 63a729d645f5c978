"""What a use case answers when it cannot do what was asked. The web layer turns these into
HTTP answers (404, 409, 422), the command line into messages; none of them leaves anything
written, since each use case writes in one transaction.
"""

from __future__ import annotations

from typing import Any

from cervixwatch.store.records import NotFound

__all__ = ["Conflict", "InvalidField", "NotFound", "OutOfScope", "PreconditionFailed"]


class Conflict(Exception):
    """The change contradicts what is stored (a hospital number already in use, a second
    active pregnancy, a condition recorded twice)."""


class PreconditionFailed(Conflict):
    """The request was made for another version of what it changes (an `If-Match` that does
    not name the version stored now): nothing was changed."""


class InvalidField(ValueError):
    """A value the request gave cannot be right: `field` names it as the request named it."""

    def __init__(self, field: str, message: str, value: Any = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.value = value


class OutOfScope(Exception):
    """The woman is stored, but the caller may not write her record (another care team's):
    said only where the request itself already names her (her hospital number in an import)."""
