"""The course of care: what has already been done, and what each recommendation's state is.

An assessment is not a snapshot of findings (profiles.md, "The course of care"). Given the
recommendations a profile's rules fired, this module says for each whether it is `due`,
`in-place` (the treatment is under way), `declined` (she declined it, and no newer finding has
fired it again), `overdue` or `missed` (its window closed without it: CD-05), in plain words
with dates. It also lists the treatments under way and says why a report is urgent (CD-07).

Pure: records, facts and `as_of` in; nothing read from the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from cervixwatch.clinical.conditions import Check
from cervixwatch.clinical.facts import FactValue
from cervixwatch.clinical.gestation import (
    GestationalAge,
    date_at_days,
    ga_days_on,
    ga_text,
    gestational_age_on,
)
from cervixwatch.clinical.guidelines import Course, GuidelineProfile, RecommendationRule
from cervixwatch.clinical.recommendation import (
    CurrentTreatment,
    Recommendation,
    RecommendationState,
)
from cervixwatch.clinical.records import (
    CerclageIndication,
    CerclageRoute,
    Medication,
    PregnancyRecords,
    SymptomReport,
)
from cervixwatch.clinical.surveillance import ScanPlan, plan_scans

#: Words for what a woman reported (the symptoms questionnaire's linkIds).
SYMPTOM_WORDS = {
    "cramping": "cramping",
    "backache": "lower backache",
    "pelvic-pressure": "pelvic pressure",
    "spotting": "spotting",
    "bleeding": "bleeding",
    "fluid-leak": "leaking fluid",
    "discharge-change": "a change in discharge",
    "contractions": "contractions or tightenings",
    "fever": "fever",
}
#: Iterating the enum class itself goes through EnumType (~1 us on Python 3.11): once here.
_MEDICATIONS = tuple(Medication)
_MEDICATION_WORDS = {
    Medication.VAGINAL_PROGESTERONE: "vaginal progesterone",
    Medication.HYDROXYPROGESTERONE_CAPROATE: "hydroxyprogesterone caproate (17-OHPC)",
}


def at(day: dt.date | None, edd: dt.date | None) -> str:
    """ "16+0 (2026-01-05)", or the date alone without an EDD, or "an unrecorded date"."""
    if day is None:
        return "an unrecorded date"
    if edd is None:
        return day.isoformat()
    return f"{ga_text(ga_days_on(edd, day))} ({day.isoformat()})"


def ga_date(edd: dt.date | None, days: int) -> str:
    """ "34+0 (2026-05-18)": a gestational age and, with an EDD, its date."""
    text = ga_text(days)
    return f"{text} ({date_at_days(edd, days).isoformat()})" if edd is not None else text


# --- treatments under way ----------------------------------------------------------------------


def cerclage_in_situ_text(records: PregnancyRecords, as_of: dt.date) -> list[tuple[dt.date, str]]:
    """Each cerclage placed in this pregnancy and not removed by `as_of`: (date, words)."""
    edd = records.edd
    removals = [r.removed_on for r in records.cerclage_removals if r.removed_on <= as_of]
    out = []
    for c in records.cerclage_placements:
        begun = edd is None or ga_days_on(edd, c.placed_on) >= 0
        if c.placed_on > as_of or not begun or any(r >= c.placed_on for r in removals):
            continue
        route = {
            CerclageRoute.TRANSVAGINAL: "transvaginal",
            CerclageRoute.TRANSABDOMINAL: "transabdominal",
            CerclageRoute.UNKNOWN: "route not recorded",
        }[c.route]
        why = (
            f", {c.indication.value}"
            if c.indication is not None and c.indication is not CerclageIndication.ABDOMINAL
            else ""
        )
        out.append((c.placed_on, f"cerclage ({route}{why}) in situ since {at(c.placed_on, edd)}"))
    return out


def medication_text(records: PregnancyRecords, medication: Medication, as_of: dt.date) -> str:
    """ "vaginal progesterone since 16+0 (2026-01-05)", or "" when no order is active."""
    orders = [m for m in records.medications if m.medication is medication and m.active_on(as_of)]
    if not orders:
        return ""
    dated = [m.started_on for m in orders if m.started_on is not None]
    since = at(min(dated), records.edd) if dated else "a start date not recorded"
    return f"{_MEDICATION_WORDS[medication]} since {since}"


def started_on(records: PregnancyRecords, code: str, as_of: dt.date) -> dt.date | None:
    """The day the active order for this treatment code started (the earliest), if recorded."""
    days = [
        m.started_on
        for m in records.medications
        if m.medication.value == code and m.active_on(as_of) and m.started_on is not None
    ]
    return min(days) if days else None


# --- states ------------------------------------------------------------------------------------


def course_state(
    course: Course,
    records: PregnancyRecords,
    facts: Mapping[str, object],
    as_of: dt.date,
    profile: GuidelineProfile,
) -> str:
    """The state note of a treatment in place: since when, and how long it continues."""
    edd = records.edd
    ga_days = facts["ga_days"]
    medication = Medication(course.code) if course.code in Medication._value2member_map_ else None
    since = medication_text(records, medication, as_of) if medication else course.code
    since = since[0].upper() + since[1:] if since else "In place"
    continue_words = (
        course.continue_words or f"continue until {GestationalAge(course.continue_until_days)}"
    )
    if (
        isinstance(ga_days, int)
        and course.review_from_days is not None
        and (ga_days >= course.review_from_days)
    ):
        return (
            f"{since}. Review stopping: {course.review_words or 'the preterm period is over'}"
            f" ({course.review_rule})."
        )
    until = ga_date(edd, course.continue_until_days)
    if isinstance(ga_days, int) and ga_days >= course.continue_until_days:
        return (
            f"{since}. May stop now: {until} is reached ({course.continue_rule}: {continue_words})."
        )
    return (
        f"{since}: the current treatment, not an offer; {continue_words}"
        f" ({course.continue_rule}; {until})."
    )


def declined_state(
    code: str,
    rule: RecommendationRule,
    records: PregnancyRecords,
    as_of: dt.date,
    fired_then: Callable[[dt.date, RecommendationRule], bool],
) -> tuple[str, str] | None:
    """(state, note) when she declined this code by `as_of`, else None.

    Declined stands until a rule fires the same code on newer findings: if the rule that fires
    now did not fire on the day she declined, the recommendation is due again and says so."""
    declined = [d for d in records.declined if d.code.value == code and d.declined_on <= as_of]
    if not declined:
        return None
    latest = max(declined, key=lambda d: d.declined_on)
    when = at(latest.declined_on, records.edd)
    if fired_then(latest.declined_on, rule):
        return "declined", f"Offered and declined on {when}: not a task unless new findings."
    return (
        "due",
        f"Declined on {when}; due again: {rule.rule} now applies on findings recorded since then.",
    )


def window_state(
    window: tuple[dt.date, dt.date] | None, as_of: dt.date, edd: dt.date | None
) -> tuple[str, str] | None:
    """Overdue once the rule's planned window has closed (CD-05)."""
    if window is None or as_of <= window[1]:
        return None
    return "overdue", (
        f"Overdue: planned for {at(window[0], edd)} to {at(window[1], edd)}, not yet recorded."
    )


