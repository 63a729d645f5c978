"""The assessment in plain language, for the woman herself (a reading age of about 11).

Every sentence here restates what the assessment already says: the recommendation codes and
their strength (DESIGN.md, shared/clinical/profiles.md), each one's state in the course of care
(a treatment she is on is what she is doing now, never an offer; an offer she declined is her
choice, not a to-do), the scan plan's dates and status, and the risk tier beside this
pregnancy's findings. Nothing clinical is decided here and no new source is cited: a code this
module does not know gets a sentence that sends her to her team, never a guess. No rule id or
code is shown to her (issue 13): the ids stay in the data (`PlainRecommendation.rules`) for
her team's pages, not in hers.

What she is told to do about a symptom report (`what_to_do`) is one answer, given by every
page that speaks of the report: go to the unit now, call now, or that her team has seen it.

Input is the assessment JSON (`views.json_view.assessment_json`, the `cervixwatch assess`
contract), so this module reads what any client of the API reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from cervixwatch.clinical.facts import RED_FLAG_SYMPTOMS
from cervixwatch.clinical.records import Symptom

# --- dates and gestation ------------------------------------------------------------------------


def long_date(day: dt.date | str) -> str:
    """`2026-03-02` as "2 March 2026"."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return f"{day.day} {day:%B %Y}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def gestation_sentence(gestational_age: Mapping[str, Any] | None) -> str:
    """How far along she is today; unknown without a due date (never guessed)."""
    if gestational_age is None:
        return (
            "We do not know how many weeks pregnant you are yet, because your due date is not"
            " on your record. Your team can add it."
        )
    weeks, days = int(gestational_age["weeks"]), int(gestational_age["days"])
    if days == 0:
        return f"You are {_count(weeks, 'week')} pregnant today."
    return f"You are {_count(weeks, 'week')} and {_count(days, 'day')} pregnant today."


def due_date_sentence(edd: str | None) -> str:
    if edd is None:
        return "Your due date is not on your record yet."
    return f"Your due date is {long_date(edd)}."


# --- the next scan ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScanNews:
    """Her next cervical-length scan: `status` is the plan's (upcoming, due or overdue)."""

    status: str
    due: dt.date
    latest: dt.date
    sentences: tuple[str, ...]

    @property
    def overdue(self) -> bool:
        return self.status == "overdue"


def next_scan(assessment: Mapping[str, Any]) -> ScanNews | None:
    """The most pressing next scan of the plan: an overdue one first, else the soonest."""
    scans = [
        (
            str(plan["next"]["status"]),
            dt.date.fromisoformat(plan["next"]["due"]),
            dt.date.fromisoformat(plan["next"]["latest"]),
        )
        for plan in assessment.get("scan_plan") or ()
        if plan.get("next")
    ]
    if not scans:
        return None
    overdue = [s for s in scans if s[0] == "overdue"]
    status, due, latest = min(overdue or scans, key=lambda s: (s[1], s[2]))
    sentences: tuple[str, ...]
    if status == "overdue":
        sentences = (
            f"Your scan was due by {long_date(latest)}. It is now overdue.",
            "Please call your team to book it.",
        )
    elif status == "due":
        sentences = (
            ("Your scan is due today.",)
            if latest == due
            else (f"Your scan is due now. Please have it by {long_date(latest)}.",)
        )
    elif latest == due:
        sentences = (f"Your next scan is due on {long_date(due)}.",)
    else:
        sentences = (f"Your next scan is due between {long_date(due)} and {long_date(latest)}.",)
    return ScanNews(status, due, latest, sentences)


def no_scan_sentence(assessment: Mapping[str, Any]) -> str:
    """When the plan gives no next date: no due date; scans planned but their dates left to
    the clinic (or to a treatment decision); or no scans planned."""
    if assessment.get("edd") is None:
        return "We cannot plan your scans until your due date is on your record."
    if assessment.get("scan_plan"):
        return "Your team will tell you the date of your next scan."
    return "No scan of your cervix is planned for you at the moment."


# --- the care path (risk tier) ------------------------------------------------------------------

#: The Saving Babies' Lives tier (SBL-02, SBL-03) in her words; None is unknown, never low.
_TIERS: Final[Mapping[str | None, str]] = {
    "high": (
        "Your team has put you on the higher-risk care plan. This means you get extra checks"
        " to help stop an early birth."
    ),
    "intermediate": (
        "Your team has put you on the middle care plan. This means you may have an extra scan"
        " of your cervix."
    ),
    "low": (
        "Your team has put you on the usual care plan. You do not need extra checks for an"
        " early birth at the moment."
    ),
    None: (
        "Your team does not know enough yet to choose your care plan. They may ask you about"
        " past pregnancies."
    ),
}


