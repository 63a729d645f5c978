"""Every route of the app, asked by every role (anonymous included): the expected answer for
each cell, written out below per kind of route. A route that is not in `ROUTES` fails
`test_every_route_is_in_the_matrix`, and one without a declared policy answers 500 to all
(so its row fails too).

The world: women X and Y under care team A, woman Z under team B. Users: a clinician of A,
a clinician of B, patient X (linked to X's record), patient Z, an admin and an auditor.
Every request is about woman X (her ids in the path), so:
- the clinician of A may (the answer is the route's own: 200, 201, 204, or 422 for the empty
  body the matrix sends to writes);
- the clinician of B and patient Z get 404, as for an id that does not exist;
- patient X may read her record (the reviews of her symptom reports included) and add symptom
  reports, and gets 403 for other writes (reviewing her reports among them);
- admins and auditors get 403 on clinical data; anonymous callers get 401.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.routing import BaseRoute, Mount, Route

from cervixwatch.app import account_admin, accounts
from cervixwatch.settings import Settings
from cervixwatch.store.models import Role
from cervixwatch.web.access import Public, policy_of
from cervixwatch.web.app import create_app
from tests.population.audit_rows import parquet_of, row
from tests.store.tables import delete_everything
from tests.web.accounts import TEAM, bearer, make_user, test_settings, under_team
from tests.web.api_builders import at, ok, seed
from tests.web.conftest import TODAY
from tests.web.test_api_records import KINDS

OTHER_TEAM = "Other team"

#: The columns of the matrix.
ROLES = (
    "anonymous",
    "clinician",
    "other-clinician",
    "patient",
    "other-patient",
    "admin",
    "auditor",
    "quality-lead",
)

#: Expected answers: "ok" means the request passed access control and the route answered
#: for itself (any status below 500 other than 401, 403 and 404).
OK = "ok"
CATEGORIES: dict[str, dict[str, int | str]] = {
    # Anyone: what reveals no patient data.
    "public": dict.fromkeys(ROLES, OK),
    # The sign-in page's form, posted without the token of the page it came from (login
    # CSRF, issue 12): refused for everyone (tests/web/test_login_csrf.py signs in with it).
    "sign-in-form": dict.fromkeys(ROLES, 403),
    # One woman's record, read.
    "her-record-read": {
        "anonymous": 401,
        "clinician": OK,
        "other-clinician": 404,
        "patient": OK,
        "other-patient": 404,
        "admin": 403,
        "auditor": 403,
        "quality-lead": 403,
    },
    # One woman's record, changed by her care team only.
    "her-record-write": {
        "anonymous": 401,
        "clinician": OK,
        "other-clinician": 404,
        "patient": 403,
        "other-patient": 404,
        "admin": 403,
        "auditor": 403,
        "quality-lead": 403,
    },
    # Her symptom reports: she may add her own.
    "her-symptoms-write": {
        "anonymous": 401,
        "clinician": OK,
        "other-clinician": 404,
        "patient": OK,
        "other-patient": 404,
        "admin": 403,
        "auditor": 403,
        "quality-lead": 403,
    },
    # Lists over many women (worklist, registration, import): clinicians, narrowed to their
    # teams' women.
    "clinician-list": {
        "anonymous": 401,
        "clinician": OK,
        "other-clinician": OK,
        "patient": 403,
        "other-patient": 403,
        "admin": 403,
        "auditor": 403,
        "quality-lead": 403,
    },
    # FHIR search: clinicians (their teams' women) and patients (their own record).
    "fhir-search": {
        "anonymous": 401,
        "clinician": OK,
        "other-clinician": OK,
        "patient": OK,
        "other-patient": OK,
        "admin": 403,
        "auditor": 403,
        "quality-lead": 403,
    },
    # A Bulk Data export of one care team (`Group/{team_id}/$export`): its clinicians; a
    # clinician of another team is told there is no such Group.
    "care-team-export": {
        "anonymous": 401,
        "clinician": OK,
        "other-clinician": 404,
        "patient": 403,
        "other-patient": 403,
        "admin": 403,
        "auditor": 403,
        "quality-lead": 403,
    },
    # A Bulk Data export's status and files: only the clinician who kicked it off
    # (tests/web/test_bulk_export.py); here, a job no one started, 404 to every clinician.
    "bulk-export-job": {
        "anonymous": 401,
        "clinician": 404,
        "other-clinician": 404,
        "patient": 403,
        "other-patient": 403,
        "admin": 403,
        "auditor": 403,
        "quality-lead": 403,
    },
    # One's own account and tokens.
    "signed-in": {
        "anonymous": 401,
        "clinician": OK,
        "other-clinician": OK,
        "patient": OK,
        "other-patient": OK,
        "admin": OK,
        "auditor": OK,
        "quality-lead": OK,
    },
    "admin": {
        "anonymous": 401,
        "clinician": 403,
        "other-clinician": 403,
        "patient": 403,
        "other-patient": 403,
        "admin": OK,
        "auditor": 403,
        "quality-lead": 403,
    },
    # Pages for anyone signed in: the anonymous are sent to sign in.
    "page-signed-in": {
        "anonymous": 303,
        "clinician": OK,
        "other-clinician": OK,
        "patient": OK,
        "other-patient": OK,
        "admin": OK,
        "auditor": OK,
        "quality-lead": OK,
    },
    # Pages: as their API counterparts, except that the anonymous are sent to sign in.
    "page-clinician-list": {
        "anonymous": 303,
        "clinician": OK,
        "other-clinician": OK,
        "patient": 403,
        "other-patient": 403,
        "admin": 403,
        "auditor": 403,
        "quality-lead": 403,
    },
    "page-her-record-read": {
        "anonymous": 303,
        "clinician": OK,
        "other-clinician": 404,
        "patient": OK,
        "other-patient": 404,
        "admin": 403,
        "auditor": 403,
        "quality-lead": 403,
    },
    "page-her-record-write": {
        "anonymous": 303,
        "clinician": OK,
        "other-clinician": 404,
        "patient": 403,
        "other-patient": 404,
        "admin": 403,
        "auditor": 403,
        "quality-lead": 403,
    },
    # SMART's consent page (issue 14): clinicians and patients let apps in; admins and
    # auditors read no clinical data, so they let no app read it either.
    "page-smart-consent": {
        "anonymous": 303,
        "clinician": OK,
        "other-clinician": OK,
        "patient": OK,
        "other-patient": OK,
        "admin": 403,
        "auditor": 403,
        "quality-lead": 403,
    },
    # The clinic's settings page: admins only; the anonymous are sent to sign in.
    "page-clinic-settings": {
        "anonymous": 303,
        "clinician": 403,
        "other-clinician": 403,
        "patient": 403,
        "other-patient": 403,
        "admin": OK,
        "auditor": 403,
        "quality-lead": 403,
    },
    # The form for a report taken by telephone: her care team's; her own clinicians' form is
    # not hers, so she is sent to her own symptom report form instead.
    "page-phone-report": {
        "anonymous": 303,
        "clinician": OK,
        "other-clinician": 404,
        "patient": 303,
        "other-patient": 404,
        "admin": 403,
        "auditor": 403,
        "quality-lead": 403,
    },
    # The admins' pages (accounts, care teams) and the auditors' (the audit log): as their
    # API counterparts, except that the anonymous are sent to sign in.
    "page-admin": {
        "anonymous": 303,
        "clinician": 403,
        "other-clinician": 403,
        "patient": 403,
        "other-patient": 403,
        "admin": OK,
        "auditor": 403,
        "quality-lead": 403,
    },
    "page-auditor": {
        "anonymous": 303,
        "clinician": 403,
        "other-clinician": 403,
        "patient": 403,
        "other-patient": 403,
        "admin": 403,
        "auditor": OK,
        "quality-lead": 403,
    },
    # The population audit (issue 15): counts only, for auditors and quality leads.
    "page-population-audit": {
        "anonymous": 303,
        "clinician": 403,
        "other-clinician": 403,
        "patient": 403,
        "other-patient": 403,
        "admin": 403,
        "auditor": OK,
        "quality-lead": OK,
    },
    # The patient's portal: her own record, found from her account (no ids in the path).
    "page-patient": {
        "anonymous": 303,
        "clinician": 403,
        "other-clinician": 403,
        "patient": OK,
        "other-patient": OK,
        "admin": 403,
        "auditor": 403,
        "quality-lead": 403,
    },
    # The advice page of one of her symptom reports.
    "page-her-report": {
        "anonymous": 303,
        "clinician": 403,
        "other-clinician": 403,
        "patient": OK,
        "other-patient": 404,
        "admin": 403,
        "auditor": 403,
        "quality-lead": 403,
    },
    # Prometheus metrics: no user's sign-in opens them, only the metrics token or this host's
    # loopback (the matrix's test client is neither: web/operations.py).
    "metrics-scraper": dict.fromkeys(ROLES, 403),
    # CDS Hooks: an EHR's signed JWT, never a CervixWatch sign-in or token (tests/cds_hooks).
    "ehr-jwt": dict.fromkeys(ROLES, 401),
    # CDS Hooks discovery: service definitions, no patient data, so answered without a JWT;
    # a bearer that is sent must be the EHR's JWT (our own tokens are not): 401.
    "cds-discovery": {**dict.fromkeys(ROLES, 401), "anonymous": OK},
    "auditor": {
        "anonymous": 401,
        "clinician": 403,
        "other-clinician": 403,
        "patient": 403,
        "other-patient": 403,
        "admin": 403,
        "auditor": OK,
        "quality-lead": 403,
    },
}

_RECORDS = "|".join(k.collection for k in KINDS)

#: Every route (method, path template) and its kind. Record routes are matched by pattern.
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/"): "public",
    ("GET", "/sign-in"): "public",
    ("GET", "/set-password"): "public",
    ("POST", "/set-password"): "public",
    ("POST", "/sign-in"): "sign-in-form",
    ("POST", "/sign-out"): "page-signed-in",
    ("GET", "/account"): "page-signed-in",
    ("GET", "/learn"): "page-signed-in",
    ("GET", "/worklist"): "page-clinician-list",
    # The worklist as CSV, and its event stream (no data: "changed" only).
    ("GET", "/worklist.csv"): "page-clinician-list",
    ("GET", "/worklist/events"): "page-clinician-list",
    # Device reports that matched no woman (issue 14): every clinician may see the queue.
    ("GET", "/intake/review"): "page-clinician-list",
    ("POST", "/intake/review/{report_id}/match"): "page-clinician-list",
    ("POST", "/intake/review/{report_id}/discard"): "page-clinician-list",
    ("POST", "/dicomweb/studies"): "clinician-list",
    ("GET", "/pregnancies/{pregnancy_id}"): "page-her-record-read",
    # A patient cannot submit these forms, so she is not shown them either.
    ("GET", "/pregnancies/{pregnancy_id}/record/{kind}"): "page-her-record-write",
    ("POST", "/pregnancies/{pregnancy_id}/record/{kind}"): "page-her-record-write",
    # Correcting one of her records (issue 13, part 3): her care team only.
    ("GET", "/pregnancies/{pregnancy_id}/records/{collection}/{record_id}"): (
        "page-her-record-write"
    ),
    ("POST", "/pregnancies/{pregnancy_id}/records/{collection}/{record_id}/amend"): (
        "page-her-record-write"
    ),
    ("POST", "/pregnancies/{pregnancy_id}/records/{collection}/{record_id}/entered-in-error"): (
        "page-her-record-write"
    ),
    # The clinic letter is written by her care team: the form, the letter, the old address.
    ("GET", "/pregnancies/{pregnancy_id}/letter"): "page-her-record-write",
    ("POST", "/pregnancies/{pregnancy_id}/letter"): "page-her-record-write",
    ("GET", "/pregnancies/{pregnancy_id}/letter.pdf"): "page-her-record-write",
    # Reviewing one of her symptom reports on her page, and a report taken by telephone
    # (issue 13, part 1): her care team only.
    ("POST", "/pregnancies/{pregnancy_id}/reports/{report_id}/review"): "page-her-record-write",
    ("GET", "/pregnancies/{pregnancy_id}/phone-report"): "page-phone-report",
    ("POST", "/pregnancies/{pregnancy_id}/phone-report"): "page-her-record-write",
    # Registering a referral (issue 13, part 2): any clinician registers a woman (her own
    # teams get her); her pregnancy is registered by her care team.
    ("GET", "/patients/new"): "page-clinician-list",
    ("POST", "/patients/new"): "page-clinician-list",
    ("GET", "/patients/{patient_id}/pregnancies/new"): "page-her-record-write",
    ("POST", "/patients/{patient_id}/pregnancies/new"): "page-her-record-write",
    ("GET", "/pregnancies"): "page-clinician-list",
    ("GET", "/pregnancies/{pregnancy_id}/close"): "page-her-record-write",
    ("POST", "/pregnancies/{pregnancy_id}/close"): "page-her-record-write",
    ("GET", "/pregnancies/{pregnancy_id}/details"): "page-her-record-write",
    ("POST", "/pregnancies/{pregnancy_id}/details"): "page-her-record-write",
    # Booking her scans (issue 13, part 4): her care team only.
    ("GET", "/pregnancies/{pregnancy_id}/book-scan"): "page-her-record-write",
    ("POST", "/pregnancies/{pregnancy_id}/book-scan"): "page-her-record-write",
    ("POST", "/pregnancies/{pregnancy_id}/bookings/{booking_id}/cancel"): "page-her-record-write",
    ("GET", "/admin/clinic"): "page-clinic-settings",
    ("POST", "/admin/clinic"): "page-clinic-settings",
    ("GET", "/my"): "page-patient",
    ("GET", "/my/symptoms"): "page-patient",
    ("POST", "/my/symptoms"): "page-patient",
    ("GET", "/my/symptoms/{report_id}"): "page-her-report",
    ("POST", "/auth/sign-in"): "public",
    ("POST", "/auth/set-password"): "public",
    ("POST", "/auth/sign-out"): "signed-in",
    ("GET", "/auth/me"): "signed-in",
    ("POST", "/api/tokens"): "signed-in",
    ("GET", "/api/tokens"): "signed-in",
    ("DELETE", "/api/tokens/{token_id}"): "signed-in",
    ("POST", "/api/patients"): "clinician-list",
    ("GET", "/api/patients"): "clinician-list",
    ("GET", "/api/patients/{patient_id}"): "her-record-read",
    ("PATCH", "/api/patients/{patient_id}"): "her-record-write",
    ("POST", "/api/patients/{patient_id}/pregnancies"): "her-record-write",
    ("GET", "/api/patients/{patient_id}/pregnancies"): "her-record-read",
    ("GET", "/api/pregnancies/{pregnancy_id}"): "her-record-read",
    ("PATCH", "/api/pregnancies/{pregnancy_id}"): "her-record-write",
    ("GET", "/api/pregnancies/{pregnancy_id}/assessment"): "her-record-read",
    ("POST", "/api/pregnancies/{pregnancy_id}/close"): "her-record-write",
    ("GET", "/api/pregnancies/{pregnancy_id}/appointments"): "her-record-read",
    ("POST", "/api/pregnancies/{pregnancy_id}/appointments"): "her-record-write",
    ("POST", "/api/pregnancies/{pregnancy_id}/appointments/{booking_id}/cancel"): (
        "her-record-write"
    ),
    ("GET", "/api/worklist"): "clinician-list",
    # Reviews of her symptom reports: her care team records them; she may read them.
    ("POST", "/api/symptom-reports/{record_id}/reviews"): "her-record-write",
    ("GET", "/api/symptom-reports/{record_id}/reviews"): "her-record-read",
    ("GET", "/api/symptom-reviews/{review_id}"): "her-record-read",
    ("DELETE", "/api/symptom-reviews/{review_id}"): "her-record-write",
    ("GET", "/fhir/metadata"): "public",
    ("GET", "/cds-services"): "cds-discovery",
    ("POST", "/cds-services/{service_id}"): "ehr-jwt",
    ("POST", "/cds-services/{service_id}/feedback"): "ehr-jwt",
    ("GET", "/cds-services/rules/{profile_id}/{rule_id}"): "public",
    ("GET", "/.well-known/smart-configuration"): "public",
    # SMART's token endpoint: the app proves itself in the request (a code and its PKCE
    # verifier, or a signed JWT), not by a user's sign-in.
    ("POST", "/oauth/token"): "public",
    ("GET", "/oauth/authorize"): "page-smart-consent",
    # Launched by an EHR: a clinician's (the woman read joins her care teams).
    ("GET", "/smart/launch"): "page-clinician-list",
    ("GET", "/smart/callback"): "page-clinician-list",
    ("POST", "/oauth/authorize"): "page-smart-consent",
    ("GET", "/fhir/.well-known/smart-configuration"): "public",
    ("GET", "/api/cds-hooks/feedback"): "auditor",
    # The operator's probes (no data) and metrics (counts only).
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
    ("GET", "/metrics"): "metrics-scraper",
    ("POST", "/fhir"): "clinician-list",
    ("POST", "/fhir/"): "clinician-list",
    # Writes of one resource: creating is as a transaction; changing names her record.
    ("POST", "/fhir/{resource_type}"): "clinician-list",
    ("PUT", "/fhir/{resource_type}"): "clinician-list",
    ("PUT", "/fhir/{resource_type}/{resource_id}"): "clinician-list",
    ("DELETE", "/fhir/{resource_type}/{resource_id}"): "her-record-write",
    ("GET", "/fhir/Patient/{patient_id}/$everything"): "her-record-read",
    ("POST", "/fhir/Patient/{patient_id}/$everything"): "her-record-read",
    ("POST", "/fhir/Patient/$match"): "clinician-list",
    # Bulk Data $export (the matrix sends no `Prefer: respond-async`: 400, no job starts).
    ("GET", "/fhir/$export"): "clinician-list",
    ("POST", "/fhir/$export"): "clinician-list",
    ("GET", "/fhir/Patient/$export"): "clinician-list",
    ("POST", "/fhir/Patient/$export"): "clinician-list",
    ("GET", "/fhir/Group/{team_id}/$export"): "care-team-export",
    ("POST", "/fhir/Group/{team_id}/$export"): "care-team-export",
    ("GET", "/fhir/$export-status/{job_id}"): "bulk-export-job",
    ("DELETE", "/fhir/$export-status/{job_id}"): "bulk-export-job",
    ("GET", "/fhir/$export-files/{job_id}/{resource_type}.ndjson"): "bulk-export-job",
    ("GET", "/fhir/{resource_type}"): "fhir-search",
    ("POST", "/fhir/{resource_type}/_search"): "fhir-search",
    ("GET", "/fhir/{resource_type}/{resource_id}"): "her-record-read",
    ("GET", "/fhir/{resource_type}/{resource_id}/_history"): "her-record-read",
    ("GET", "/fhir/{resource_type}/{resource_id}/_history/{version_id}"): "her-record-read",
    # CervixWatch's own CodeSystem and symptom Questionnaire: no one's data.
    ("GET", "/fhir/CodeSystem"): "signed-in",
    ("GET", "/fhir/CodeSystem/{resource_id}"): "signed-in",
    ("GET", "/fhir/Questionnaire"): "signed-in",
    ("GET", "/fhir/Questionnaire/{resource_id}"): "signed-in",
    ("GET", "/api/admin/users"): "admin",
    ("POST", "/api/admin/users"): "admin",
    ("PATCH", "/api/admin/users/{username}"): "admin",
    ("GET", "/api/admin/teams"): "admin",
    ("POST", "/api/admin/teams/{team}/patients"): "admin",
    ("GET", "/api/admin/notifications"): "admin",
    ("GET", "/api/admin/notifications/deliveries"): "admin",
    ("POST", "/api/admin/notifications/{team}/contacts"): "admin",
    ("DELETE", "/api/admin/notifications/{team}/contacts/{contact_id}"): "admin",
    ("PUT", "/api/admin/notifications/{team}/escalation"): "admin",
    ("GET", "/admin/users"): "page-admin",
    ("GET", "/admin/users/new"): "page-admin",
    ("POST", "/admin/users/new"): "page-admin",
    ("GET", "/admin/users/{user_id}"): "page-admin",
    ("POST", "/admin/users/{user_id}/role"): "page-admin",
    ("POST", "/admin/users/{user_id}/teams"): "page-admin",
    ("POST", "/admin/users/{user_id}/teams/remove"): "page-admin",
    ("POST", "/admin/users/{user_id}/disable"): "page-admin",
    ("POST", "/admin/users/{user_id}/enable"): "page-admin",
    ("POST", "/admin/users/{user_id}/unlock"): "page-admin",
    ("POST", "/admin/users/{user_id}/reset-password"): "page-admin",
    ("GET", "/admin/teams"): "page-admin",
    ("POST", "/admin/teams"): "page-admin",
    ("GET", "/admin/teams/{team_id}"): "page-admin",
    ("POST", "/admin/teams/{team_id}/members"): "page-admin",
    ("POST", "/admin/teams/{team_id}/members/remove"): "page-admin",
    ("GET", "/quality/audit"): "page-population-audit",
    ("GET", "/quality/audit/{name}"): "page-population-audit",
    ("GET", "/quality/audit/{name}.pdf"): "page-population-audit",
    ("GET", "/quality/models/{model_id}"): "page-population-audit",
    ("GET", "/quality/models/{model_id}.pdf"): "page-population-audit",
    ("GET", "/audit"): "page-auditor",
    ("GET", "/audit/chain"): "page-auditor",
    ("GET", "/audit/export.csv"): "page-auditor",
    ("GET", "/audit/{event_id}"): "page-auditor",
    ("GET", "/api/audit-events"): "auditor",
    ("GET", "/api/audit-events.ndjson"): "auditor",
    ("GET", "/fhir/AuditEvent"): "auditor",
    ("GET", "/fhir/AuditEvent/{event_id}"): "auditor",
}


def _record_route(method: str, path: str) -> str | None:
    """The kind of one of the generated record routes, or None if `path` is not one."""
    if re.fullmatch(rf"/api/(patients|pregnancies)/\{{\w+\}}/({_RECORDS})", path):
        if method == "GET":
            return "her-record-read"
        return "her-symptoms-write" if path.endswith("/symptom-reports") else "her-record-write"
    if re.fullmatch(rf"/api/({_RECORDS})/\{{record_id\}}", path):
        return "her-record-read" if method == "GET" else "her-record-write"
    # Corrections with a reason (issue 13, part 3): her care team only.
    if re.fullmatch(rf"/api/({_RECORDS})/\{{record_id\}}/(amendments|entered-in-error)", path):
        return "her-record-write" if method == "POST" else None
    return None


# --- enumerating the app's routes ---------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    route: Any
    hidden: bool


def _walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if callable(contexts):  # an included router (FastAPI >= 0.13x)
            for context in contexts():
                yield context.path, context.original_route
        elif isinstance(route, Mount):
            yield prefix + route.path, route
        else:
            yield prefix + getattr(route, "path", "?"), route


def app_endpoints(app: FastAPI) -> list[Endpoint]:
    found = []
    for path, route in _walk(app.router.routes):
        if isinstance(route, APIRoute):
            for method in sorted(route.methods or ()):
                found.append(Endpoint(method, path, route, not route.include_in_schema))
        elif isinstance(route, Route):
            for method in sorted(route.methods or {"GET"}):
                found.append(Endpoint(method, path, route, True))
        else:
            found.append(Endpoint("*", path, route, True))
    return found


#: Routes the framework or static files serve, answering the same to everyone.
FRAMEWORK_ROUTES = {"/openapi.json", "/docs", "/docs/static", "/static"}


# --- the world --------------------------------------------------------------------------------


@dataclass
class World:
    client: TestClient
    tokens: dict[str, str]
    ids: dict[str, str]


@pytest.fixture(scope="module")
def world(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    delete_everything(engine)
    # The population audit's rows (counts only): a network of one pregnancy is enough here.
    population = tmp_path_factory.mktemp("population")
    parquet_of(population, [row(1)])
    settings = test_settings(engine, population_dir=population)
    with TestClient(create_app(settings, today=lambda: TODAY)) as client:
        tokens: dict[str, str] = {}
        clinician, tokens["clinician"] = make_user(client, Role.CLINICIAN, teams=(TEAM,))
        _, tokens["other-clinician"] = make_user(client, Role.CLINICIAN, teams=(OTHER_TEAM,))
        client.headers.update(bearer(tokens["clinician"]))
        x = seed(client, "X1", at("19+0").with_prior_sptb("30+0").with_length(30, at="18+0"))
        seed(client, "Y1", at("22+0"))
        z = seed(client, "Z1", at("20+0"))
        under_team(client, z.patient_id, OTHER_TEAM)
        _, tokens["patient"] = make_user(client, Role.PATIENT, patient_id=x.patient_id)
        _, tokens["other-patient"] = make_user(client, Role.PATIENT, patient_id=z.patient_id)
        _, tokens["admin"] = make_user(client, Role.ADMIN)
        _, tokens["auditor"] = make_user(client, Role.AUDITOR)
        _, tokens["quality-lead"] = make_user(client, Role.QUALITY_LEAD)
        ids = {"patient_id": x.patient_id, "pregnancy_id": x.pregnancy_id, "username": clinician}
        # The admin pages change the account they name: a spare one, so that no user of the
        # matrix is disabled or reset by them; the team's changes, sent empty, change nothing.
        spare, _ = make_user(client, Role.AUDITOR)
        sessions = client.app.state.sessions  # type: ignore[attr-defined]
        ids["user_id"] = account_admin.user_id_of(sessions, spare) or ""
        ids["team_id"] = next(
            t.id for t in accounts.list_team_summaries(sessions) if t.name == TEAM
        )
        for kind in KINDS:
            owner = ids["patient_id" if kind.owner == "patients" else "pregnancy_id"]
            made = ok(
                client.post(f"/api/{kind.owner}/{owner}/{kind.collection}", json=kind.create), 201
            )
            ids[kind.collection] = str(made["id"])
        report = ids["symptom-reports"]
        review = ok(
            client.post(f"/api/symptom-reports/{report}/reviews", json={"outcome": "admitted"}),
            201,
        )
        ids["review_id"] = str(review["id"])
        booking = {
            "scheduled_on": (TODAY + dt.timedelta(days=3)).isoformat(),
            "scheduled_at": "09:30",
        }
        booked = ok(
            client.post(f"/api/pregnancies/{x.pregnancy_id}/appointments", json=booking), 201
        )
        ids["booking_id"] = str(booked["id"])
        everything = ok(client.get(f"/fhir/Patient/{x.patient_id}/$everything"))
        observation = next(
            e["resource"]
            for e in everything["entry"]
            if e["resource"]["resourceType"] == "Observation"
        )
        ids["observation"] = observation["id"]
        client.headers.pop("Authorization")
        yield World(client, tokens, ids)
    delete_everything(engine)


def _path(world: World, endpoint: Endpoint) -> str:
    path = endpoint.path
    if "{collection}/{record_id}" in path:  # a page correcting one of her records
        path = path.replace(
            "{collection}/{record_id}", f"cervical-lengths/{world.ids['cervical-lengths']}"
        )
    if "{record_id}" in path:
        collection = path.split("/")[2]
        path = path.replace("{record_id}", world.ids[collection])
    replacements = {
        "{patient_id}": world.ids["patient_id"],
        "{pregnancy_id}": world.ids["pregnancy_id"],
        "{resource_type}/{resource_id}": f"Observation/{world.ids['observation']}",
        "CodeSystem/{resource_id}": "CodeSystem/cervixwatch",
        "Questionnaire/{resource_id}": "Questionnaire/symptoms",
        "{resource_type}": "Observation",
        "{token_id}": "no-such-token",
        "{kind}": "cervical-length",
        "{report_id}": world.ids["symptom-reports"],
        "{review_id}": world.ids["review_id"],
        "{booking_id}": world.ids["booking_id"],
        "{username}": world.ids["username"],
        "{team}": "No such team",
        "{contact_id}": "1",
        "{event_id}": "1",
        "{name}": "sbl",
        "{model_id}": "kazemier-2014-recurrence",
        "{user_id}": world.ids["user_id"],
        "{team_id}": world.ids["team_id"],
        "{job_id}": "00000000-0000-4000-8000-000000000000",
        "{version_id}": "1",
        "{path:path}": "Nothing/here",
        "{service_id}": "cervixwatch-patient-view",
        "{profile_id}/{rule_id}": "acog/ACOG142-07",
    }
    for name, value in replacements.items():
        path = path.replace(name, value)
    assert "{" not in path, f"the matrix does not know how to fill {path}"
    return path


def _category(endpoint: Endpoint) -> str | None:
    return ROUTES.get((endpoint.method, endpoint.path)) or _record_route(
        endpoint.method, endpoint.path
    )


def _listing_app() -> FastAPI:
    """The app, built only to list its routes (never started: no database is touched)."""
    return create_app(Settings(database_url="sqlite://"))


def _matrix_endpoints() -> list[Endpoint]:
    return [
        e
        for e in app_endpoints(_listing_app())
        if e.path not in FRAMEWORK_ROUTES and e.method != "*"
    ]


ENDPOINTS = _matrix_endpoints()
#: What the matrix asks: every route but the hidden public ones (the 405 answers for other
#: methods, the FHIR facade's 404 for unknown paths), which answer from the path alone.
CHECKED = [
    e
    for e in ENDPOINTS
    if not (e.hidden and isinstance(policy_of(getattr(e.route, "endpoint", None)), Public))
]


def test_every_route_is_in_the_matrix() -> None:
    missing = [f"{e.method} {e.path}" for e in CHECKED if _category(e) is None]
    assert not missing, f"routes with no row in the access matrix: {missing}"
    assert len(CHECKED) > 60


def test_every_route_declares_its_policy() -> None:
    undeclared = [
        f"{e.method} {e.path}"
        for e in ENDPOINTS
        if policy_of(getattr(e.route, "endpoint", None)) is None
    ]
    assert not undeclared, f"routes without an access policy: {undeclared}"


def test_framework_routes_are_the_documentation_only() -> None:
    app = _listing_app()
    others = {e.path for e in app_endpoints(app) if not isinstance(e.route, APIRoute)}
    assert others <= FRAMEWORK_ROUTES, others


@pytest.mark.parametrize(
    "endpoint",
    CHECKED,
    ids=lambda e: f"{e.method} {e.path}",
)
def test_route_by_role(world: World, endpoint: Endpoint) -> None:
    expected = CATEGORIES[_category(endpoint) or "missing"]
    path = _path(world, endpoint)
    for role in ROLES:
        headers = {} if role == "anonymous" else bearer(world.tokens[role])
        body: dict[str, Any] | None = None
        if endpoint.method in ("POST", "PUT", "PATCH"):
            body = {}
        if endpoint.method == "DELETE" and expected[role] == OK:
            continue  # deleting is checked in the records' own tests; here only refusals
        answer = world.client.request(
            endpoint.method, path, json=body, headers=headers, follow_redirects=False
        )
        want = expected[role]
        if want == OK:
            said = f"{role}: {endpoint.method} {path} answered {answer.status_code}: {answer.text}"
            assert answer.status_code < 500, said
            assert answer.status_code not in (401, 403, 404), said
        else:
            assert answer.status_code == want, (
                f"{role}: {endpoint.method} {path} answered {answer.status_code}, "
                f"expected {want}: {answer.text}"
            )
