"""An assessment as FHIR R4 resources: what a client can read, search and act on.

- **GuidanceResponse**: the assessment itself, of one day (`occurrenceDateTime`) by the
  guideline profiles named in `moduleUri` (`<knowledge>/acog-2026.12,nice-2026.12`, as their
  knowledge files are named); `data-required` when data that could change the answer is
  missing (each item a `dataRequirement`, in words); its `result` is the RequestGroup.
- **RequestGroup** (intent `proposal`): one action per recommendation, coded `CW#<code>`, with
  the summary as title, the state in words, the reason and assumptions as description, the
  rule and citation as `documentation`, the window as `timingPeriod`, and the state,
  strength, provenance, guideline and assumptions as extensions (`knowledge/codes.py`). An
  action a client can act on carries its proposal as a contained resource: a MedicationRequest
  (draft proposal) for vaginal progesterone, a ServiceRequest (draft proposal, from the next
  scan's due day to its latest) for a cervical-length scan. A treatment in place, an offer
  declined and a scan window missed propose nothing, and the description says so.
- **RiskAssessment**: the Saving Babies' Lives history tier as a qualitative prediction, and
  one prediction per published figure that applies to her (figure and statement as the
  rationale, its population and citation as a note).
- **Flag**: only when `urgent-evaluation` is given; it starts on the day of the earliest report
  of a symptom not yet reviewed (CD-07), else on the assessment's day.

Every resource names her as `subject` and has the id given (the stored assessment's), so a
read gives the same resource while the assessment stays the same. Pure: the caller passes the
assessment, the profiles that made it, the id and when it was stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final

from cervixwatch.clinical.assessment import Assessment, Recommendation
from cervixwatch.clinical.guidelines import RECOMMENDATION_CODES, GuidelineProfile
from cervixwatch.clinical.surveillance import ScanPlan
from cervixwatch.knowledge import codes as c

#: The types an assessment is written as, in the order they are given.
ASSESSMENT_TYPES: Final = ("GuidanceResponse", "RequestGroup", "RiskAssessment", "Flag")
URGENT: Final = "urgent-evaluation"
PROGESTERONE: Final = "vaginal-progesterone"
SCANS: Final = frozenset({"single-cervical-length-screen", "serial-cervical-length"})
#: States in which nothing is proposed, and why, in words.
NOTHING_TO_PROPOSE: Final[Mapping[str, str]] = {
    "in-place": "No order is proposed: it is in place.",
    "declined": "No order is proposed: she declined it.",
    "missed": "No order is proposed: its window has passed.",
}
#: The Saving Babies' Lives tiers as FHIR's risk-probability codes.
_TIER_PROBABILITY: Final = {"high": "high", "intermediate": "moderate", "low": "low"}
_OUTCOME: Final = {"text": "Spontaneous preterm birth"}
_SCAN_TEXT: Final = "Transvaginal cervical length scan"


def module_uri(profiles: Sequence[GuidelineProfile]) -> str:
    """The guideline profiles and versions that made an assessment, as one URI."""
    return f"{c.GUIDELINE_PROFILES}/" + ",".join(f"{p.id}-{p.version}" for p in profiles)


def _coding(code: c.Code, display: str | None = None) -> dict[str, Any]:
    coding = {"system": code[0], "code": code[1]}
    if display:
        coding["display"] = display
    return coding


def _concept(code: c.Code, display: str | None = None, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [_coding(code, display)]}
    if text:
        concept["text"] = text
    return concept


def recommendation_concept(code: str) -> dict[str, Any]:
    """A recommendation code as a CodeableConcept (`CW#<code>` with its meaning)."""
    return _concept(c.cw(code), RECOMMENDATION_CODES.get(code))


def _instant(when: dt.datetime) -> str:
    aware = when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    return aware.isoformat(timespec="seconds")


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?")) else f"{text}."


class _Context:
    """What every resource of one assessment shares."""

    def __init__(self, assessment: Assessment, resource_id: str, last_updated: dt.datetime):
        self.assessment = assessment
        self.id = resource_id
        self.subject = {"reference": f"Patient/{assessment.patient_id}"}
        self.meta = {"lastUpdated": _instant(last_updated)}
        self.day = assessment.as_of.isoformat()

    def resource(self, kind: str, **fields: Any) -> dict[str, Any]:
        return {"resourceType": kind, "id": self.id, "meta": dict(self.meta), **fields}


# --- RequestGroup -----------------------------------------------------------------------------


def _plan_of(assessment: Assessment, r: Recommendation) -> ScanPlan | None:
    return next(
        (p for p in assessment.scan_plans if p.guideline == r.guideline and p.rule == r.rule),
        None,
    )


def _medication_proposal(ctx: _Context, r: Recommendation, local_id: str) -> dict[str, Any]:
    request: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": local_id,
        "status": "draft",
        "intent": "proposal",
        "medicationCodeableConcept": _concept(
            c.VAGINAL_PROGESTERONE, "Vaginal progesterone", "Vaginal progesterone"
        ),
        "subject": dict(ctx.subject),
        "authoredOn": ctx.day,
        "reasonCode": [{"text": r.summary}],
        "dosageInstruction": [
            {
                "text": "Vaginally; the product, dose and duration as the prescriber decides.",
                "route": _concept(c.VAGINAL_ROUTE, "Vaginal route"),
            }
        ],
    }
    if r.window is not None:
        request["dispenseRequest"] = {
            "validityPeriod": {"start": r.window[0].isoformat(), "end": r.window[1].isoformat()}
        }
    return request


def _scan_proposal(
    ctx: _Context, r: Recommendation, plan: ScanPlan, local_id: str
) -> dict[str, Any] | None:
    scan = plan.next_scan
    if scan is None:
        return None
    request: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": local_id,
        "status": "draft",
        "intent": "proposal",
        "code": _concept(c.CERVICAL_LENGTH, "Cervix [Length] by US", _SCAN_TEXT),
        "orderDetail": [_concept(c.TRANSVAGINAL, "Trans-vaginal")],
        "subject": dict(ctx.subject),
        "occurrencePeriod": {"start": scan.due.isoformat(), "end": scan.latest.isoformat()},
        "authoredOn": ctx.day,
        "reasonCode": [{"text": r.summary}],
        "bodySite": [_concept(c.CERVIX, "Cervix")],
    }
    if scan.status == "overdue":
        request["priority"] = "asap"
    if plan.note:
        request["note"] = [{"text": plan.note}]
    return request


def _proposal(ctx: _Context, r: Recommendation, local_id: str) -> dict[str, Any] | None:
    """What a client can order for `r`, if anything (never for a state that proposes none)."""
    if r.state in NOTHING_TO_PROPOSE:
        return None
    if r.code == PROGESTERONE:
        return _medication_proposal(ctx, r, local_id)
    if r.code in SCANS:
        plan = _plan_of(ctx.assessment, r)
        return _scan_proposal(ctx, r, plan, local_id) if plan is not None else None
    return None


def _extensions(r: Recommendation) -> list[dict[str, Any]]:
    out = [
        {"url": c.RECOMMENDATION_STATE_EXTENSION, "valueCode": r.state},
        {"url": c.RECOMMENDATION_STRENGTH_EXTENSION, "valueCode": r.strength},
        {"url": c.RECOMMENDATION_PROVENANCE_EXTENSION, "valueCode": r.provenance},
        {"url": c.RECOMMENDATION_GUIDELINE_EXTENSION, "valueString": r.guideline},
    ]
    out.extend(
        {"url": c.RECOMMENDATION_ASSUMPTION_EXTENSION, "valueString": words}
        for words in r.assumptions
    )
    return out


def _description(r: Recommendation, proposal: dict[str, Any] | None) -> str:
    parts = [_sentence(r.state_note), _sentence(r.reason)]
    parts += [f"Assumed: {_sentence(words)}" for words in r.assumptions]
    if r.state in NOTHING_TO_PROPOSE and (r.code == PROGESTERONE or r.code in SCANS):
        parts.append(NOTHING_TO_PROPOSE[r.state])
    elif proposal is not None:
        parts.append(f"Proposed: a {proposal['resourceType']} (contained, #{proposal['id']}).")
    return " ".join(p for p in parts if p)


def _action(
    ctx: _Context, r: Recommendation, index: int
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    proposal = _proposal(ctx, r, f"proposal-{index}")
    action: dict[str, Any] = {
        "extension": _extensions(r),
        "id": f"action-{index}",
        "title": r.summary,
    }
    description = _description(r, proposal)
    if description:
        action["description"] = description
    action |= {
        "priority": "urgent" if r.code == URGENT else "routine",
        "code": [recommendation_concept(r.code)],
        "documentation": [
            {
                "type": "citation",
                "label": r.rule,
                "display": ", ".join(r.rules) or r.rule,
                "citation": r.citation,
            }
        ],
    }
    if r.window is not None:
        action["timingPeriod"] = {
            "start": r.window[0].isoformat(),
            "end": r.window[1].isoformat(),
        }
    if proposal is not None:
        action["resource"] = {"reference": f"#{proposal['id']}"}
    return action, proposal


def _request_group(ctx: _Context, profiles: Sequence[GuidelineProfile]) -> dict[str, Any]:
    a = ctx.assessment
    actions: list[dict[str, Any]] = []
    contained: list[dict[str, Any]] = []
    for i, r in enumerate(a.recommendations):
        action, proposal = _action(ctx, r, i)
        actions.append(action)
        if proposal is not None:
            contained.append(proposal)
    notes = [
        f"Withheld: {w.code} ({w.guideline} {w.rule}), by {w.withheld_by}: {_sentence(w.reason)}"
        for w in a.withheld
    ]
    notes += [
        f"In place: {t.treatment}"
        + (f" since {t.since.isoformat()}" if t.since else "")
        + (f" ({t.since_ga})" if t.since_ga else "")
        + (f": {_sentence(t.detail)}" if t.detail else ".")
        for t in a.current_treatments
    ]
    group = ctx.resource("RequestGroup")
    if contained:
        group["contained"] = contained
    group |= {
        "instantiatesUri": [module_uri(profiles)],
        "status": "active",
        "intent": "proposal",
        "subject": dict(ctx.subject),
        "authoredOn": ctx.day,
    }
    if notes:
        group["note"] = [{"text": n} for n in notes]
    if actions:
        group["action"] = actions
    return group


# --- GuidanceResponse, RiskAssessment, Flag ---------------------------------------------------


def _guidance_response(ctx: _Context, profiles: Sequence[GuidelineProfile]) -> dict[str, Any]:
    a = ctx.assessment
    ga = f" ({a.gestational_age})" if a.gestational_age is not None else ""
    response = ctx.resource(
        "GuidanceResponse",
        moduleUri=module_uri(profiles),
        status="data-required" if a.missing else "success",
        subject=dict(ctx.subject),
        occurrenceDateTime=ctx.day,
        reasonCode=[
            {
                "text": f"Preterm-birth prevention: risk, cervical surveillance and treatment "
                f"on {ctx.day}{ga}"
            }
        ],
    )
    notes = ["Guideline profiles: " + "; ".join(f"{p.title} {p.version}" for p in profiles) + "."]
    notes += [f"Missing: {_sentence(need)}" for need in a.missing]
    response["note"] = [{"text": n} for n in notes]
    response["result"] = {"reference": f"RequestGroup/{ctx.id}"}
    if a.missing:
        response["dataRequirement"] = [
            {
                "extension": [{"url": c.DATA_REQUIREMENT_TEXT_EXTENSION, "valueString": need}],
                "type": "Any",
            }
            for need in a.missing
        ]
    return response


def _risk_assessment(ctx: _Context) -> dict[str, Any]:
    risk = ctx.assessment.risk
    predictions: list[dict[str, Any]] = []
    notes: list[str] = []
    if risk.tier is not None:
        qualitative: dict[str, Any] = {"text": f"{risk.tier} ({risk.tier_label})"}
        if risk.tier in _TIER_PROBABILITY:
            qualitative["coding"] = [_coding((c.RISK_PROBABILITY, _TIER_PROBABILITY[risk.tier]))]
        prediction: dict[str, Any] = {"outcome": dict(_OUTCOME), "qualitativeRisk": qualitative}
        if risk.tier_rule:
            prediction["rationale"] = f"{risk.tier_label}: rule {risk.tier_rule}."
        predictions.append(prediction)
    else:
        notes.append(f"{risk.tier_label}: unknown (the history needed is not recorded).")
    for item in risk.evidence:
        predictions.append(
            {"outcome": dict(_OUTCOME), "rationale": f"{item.figure}: {item.statement}"}
        )
        notes.append(f"{item.id} ({item.figure}): {item.population}. {_sentence(item.citation)}")
    notes += [f"Current finding: {_sentence(f)}" for f in risk.current_findings]
    assessment = ctx.resource(
        "RiskAssessment",
        status="final",
        method={"text": risk.tier_label},
        code={"text": "Risk of spontaneous preterm birth"},
        subject=dict(ctx.subject),
        occurrenceDateTime=ctx.day,
    )
    if predictions:
        assessment["prediction"] = predictions
    if notes:
        assessment["note"] = [{"text": n} for n in notes]
    return assessment


def _flag(ctx: _Context) -> dict[str, Any] | None:
    a = ctx.assessment
    urgent = next((r for r in a.recommendations if r.code == URGENT), None)
    if urgent is None:
        return None
    waited = a.facts.get("open_report_days_waiting")
    start = a.as_of
    if isinstance(waited, int) and not isinstance(waited, bool):
        start -= dt.timedelta(days=waited)
    code = recommendation_concept(URGENT)
    code["text"] = urgent.reason or urgent.summary
    return ctx.resource(
        "Flag",
        status="active",
        category=[
            {"coding": [_coding((c.FLAG_CATEGORY, "clinical"), "Clinical")], "text": "Clinical"}
        ],
        code=code,
        subject=dict(ctx.subject),
        period={"start": start.isoformat()},
    )


def assessment_resources(
    assessment: Assessment,
    profiles: Sequence[GuidelineProfile],
    *,
    resource_id: str,
    last_updated: dt.datetime,
) -> list[dict[str, Any]]:
    """The assessment's GuidanceResponse, RequestGroup, RiskAssessment and (when urgent) Flag,
    each with id `resource_id`; `profiles` are those that made it, `last_updated` when."""
    ctx = _Context(assessment, resource_id, last_updated)
    out = [
        _guidance_response(ctx, profiles),
        _request_group(ctx, profiles),
        _risk_assessment(ctx),
    ]
    flag = _flag(ctx)
    if flag is not None:
        out.append(flag)
    return out