def plan_state(plan: ScanPlan | None, edd: dt.date | None) -> tuple[str, str]:
    """The state of a scan recommendation from its plan: both come from the same facts."""
    if plan is None:
        return "due", "No scan date can be set without an estimated due date."
    if plan.missed:
        return "missed", plan.note
    scan = plan.next_scan
    if scan is None:
        window = f"{plan.window_from_ga}-{plan.window_to_ga}"
        return "due", plan.note or f"No further scan falls in {window}."
    if scan.status == "overdue":
        return "overdue", f"Overdue: the next scan was due by {at(scan.latest, edd)}."
    if scan.due == scan.latest:
        return "due", f"Next scan {at(scan.due, edd)}."
    return "due", f"Next scan from {at(scan.due, edd)}, at the latest by {at(scan.latest, edd)}."


# --- why urgent --------------------------------------------------------------------------------


def urgent_reason(
    records: PregnancyRecords, as_of: dt.date, open_reports: Sequence[SymptomReport]
) -> str:
    """Which symptoms or findings, reported when and by whom, and how long they have waited
    (CD-07)."""
    edd = records.edd
    parts = []
    for report in sorted(open_reports, key=lambda r: r.reported_on):
        if not report.present:
            continue
        said = ", ".join(SYMPTOM_WORDS.get(s.value, s.value) for s in sorted(report.present))
        waited = (as_of - report.reported_on).days
        age = "today" if waited == 0 else f"{waited} day{'s' if waited != 1 else ''} ago"
        who = report.reported_by or "the woman"
        parts.append(
            f"{said}: reported by {who} on {at(report.reported_on, edd)}, {age}; not yet reviewed"
        )
    # The findings as the facts read them: the latest recorded dilation and the latest
    # recorded state of the membranes, which may come from separate records of one exam.
    exams = sorted(
        (e for e in records.exams if e.examined_on <= as_of), key=lambda e: e.examined_on
    )
    dilation = next((e for e in reversed(exams) if e.dilation_cm is not None), None)
    membranes = next((e for e in reversed(exams) if e.membranes_exposed is not None), None)
    found = []
    if dilation is not None and dilation.dilation_cm is not None and dilation.dilation_cm >= 2:
        found.append(f"dilation {dilation.dilation_cm:g} cm on {at(dilation.examined_on, edd)}")
    if membranes is not None and membranes.membranes_exposed:
        found.append(f"membranes exposed on {at(membranes.examined_on, edd)}")
    if found:
        parts.append("on exam: " + " and ".join(found))
    return "; ".join(parts)