#: The tier is from her past pregnancies; a finding of this pregnancy (a short cervix, twins,
#: an open cervix) raises the risk whatever the tier (I-90), so "usual care" is not said alone.
_LOW_WITH_FINDINGS: Final = (
    "Your past pregnancies put you on the usual care plan. But a check in this pregnancy found"
    " something that needs more care. Your team will tell you what it means."
)
_ALSO_FINDINGS: Final = "A check in this pregnancy also found something that needs more care."


def care_plan_sentence(risk: Mapping[str, Any] | None) -> str:
    tier = risk.get("tier") if risk else None
    findings = bool(risk.get("current_findings")) if risk else False
    if findings and tier == "low":
        return _LOW_WITH_FINDINGS
    sentence = _TIERS.get(tier, _TIERS[None])
    return f"{sentence} {_ALSO_FINDINGS}" if findings else sentence


# --- recommendations ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Words:
    """What one code means to her: a heading, the thing recommended (for a sentence that
    depends on the strength) or a whole sentence, and why."""

    heading: str
    thing: str | None = None
    sentence: str | None = None
    why: tuple[str, ...] = ()


_STITCH = "a stitch in your cervix, to help keep it closed"
#: In the order she should read them: what to do now first, then treatments, then checks.
_CODES: Final[Mapping[str, _Words]] = {
    "urgent-evaluation": _Words(
        "Be seen today",
        sentence="You need to be checked today on the maternity unit.",
        why=("Call your maternity unit now.",),
    ),
    "discontinue-17ohpc": _Words(
        "Stop 17-OHPC shots",
        sentence="Your team advises you to stop your 17-OHPC (Makena) shots.",
        why=(
            "These shots were taken off sale in the US in 2023. They were not shown to stop"
            " early birth.",
            "Stopping them has not been shown to cause harm.",
        ),
    ),
    "exam-indicated-cerclage": _Words(
        "A stitch in your cervix",
        thing=_STITCH,
        why=("This is because your cervix has started to open. It needs to be talked about soon.",),
    ),
    "ultrasound-indicated-cerclage": _Words(
        "A stitch in your cervix",
        thing=_STITCH,
        why=("This is because your scan showed that your cervix is short.",),
    ),
    "history-indicated-cerclage": _Words(
        "A stitch in your cervix",
        thing=_STITCH,
        why=(
            "This is because of what happened in a past pregnancy. The stitch is put in early"
            " in this pregnancy.",
        ),
    ),
    "consider-abdominal-cerclage": _Words(
        "A stitch put in through your tummy",
        thing="a stitch put in through your tummy",
        why=(
            "This is because a stitch put in through the vagina did not work in a past pregnancy.",
        ),
    ),
    "cerclage-contraindicated": _Words(
        "No stitch for now",
        sentence="A stitch in your cervix would not be safe for you right now.",
        why=("Your team will tell you why.",),
    ),
    "cerclage-not-recommended": _Words(
        "No stitch for now",
        sentence="A stitch in your cervix is not advised for you at the moment.",
        why=("Your team can tell you why.",),
    ),
    "remove-cerclage": _Words(
        "Taking out your stitch",
        sentence="It is time to plan when your stitch comes out.",
        why=("This is done at 36 to 37 weeks, or sooner if labour starts.",),
    ),
    "vaginal-progesterone": _Words(
        "Progesterone",
        thing="progesterone",
        why=("Progesterone is a hormone. You put it in your vagina each day.",),
    ),
    "refer-preterm-birth-clinic": _Words(
        "A clinic to help stop an early birth",
        sentence="Your team wants you to be seen in a clinic for women who may give birth early.",
        why=("The clinic can check you more closely.",),
    ),
    "serial-cervical-length": _Words(
        "Scans of your cervix",
        sentence="You should have a number of scans to check the length of your cervix.",
        why=("The scans check if your cervix is getting shorter.",),
    ),
    "single-cervical-length-screen": _Words(
        "A scan of your cervix",
        sentence="You should have one scan to check the length of your cervix.",
    ),
    "no-activity-restriction": _Words(
        "Keep up your normal day",
        sentence="You do not need bed rest.",
        why=("Bed rest does not stop an early birth. You can go on with your normal day.",),
    ),
}

