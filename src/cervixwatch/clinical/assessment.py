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
from typing import Any, Literal

from cervixwatch.clinical import course
from cervixwatch.clinical.conditions import Check
from cervixwatch.clinical.facts import (
    HISTORY_NEED,
    FactValue,
    derive_facts,
    needs_of,
    open_reports,
)
from cervixwatch.clinical.gestation import GestationalAge, date_at, gestational_age_on
from cervixwatch.clinical.guidelines import Course, GuidelineProfile, RecommendationRule
from cervixwatch.clinical.records import Medication, PregnancyRecords
from cervixwatch.clinical.risk import RiskEvidence, RiskSummary, summarise_risk
from cervixwatch.clinical.surveillance import ScanPlan, plan_scans

RecommendationState = Literal["due", "in-place", "declined", "overdue", "missed"]
STATES: tuple[RecommendationState, ...] = ("due", "in-place", "declined", "overdue", "missed")


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


def _fire(
    profile: GuidelineProfile, facts: Mapping[str, FactValue], missing: list[str] | None
) -> list[RecommendationRule]:
    """The rules whose condition holds, first pass then second; undecided ones add the facts
    they lack to `missing`. A treatment with a course may only be *started* in its start window
    (profiles.md, "The course of care"): outside it, and not in place, its rules do not fire."""
    given: list[RecommendationRule] = []
    ga_days = facts["ga_days"]
    for rules in profile.passes:
        fired = frozenset(r.code for r in given)
        for rule, check, treatment in rules:
            outcome = check(facts, fired)
            if outcome is True and treatment is not None and facts[treatment.in_place] is not True:
                if ga_days is None:
                    outcome = None
                    if missing is not None:
                        missing.append("ga_days")
                elif isinstance(ga_days, int) and ga_days > treatment.start_until_days:
                    outcome = False
            if outcome is True:
                given.append(rule)
            elif outcome is None and missing is not None:
                unknown: list[str] = []
                rule.when.unknowns(facts, fired, unknown)
                missing.extend(unknown)
    return given


def _suppress(
    profile: GuidelineProfile,
    given: list[RecommendationRule],
    facts: Mapping[str, FactValue],
    missing: list[str],
) -> tuple[set[str], list[Withheld]]:
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


def _course_recommendation(
    course: Course, profile: GuidelineProfile, facts: Mapping[str, FactValue]
) -> Recommendation:
    """A treatment in place past its start window, when no rule offers it any more: shown as
    the current treatment with how long it continues, from the course's own rule."""
    rule = course.continue_rule
    return Recommendation(
        code=course.code,
        guideline=profile.id,
        strength="recommend",
        rule=rule,
        rules=(rule,),
        citation=profile.citation_text((rule,)),
        provenance=profile.sources[rule].provenance_label,
        summary=profile.sources[rule].words,
        facts={course.in_place: facts[course.in_place], "ga_days": facts["ga_days"]},
        state="in-place",
    )


