"""The signed-in user a request acts for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from cervixwatch.access.smart_scopes import GrantedScopes

__all__ = ["Principal", "Role", "Scope", "SmartGrant", "scope_of"]


class Role(StrEnum):
    """What a user may do (`web.access` holds the rules): clinicians read and write the women
    of their care teams; a patient reads her own record and reports her symptoms; admins
    manage accounts but read no clinical data; auditors read the audit log."""

    CLINICIAN = "clinician"
    PATIENT = "patient"
    ADMIN = "admin"
    AUDITOR = "auditor"
    #: Reads the population audit of the network (counts per unit, quarter and tier), never a
    #: woman's record nor the access audit log (issue 15, part 3).
    QUALITY_LEAD = "quality-lead"


@dataclass(frozen=True, slots=True)
class SmartGrant:
    """What a SMART access token was granted (`app.smart_server`): by which app, its scopes,
    and the woman chosen at launch (None: no patient context)."""

    client_id: str
    scopes: GrantedScopes
    patient_id: str | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    role: Role
    #: How the request proved it: a browser's sign-in cookie or an API bearer token.
    via: Literal["session", "token"]
    #: The woman a patient's account is linked to (None for other roles).
    patient_id: str | None = None
    #: The care teams of a clinician.
    team_ids: frozenset[str] = frozenset()
    #: The sign-in's CSRF token (cookie sign-ins only).
    csrf_token: str | None = None
    #: The sign-in session's id (cookie sign-ins only), to end it.
    session_id: str | None = None
    #: A SMART access token's grant (None: a password sign-in or a plain API token).
    smart: SmartGrant | None = None
    #: Set for one request allowed only by a `patient/` scope: it reaches this woman alone
    #: (`web.access`), whatever else the user could see.
    only_patient_id: str | None = None


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose records a request may see: the women of these care teams, and/or one woman
    (a patient's own record). Empty: no one."""

    team_ids: frozenset[str] = frozenset()
    patient_id: str | None = None


def scope_of(principal: Principal) -> Scope:
    if principal.only_patient_id is not None:
        return Scope(patient_id=principal.only_patient_id)
    return Scope(principal.team_ids, principal.patient_id)
