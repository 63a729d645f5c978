"""An EHR for the CDS Hooks tests: its signing keys and the JWTs it signs (joserfc, with
keys the tests make), a small HTTP server in a thread that serves its JWK Set and, when
given resources, a FHIR server's reads and searches (the `fhirServer` fallback), and the
hook requests of the CDS Hooks 2.0 specification's examples adapted to a pregnant woman."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey

ISSUER = "https://ehr.example.org"
OTHER_ISSUER = "https://rogue-ehr.example.org"
BASE = "http://testserver"
HOSPITAL_NUMBERS = "https://hospital.example.org/mrn"
ALGORITHM = "ES384"


def new_key(kid: str = "ehr-key-1") -> ECKey:
    return ECKey.generate_key("P-384", parameters={"kid": kid})


def key_set(*keys: ECKey) -> dict[str, Any]:
    return dict(KeySet(list(keys)).as_dict(private=False))


def signed(
    key: ECKey | OctKey,
    aud: str,
    *,
    iss: str = ISSUER,
    jku: str | None = None,
    alg: str = ALGORITHM,
    **claims: Any,
) -> str:
    """A JWT as the EHR signs it: `exp` 5 minutes on, a fresh `jti`; `claims` override."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": iss,
        "aud": aud,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        **claims,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    header: dict[str, Any] = {"alg": alg, "typ": "JWT", "kid": key.kid or "k"}
    if jku:
        header["jku"] = jku
    return jwt.encode(header, payload, key, algorithms=[alg])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class EhrServer:
    """What the server serves: a JWK Set at /jwks.json and a FHIR server under /fhir."""

    jwks: dict[str, Any]
    resources: list[dict[str, Any]] = field(default_factory=list)
    #: The access token the FHIR server wants (None: any); the requests it answered.
    token: str | None = None
    fail_with: int | None = None
    seen: list[tuple[str, str | None]] = field(default_factory=list)
    url: str = ""

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/jwks.json"

    @property
    def fhir_base(self) -> str:
        return f"{self.url}/fhir"

    def answer(self, path: str, authorization: str | None) -> tuple[int, Any]:
        self.seen.append((path, authorization))
        parts = urlsplit(path)
        if parts.path == "/jwks.json":
            return 200, self.jwks
        if not parts.path.startswith("/fhir/"):
            return 404, {}
        if self.fail_with is not None:
            return self.fail_with, {"resourceType": "OperationOutcome"}
        if self.token is not None and authorization != f"Bearer {self.token}":
            return 401, {"resourceType": "OperationOutcome"}
        kind, _, rid = parts.path.removeprefix("/fhir/").partition("/")
        if rid:
            found = [r for r in self.resources if r["resourceType"] == kind and r["id"] == rid]
            return (200, found[0]) if found else (404, {"resourceType": "OperationOutcome"})
        patient = parse_qs(parts.query).get("patient", [""])[0]
        matches = [
            r
            for r in self.resources
            if r["resourceType"] == kind and _refers(r, f"Patient/{patient}")
        ]
        return 200, {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(matches),
            "entry": [{"resource": r, "search": {"mode": "match"}} for r in matches],
        }


def _refers(resource: Mapping[str, Any], reference: str) -> bool:
    return any(
        isinstance(resource.get(name), dict) and resource[name].get("reference") == reference
        for name in ("subject", "patient", "for")
    )


@contextmanager
def ehr_server(server: EhrServer) -> Iterator[EhrServer]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = server.answer(self.path, self.headers.get("Authorization"))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


# --- a pregnant woman, as the EHR holds her ---------------------------------------------------


def day(today: dt.date, days: int) -> str:
    return (today + dt.timedelta(days=days)).isoformat()


