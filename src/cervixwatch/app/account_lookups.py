"""The account and ownership lookups the web's access checks and sign-in make inside a
session they already hold: whose a patient or pregnancy is, whether she is in a clinician's
care teams, the account behind an OIDC subject or an id, and a user's API tokens.

Named here so that the web reaches the store only through `app/`; the use cases that open
their own session (signing in, issuing tokens, managing accounts) are `app.accounts`.
"""

from __future__ import annotations

from cervixwatch.store.accounts import (
    patient_exists,
    patient_in_teams,
    patient_of_pregnancy,
    tokens_of,
    user_by_id,
    user_by_oidc_subject,
)

__all__ = [
    "patient_exists",
    "patient_in_teams",
    "patient_of_pregnancy",
    "tokens_of",
    "user_by_id",
    "user_by_oidc_subject",
]