#: How strongly a guideline says it, as a sentence and as a word for the side-by-side list.
_LEADS: Final[Mapping[str, str]] = {
    "recommend": "Your team advises {thing}.",
    "offer": "Your team can offer you {thing}.",
    "consider": "Your team may talk with you about {thing}.",
    "shared-decision": "You and your team can decide together if you want {thing}.",
    "not-recommended": "Your team does not advise {thing}.",
}
_STRENGTH_WORDS: Final[Mapping[str, str]] = {
    "recommend": "advised",
    "offer": "offered",
    "consider": "may be talked about",
    "shared-decision": "a choice to make together",
    "not-recommended": "not advised",
}
#: NICE-01 offers a choice of vaginal progesterone or cerclage (profiles.md, `nice`).
_CHOICE_RULE = "NICE-01"
_CHOICE = "You can choose between progesterone and a stitch. Your team will help you decide."
_UNKNOWN = _Words(
    "Something to ask your team about",
    sentence="Your team has some advice for you that this page cannot explain yet.",
    why=("Please ask your team about it.",),
)


@dataclass(frozen=True, slots=True)
class GuideSays:
    """What one guideline says about a code, for the side-by-side list."""

    guideline: str
    title: str
    strength: str
    words: str


@dataclass(frozen=True, slots=True)
class PlainRecommendation:
    code: str
    heading: str
    sentences: tuple[str, ...]
    #: Each guideline that gives it, with its strength; empty when they all agree.
    differ: tuple[GuideSays, ...]
    #: The guidelines that do not give it (when others do).
    silent: tuple[str, ...]
    rules: tuple[str, ...]
    urgent: bool


def _guide_titles(assessment: Mapping[str, Any]) -> dict[str, str]:
    return {
        str(g["id"]): str(g.get("title") or g["id"]) for g in assessment.get("guidelines") or ()
    }


def _ordered_unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _plain(
    code: str, given: Sequence[Mapping[str, Any]], titles: Mapping[str, str]
) -> PlainRecommendation:
    words = _CODES.get(code, _UNKNOWN)
    strengths = _ordered_unique(str(r["strength"]) for r in given)
    same = len(strengths) == 1
    if words.sentence is not None:
        lead = words.sentence
    elif same and strengths[0] in _LEADS:
        lead = _LEADS[strengths[0]].format(thing=words.thing)
    else:
        lead = _LEADS["consider"].format(thing=words.thing)
    sentences = [lead, *words.why]
    if any(r.get("rule") == _CHOICE_RULE for r in given):
        sentences.append(_CHOICE)
    differ: tuple[GuideSays, ...] = ()
    if not same:
        sentences.append("The guides your team uses say this in different ways.")
        differ = tuple(
            GuideSays(
                guideline=str(r["guideline"]),
                title=titles.get(str(r["guideline"]), str(r["guideline"])),
                strength=str(r["strength"]),
                words=_STRENGTH_WORDS.get(str(r["strength"]), str(r["strength"])),
            )
            for r in given
        )
    giving = {str(r["guideline"]) for r in given}
    silent = tuple(t for g, t in titles.items() if g not in giving)
    rules = _ordered_unique(
        rule for r in given for rule in (str(r["rule"]), *(str(x) for x in r.get("rules") or ()))
    )
    return PlainRecommendation(
        code=code,
        heading=words.heading,
        sentences=tuple(sentences),
        differ=differ,
        silent=silent,
        rules=rules,
        urgent=code == "urgent-evaluation",
    )


#: The states of a recommendation that are still something to do (profiles.md, "The course of
#: care"): a treatment in place, an offer she declined and a scan whose time has passed are not.
_TO_DO: Final = frozenset({"due", "overdue"})


def _to_do(recommendation: Mapping[str, Any]) -> bool:
    return str(recommendation.get("state") or "due") in _TO_DO


def plain_recommendations(assessment: Mapping[str, Any]) -> list[PlainRecommendation]:
    """One entry per recommendation code still to do, the guidelines that give it side by side.

    A treatment she is on is not here (`treatments_now` says it), nor an offer she declined
    (`declined_offers`), nor a scan whose time has passed."""
    by_code: dict[str, list[Mapping[str, Any]]] = {}
    for recommendation in assessment.get("recommendations") or ():
        if _to_do(recommendation):
            by_code.setdefault(str(recommendation["code"]), []).append(recommendation)
    order = {code: i for i, code in enumerate(_CODES)}
    titles = _guide_titles(assessment)
    return [
        _plain(code, by_code[code], titles)
        for code in sorted(by_code, key=lambda c: (order.get(c, len(order)), c))
    ]