def woman(
    today: dt.date,
    *,
    patient_id: str = "1288992",
    ga_days: int = 140,
    fetuses: int = 1,
    length_mm: float | None = 22,
    prior_sptb: bool = True,
    bleeding_report: bool = False,
    ruptured_membranes: bool = False,
) -> list[dict[str, Any]]:
    """Her Patient and records, coded as fhir-mapping.md says: at `ga_days` today, with (by
    default) a previous spontaneous preterm birth at 32+0 and a 22 mm length yesterday."""
    subject = {"reference": f"Patient/{patient_id}"}
    edd = today + dt.timedelta(days=280 - ga_days)
    loinc = "http://loinc.org"
    cw = "https://cervixwatch.org/fhir/CodeSystem/cervixwatch"
    out: list[dict[str, Any]] = [
        {
            "resourceType": "Patient",
            "id": patient_id,
            "gender": "female",
            "birthDate": "1993-04-12",
            "identifier": [{"system": HOSPITAL_NUMBERS, "value": f"MRN-{patient_id}"}],
            "name": [{"family": "Example", "given": ["Test"]}],
        },
        {
            "resourceType": "Observation",
            "id": "edd",
            "status": "final",
            "code": {"coding": [{"system": loinc, "code": "11778-8"}]},
            "subject": subject,
            "effectiveDateTime": day(today, -60),
            "valueDateTime": edd.isoformat(),
        },
        {
            "resourceType": "Observation",
            "id": "fetuses",
            "status": "final",
            "code": {"coding": [{"system": loinc, "code": "11878-6"}]},
            "subject": subject,
            "effectiveDateTime": day(today, -60),
            "valueInteger": fetuses,
        },
    ]
    if prior_sptb:
        out.append(
            {
                "resourceType": "Observation",
                "id": "prior-1",
                "status": "final",
                "code": {"coding": [{"system": cw, "code": "prior-pregnancy"}]},
                "subject": subject,
                "effectiveDateTime": "2023-05-01",
                "valueCodeableConcept": {"coding": [{"system": cw, "code": "live-birth"}]},
                "component": [
                    {
                        "code": {"coding": [{"system": loinc, "code": "11884-4"}]},
                        "valueQuantity": {
                            "value": 32,
                            "unit": "wk",
                            "system": "http://unitsofmeasure.org",
                            "code": "wk",
                        },
                    },
                    {
                        "code": {"coding": [{"system": cw, "code": "onset"}]},
                        "valueCodeableConcept": {
                            "coding": [{"system": cw, "code": "spontaneous-labour"}]
                        },
                    },
                ],
            }
        )
    if length_mm is not None:
        out.append(
            {
                "resourceType": "Observation",
                "id": "cl-1",
                "status": "final",
                "code": {"coding": [{"system": loinc, "code": "11961-0"}]},
                "subject": subject,
                "effectiveDateTime": day(today, -1),
                "valueQuantity": {
                    "value": length_mm,
                    "unit": "mm",
                    "system": "http://unitsofmeasure.org",
                    "code": "mm",
                },
                "method": {"coding": [{"system": "http://snomed.info/sct", "code": "54300008"}]},
            }
        )
    if bleeding_report:
        out.append(
            {
                "resourceType": "QuestionnaireResponse",
                "id": "report-1",
                "status": "completed",
                "questionnaire": "https://cervixwatch.org/fhir/Questionnaire/symptoms",
                "subject": subject,
                "authored": f"{day(today, 0)}T08:30:00Z",
                "source": subject,
                "item": [{"linkId": "bleeding", "answer": [{"valueBoolean": True}]}],
            }
        )
    if ruptured_membranes:
        out.append(
            {
                "resourceType": "Condition",
                "id": "prom",
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": "active",
                        }
                    ]
                },
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44223004"}]},
                "subject": subject,
                "onsetDateTime": day(today, -1),
            }
        )
    return out


SEARCHES = {
    "observations": "Observation",
    "conditions": "Condition",
    "procedures": "Procedure",
    "medicationRequests": "MedicationRequest",
    "medicationStatements": "MedicationStatement",
    "questionnaireResponses": "QuestionnaireResponse",
    "tasks": "Task",
}


def prefetch_of(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """The prefetch an EHR fills in from the discovery's templates."""
    out: dict[str, Any] = {"patient": next(r for r in resources if r["resourceType"] == "Patient")}
    for key, kind in SEARCHES.items():
        found = [r for r in resources if r["resourceType"] == kind]
        out[key] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "entry": [{"resource": r} for r in found],
        }
    return out


def patient_view(
    patient_id: str = "1288992",
    prefetch: dict[str, Any] | None = None,
    fhir_server: str | None = None,
    access_token: str | None = None,
) -> dict[str, Any]:
    """The specification's patient-view request, for her."""
    body: dict[str, Any] = {
        "hookInstance": str(uuid.uuid4()),
        "hook": "patient-view",
        "context": {
            "userId": "Practitioner/example",
            "patientId": patient_id,
            "encounterId": "89284",
        },
    }
    if fhir_server is not None:
        body["fhirServer"] = fhir_server
    if access_token is not None:
        body["fhirAuthorization"] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/Patient.read user/Observation.read",
            "subject": "cds-service4",
        }
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


def order_request(
    hook: str,
    orders: list[dict[str, Any]],
    prefetch: dict[str, Any],
    patient_id: str = "1288992",
) -> dict[str, Any]:
    """The specification's order-select / order-sign request, for her."""
    context: dict[str, Any] = {
        "userId": "PractitionerRole/123",
        "patientId": patient_id,
        "encounterId": "89284",
        "draftOrders": {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": o} for o in orders],
        },
    }
    if hook == "order-select":
        context["selections"] = [f"{o['resourceType']}/{o['id']}" for o in orders]
    return {
        "hookInstance": str(uuid.uuid4()),
        "hook": hook,
        "context": context,
        "prefetch": prefetch,
    }


def medication_order(
    order_id: str, code: tuple[str, str], patient_id: str = "1288992"
) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
        "medicationCodeableConcept": {"coding": [{"system": code[0], "code": code[1]}]},
    }


def cerclage_order(order_id: str, patient_id: str = "1288992") -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "90442009"}]},
    }
