"""An audit log entry as a FHIR R4 AuditEvent (for auditors' exports and the /fhir facade).

The resource and its value sets, as published for R4 (4.0.1):
- AuditEvent: https://hl7.org/fhir/R4/auditevent.html
- type, AuditEventID (DICOM DCM codes): https://hl7.org/fhir/R4/valueset-audit-event-type.html
- action, AuditEventAction (C R U D E): https://hl7.org/fhir/R4/valueset-audit-event-action.html
- outcome, AuditEventOutcome (0 4 8 12): https://hl7.org/fhir/R4/valueset-audit-event-outcome.html
- agent.network.type: https://hl7.org/fhir/R4/valueset-network-type.html
- agent.type: https://hl7.org/fhir/R4/codesystem-extra-security-role-type.html
- entity.type and entity.role: https://hl7.org/fhir/R4/codesystem-audit-entity-type.html and
  https://hl7.org/fhir/R4/codesystem-object-role.html
- source.type: https://hl7.org/fhir/R4/valueset-audit-source-type.html

Our decisions (one each; the entry's own action name is kept in `subtype`, so none loses
anything):
- `type`: DCM 110110 "Patient Record" (created, read, updated or deleted) for what touches
  patient records; 110106 "Export" for an export ($everything), 110107 "Import" for an
  imported Bundle, 110101 "Audit Log Used" for auditors reading this log, 110114 "User
  Authentication" for a sign-in, and 110100 "Application Activity" for the rest (API tokens
  issued or revoked), which no narrower code of the value set fits.
- `action`: E (execute) for searches and lists, as the value set defines E for a query or
  search, and for a sign-in (its "log-on"); R for reading one record, for an export (the
  record is read out) and for reading one audit entry; C for a registration and an import (it
  brings records in; whether some were already stored is in its own answer, not in the log);
  D for a delete; "write" is C when POSTed and U otherwise. Anything else follows the HTTP
  method.
- `outcome`: 0 success; 4 minor failure for a refusal (not signed in, not allowed, not found:
  the request was turned away) or a request that could not be right (4xx, "often equivalent to
  an HTTP 400 response" in the value set); 8 serious failure for a server error (5xx). 12
  (major failure) is never used: a failure that ended the server would write no entry.
- The agent is named by our user id (`who.identifier`, system `urn:cervixwatch:user`), never by
  a name, with the role as text; an anonymous caller has no `who`.
- The account an administrator changed is an entity (a Person in the role of a User, named by
  our user id), so an auditor sees whose access was granted or reset.
- The request path is an entity of its own (a system object, with the route template and the
  request id as details); it holds ids only, as the log never stores query values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final, Protocol

DCM: Final = "http://dicom.nema.org/resources/ontology/DCM"
USER_SYSTEM: Final = "urn:cervixwatch:user"
#: Our own names of actions ("read", "import", "audit-read"...), carried in `subtype`.
ACTION_SYSTEM: Final = "urn:cervixwatch:audit-action"
ROLE_TYPE_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
ENTITY_TYPE_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/object-role"
SOURCE_TYPE_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/security-source-type"

APPLICATION_ACTIVITY: Final = (DCM, "110100", "Application Activity")
AUDIT_LOG_USED: Final = (DCM, "110101", "Audit Log Used")
EXPORT: Final = (DCM, "110106", "Export")
IMPORT: Final = (DCM, "110107", "Import")
PATIENT_RECORD: Final = (DCM, "110110", "Patient Record")
USER_AUTHENTICATION: Final = (DCM, "110114", "User Authentication")

#: The event type of each of our actions; others are APPLICATION_ACTIVITY.
_EVENT_TYPES: Final = {
    "read": PATIENT_RECORD,
    "write": PATIENT_RECORD,
    "delete": PATIENT_RECORD,
    "search": PATIENT_RECORD,
    "create": PATIENT_RECORD,
    "export": EXPORT,
    "import": IMPORT,
    "audit-read": AUDIT_LOG_USED,
    "sign-in": USER_AUTHENTICATION,
}
_FIXED_ACTIONS: Final = {
    "search": "E",
    "sign-in": "E",
    "read": "R",
    "export": "R",
    "create": "C",
    "import": "C",
    "delete": "D",
}
_METHOD_ACTIONS: Final = {"POST": "C", "PUT": "U", "PATCH": "U", "DELETE": "D"}
#: Our outcomes (`store.models.AuditOutcome` values) as AuditEventOutcome codes.
_OUTCOMES: Final = {"success": "0", "denied": "4", "invalid": "4", "failed": "8"}
#: AuditEventAgentNetworkType: the agent's address is an IP address.
_IP_ADDRESS: Final = "2"


class AuditRecord(Protocol):
    """What an audit entry holds (`store.models.AuditEventRow` is one)."""

    @property
    def id(self) -> int: ...
    @property
    def recorded_at(self) -> dt.datetime: ...
    @property
    def actor_id(self) -> str | None: ...
    @property
    def actor_role(self) -> str | None: ...
    @property
    def via(self) -> str | None: ...
    @property
    def action(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def route(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def patient_id(self) -> str | None: ...
    @property
    def client_address(self) -> str | None: ...
    @property
    def outcome(self) -> str: ...
    @property
    def status(self) -> int: ...
    @property
    def request_id(self) -> str: ...
    @property
    def target_user_id(self) -> str | None: ...


def _coding(code: tuple[str, str, str]) -> dict[str, str]:
    system, value, display = code
    return {"system": system, "code": value, "display": display}


def event_action(action: str, method: str, route: str) -> str:
    """The AuditEventAction code (C, R, U, D or E) of one of our actions."""
    if action in _FIXED_ACTIONS:
        return _FIXED_ACTIONS[action]
    if action == "write":
        return "C" if method.upper() == "POST" else "U"
    if action == "audit-read":
        # One entry by its id is a read; a list of entries is a query.
        return "R" if "{" in route else "E"
    return _METHOD_ACTIONS.get(method.upper(), "R")


def event_outcome(outcome: str) -> str:
    """The AuditEventOutcome code of one of our outcomes."""
    try:
        return _OUTCOMES[str(outcome)]
    except KeyError:
        raise ValueError(f"unknown audit outcome {outcome!r}") from None


def _instant(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        # `recorded_at` is always UTC (store.types.UTCDateTime); a naive value is a bug.
        raise ValueError(f"recorded_at {moment.isoformat()} has no time zone")
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _agent(row: AuditRecord) -> dict[str, Any]:
    agent: dict[str, Any] = {
        "type": {
            "coding": [{"system": ROLE_TYPE_SYSTEM, "code": "humanuser", "display": "human user"}]
        },
        "role": [{"text": row.actor_role or "not signed in"}],
        "requestor": True,
    }
    if row.actor_id:
        agent["who"] = {"identifier": {"system": USER_SYSTEM, "value": row.actor_id}}
    if row.client_address:
        agent["network"] = {"address": row.client_address, "type": _IP_ADDRESS}
    return agent


def _entities(row: AuditRecord) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    if row.patient_id:
        entities.append(
            {
                "what": {"reference": f"Patient/{row.patient_id}"},
                "type": {"system": ENTITY_TYPE_SYSTEM, "code": "1", "display": "Person"},
                "role": {"system": OBJECT_ROLE_SYSTEM, "code": "1", "display": "Patient"},
            }
        )
    if row.target_user_id:
        # The account an administrator changed (created, reset, granted access): a person in
        # the role of a user, named by our user id only (issue 12, F2).
        entities.append(
            {
                "what": {"identifier": {"system": USER_SYSTEM, "value": row.target_user_id}},
                "type": {"system": ENTITY_TYPE_SYSTEM, "code": "1", "display": "Person"},
                "role": {"system": OBJECT_ROLE_SYSTEM, "code": "6", "display": "User"},
            }
        )
    details = [{"type": "route", "valueString": row.route}]
    details.append({"type": "request-id", "valueString": row.request_id})
    if row.via:
        details.append({"type": "via", "valueString": row.via})
    entities.append(
        {
            "type": {"system": ENTITY_TYPE_SYSTEM, "code": "2", "display": "System Object"},
            "name": f"{row.method} {row.path}",
            "detail": details,
        }
    )
    return entities


def audit_event_resource(row: AuditRecord, base_url: str = "") -> dict[str, Any]:
    """The FHIR R4 AuditEvent of one audit entry. `base_url` is the service's own address
    (recorded as the source's site when given)."""
    source: dict[str, Any] = {
        "observer": {"display": "CervixWatch"},
        "type": [{"system": SOURCE_TYPE_SYSTEM, "code": "3", "display": "Web Server"}],
    }
    if base_url:
        source["site"] = base_url.rstrip("/")
    return {
        "resourceType": "AuditEvent",
        "id": str(row.id),
        "type": _coding(_EVENT_TYPES.get(row.action, APPLICATION_ACTIVITY)),
        "subtype": [{"system": ACTION_SYSTEM, "code": row.action}],
        "action": event_action(row.action, row.method, row.route),
        "recorded": _instant(row.recorded_at),
        "outcome": event_outcome(row.outcome),
        "outcomeDesc": f"{row.outcome} (HTTP {row.status})",
        "agent": [_agent(row)],
        "source": source,
        "entity": _entities(row),
    }
