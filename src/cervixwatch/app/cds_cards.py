"""The assessment as CDS Hooks 2.0 cards (`patient-view`): one card per due action of the
guideline profile the site chooses.

- A due action is a recommendation whose state is `due` or `overdue` (in place, declined and
  missed ones are not tasks: profiles.md, "The course of care"; CD-05). Generic advice
  (`no-activity-restriction`) is not a task either: it stays on the pregnancy page, as the
  worklist leaves it (issue 13, part 5).
- `indicator`: critical for `urgent-evaluation`, warning for an overdue action, info else.
- `summary` (< 140 characters, the spec's limit): the code's meaning and its rule.
- `detail` (Markdown): the recommendation's words, state, reason, rule ids, citation,
  provenance, assumptions (CD-01) and the facts that fired it, in words.
- `source`: the profile, with a link to the rule's explanation page.
- `suggestions`: the proposal the assessment's FHIR form holds for the action
  (`interop.fhir_assessment`: a vaginal progesterone MedicationRequest, a cervical-length scan
  ServiceRequest over its due window), as a `create` action.
- `overrideReasons`: why a clinician may set the card aside, coded for the feedback report.

Every card and suggestion has its own uuid; the card's is what feedback names.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

from cervixwatch.clinical.assessment import Assessment, Recommendation
from cervixwatch.clinical.guidelines import RECOMMENDATION_CODES, GuidelineProfile
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.interop.fhir_assessment import assessment_resources
from cervixwatch.knowledge import codes as c
from cervixwatch.views.clinical_words import facts_words

URGENT_CODE: Final = "urgent-evaluation"
DUE_STATES: Final = frozenset({"due", "overdue"})
#: Advice rather than an action: shown on the page, not pushed into the EHR as a card.
ADVICE_CODES: Final = frozenset({"no-activity-restriction"})
SUMMARY_MAX: Final = 139  # "under 140 characters" (CDS Hooks 2.0, Card.summary)
OVERRIDE_SYSTEM: Final = "https://cervixwatch.org/fhir/CodeSystem/cds-override-reason"
#: Why a clinician may set a card aside (workflow codes of our own, not clinical content).
OVERRIDE_REASONS: Final = (
    ("already-done", "Already done or arranged elsewhere"),
    ("patient-declined", "The woman declined"),
    ("not-applicable", "Not applicable to this woman: clinical judgement"),
    ("data-incorrect", "The data behind it is wrong or incomplete"),
)
#: Where a card carries its rule ids for the store; taken off before the card is sent.
RULES_KEY: Final = "_rules"
PROVENANCE_WORDS: Final = {
    "verified": "verified in the source text",
    "unverified": "from memory, not yet verified against the source text",
    "derived": "derived by CervixWatch, not a guideline statement",
}


def override_reasons() -> list[dict[str, str]]:
    return [
        {"system": OVERRIDE_SYSTEM, "code": code, "display": display}
        for code, display in OVERRIDE_REASONS
    ]


def short(text: str, most: int = SUMMARY_MAX) -> str:
    """`text` in at most `most` characters, cut at a word with an ellipsis when too long."""
    text = " ".join(text.split())
    if len(text) <= most:
        return text
    return text[: most - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def rule_url(base: str, profile_id: str, rule: str) -> str:
    return f"{base}/cds-services/rules/{profile_id}/{rule}"


def is_due_action(r: Recommendation) -> bool:
    return r.state in DUE_STATES and r.code not in ADVICE_CODES


def indicator_of(r: Recommendation) -> str:
    if r.code == URGENT_CODE:
        return "critical"
    return "warning" if r.state == "overdue" else "info"


def _summary(r: Recommendation) -> str:
    meaning = RECOMMENDATION_CODES.get(r.code, r.code)
    meaning = meaning[:1].upper() + meaning[1:]
    prefix = "Overdue: " if r.state == "overdue" else ""
    rule = f" ({r.rule})"
    return prefix + short(meaning, SUMMARY_MAX - len(prefix) - len(rule)) + rule


def _detail(r: Recommendation, records: PregnancyRecords, as_of: dt.date, title: str) -> str:
    lines = [f"**{r.summary}**", ""]
    state = [s for s in (r.state_note, r.reason) if s]
    if state:
        lines += [" ".join(state), ""]
    lines += [
        f"- Guideline: {title}; strength: {r.strength}",
        f"- Rule: {', '.join(r.rules) or r.rule}",
        f"- Citation: {r.citation}",
        f"- Provenance: {r.provenance} ({PROVENANCE_WORDS.get(r.provenance, r.provenance)})",
    ]
    if r.window is not None:
        lines.append(f"- Window: {r.window[0].isoformat()} to {r.window[1].isoformat()}")
    lines += [f"- Assumed: {words}" for words in r.assumptions]
    facts = facts_words(r.facts, records, as_of)
    if facts:
        lines += ["", "Facts:"] + [f"- {words}" for words in facts]
    lines += ["", f"Assessed on {as_of.isoformat()} from the EHR's data."]
    return "\n".join(lines)


def _proposals(
    assessment: Assessment, profiles: Sequence[GuidelineProfile]
) -> dict[int, dict[str, Any]]:
    """The proposal (a resource to create) of each recommendation, by its index, as the
    assessment's RequestGroup holds them."""
    resources = assessment_resources(
        assessment, profiles, resource_id="cds", last_updated=dt.datetime.now(dt.UTC)
    )
    group = next(r for r in resources if r["resourceType"] == "RequestGroup")
    contained = {p["id"]: p for p in group.get("contained", ())}
    out: dict[int, dict[str, Any]] = {}
    for index, action in enumerate(group.get("action", ())):
        reference = action.get("resource", {}).get("reference", "")
        proposal = contained.get(reference.removeprefix("#"))
        if proposal is not None:
            resource = {k: v for k, v in proposal.items() if k != "id"}  # the EHR gives ids
            out[index] = resource
    return out


