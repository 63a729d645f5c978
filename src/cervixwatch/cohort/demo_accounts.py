"""Demo accounts: one user of each role on the SYNTHETIC demo database (`make demo`).

Each run gives every demo user a new random password (`secrets.token_urlsafe`), which is
printed once and stored only as its Argon2 hash, so the credentials printed last always work
and none is ever written to the repository. The care team `DEMO_TEAM` holds every demo woman;
the demo clinician is in it; the demo patient's account is linked to the first demo woman (by
hospital number) with an active pregnancy.

Refused on a database holding any woman who is not a synthetic demo patient: accounts with
printed passwords, and a clinician who sees everyone, belong on the demo database only.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app import accounts
from cervixwatch.store import accounts as account_store
from cervixwatch.store.models import Role

DEMO_TEAM: Final = "Preterm birth clinic"
#: The demo cohort's hospital numbers (`cohort.people.hospital_number`).
_DEMO_HOSPITAL_NUMBER: Final = re.compile(r"DEMO\d{6}")
#: The demo users, in the order they are printed.
DEMO_USERS: Final = (
    ("clinician", Role.CLINICIAN, "Demo clinician"),
    ("patient", Role.PATIENT, "Demo patient"),
    ("admin", Role.ADMIN, "Demo admin"),
    ("auditor", Role.AUDITOR, "Demo auditor"),
    ("quality", Role.QUALITY_LEAD, "Demo quality lead"),
)


class NotADemoDatabase(Exception):
    """The database is not (only) the demo's, or cannot take the demo accounts."""


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: Role
    password: str
    #: What the account sees, by ids only ("care team ...: 500 women", "patient id ...").
    note: str


def _new_password() -> str:
    return secrets.token_urlsafe(18)


def make_demo_accounts(
    sessions: sessionmaker[Session], *, new_password: Callable[[], str] = _new_password
) -> list[DemoAccount]:
    """Make the demo users (or give those already made new passwords, enabled and unlocked)
    and put every demo woman under `DEMO_TEAM`; returns their credentials."""
    with sessions() as session:
        women = account_store.patients_for_linking(session)
    if not women:
        raise NotADemoDatabase("the database holds no patients: load the demo cohort first")
    others = sum(
        number is None or not _DEMO_HOSPITAL_NUMBER.fullmatch(number) for _, number, _, _ in women
    )
    if others:
        raise NotADemoDatabase(
            f"{others} patients are not synthetic demo patients: demo accounts are made only"
            " on a demo database"
        )
    accounts.assign_many_to_team(sessions, DEMO_TEAM, [w[0] for w in women])
    made = []
    for username, role, display_name in DEMO_USERS:
        password = new_password()
        with sessions() as session:
            existing = account_store.user_by_username(session, username)
        if existing is None:
            patient_id = _patient_to_link(women) if role == Role.PATIENT else None
            teams = (DEMO_TEAM,) if role == Role.CLINICIAN else ()
            account = accounts.create_user(
                sessions,
                username,
                role,
                password=password,
                display_name=display_name,
                patient_id=patient_id,
                teams=teams,
            )
        elif existing.role != role:
            raise NotADemoDatabase(
                f"user {username!r} exists with the role {existing.role.value}: not changed"
            )
        else:
            account = accounts.update_user(
                sessions,
                username,
                disabled=False,
                unlock=True,
                password=password,
                add_teams=(DEMO_TEAM,) if role == Role.CLINICIAN else (),
            )
        made.append(DemoAccount(username, role, password, _note(account, len(women))))
    return made


def _patient_to_link(women: Sequence[tuple[str, str | None, bool, bool]]) -> str:
    for patient_id, _, active, has_account in women:
        if active and not has_account:
            return patient_id
    raise NotADemoDatabase("no demo woman with an active pregnancy is free for the patient user")


def _note(account: accounts.Account, women: int) -> str:
    user = account.user
    if user.role == Role.CLINICIAN:
        return f'care team "{DEMO_TEAM}": {women} women'
    if user.role == Role.PATIENT:
        return f"her own record only (patient id {user.patient_id})"
    if user.role == Role.ADMIN:
        return "accounts and care teams; no clinical data"
    if user.role == Role.QUALITY_LEAD:
        return "the population audit of the demo network (counts only) at /quality/audit"
    return "the audit log and the population audit; no clinical data"


def credentials_text(made: Sequence[DemoAccount], app_url: str) -> str:
    """The printout: where to sign in, and each demo user's role, username and password."""
    base = app_url.rstrip("/")
    width = max(len("USERNAME"), *(len(a.username) for a in made))
    role_width = max(len("ROLE"), *(len(a.role.value) for a in made))
    secret_width = max(len("PASSWORD"), *(len(a.password) for a in made))
    lines = [
        "Demo accounts (SYNTHETIC data only). New passwords are made on every run and shown",
        "only here; the last ones printed are the ones that work.",
        f"  Sign in at {base}/ (clinicians see the worklist, the patient her own pregnancy);",
        f"  integrations: POST {base}/auth/sign-in, or an API token (cervixwatch users token).",
        "",
        f"  {'ROLE':<{role_width}}  {'USERNAME':<{width}}  {'PASSWORD':<{secret_width}}  SEES",
    ]
    lines += [
        f"  {a.role.value:<{role_width}}  {a.username:<{width}}  "
        f"{a.password:<{secret_width}}  {a.note}"
        for a in made
    ]
    return "\n".join(lines)
