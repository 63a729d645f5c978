"""CDS Hooks feedback: what the EHR's users did with our cards (accepted, with the
suggestions taken; or overridden, with the reason and comment), stored with the request's
audit entry in one transaction, and read back for auditors with the card each is about (its
code and rules), so that a clinic sees which rules are set aside and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.cds_auth import CdsCaller, claim_jti
from cervixwatch.app.cds_prefetch import BadHookRequest
from cervixwatch.store import transaction
from cervixwatch.store.audit import AuditEntry, append
from cervixwatch.store.cds_hooks import add_feedback, feedback_with_cards

OUTCOMES: Final = frozenset({"accepted", "overridden"})
MOST_ITEMS: Final = 100


def _text(value: object, field: str, most: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadHookRequest(f"{field}: must be a string")
    return value[:most]


def _instant(value: object, field: str) -> dt.datetime:
    if not isinstance(value, str):
        raise BadHookRequest(f"{field}: required, an ISO 8601 instant")
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadHookRequest(f"{field}: not an ISO 8601 instant: {value[:40]!r}") from None
    if when.tzinfo is None:
        raise BadHookRequest(f"{field}: needs its UTC offset (e.g. 'Z')")
    return when.astimezone(dt.UTC)


def _item(item: object, at: str, service_id: str, issuer: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise BadHookRequest(f"{at}: must be an object")
    card = item.get("card")
    if not isinstance(card, str) or not card or len(card) > 36:
        raise BadHookRequest(f"{at}.card: required, the card's uuid")
    outcome = item.get("outcome")
    if outcome not in OUTCOMES:
        raise BadHookRequest(f"{at}.outcome: one of accepted, overridden")
    accepted = item.get("acceptedSuggestions") or []
    if not isinstance(accepted, list) or not all(
        isinstance(s, dict) and isinstance(s.get("id"), str) for s in accepted
    ):
        raise BadHookRequest(f"{at}.acceptedSuggestions: a list of {{'id': suggestion uuid}}")
    if outcome == "accepted" and not accepted:
        raise BadHookRequest(f"{at}.acceptedSuggestions: required when the card was accepted")
    reason = item.get("overrideReason") or {}
    if not isinstance(reason, dict):
        raise BadHookRequest(f"{at}.overrideReason: must be an object")
    if outcome == "accepted" and reason:
        raise BadHookRequest(f"{at}.overrideReason: only for an overridden card")
    coding = reason.get("reason") or {}
    if not isinstance(coding, dict):
        raise BadHookRequest(f"{at}.overrideReason.reason: must be a Coding")
    return {
        "card_uuid": card,
        "service_id": service_id,
        "issuer": issuer[:500],
        "outcome": outcome,
        "accepted_suggestions": [s["id"][:36] for s in accepted],
        "override_system": _text(coding.get("system"), f"{at}.overrideReason.reason.system", 500),
        "override_code": _text(coding.get("code"), f"{at}.overrideReason.reason.code", 200),
        "override_display": _text(
            coding.get("display"), f"{at}.overrideReason.reason.display", 500
        ),
        "user_comment": _text(reason.get("userComment"), f"{at}.overrideReason.userComment", 2000),
        "outcome_at": _instant(item.get("outcomeTimestamp"), f"{at}.outcomeTimestamp"),
        "received_at": dt.datetime.now(dt.UTC),
    }


def record_feedback(
    sessions: sessionmaker[Session],
    service_id: str,
    body: Mapping[str, Any],
    caller: CdsCaller,
    audit: AuditEntry,
) -> int:
    """Store every item of a feedback request (all or none: BadHookRequest names the first
    bad field) with the request's audit entry; how many were stored."""
    items = body.get("feedback")
    if not isinstance(items, list) or not items:
        raise BadHookRequest("feedback: required, a non-empty list")
    if len(items) > MOST_ITEMS:
        raise BadHookRequest(f"feedback: at most {MOST_ITEMS} items in one request")
    rows = [
        _item(item, f"feedback[{i}]", service_id, caller.issuer) for i, item in enumerate(items)
    ]
    with transaction(sessions) as session:
        claim_jti(session, caller, dt.datetime.now(dt.UTC))
        add_feedback(session, rows)
        append(session, replace(audit, status=200))
    return len(rows)


def feedback_report(
    sessions: sessionmaker[Session], since: dt.datetime | None, limit: int
) -> list[dict[str, Any]]:
    """The newest feedback first, each with the card it is about (when it was ours)."""
    with sessions() as session:
        found = feedback_with_cards(session, since, limit)
        return [
            {
                "received_at": feedback.received_at.isoformat(),
                "outcome_at": feedback.outcome_at.isoformat(),
                "service": feedback.service_id,
                "issuer": feedback.issuer,
                "card": feedback.card_uuid,
                "outcome": feedback.outcome,
                "accepted_suggestions": list(feedback.accepted_suggestions),
                "override_reason": (
                    {
                        "system": feedback.override_system,
                        "code": feedback.override_code,
                        "display": feedback.override_display,
                    }
                    if feedback.override_code or feedback.override_display
                    else None
                ),
                "user_comment": feedback.user_comment,
                "card_known": card is not None,
                "code": card.code if card else None,
                "rules": card.rules if card else None,
                "guideline": card.guideline if card else None,
                "indicator": card.indicator if card else None,
                "ehr_patient": card.ehr_patient if card else None,
                "issued_at": card.issued_at.isoformat() if card else None,
            }
            for feedback, card in found
        ]
