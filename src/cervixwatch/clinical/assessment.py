"""`assess`: one pregnancy's records, a date and guideline profiles in; an assessment out.

Pure: no clock, no files, no environment. The steps are the same for every profile:
facts -> first pass (rules that look only at facts) -> second pass (rules that look at what
the first gave, e.g. "a cerclage is being considered" for contraindications) -> suppressions
(twins, contraindications) -> scan plans. Every recommendation keeps the facts that fired it;
every rule left undecided by a missing fact adds that fact's need to `missing`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cervixwatch.clinical.facts import FACT_CATALOGUE, FactValue, derive_facts
from cervixwatch.clinical.gestation import GestationalAge
from cervixwatch.clinical.guidelines import GuidelineProfile, RecommendationRule
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.clinical.risk import RiskSummary, summarise_risk
from cervixwatch.clinical.surveillance import ScanPlan, plan_scans


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One guideline's recommendation, traceable to its rule, source and the facts behind it."""

    code: str
    guideline: str
    strength: str
    rule: str
    rules: tuple[str, ...]
    citation: str
    provenance: str
    summary: str
    facts: Mapping[str, Any]
    window: tuple[dt.date, dt.date] | None = None
    #: The course of care (profiles.md): due, in-place, declined, overdue or missed.
    state: RecommendationState = "due"
    #: The state in plain words, with its dates and rule ("declined on 2026-02-01").
    state_note: str = ""
    #: Plain sentences, one per usual value assumed for an unknown fact (CD-01).
    assumptions: tuple[str, ...] = ()
    #: Why, in the clinic's words, where the rule's facts alone do not say (the symptoms of
    #: an unreviewed report, who reported them and how long they have waited: CD-07).
    reason: str = ""


RecommendationState = Literal["due", "in-place", "declined", "overdue", "missed"]
STATES: tuple[RecommendationState, ...] = ("due", "in-place", "declined", "overdue", "missed")


@dataclass(frozen=True, slots=True)
class CurrentTreatment:
    """A treatment under way on the assessment's day: a cerclage in situ, an active order."""

    treatment: str  # "cerclage", "vaginal-progesterone", "hydroxyprogesterone-caproate"
    since: dt.date | None
    since_ga: GestationalAge | None
    detail: str


@dataclass(frozen=True, slots=True)
class Withheld:
    """A recommendation a rule would give but a suppression withholds (shown for review)."""

    code: str
    guideline: str
    rule: str
    withheld_by: str
    reason: str


@dataclass(frozen=True, slots=True)
class Assessment:
    patient_id: str
    as_of: dt.date
    gestational_age: GestationalAge | None
    guidelines: tuple[str, ...]
    recommendations: tuple[Recommendation, ...]
    withheld: tuple[Withheld, ...]
    missing: tuple[str, ...]
    scan_plans: tuple[ScanPlan, ...]
    risk: RiskSummary
    facts: Mapping[str, FactValue]
    #: Treatments under way on `as_of` (a cerclage in situ, active orders), with their dates.
    current_treatments: tuple[CurrentTreatment, ...] = ()

    @property
    def next_scan_due(self) -> dt.date | None:
        dues = [p.next_scan.due for p in self.scan_plans if p.next_scan is not None]
        return min(dues) if dues else None

    def codes(self, guideline: str) -> set[str]:
        return {r.code for r in self.recommendations if r.guideline == guideline}