# --- what she is doing now, and what she said no to -------------------------------------------


@dataclass(frozen=True, slots=True)
class PlainTreatment:
    """A treatment she is on today, said as what she is doing, never as an offer."""

    treatment: str
    heading: str
    sentences: tuple[str, ...]


_NOW: Final[Mapping[str, tuple[str, str, str]]] = {
    # treatment: (heading, what she is doing, since when: {day})
    "cerclage": (
        "Your stitch",
        "You have a stitch in your cervix to help keep it closed.",
        "It was put in on {day}.",
    ),
    "vaginal-progesterone": (
        "Progesterone",
        "You are using progesterone now. Keep using it each day.",
        "You started it on {day}.",
    ),
    "hydroxyprogesterone-caproate": (
        "17-OHPC shots",
        "You are having 17-OHPC (Makena) shots.",
        "You started them on {day}.",
    ),
}
#: How long a treatment goes on is her team's to say (the course's end, "may stop now" and
#: "review stopping" are in the clinician's note, with their rules).
_HOW_LONG: Final[Mapping[str, str]] = {
    "cerclage": "Your team will plan when it comes out.",
    "vaginal-progesterone": "Your team will tell you when to stop.",
}


def treatments_now(assessment: Mapping[str, Any]) -> list[PlainTreatment]:
    """The treatments under way today (a stitch in place, progesterone she is using), from the
    assessment's `current_treatments`."""
    out = []
    for t in assessment.get("current_treatments") or ():
        treatment = str(t["treatment"])
        heading, doing, since = _NOW.get(
            treatment, ("A treatment", "You are having a treatment from your team.", "")
        )
        sentences = [doing]
        if t.get("since") and since:
            sentences.append(since.format(day=long_date(str(t["since"]))))
        if treatment in _HOW_LONG:
            sentences.append(_HOW_LONG[treatment])
        out.append(PlainTreatment(treatment, heading, tuple(sentences)))
    return out


#: What she said no to, in her words (the codes a woman can decline: `DeclinableCode`).
_DECLINED_THING: Final[Mapping[str, str]] = {
    "vaginal-progesterone": "progesterone",
    "history-indicated-cerclage": "a stitch in your cervix",
    "ultrasound-indicated-cerclage": "a stitch in your cervix",
    "exam-indicated-cerclage": "a stitch in your cervix",
    "consider-abdominal-cerclage": "a stitch put in through your tummy",
    "serial-cervical-length": "more scans of your cervix",
}


@dataclass(frozen=True, slots=True)
class PlainDeclined:
    """An offer she declined: said as her choice, not as something to do."""

    code: str
    sentences: tuple[str, ...]
    rules: tuple[str, ...]


def declined_offers(assessment: Mapping[str, Any]) -> list[PlainDeclined]:
    """The offers she declined that no newer finding has made due again (state `declined`),
    one per code; a code still to do by another guideline is left to the to-do list."""
    recommendations = list(assessment.get("recommendations") or ())
    to_do = {str(r["code"]) for r in recommendations if _to_do(r)}
    by_code: dict[str, list[str]] = {}
    for r in recommendations:
        code = str(r["code"])
        if r.get("state") == "declined" and code not in to_do:
            by_code.setdefault(code, []).append(str(r["rule"]))
    return [
        PlainDeclined(
            code,
            (
                f"You said no to {_DECLINED_THING.get(code, 'this')}. That is your choice.",
                "If you change your mind, talk to your team.",
            ),
            _ordered_unique(rules),
        )
        for code, rules in by_code.items()
    ]


def missed_scan_sentence(assessment: Mapping[str, Any]) -> str | None:
    """Said once when a planned run of scans ended before a scan was done (CD-05): not a task
    any more, and not hidden from her either."""
    if any(plan.get("missed") for plan in assessment.get("scan_plan") or ()):
        return "The time for some planned scans has passed. Your team can tell you what this means."
    return None


