"""Cards for draft orders (`order-select`, `order-sign`): a warning against an order the
guideline profile speaks against, with its rule ids and citation.

The knowledge decides, as data (profiles.md):
- a 17-OHPC order: the profile's `discontinue-17ohpc` rule (FDA-01, with SMFM23-01 and
  SMFM23-04 in `acog`): its approval was withdrawn;
- a progesterone or cerclage order: each of the profile's suppressions that withholds the
  recommendation codes the order is a case of (`interop.cds_orders.CODES_ORDERED`) and holds
  for her: twins or more (ACOG234-06 withholds progesterone and cerclage in `acog`; NICE-T1
  only cerclage in `nice`), or a contraindication to cerclage (ACOG142-07, NICE-06). An order
  for a cerclage means a cerclage is being considered, so the profile's rules that look at
  what was given (`cerclage-contraindicated`) are evaluated as if the order's codes had been
  given. A suppression that cannot be decided (a fact unknown) warns too, saying so: unknown
  is never normal.
Each warning offers to remove the draft order (a `delete` action) and may be overridden.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

from cervixwatch.app.cds_cards import RULES_KEY, SUMMARY_MAX, override_reasons, rule_url, short
from cervixwatch.clinical.assessment import Assessment
from cervixwatch.clinical.facts import FactValue
from cervixwatch.clinical.guidelines import RECOMMENDATION_CODES, GuidelineProfile
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.interop.cds_orders import CODES_ORDERED, ORDER_LABELS, DraftOrder
from cervixwatch.knowledge import codes as c
from cervixwatch.views.clinical_words import facts_words

STOP_17OHPC: Final = "discontinue-17ohpc"


def _given_with(
    profile: GuidelineProfile, facts: Mapping[str, FactValue], given: frozenset[str]
) -> frozenset[str]:
    """`given` and the codes of the profile's rules on what was given that then hold."""
    added = {
        r.code for r in profile.rules if r.when.uses_fired() and r.when.value(facts, given) is True
    }
    return given | added


def _card(
    *,
    order: DraftOrder,
    profile: GuidelineProfile,
    rule: str,
    rule_ids: Sequence[str],
    summary: tuple[str, str, str],
    words: str,
    facts: Mapping[str, Any],
    records: PregnancyRecords,
    assessment: Assessment,
    base_url: str,
    code: str,
) -> dict[str, Any]:
    title = f"{profile.title} {profile.version}"
    ids = tuple(rule_ids)
    detail = [
        f"**{words}**",
        "",
        f"- Order: {ORDER_LABELS[order.kind]} ({order.reference})",
        f"- Guideline: {title}",
        f"- Rule: {', '.join(ids)}",
        f"- Citation: {profile.citation_text(ids)}",
    ]
    described = facts_words(facts, records, assessment.as_of)
    if described:
        detail += ["", "Facts:"] + [f"- {w}" for w in described]
    return {
        "uuid": str(uuid.uuid4()),
        # The words are cut to fit, never the order's name or the rule (< 140 characters).
        "summary": summary[0]
        + short(summary[1], SUMMARY_MAX - len(summary[0] + summary[2]))
        + summary[2],
        "indicator": "warning",
        "detail": "\n".join(detail),
        "source": {
            "label": f"CervixWatch: {title}",
            "url": rule_url(base_url, profile.id, rule),
            "topic": {
                "system": c.CW,
                "code": code,
                "display": RECOMMENDATION_CODES.get(code, code),
            },
        },
        "suggestions": [
            {
                "label": f"Remove the draft order ({ORDER_LABELS[order.kind]})",
                "uuid": str(uuid.uuid4()),
                "isRecommended": True,
                "actions": [
                    {
                        "type": "delete",
                        "description": f"Remove {order.reference} from the draft orders",
                        "resourceId": [order.reference],
                    }
                ],
            }
        ],
        "selectionBehavior": "at-most-one",
        "overrideReasons": override_reasons(),
        RULES_KEY: ", ".join(ids),
    }


def order_cards(
    assessment: Assessment,
    records: PregnancyRecords,
    profiles: Sequence[GuidelineProfile],
    orders: Sequence[DraftOrder],
    base_url: str,
) -> list[dict[str, Any]]:
    """A warning card for each draft order a profile speaks against (none: no cards)."""
    facts = assessment.facts
    cards: list[dict[str, Any]] = []
    common = {"records": records, "assessment": assessment, "base_url": base_url}
    for profile in profiles:
        given = frozenset(assessment.codes(profile.id))
        for order in orders:
            label = ORDER_LABELS[order.kind]
            if order.kind == "hydroxyprogesterone-caproate":
                for rule in (r for r in profile.rules if r.code == STOP_17OHPC):
                    cards.append(
                        _card(
                            order=order,
                            profile=profile,
                            rule=rule.rule,
                            rule_ids=rule.rule_ids,
                            summary=(f"{label} ordered: ", rule.summary, f" ({rule.rule})"),
                            words=rule.summary,
                            facts={},
                            code=STOP_17OHPC,
                            **common,  # type: ignore[arg-type]
                        )
                    )
                continue
            codes = CODES_ORDERED[order.kind]
            as_ordered = _given_with(profile, facts, given | codes)
            for suppression in profile.suppressions:
                if not suppression.codes & codes:
                    continue
                holds = suppression.when.value(facts, as_ordered)
                if holds is False:
                    continue
                reason = suppression.reason
                if holds is None:
                    reason = f"Could not be ruled out: {reason[:1].lower()}{reason[1:]}"
                fired_facts: dict[str, Any] = {}
                suppression.when.explain(facts, as_ordered, fired_facts)
                if suppression.when.uses_fired():  # the facts behind the code it looks at
                    for r in profile.rules:
                        if (
                            r.when.uses_fired()
                            and r.code in as_ordered - codes
                            and r.when.value(facts, as_ordered) is True
                        ):
                            r.when.explain(facts, as_ordered, fired_facts)
                fired_facts.pop("indicated", None)  # the order, not a rule, gave those codes
                cards.append(
                    _card(
                        order=order,
                        profile=profile,
                        rule=suppression.rule,
                        rule_ids=(suppression.rule,),
                        summary=(f"{label} ordered: ", reason, f" ({suppression.rule})"),
                        words=reason,
                        facts=fired_facts,
                        code=next(iter(sorted(suppression.codes & codes))),
                        **common,  # type: ignore[arg-type]
                    )
                )
    return cards
