"""The assessment in plain language, for the woman herself (a reading age of about 11).

Every sentence here restates what the assessment already says: the recommendation codes and
their strength (DESIGN.md, shared/clinical/profiles.md), the scan plan's dates and status, and
the risk tier. Nothing clinical is decided here and no new source is cited: a code this module
does not know gets a sentence that sends her to her team, never a guess. The rule ids stay
beside each sentence, small, so she can ask about them.

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


def care_plan_sentence(risk: Mapping[str, Any] | None) -> str:
    tier = risk.get("tier") if risk else None
    return _TIERS.get(tier, _TIERS[None])


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


def plain_recommendations(assessment: Mapping[str, Any]) -> list[PlainRecommendation]:
    """One entry per recommendation code, the guidelines that give it side by side."""
    by_code: dict[str, list[Mapping[str, Any]]] = {}
    for recommendation in assessment.get("recommendations") or ():
        by_code.setdefault(str(recommendation["code"]), []).append(recommendation)
    order = {code: i for i, code in enumerate(_CODES)}
    titles = _guide_titles(assessment)
    return [
        _plain(code, by_code[code], titles)
        for code in sorted(by_code, key=lambda c: (order.get(c, len(order)), c))
    ]


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


def my_pregnancy(assessment: Mapping[str, Any]) -> MyPregnancy:
    recommendations = plain_recommendations(assessment)
    risk = assessment.get("risk")
    return MyPregnancy(
        gestation=gestation_sentence(assessment.get("gestational_age")),
        due_date=due_date_sentence(assessment.get("edd")),
        scan=next_scan(assessment),
        no_scan=no_scan_sentence(assessment),
        care_plan=care_plan_sentence(risk),
        care_plan_rule=str(risk.get("tier_rule") or "") if risk else "",
        recommendations=recommendations,
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


def symptom_names(codes: Iterable[str]) -> tuple[str, ...]:
    """Her words for stored symptom codes, in the form's order (codes not known are left out)."""
    given = set(codes)
    return tuple(SYMPTOM_NAMES[s] for s in SYMPTOM_LABELS if s.value in given)


def join_words(words: Sequence[str]) -> str:
    """ "a, b and c"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"