def _suggestion(r: Recommendation, resource: Mapping[str, Any]) -> dict[str, Any]:
    kind = resource["resourceType"]
    label = (
        "Order vaginal progesterone"
        if kind == "MedicationRequest"
        else "Book a transvaginal cervical length scan"
    )
    return {
        "label": label,
        "uuid": str(uuid.uuid4()),
        "isRecommended": r.strength in ("recommend", "offer"),
        "actions": [
            {
                "type": "create",
                "description": f"Create a draft {kind} ({r.rule})",
                "resource": dict(resource),
            }
        ],
    }


def patient_view_cards(
    assessment: Assessment,
    records: PregnancyRecords,
    profiles: Sequence[GuidelineProfile],
    base_url: str,
) -> list[dict[str, Any]]:
    """The cards of `assessment` (made by `profiles`, all of which it shows)."""
    titles = {p.id: f"{p.title} {p.version}" for p in profiles}
    proposals = _proposals(assessment, profiles)
    cards: list[dict[str, Any]] = []
    for index, r in enumerate(assessment.recommendations):
        if not is_due_action(r):
            continue
        title = titles.get(r.guideline, r.guideline)
        card: dict[str, Any] = {
            "uuid": str(uuid.uuid4()),
            "summary": _summary(r),
            "indicator": indicator_of(r),
            "detail": _detail(r, records, assessment.as_of, title),
            "source": {
                "label": f"CervixWatch: {title}",
                "url": rule_url(base_url, r.guideline, r.rule),
                "topic": {
                    "system": c.CW,
                    "code": r.code,
                    "display": RECOMMENDATION_CODES.get(r.code, r.code),
                },
            },
            "overrideReasons": override_reasons(),
            RULES_KEY: ", ".join(r.rules) or r.rule,
        }
        if index in proposals:
            card["suggestions"] = [_suggestion(r, proposals[index])]
            card["selectionBehavior"] = "at-most-one"
        cards.append(card)
    order = {"critical": 0, "warning": 1, "info": 2}
    cards.sort(key=lambda card: order[card["indicator"]])  # most pressing first; stable
    return cards
