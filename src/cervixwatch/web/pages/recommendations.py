"""The assessment as the clinician's pages show it: each recommendation with its state in the
course of care, its assumptions and why it is urgent; the treatments under way; the history
tier beside the current findings. Read by the pregnancy page and the clinic letter alike, so
the two say the same thing in the same words.

Nothing is decided here: every state, note, assumption and reason is the assessment's own
(`views.json_view`, the `cervixwatch assess --format json` contract). This module only chooses
how to show them (profiles.md, "The course of care"; CD-01, CD-07; I-83..I-86, I-90).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

#: The state badge of each state; `due` is the ordinary case and stays plain.
STATE_LABELS: Final = {
    "in-place": "In place",
    "declined": "Declined",
    "overdue": "Overdue",
    "missed": "Missed",
}
#: An `in-place` recommendation whose own treatment is not under way: the other option of a
#: choice is (NICE-01 offers vaginal progesterone *or* cerclage). Not "In place": that would
#: read as if this treatment were.
CHOICE_MADE: Final = "Choice made"

#: The treatment (`current_treatments[].treatment`) that each code recommends, where one does.
CODE_TREATMENTS: Final = {
    "vaginal-progesterone": "vaginal-progesterone",
    "history-indicated-cerclage": "cerclage",
    "ultrasound-indicated-cerclage": "cerclage",
    "exam-indicated-cerclage": "cerclage",
    "consider-abdominal-cerclage": "cerclage",
}


@dataclass(frozen=True, slots=True)
class State:
    """How one recommendation stands in the course of care, as a page shows it."""

    key: str  # due, in-place, declined, overdue, missed; "choice-made" for the other option
    label: str | None  # the badge; None for due
    note: str
    #: Shown as the treatment under way (its note), never with the offer's words or strength.
    current: bool


def state_of(recommendation: Mapping[str, Any], treatments: Sequence[Mapping[str, Any]]) -> State:
    """The state of one recommendation of the assessment JSON, given its current treatments."""
    key = str(recommendation.get("state") or "due")
    note = str(recommendation.get("state_note") or "")
    if key == "in-place":
        own = CODE_TREATMENTS.get(str(recommendation["code"]), recommendation["code"])
        if not any(t["treatment"] == own for t in treatments):
            return State("choice-made", CHOICE_MADE, note, current=True)
        return State(key, STATE_LABELS[key], note, current=True)
    return State(key, STATE_LABELS.get(key), note, current=False)


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True, slots=True)
class Treatment:
    """A treatment under way today, with its dates."""

    treatment: str
    since: str | None
    since_ga: str | None
    detail: str


def current_treatments(document: Mapping[str, Any]) -> list[Treatment]:
    """The treatments under way on the assessment's day: a cerclage in situ, active orders."""
    return [
        Treatment(t["treatment"], t.get("since"), t.get("since_ga"), capitalised(t["detail"]))
        for t in document.get("current_treatments") or ()
    ]


@dataclass(frozen=True, slots=True)
class UrgentAlert:
    """Why she must be seen today (CD-07), once however many guidelines say so."""

    summary: str
    reason: str
    assumptions: tuple[str, ...]
    rules: tuple[str, ...]


def urgent_alerts(document: Mapping[str, Any]) -> list[UrgentAlert]:
    """The `urgent-evaluation` recommendations, one alert per distinct summary and reason
    (both guidelines usually say the same: shown once, with both rules)."""
    alerts: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    for r in document.get("recommendations") or ():
        if r["code"] != "urgent-evaluation":
            continue
        key = (str(r["summary"]), str(r.get("reason") or ""), tuple(r.get("assumptions") or ()))
        rules = alerts.setdefault(key, [])
        if r["rule"] not in rules:
            rules.append(str(r["rule"]))
    return [
        UrgentAlert(summary, reason, assumptions, tuple(rules))
        for (summary, reason, assumptions), rules in alerts.items()
    ]


@dataclass(frozen=True, slots=True)
class Tier:
    """The Saving Babies' Lives history tier, labelled for what it is, beside the current
    findings that raise the risk whatever the tier (I-90): never a lone "Low"."""

    label: str  # "Saving Babies' Lives v3.1 history tier"
    key: str  # high, intermediate, low, unknown
    word: str  # "High"
    rule: str
    findings: tuple[str, ...]

    @property
    def findings_words(self) -> str:
        """The current findings in one line, or that none is recorded (never left blank)."""
        return "; ".join(self.findings) or NO_FINDINGS


TIER_WORDS: Final = {"high": "High", "intermediate": "Intermediate", "low": "Low"}
NO_FINDINGS: Final = (
    "none recorded (no short cervix, multiple pregnancy, dilation or exposed membranes)"
)


def tier_of(document: Mapping[str, Any]) -> Tier:
    risk = document.get("risk") or {}
    tier = risk.get("tier")
    return Tier(
        label=str(risk.get("tier_label") or "Saving Babies' Lives history tier"),
        key=str(tier or "unknown"),
        word=TIER_WORDS.get(str(tier), "Unknown"),
        rule=str(risk.get("tier_rule") or ""),
        findings=tuple(str(f) for f in risk.get("current_findings") or ()),
    )