def no_recommendation_sentence(assessment: Mapping[str, Any]) -> str:
    if assessment.get("missing"):
        return (
            "Your team has no extra advice for you yet. They may need more details first, such"
            " as a scan or facts about past pregnancies."
        )
    return "Your team has no extra advice for you at the moment. Keep going to your usual checks."


# --- her page -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MyPregnancy:
    """Everything the patient's own page says, in plain sentences."""

    gestation: str
    due_date: str
    scan: ScanNews | None
    no_scan: str
    care_plan: str
    care_plan_rule: str
    recommendations: list[PlainRecommendation]
    no_recommendation: str
    urgent: bool
    #: What she is doing now (a stitch in place, progesterone), never said as an offer.
    treatments: list[PlainTreatment]
    #: Offers she said no to: her choice, not a to-do.
    declined: list[PlainDeclined]
    missed_scans: str | None


def my_pregnancy(assessment: Mapping[str, Any]) -> MyPregnancy:
    recommendations = plain_recommendations(assessment)
    risk = assessment.get("risk")
    return MyPregnancy(
        gestation=gestation_sentence(assessment.get("gestational_age")),
        due_date=due_date_sentence(assessment.get("edd")),
        scan=next_scan(assessment),
        no_scan=no_scan_sentence(assessment),
        treatments=treatments_now(assessment),
        declined=declined_offers(assessment),
        missed_scans=missed_scan_sentence(assessment),
        care_plan=care_plan_sentence(risk),
        care_plan_rule=str(risk.get("tier_rule") or "") if risk else "",
        # The urgent evaluation is said once, at the top of her page (`what_to_do`).
        recommendations=[r for r in recommendations if not r.urgent],
        no_recommendation=no_recommendation_sentence(assessment),
        urgent=any(r.urgent for r in recommendations),
    )


# --- symptoms -----------------------------------------------------------------------------------

#: The symptoms she can report, in the order the form lists them, in her words. The list is
#: the seed leaflet's and ACOG's patient FAQ (guidelines.md TRI-01, TRI-03).
SYMPTOM_LABELS: Final[Mapping[Symptom, str]] = {
    Symptom.CRAMPING: "Cramps, like period pains",
    Symptom.BACKACHE: "Low backache",
    Symptom.PELVIC_PRESSURE: "Pressure low down, as if the baby is pushing down",
    Symptom.SPOTTING: "Spotting: a few drops of blood",
    Symptom.BLEEDING: "Bleeding: more than a few drops of blood",
    Symptom.FLUID_LEAK: "Fluid leaking from your vagina: a gush or a trickle",
    Symptom.DISCHARGE_CHANGE: "A change in your discharge: more of it, or it looks different",
    Symptom.CONTRACTIONS: "Contractions: your bump goes tight, then soft, again and again",
    Symptom.FEVER: "Fever: you feel hot and shivery, or you have a high temperature",
}
#: Short names for lists ("You told us about: ...").
SYMPTOM_NAMES: Final[Mapping[Symptom, str]] = {
    Symptom.CRAMPING: "cramps",
    Symptom.BACKACHE: "low backache",
    Symptom.PELVIC_PRESSURE: "pressure low down",
    Symptom.SPOTTING: "spotting",
    Symptom.BLEEDING: "bleeding",
    Symptom.FLUID_LEAK: "fluid leaking",
    Symptom.DISCHARGE_CHANGE: "a change in discharge",
    Symptom.CONTRACTIONS: "contractions",
    Symptom.FEVER: "fever",
}


@dataclass(frozen=True, slots=True)
class SymptomAdvice:
    """What to do now about the symptoms she reported."""

    go_now: bool
    #: The symptoms that send her in now (bleeding, fluid, contractions, fever).
    red_flags: tuple[str, ...]
    #: Everything she reported, in the form's order.
    reported: tuple[str, ...]


def symptom_advice(present: Collection[Symptom]) -> SymptomAdvice:
    """Go to the maternity unit now for a red-flag symptom (`clinical.facts.RED_FLAG_SYMPTOMS`,
    guidelines.md TRI-05); otherwise call the team today (TRI-01: "call ... right away")."""
    ordered = [s for s in SYMPTOM_LABELS if s in present]
    red = [s for s in ordered if s in RED_FLAG_SYMPTOMS]
    return SymptomAdvice(
        go_now=bool(red),
        red_flags=tuple(SYMPTOM_NAMES[s] for s in red),
        reported=tuple(SYMPTOM_NAMES[s] for s in ordered),
    )


# --- what to do now, and whether her team has seen it ------------------------------------------

