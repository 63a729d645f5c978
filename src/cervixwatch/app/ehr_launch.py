"""CervixWatch launched as a SMART on FHIR app by an EHR (issue 14, part 2; SMART App Launch
2.x: "EHR launch" and "standalone launch"), reading the woman's records from the EHR's FHIR
server into CervixWatch.

1. `begin`: the EHR opens `/smart/launch?iss=<its FHIR base>&launch=<opaque>` (an EHR
   launch) or a user opens `/smart/launch?iss=...` (standalone: the EHR asks her which
   patient, scope `launch/patient`). The `iss` must be an EHR configured in
   `settings.smart_ehrs`; its `/.well-known/smart-configuration` gives the endpoints and must
   offer PKCE S256. A `state` and a PKCE verifier are made and the launch kept in the
   database (`smart_launches`); the browser goes to the EHR's authorization endpoint.
2. `finish`: the EHR sends the browser back to `/smart/callback` with `code` and `state`. The
   launch is taken (once, within `LAUNCH_MINUTES`, by the same CervixWatch user), the code
   exchanged at the EHR's token endpoint with the verifier, and with the token the patient
   in context is read from the EHR's FHIR server: the same queries the CDS service's prefetch
   makes (`app.cds_prefetch`), read by the one FHIR reader and stored by the one import
   (`app.importing.import_bundle`) as records sent by the EHR (`ehr:<iss>`), under the
   launching clinician's care teams; her assessment is made as for any import.

The EHR's answers are checked and refused plainly (`LaunchError`, its message shown to the
user, never a stack trace): no `iss` configured, a configuration without S256, a state
unknown, used or expired, a token answer without a patient, records the reader refuses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

import httpx2
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.principal import Principal, Scope
from cervixwatch.app.cds_prefetch import DataUnavailable, FhirAccess, gather
from cervixwatch.app.errors import Conflict, OutOfScope
from cervixwatch.app.importing import Imported, InvalidBundle, RejectedBundle, import_bundle
from cervixwatch.app.patient_identity import Sender
from cervixwatch.app.reassessing import Profiles
from cervixwatch.settings import SmartEhr
from cervixwatch.store import transaction
from cervixwatch.store.models import SmartLaunchRow

#: Minutes a launch may take between leaving for the EHR and coming back.
LAUNCH_MINUTES: Final = 10
#: Seconds the EHR has to answer each request.
TIMEOUT_SECONDS: Final = 10.0


class LaunchError(Exception):
    """The launch cannot go on; the message says why, for the user (no patient data)."""


@dataclass(frozen=True, slots=True)
class Started:
    """Where to send the browser: the EHR's authorization endpoint with the request."""

    authorize_url: str


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _get_json(url: str, token: str | None = None) -> Any:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = httpx2.get(url, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx2.HTTPError as error:
        raise LaunchError(f"the EHR could not be reached ({type(error).__name__})") from None
    if response.status_code != 200:
        raise LaunchError(f"the EHR answered {response.status_code} to {url}")
    try:
        return response.json()
    except ValueError:
        raise LaunchError(f"the EHR's answer to {url} is not JSON") from None


def ehr_of(ehrs: Sequence[SmartEhr], iss: str) -> SmartEhr:
    for ehr in ehrs:
        if ehr.iss.rstrip("/") == iss.rstrip("/"):
            return ehr
    raise LaunchError("this EHR (iss) is not one CervixWatch is set up to be launched from")


def begin(
    sessions: sessionmaker[Session],
    ehrs: Sequence[SmartEhr],
    *,
    iss: str,
    launch: str | None,
    user: Principal,
    redirect_uri: str,
) -> Started:
    """Step 1: the EHR's authorization request, the launch kept until the callback."""
    ehr = ehr_of(ehrs, iss)
    base = ehr.iss.rstrip("/")
    configuration = _get_json(f"{base}/.well-known/smart-configuration")
    if not isinstance(configuration, dict):
        raise LaunchError("the EHR's SMART configuration is not a JSON object")
    authorize, token = (
        configuration.get("authorization_endpoint"),
        configuration.get("token_endpoint"),
    )
    if not isinstance(authorize, str) or not isinstance(token, str):
        raise LaunchError("the EHR's SMART configuration names no authorization or token endpoint")
    if "S256" not in (configuration.get("code_challenge_methods_supported") or []):
        raise LaunchError("the EHR does not offer PKCE S256, which SMART App Launch 2 requires")
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    scope = ehr.scope if launch else ehr.scope.replace("launch ", "launch/patient ", 1)
    if not launch and "launch/patient" not in scope.split():
        scope = f"launch/patient {scope}"
    query = {
        "response_type": "code",
        "client_id": ehr.client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "aud": base,
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    if launch:
        query["launch"] = launch
    now = _now()
    with transaction(sessions) as session:
        session.execute(delete(SmartLaunchRow).where(SmartLaunchRow.expires_at < now))
        session.add(
            SmartLaunchRow(
                state_hash=_hash(state),
                iss=base,
                user_id=user.user_id,
                code_verifier=verifier,
                redirect_uri=redirect_uri,
                token_endpoint=token,
                expires_at=now + dt.timedelta(minutes=LAUNCH_MINUTES),
            )
        )
    joiner = "&" if "?" in authorize else "?"
    return Started(authorize + joiner + urlencode(query))


def _take(session: Session, state: str, user: Principal, now: dt.datetime) -> SmartLaunchRow:
    taken = session.execute(
        update(SmartLaunchRow)
        .where(
            SmartLaunchRow.state_hash == _hash(state),
            SmartLaunchRow.used_at.is_(None),
            SmartLaunchRow.expires_at > now,
        )
        .values(used_at=now)
        .returning(SmartLaunchRow.state_hash)
    ).first()
    row = session.get(SmartLaunchRow, _hash(state)) if taken is not None else None
    if row is None:
        raise LaunchError("this launch is unknown, was used already or took too long: launch again")
    if row.user_id != user.user_id:
        raise LaunchError("this launch was begun by another CervixWatch user: launch again")
    return row


def _token(row: SmartLaunchRow, ehr: SmartEhr, code: str) -> Mapping[str, Any]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": row.redirect_uri,
        "client_id": ehr.client_id,
        "code_verifier": row.code_verifier,
    }
    try:
        response = httpx2.post(row.token_endpoint, data=form, timeout=TIMEOUT_SECONDS)
    except httpx2.HTTPError as error:
        raise LaunchError(
            f"the EHR's token endpoint could not be reached ({type(error).__name__})"
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        said = body.get("error") if isinstance(body, dict) else None
        raise LaunchError(f"the EHR refused the code ({said or response.status_code})")
    if not isinstance(body.get("access_token"), str):
        raise LaunchError("the EHR's token answer has no access_token")
    if not isinstance(body.get("patient"), str):
        raise LaunchError("the EHR's token answer names no patient (launch context)")
    return body


def finish(
    sessions: sessionmaker[Session],
    ehrs: Sequence[SmartEhr],
    *,
    state: str,
    code: str,
    user: Principal,
    today: dt.date,
    profiles: Profiles,
    local_system: str,
) -> Imported:
    """Step 2: the code exchanged, the woman's records read from the EHR and imported."""
    now = _now()
    with transaction(sessions) as session:
        row = _take(session, state, user, now)
        session.expunge(row)
    ehr = ehr_of(ehrs, row.iss)
    answer = _token(row, ehr, code)
    patient_id = str(answer["patient"])
    access = FhirAccess(row.iss, str(answer["access_token"]), TIMEOUT_SECONDS)
    try:
        resources = gather(None, patient_id, access)
    except DataUnavailable as error:
        raise LaunchError(f"her records could not be read from the EHR: {error}") from None
    if not any(r.get("resourceType") == "Patient" and r.get("id") == patient_id for r in resources):
        raise LaunchError("the EHR's FHIR server gave no Patient for the launch's patient")
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [_entry(row.iss, r) for r in _one_patient(resources, patient_id)],
    }
    try:
        return import_bundle(
            sessions,
            bundle,
            today=today,
            profiles=profiles,
            sender=Sender(f"ehr:{row.iss}", local_system),
            # As her import by this clinician would: a woman stored under other care teams
            # is not written to, a new one joins the clinician's teams.
            scope=Scope(user.team_ids),
            new_patient_teams=user.team_ids,
        )
    except OutOfScope:
        raise LaunchError(
            "she is recorded in CervixWatch under care teams you are not in: ask one of them"
        ) from None
    except (InvalidBundle, RejectedBundle, Conflict) as error:
        raise LaunchError(f"her records from the EHR could not be stored: {error}") from None


def _one_patient(resources: list[dict[str, Any]], patient_id: str) -> list[dict[str, Any]]:
    """Her Patient once, and everything else the queries gave (all about her)."""
    out, seen = [], False
    for resource in resources:
        if resource.get("resourceType") == "Patient":
            if resource.get("id") != patient_id or seen:
                continue
            seen = True
        out.append(resource)
    return out


def _entry(base: str, resource: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"resource": resource}
    if isinstance(resource.get("id"), str):
        entry["fullUrl"] = f"{base}/{resource['resourceType']}/{resource['id']}"
    return entry
