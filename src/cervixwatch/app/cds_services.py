"""The CDS Hooks 2.0 services (issue 14, part 1): what discovery lists, and answering a hook
request with cards, which are stored with the request's audit entry in one transaction.

- `patient-view`: the assessment's due actions as cards (`app.cds_cards`);
- `order-select` / `order-sign`: warnings against draft orders (`app.cds_orders`).
Each reads the EHR's FHIR data (`app.cds_prefetch`) through the one FHIR reader and runs the
same `assess` as every other view, on the clinic's calendar day, by the guideline profile the
site chooses (`chosen_profiles`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.cds_auth import CdsCaller, claim_jti
from cervixwatch.app.cds_cards import RULES_KEY, patient_view_cards
from cervixwatch.app.cds_orders import order_cards
from cervixwatch.app.cds_prefetch import (
    PREFETCH,
    BadHookRequest,
    fhir_access,
    gather,
    patient_id_of,
    records_of,
)
from cervixwatch.app.clinic_settings import chosen, read_settings
from cervixwatch.clinical.assessment import assess
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.interop.cds_orders import draft_orders
from cervixwatch.interop.fhir_values import BundleError
from cervixwatch.knowledge import bundled_evidence
from cervixwatch.store import transaction
from cervixwatch.store.audit import AuditEntry, append
from cervixwatch.store.cds_hooks import add_cards
from cervixwatch.store.identity import women_by_identifiers


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    hook: str
    title: str
    description: str


SERVICES: Final = (
    Service(
        "cervixwatch-patient-view",
        "patient-view",
        "CervixWatch: preterm-birth prevention",
        "Cervical insufficiency and preterm-birth prevention: the due actions of the clinic's "
        "guideline (screening and serial cervical-length scans, progesterone, cerclage and its "
        "removal, urgent evaluation), each with its rule, citation and the facts behind it.",
    ),
    Service(
        "cervixwatch-order-select",
        "order-select",
        "CervixWatch: preterm-birth prevention order check",
        "Warns when a selected order is against the guideline: 17-OHPC (withdrawn), "
        "progesterone or cerclage in twins or more, a cerclage with a contraindication.",
    ),
    Service(
        "cervixwatch-order-sign",
        "order-sign",
        "CervixWatch: preterm-birth prevention order check at signing",
        "The same checks as order-select, over every draft order being signed.",
    ),
)
SERVICES_BY_ID: Final = {s.id: s for s in SERVICES}


def discovery() -> dict[str, Any]:
    return {
        "services": [
            {
                "hook": s.hook,
                "title": s.title,
                "description": s.description,
                "id": s.id,
                "prefetch": dict(PREFETCH),
                "usageRequirements": "Send a JWT signed by a key of an issuer CervixWatch is "
                "configured to trust (docs/integrations.md, 'CDS Hooks').",
            }
            for s in SERVICES
        ]
    }


def chosen_profiles(
    sessions: sessionmaker[Session],
    profiles: Mapping[str, GuidelineProfile],
    setting: str | None,
) -> list[GuidelineProfile]:
    """The guideline profile whose actions become cards: the `cds_hooks_guideline` setting;
    else the first of those the clinic's pages show (clinic settings); else the first
    loaded. One profile, so an EHR is not shown the same action twice."""
    if setting is not None and setting in profiles:
        return [profiles[setting]]
    return chosen(read_settings(sessions), profiles)[:1]


@dataclass(frozen=True, slots=True)
class HookCall:
    """One hook request as the web received it."""

    service: Service
    body: Mapping[str, Any]
    caller: CdsCaller
    base_url: str
    today: dt.date
    fetch_timeout_seconds: float


def _check_request(call: HookCall) -> tuple[str, Mapping[str, Any], str]:
    body = call.body
    if body.get("hook") != call.service.hook:
        raise BadHookRequest(f"hook: this service answers {call.service.hook!r}")
    instance = body.get("hookInstance")
    if not isinstance(instance, str) or not instance or len(instance) > 100:
        raise BadHookRequest("hookInstance: required, a UUID")
    context = body.get("context")
    if not isinstance(context, dict):
        raise BadHookRequest("context: required, an object")
    if not isinstance(context.get("userId"), str):
        raise BadHookRequest("context.userId: required")
    prefetch = body.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, dict):
        raise BadHookRequest("prefetch: must be an object")
    return instance, context, patient_id_of(context)


def answer_hook(
    sessions: sessionmaker[Session],
    profiles: Sequence[GuidelineProfile],
    call: HookCall,
    audit: AuditEntry,
) -> dict[str, Any]:
    """The cards for one hook request; stored, with the audit entry, before they are sent.
    Raises BadHookRequest (400), DataUnavailable (412) or BundleError (the EHR's data cannot
    be read: 422)."""
    instance, context, patient_id = _check_request(call)
    orders = None
    if call.service.hook != "patient-view":
        selections = context.get("selections") if call.service.hook == "order-select" else None
        if call.service.hook == "order-select" and not isinstance(selections, list):
            raise BadHookRequest("context.selections: required, a list of Type/id")
        try:
            orders = draft_orders(context.get("draftOrders"), selections)
        except BundleError as error:  # the request's own context, not the EHR's records
            raise BadHookRequest(str(error)) from None
    access = fhir_access(call.body, call.fetch_timeout_seconds)
    cards: list[dict[str, Any]] = []
    patient: Mapping[str, Any] = {}
    if orders is None or orders:  # no order of ours to judge: nothing to read
        resources = gather(call.body.get("prefetch"), patient_id, access)
        patient = next((r for r in resources if r["resourceType"] == "Patient"), {})
        records = records_of(resources, patient_id, access.server, call.today)
        assessment = assess(records, call.today, profiles, bundled_evidence())
        if orders is None:
            cards = patient_view_cards(assessment, records, profiles, call.base_url)
        else:
            cards = order_cards(assessment, records, profiles, orders, call.base_url)
    issued_at = dt.datetime.now(dt.UTC)
    rows = [
        {
            "uuid": card["uuid"],
            "service_id": call.service.id,
            "hook_instance": instance,
            "issuer": call.caller.issuer[:500],
            "ehr_patient": patient_id,
            "guideline": profiles[0].id if profiles else "",
            "code": card["source"]["topic"]["code"],
            "rules": str(card.pop(RULES_KEY, ""))[:200],
            "indicator": card["indicator"],
            "issued_at": issued_at,
        }
        for card in cards
    ]
    with transaction(sessions) as session:
        claim_jti(session, call.caller, issued_at)
        add_cards(session, rows)
        woman = _woman_of(session, patient)
        append(session, replace(audit, status=200, patient_id=woman or audit.patient_id))
    return {"cards": cards}


def _woman_of(session: Session, patient: Mapping[str, Any]) -> str | None:
    """The woman of this store the EHR's Patient is, by an identifier with its system (as
    every intake matches her: issue 13), so that the audit log finds the EHR's reads of her
    record under her; None when no identifier names exactly one woman here."""
    keys = [
        (i["system"], None, i["value"])
        for i in patient.get("identifier") or ()
        if isinstance(i, dict)
        and isinstance(i.get("system"), str)
        and isinstance(i.get("value"), str)
    ]
    found = set(women_by_identifiers(session, keys).values()) if keys else set()
    return found.pop() if len(found) == 1 else None


def record_refusal(sessions: sessionmaker[Session], caller: CdsCaller, audit: AuditEntry) -> None:
    """The audit entry of a request from a trusted EHR that could not be answered, and its
    JWT's id, which cannot be used again (`CdsAuthError` if it was: nothing is written)."""
    with transaction(sessions) as session:
        claim_jti(session, caller, dt.datetime.now(dt.UTC))
        append(session, audit)