def _evaluate_profile(
    profile: GuidelineProfile,
    records: PregnancyRecords,
    facts: Mapping[str, FactValue],
    as_of: dt.date,
    missing: list[str],
) -> tuple[list[Recommendation], list[Withheld], list[ScanPlan]]:
    given = _fire(profile, facts, missing)
    fired = frozenset(r.code for r in given)
    suppressed, withheld = _suppress(profile, given, facts, missing)
    past: dict[dt.date, frozenset[str]] = {}

    def fired_then(day: dt.date, rule: RecommendationRule) -> bool:
        # The same rule on the day she declined: what was known then (no later record).
        if day not in past:
            then = derive_facts(records, day, profile.windowed_facts)
            past[day] = frozenset(r.rule + "|" + r.code for r in _fire(profile, then, None))
        return rule.rule + "|" + rule.code in past[day]

    edd = records.edd
    recommendations: list[Recommendation] = []
    plans: list[ScanPlan] = []
    for rule in given:
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
        state, note = _state(profile, rule, records, facts, as_of, plan, window, fired_then)
        recommendations.append(
            Recommendation(
                code=rule.code,
                guideline=profile.id,
                strength=rule.strength,
                rule=rule.rule,
                rules=rule.rule_ids,
                citation=profile.rule_citations.get(rule.rule_ids)
                or profile.citation_text(rule.rule_ids),
                provenance=rule.provenance,
                summary=rule.summary,
                facts=_fired_facts(rule, facts, fired),
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
    for rule, check, _ in profile.passes[0]:
        if rule.scan is None or rule.scan.kind != "serial" or rule.code in given_codes:
            continue
        missed = _missed_serial(profile, rule, check, records, facts, fired_then)
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
            replace(_course_recommendation(treatment, profile, facts), state_note=note)
        )
    return recommendations, withheld, plans


def _missed_serial(
    profile: GuidelineProfile,
    rule: RecommendationRule,
    check: Check,
    records: PregnancyRecords,
    facts: Mapping[str, FactValue],
    fired_then: Callable[[dt.date, RecommendationRule], bool],
) -> tuple[Recommendation, ScanPlan] | None:
    """CD-05: a serial scan is missed once its surveillance window has ended without it.

    Past the window the rule no longer fires; if it applied on the window's last day (judged
    on what was known then) and a scan fell due in the window with none recorded after it,
    the recommendation is shown as `missed` (not a task) with the plan as it stood then."""
    schedule, edd, ga_days = rule.scan, records.edd, facts["ga_days"]
    if schedule is None or edd is None or not isinstance(ga_days, int):
        return None
    if ga_days <= schedule.to_days:
        return None
    # Cheap first: would the rule hold the day before the window closed, with today's other
    # facts? (A rule written "before 24+0" beside a window "to 24+0" no longer holds on 24+0.)
    before_end = schedule.to_days - 1
    if check({**facts, "ga_days": before_end}, frozenset()) is not True:
        return None
    end = date_at(edd, GestationalAge(schedule.to_days))
    if not fired_then(date_at(edd, GestationalAge(before_end)), rule):
        return None
    plan = plan_scans(schedule, records, end, profile.id, rule.rule)
    if plan is None or plan.next_scan is None:
        return None
    # Missed only if the scan's last acceptable day fell in the window: with NICE's "every 2-4
    # weeks", a scan at 22+0 is next due at 24+0 but acceptable until 26+0, so not missed.
    grace = (
        schedule.overdue_after_days - plan.interval_days
        if schedule.overdue_after_days is not None and plan.interval_days is not None
        else 0
    )
    if plan.next_scan.due + dt.timedelta(days=grace) > end:
        return None
    due = plan.next_scan.due
    note = (
        f"Missed: a scan was due from {course.at(due, edd)} and none was recorded by the end of"
        f" the surveillance window, {course.at(end, edd)} (CD-05)."
    )
    missed_plan = replace(plan, next_scan=None, missed=True, note=note)
    recommendation = Recommendation(
        code=rule.code,
        guideline=profile.id,
        strength=rule.strength,
        rule=rule.rule,
        rules=rule.rule_ids,
        citation=profile.rule_citations.get(rule.rule_ids) or profile.citation_text(rule.rule_ids),
        provenance=rule.provenance,
        summary=rule.summary,
        facts={"ga_days": ga_days},
        state="missed",
        state_note=note,
    )
    return recommendation, missed_plan


def _state(
    profile: GuidelineProfile,
    rule: RecommendationRule,
    records: PregnancyRecords,
    facts: Mapping[str, FactValue],
    as_of: dt.date,
    plan: ScanPlan | None,
    window: tuple[dt.date, dt.date] | None,
    fired_then: Callable[[dt.date, RecommendationRule], bool],
) -> tuple[RecommendationState, str]:
    """In place beats declined beats the calendar (overdue, missed) beats due."""
    treatment = profile.courses.get(rule.code)
    if treatment is not None and facts[treatment.in_place] is True:
        return "in-place", course.course_state(treatment, records, facts, as_of, profile)
    if rule.choice_made_by is not None and facts[rule.choice_made_by] is True:
        # NICE-01 offers a choice of either, not both: with the other under way it is made.
        return "in-place", f"The choice is made: {rule.choice_words} ({rule.rule})."
    declined = (
        course.declined_state(rule.code, rule, records, as_of, fired_then)
        if records.declined
        else None
    )
    if declined is not None and declined[0] == "declined":
        return "declined", declined[1]
    state: tuple[str, str] = ("due", "")
    if rule.scan is not None:
        state = course.plan_state(plan, records.edd)
    else:
        state = course.window_state(window, as_of, records.edd) or state
    if declined is not None:
        state = (state[0], f"{declined[1]} {state[1]}".strip())
    return state  # type: ignore[return-value]


def _current_treatments(records: PregnancyRecords, as_of: dt.date) -> tuple[CurrentTreatment, ...]:
    edd = records.edd
    out = [
        CurrentTreatment(
            "cerclage",
            day,
            gestational_age_on(edd, day) if edd is not None else None,
            words,
        )
        for day, words in course.cerclage_in_situ_text(records, as_of)
    ]
    for medication in Medication:
        orders = [
            m for m in records.medications if m.medication is medication and m.active_on(as_of)
        ]
        if not orders:
            continue
        dated = [m.started_on for m in orders if m.started_on is not None]
        since = min(dated) if dated else None
        out.append(
            CurrentTreatment(
                medication.value,
                since,
                gestational_age_on(edd, since) if edd is not None and since is not None else None,
                course.medication_text(records, medication, as_of),
            )
        )
    return tuple(out)


def _missing_text(
    names: Iterable[str],
    facts: Mapping[str, FactValue],
    records: PregnancyRecords,
    as_of: dt.date,
) -> list[str]:
    out: list[str] = []
    for name in names:
        for need in needs_of(name, facts):
            if need == HISTORY_NEED and (counted := _counted_history(records)):
                need = counted
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


def assess(
    records: PregnancyRecords,
    as_of: dt.date,
    profiles: Sequence[GuidelineProfile],
    evidence: RiskEvidence | None = None,
) -> Assessment:
    """Assess one pregnancy on `as_of` against each profile, in the order given; the published
    risk figures that apply are shown from `evidence` (knowledge.bundled_evidence())."""
    windowed = frozenset().union(*(p.windowed_facts for p in profiles))
    facts = derive_facts(records, as_of, windowed)
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
        missing=tuple(_missing_text(missing_facts, facts, records, as_of)),
        scan_plans=tuple(plans),
        risk=summarise_risk(records, facts, as_of, evidence),
        facts=facts,
        current_treatments=_current_treatments(records, as_of),
    )