# --- recommendations of the course (used by assessment.py) --------------------------------


def course_recommendation(
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


def missed_serial(
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
    end = date_at_days(edd, schedule.to_days)
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
    # Asked last, as it costs most (that day's facts worked out again, every rule fired on
    # them); each test above and this one must hold, so the order changes no answer.
    if not fired_then(date_at_days(edd, before_end), rule):
        return None
    due = plan.next_scan.due
    note = (
        f"Missed: a scan was due from {at(due, edd)} and none was recorded by the end of"
        f" the surveillance window, {at(end, edd)} (CD-05)."
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


def state_of(
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
        return "in-place", course_state(treatment, records, facts, as_of, profile)
    if rule.choice_made_by is not None and facts[rule.choice_made_by] is True:
        # NICE-01 offers a choice of either, not both: with the other under way it is made.
        return "in-place", f"The choice is made: {rule.choice_words} ({rule.rule})."
    declined = (
        declined_state(rule.code, rule, records, as_of, fired_then) if records.declined else None
    )
    if declined is not None and declined[0] == "declined":
        return "declined", declined[1]
    state: tuple[str, str] = ("due", "")
    if rule.scan is not None:
        state = plan_state(plan, records.edd)
    else:
        state = window_state(window, as_of, records.edd) or state
    if declined is not None:
        state = (state[0], f"{declined[1]} {state[1]}".strip())
    return state  # type: ignore[return-value]


def current_treatments(records: PregnancyRecords, as_of: dt.date) -> tuple[CurrentTreatment, ...]:
    edd = records.edd
    out = [
        CurrentTreatment(
            "cerclage",
            day,
            gestational_age_on(edd, day) if edd is not None else None,
            words,
        )
        for day, words in cerclage_in_situ_text(records, as_of)
    ]
    if not records.medications:
        return tuple(out)
    for medication in _MEDICATIONS:
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
                medication_text(records, medication, as_of),
            )
        )
    return tuple(out)