#: What a review found (CD-07; `clinical.records.ReviewOutcome`), in her words.
_REVIEW_SENTENCES: Final[Mapping[str, str]] = {
    "seen-in-triage": "You were seen on the maternity unit.",
    "advised-by-phone": "They gave you advice by phone.",
    "admitted": "You were admitted to hospital.",
    "no-action-needed": "They looked at it and did not need to do anything more.",
}


def clock_time(moment: dt.datetime | None) -> str | None:
    """The time of an instant on the clinic's clock (the server's), "14:32"."""
    return None if moment is None else moment.astimezone().strftime("%H:%M")


def when_sentence(day: dt.date, moment: dt.datetime | None) -> str:
    """ "6 March 2026 at 14:32", or the day alone when no time was recorded."""
    time = clock_time(moment)
    return f"{long_date(day)} at {time}" if time else long_date(day)


@dataclass(frozen=True, slots=True)
class WhatToDo:
    """What she is told to do about a report, the same on every page that speaks of it:
    `go-now` (a red-flag symptom, not yet seen by her team), `call-now` (any other symptom,
    not yet seen) or `seen` (her team has recorded a review of it, CD-07); `checked-today`
    when the assessment is urgent for a finding of her team's (an exam), not for a report."""

    kind: str
    title: str
    sentences: tuple[str, ...]
    #: The report it is about (None for `checked-today`).
    report_id: int | None = None

    @property
    def urgent(self) -> bool:
        return self.kind != "seen"


def what_to_do(
    present: Collection[Symptom],
    *,
    when: str,
    review_outcome: str | None = None,
    reviewed_on: dt.date | None = None,
    report_id: int | None = None,
) -> WhatToDo:
    """Go to the maternity unit now for a red-flag symptom (`clinical.facts.RED_FLAG_SYMPTOMS`,
    guidelines.md TRI-05), else call today (TRI-01: "call ... right away"), until her team has
    seen the report; then that it has been seen, and what came of it."""
    advice = symptom_advice(present)
    if reviewed_on is not None:
        sentences = [f"Your team looked at your report on {long_date(reviewed_on)}."]
        outcome = _REVIEW_SENTENCES.get(review_outcome or "")
        if outcome is not None:
            sentences.append(outcome)
        sentences.append("If you are still worried, or it gets worse, call your maternity unit.")
        return WhatToDo("seen", "Your team has seen your report", tuple(sentences), report_id)
    if advice.go_now:
        return WhatToDo(
            "go-now",
            "Go to your maternity unit now",
            (
                f"You told us about {join_words(advice.red_flags)} on {when}.",
                "This needs a check straight away.",
                "Call your maternity unit to tell them you are on your way.",
            ),
            report_id,
        )
    return WhatToDo(
        "call-now",
        "Call your maternity unit now",
        (
            f"You told us about {join_words(advice.reported) or 'your symptoms'} on {when}.",
            "Your team needs to know about this today. They may ask you to come in to be checked.",
        ),
        report_id,
    )


#: When the assessment is urgent for a finding of her team's, not for a report of hers.
CHECKED_TODAY: Final = WhatToDo(
    "checked-today",
    "You need to be checked today",
    ("Call your maternity unit now. Tell them what you have noticed.",),
)


@dataclass(frozen=True, slots=True)
class ReportNews:
    """One of her reports as her page lists it: when, what, and whether her team has seen it."""

    report_id: int
    when: str
    symptoms: str
    seen: bool
    status: str


def report_news(
    report_id: int,
    reported_on: dt.date,
    reported_at: dt.datetime | None,
    present: Iterable[str],
    reviewed_on: dt.date | None,
) -> ReportNews:
    names = join_words(symptom_names(present)) or "no symptoms"
    if reviewed_on is not None:
        status = f"Seen by your team on {long_date(reviewed_on)}."
    else:
        status = "Your team has not marked it as seen yet."
    return ReportNews(
        report_id,
        when_sentence(reported_on, reported_at),
        names,
        reviewed_on is not None,
        status,
    )


def symptom_names(codes: Iterable[str]) -> tuple[str, ...]:
    """Her words for stored symptom codes, in the form's order (codes not known are left out)."""
    given = set(codes)
    return tuple(SYMPTOM_NAMES[s] for s in SYMPTOM_LABELS if s.value in given)


def join_words(words: Sequence[str]) -> str:
    """ "a, b and c"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"
