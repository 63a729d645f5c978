"""`assess`: one pregnancy's records, a date and guideline profiles in; an assessment out.

Pure: no clock, no files, no environment. The steps are the same for every profile:
facts -> first pass (rules that look only at facts) -> second pass (rules that look at what
the first gave, e.g. "a cerclage is being considered" for contraindications) -> suppressions
(twins, contraindications) -> scan plans. Every recommendation keeps the facts that fired it;
every rule left undecided by a missing fact adds that fact's need to `missing`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from cervixwatch.clinical import course
from cervixwatch.clinical.facts import (
    HISTORY_NEED,
    FactValue,
    derive_facts,
    needs_of,
    open_reports,
)
from cervixwatch.clinical.frozen import quick_init
from cervixwatch.clinical.gestation import GestationalAge, date_at_days, gestational_age
from cervixwatch.clinical.guidelines import GuidelineProfile, RecommendationRule, RuleCode
from cervixwatch.clinical.recommendation import (
    STATES,
    CurrentTreatment,
    Recommendation,
    RecommendationState,
    Withheld,
)
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.clinical.risk import RiskEvidence, RiskSummary, summarise_risk
from cervixwatch.clinical.surveillance import ScanPlan, plan_scans

#: The data an assessment holds, defined in `recommendation` and named here for its callers.
__all__ = [
    "STATES",
    "Assessment",
    "CurrentTreatment",
    "Recommendation",
    "RecommendationState",
    "Withheld",
    "assess",
]


@quick_init
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
    given: RuleCode, facts: Mapping[str, FactValue], fired: frozenset[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    given.explain(facts, fired, out)
    return out


def _window_dates(rule: RecommendationRule, edd: dt.date | None) -> tuple[dt.date, dt.date] | None:
    if rule.window is None or edd is None:
        return None
    start, end = rule.window
    return (date_at_days(edd, start), date_at_days(edd, end))


def _fire(
    profile: GuidelineProfile, facts: Mapping[str, FactValue], missing: list[str] | None
) -> list[RuleCode]:
    """The rules whose condition holds, first pass then second; undecided ones add the facts
    they lack to `missing`. A treatment with a course may only be *started* in its start window
    (profiles.md, "The course of care"): outside it, and not in place, its rules do not fire."""
    given: list[RuleCode] = []
    ga_days = facts["ga_days"]
    for rules in profile.passes:
        fired = frozenset(g.rule.code for g in given)
        for entry in rules:
            _, check, unknowns, _, treatment = entry
            if treatment is not None and facts[treatment.in_place] is not True:
                if isinstance(ga_days, int) and ga_days > treatment.start_until_days:
                    continue  # too late to start it: nothing to offer, nothing to ask for
                outcome = check(facts, fired)
                if outcome is True and ga_days is None:
                    # Whether it may still be started depends on the gestation: unknown.
                    outcome = None
                    if missing is not None:
                        missing.append("ga_days")
            else:
                outcome = check(facts, fired)
            if outcome is True:
                given.append(entry)
            elif outcome is None and missing is not None:
                unknown: list[str] = []
                unknowns(facts, fired, unknown)
                missing.extend(unknown)
    return given


def _suppress(
    profile: GuidelineProfile,
    given: list[RecommendationRule],
    facts: Mapping[str, FactValue],
    fired: frozenset[str],
    missing: list[str],
) -> tuple[set[str], list[Withheld]]:
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
            unknown: list[str] = []
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
    return suppressed, withheld


def _evaluate_profile(
    profile: GuidelineProfile,
    records: PregnancyRecords,
    facts: Mapping[str, FactValue],
    facts_on: Callable[[dt.date], Mapping[str, FactValue]],
    as_of: dt.date,
    missing: list[str],
) -> tuple[list[Recommendation], list[Withheld], list[ScanPlan]]:
    """This profile's recommendations, what it withheld and its scan plans; `facts_on(day)`
    gives the facts of an earlier day."""
    given_code = _fire(profile, facts, missing)
    given = [g.rule for g in given_code]
    fired = frozenset(r.code for r in given)
    suppressed, withheld = _suppress(profile, given, facts, fired, missing)
    past: dict[dt.date, frozenset[str]] = {}

    def fired_then(day: dt.date, rule: RecommendationRule) -> bool:
        # The same rule on the day she declined: what was known then (no later record).
        if day not in past:
            then = facts_on(day)
            past[day] = frozenset(
                g.rule.rule + "|" + g.rule.code for g in _fire(profile, then, None)
            )
        return rule.rule + "|" + rule.code in past[day]

    edd = records.edd
    recommendations: list[Recommendation] = []
    plans: list[ScanPlan] = []
    for entry in given_code:
        rule = entry.rule
        if rule.code in suppressed:
            continue
        plan = None
        if rule.scan is not None:
            plan = plan_scans(rule.scan, records, as_of, profile.id, rule.rule)
            if plan is not None:
                plans.append(plan)
        words: list[str] = []
        if rule.assumes:
            assumed: list[str] = []
            rule.when.assumptions(facts, fired, words, assumed)
            missing.extend(assumed)
        window = _window_dates(rule, edd)
        state, note = course.state_of(
            profile, rule, records, facts, as_of, plan, window, fired_then
        )
        rule_ids = rule.rule_ids
        recommendations.append(
            Recommendation(
                code=rule.code,
                guideline=profile.id,
                strength=rule.strength,
                rule=rule.rule,
                rules=rule_ids,
                citation=profile.rule_citations.get(rule_ids) or profile.citation_text(rule_ids),
                provenance=rule.provenance,
                summary=rule.summary,
                facts=_fired_facts(entry, facts, fired),
                window=window,
                state=state,
                state_note=note,
                assumptions=tuple(words),
                reason=(
                    course.urgent_reason(
                        records, as_of, open_reports(records.symptom_reports, as_of)
                    )
                    if rule.code == "urgent-evaluation"
                    else ""
                ),
            )
        )
    given_codes = {r.code for r in recommendations}
    for rule, check, *_ in profile.serial_scans:
        if rule.code in given_codes:
            continue
        missed = course.missed_serial(profile, rule, check, records, facts, fired_then)
        if missed is not None and rule.code not in suppressed:
            recommendations.append(missed[0])
            plans.append(missed[1])
    for code, treatment in profile.courses.items():
        if facts[treatment.in_place] is not True:
            continue
        shown = any(r.code == code for r in recommendations)
        if shown or code in suppressed:
            continue
        # Past its start window no rule offers the treatment any more; it is shown as the
        # current treatment with how long it continues, if a rule of this profile gave it on
        # the day it started (an order this profile never indicated is listed among the
        # current treatments only).
        started = course.started_on(records, code, as_of)
        if started is not None and not any(
            fired_then(started, r) for r in profile.rules if r.code == code
        ):
            continue
        note = course.course_state(treatment, records, facts, as_of, profile)
        if started is None:
            note += " Its start date is not recorded: whether it was indicated then is unknown."
        recommendations.append(
            replace(course.course_recommendation(treatment, profile, facts), state_note=note)
        )
    return recommendations, withheld, plans


def _missing_text(
    names: Iterable[str],
    facts: Mapping[str, FactValue],
    records: PregnancyRecords,
    as_of: dt.date,
) -> list[str]:
    out: list[str] = []
    counted: str | None = None  # worked out when first needed
    for name in dict.fromkeys(names):  # a name twice asks for the same, once
        for need in needs_of(name, facts):
            if need == HISTORY_NEED:
                if counted is None:
                    counted = _counted_history(records)
                need = counted or need
            if need and need not in out:
                out.append(need)
    if _removal_without_placement(records, as_of):
        out.append("the cerclage's placement (date and type)")  # CD-06
    if not facts["fetus_count_recorded"]:
        out.append("the number of fetuses (taken as one)")
    return out


def _removal_without_placement(records: PregnancyRecords, as_of: dt.date) -> bool:
    """A cerclage removal of this pregnancy, known by `as_of`, with no placement recorded before
    it (CD-06: she may have had it placed elsewhere; the removal is kept, the placement asked)."""
    if not records.cerclage_removals:
        return False
    start = records.edd - dt.timedelta(days=280) if records.edd is not None else None
    for removal in records.cerclage_removals:
        if removal.removed_on > as_of or (start is not None and removal.removed_on < start):
            continue  # not yet known, or another pregnancy's
        if not any(c.placed_on <= removal.removed_on for c in records.cerclage_placements):
            return True
    return False


def _counted_history(records: PregnancyRecords) -> str:
    """ "details of 2 previous preterm births (gestation, outcome and onset)": what a summary's
    counts (IPS obstetric history) left unknown, in place of the general request."""
    counts: dict[str, int] = {}
    for prior in records.prior_pregnancies:
        if prior.counted_as:
            counts[prior.counted_as] = counts.get(prior.counted_as, 0) + 1
    if not counts:
        return ""
    items = [
        f"{n} previous {what}{'s' if n != 1 and not what.endswith('s') else ''}"
        for what, n in counts.items()
    ]
    return f"details of {' and '.join(items)} (gestation at the end, outcome and how it started)"


@lru_cache(maxsize=16)
def _windowed_of(profiles_windowed: tuple[frozenset[str], ...]) -> frozenset[str]:
    """The windowed facts of a set of profiles: the same set for every assessment, made once."""
    return frozenset().union(*profiles_windowed)


def assess(
    records: PregnancyRecords,
    as_of: dt.date,
    profiles: Sequence[GuidelineProfile],
    evidence: RiskEvidence | None = None,
) -> Assessment:
    """Assess one pregnancy on `as_of` against each profile, in the order given; the published
    risk figures that apply are shown from `evidence` (knowledge.bundled_evidence())."""
    windowed = _windowed_of(tuple(p.windowed_facts for p in profiles))
    facts = derive_facts(records, as_of, windowed)
    past: dict[dt.date, Mapping[str, FactValue]] = {}

    def facts_on(day: dt.date) -> Mapping[str, FactValue]:
        # What was known on an earlier day (a course's start, a window's end), asked by each
        # profile: worked out once, with every profile's windowed facts.
        if day not in past:
            past[day] = derive_facts(records, day, windowed)
        return past[day]

    missing_facts: list[str] = []
    if facts["ga_days"] is None:
        missing_facts.append("ga_days")
    recommendations: list[Recommendation] = []
    withheld: list[Withheld] = []
    plans: list[ScanPlan] = []
    for profile in profiles:
        given, held, planned = _evaluate_profile(
            profile, records, facts, facts_on, as_of, missing_facts
        )
        recommendations += given
        withheld += held
        plans += planned
    ga_days = facts["ga_days"]
    return Assessment(
        patient_id=records.patient_id,
        as_of=as_of,
        gestational_age=gestational_age(ga_days) if isinstance(ga_days, int) else None,
        guidelines=tuple(p.id for p in profiles),
        recommendations=tuple(recommendations),
        withheld=tuple(withheld),
        missing=tuple(_missing_text(missing_facts, facts, records, as_of)),
        scan_plans=tuple(plans),
        risk=summarise_risk(records, facts, as_of, evidence),
        facts=facts,
        current_treatments=course.current_treatments(records, as_of),
    )