def _fired_facts(
    rule: RecommendationRule, facts: Mapping[str, FactValue], fired: frozenset[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    rule.when.explain(facts, fired, out)
    return out


def _window_dates(rule: RecommendationRule, edd: dt.date | None) -> tuple[dt.date, dt.date] | None:
    if rule.window is None or edd is None:
        return None
    start, end = rule.window
    return (edd - dt.timedelta(days=280 - start), edd - dt.timedelta(days=280 - end))


def _evaluate_profile(
    profile: GuidelineProfile,
    records: PregnancyRecords,
    facts: Mapping[str, FactValue],
    as_of: dt.date,
    missing: list[str],
) -> tuple[list[Recommendation], list[Withheld], list[ScanPlan]]:
    given: list[RecommendationRule] = []
    for second_pass in (False, True):
        fired = frozenset(r.code for r in given)
        for rule in profile.rules:
            if rule.second_pass is not second_pass:
                continue
            outcome = rule.when.value(facts, fired)
            if outcome is True:
                given.append(rule)
            elif outcome is None:
                unknown: list[str] = []
                rule.when.unknowns(facts, fired, unknown)
                missing.extend(unknown)

    fired = frozenset(r.code for r in given)
    withheld: list[Withheld] = []
    suppressed: set[str] = set()
    for suppression in profile.suppressions:
        outcome = suppression.when.value(facts, fired)
        if outcome is True:
            suppressed |= suppression.codes
            withheld.extend(
                Withheld(r.code, profile.id, r.rule, suppression.rule, suppression.reason)
                for r in given
                if r.code in suppression.codes
            )
        elif outcome is None:
            unknown = []
            suppression.when.unknowns(facts, fired, unknown)
            missing.extend(unknown)
            # Not knowing whether a contraindication holds withholds the codes it guards.
            suppressed |= suppression.codes
            withheld.extend(
                Withheld(
                    r.code,
                    profile.id,
                    r.rule,
                    suppression.rule,
                    f"could not be ruled out: {suppression.reason}",
                )
                for r in given
                if r.code in suppression.codes
            )

    recommendations: list[Recommendation] = []
    plans: list[ScanPlan] = []
    for rule in given:
        if rule.code in suppressed:
            continue
        recommendations.append(
            Recommendation(
                code=rule.code,
                guideline=profile.id,
                strength=rule.strength,
                rule=rule.rule,
                rules=rule.rule_ids,
                citation=profile.citation_text(rule.rule_ids),
                provenance=rule.provenance,
                summary=rule.summary,
                facts=_fired_facts(rule, facts, fired),
                window=_window_dates(rule, records.edd),
            )
        )
        if rule.scan is not None:
            plan = plan_scans(rule.scan, records, as_of, profile.id, rule.rule)
            if plan is not None:
                plans.append(plan)
    return recommendations, withheld, plans


def _missing_text(names: Iterable[str], facts: Mapping[str, FactValue]) -> list[str]:
    out: list[str] = []
    for name in names:
        need = FACT_CATALOGUE[name].needs
        if need and need not in out:
            out.append(need)
    if not facts["fetus_count_recorded"]:
        out.append("the number of fetuses (taken as one)")
    return out


def assess(
    records: PregnancyRecords, as_of: dt.date, profiles: Sequence[GuidelineProfile]
) -> Assessment:
    """Assess one pregnancy on `as_of` against each profile, in the order given."""
    facts = derive_facts(records, as_of)
    missing_facts: list[str] = []
    if facts["ga_days"] is None:
        missing_facts.append("ga_days")
    recommendations: list[Recommendation] = []
    withheld: list[Withheld] = []
    plans: list[ScanPlan] = []
    for profile in profiles:
        given, held, planned = _evaluate_profile(profile, records, facts, as_of, missing_facts)
        recommendations += given
        withheld += held
        plans += planned
    ga_days = facts["ga_days"]
    return Assessment(
        patient_id=records.patient_id,
        as_of=as_of,
        gestational_age=GestationalAge(ga_days) if isinstance(ga_days, int) else None,
        guidelines=tuple(p.id for p in profiles),
        recommendations=tuple(recommendations),
        withheld=tuple(withheld),
        missing=tuple(_missing_text(missing_facts, facts)),
        scan_plans=tuple(plans),
        risk=summarise_risk(records, facts, as_of),
        facts=facts,
    )
