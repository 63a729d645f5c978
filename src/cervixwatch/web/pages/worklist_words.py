"""The worklist's rows as the page, the handover list and the CSV say them: names, labels of
codes, tiers and flags, and the count line. Nothing here decides anything clinical: every flag
is a column of the stored assessment (`store.worklist_flags`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from cervixwatch.app.worklist import WorklistLine
from cervixwatch.clinical.gestation import GestationalAge
from cervixwatch.clinical.guidelines import GuidelineProfile

#: Short labels of the recommendation codes (DESIGN.md's contract gives their meaning).
CODE_LABELS: Final = {
    "refer-preterm-birth-clinic": "Refer to preterm birth clinic",
    "single-cervical-length-screen": "Single cervical-length screen",
    "serial-cervical-length": "Serial cervical-length scans",
    "history-indicated-cerclage": "History-indicated cerclage",
    "ultrasound-indicated-cerclage": "Ultrasound-indicated cerclage",
    "exam-indicated-cerclage": "Exam-indicated (rescue) cerclage",
    "vaginal-progesterone": "Vaginal progesterone",
    "cerclage-not-recommended": "Cerclage not recommended",
    "cerclage-contraindicated": "Cerclage contraindicated",
    "no-activity-restriction": "No activity restriction",
    "remove-cerclage": "Remove cerclage",
    "urgent-evaluation": "Urgent same-day evaluation",
    "consider-abdominal-cerclage": "Consider abdominal cerclage",
    "discontinue-17ohpc": "Stop 17-OHPC",
    "preterm-labour-diagnosed": "Diagnosed preterm labour",
}

#: Risk tiers (Saving Babies' Lives pathway) as the page names them; None: not settled.
TIER_LABELS: Final = {"high": "High", "intermediate": "Intermediate", "low": "Low", None: "Unknown"}
#: The tier filter's choices, in the order offered.
TIER_CHOICES: Final = [
    ("high", "High"),
    ("intermediate", "Intermediate"),
    ("low", "Low"),
    ("unknown", "Unknown"),
]

#: The next scan's status (clinical.surveillance) in words.
SCAN_STATUS_LABELS: Final = {"overdue": "Overdue", "due": "Due now", "upcoming": "Upcoming"}

#: Why she is urgent (`store.worklist_flags`), in words.
URGENT_KIND_LABELS: Final = {
    "red-flag": "Red-flag report",
    "exam": "Exam finding",
    "symptoms": "Symptoms reported",
}


def code_label(code: str) -> str:
    return CODE_LABELS.get(code, code)


def guideline_name(profiles: Mapping[str, GuidelineProfile], guideline: str) -> str:
    """ "ACOG/SMFM" from the profile's title "ACOG/SMFM (United States)"."""
    profile = profiles.get(guideline)
    return profile.title.split(" (")[0] if profile is not None else guideline.upper()


def guideline_short_name(profiles: Mapping[str, GuidelineProfile], guideline: str) -> str:
    """ "ACOG" from "ACOG/SMFM (United States)": where a row names who gives an action."""
    return guideline_name(profiles, guideline).split("/")[0]


def ga_words(ga: GestationalAge) -> str:
    """ "19 weeks 3 days", for screen readers beside "19+3"."""
    return f"{ga.weeks} week{'s' * (ga.weeks != 1)} {ga.days} day{'s' * (ga.days != 1)}"


def display_name(family: str | None, given: str | None) -> str:
    """ "Family, Given": the order every page, the handover list and the CSV use."""
    names = [n for n in (family, given) if n]
    return ", ".join(names) if names else "Name not recorded"


def fetus_words(fetuses: int) -> str:
    return {2: "Twins", 3: "Triplets"}.get(fetuses, f"{fetuses} fetuses")


@dataclass(frozen=True, slots=True)
class Length:
    """A transvaginal cervical length (mm) and the day it was measured."""

    mm: float
    on: dt.date

    def __str__(self) -> str:
        return f"{self.mm:g} mm"


@dataclass(frozen=True, slots=True)
class Action:
    """A task that needs doing, as the row says it, once however many guidelines give it:
    overdue if any of them says so, with the guidelines that give it when not every guideline
    shown does (empty: all of them)."""

    label: str
    overdue: bool
    guidelines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the worklist as the page shows it."""

    pregnancy_id: str
    name: str
    hospital_number: str | None
    birth_date: dt.date | None
    ga: GestationalAge | None
    tier: str
    tier_key: str
    history: str | None
    latest: Length | None
    shortest: Length | None
    next_scan_due: dt.date | None
    scan_status: str | None
    scan_status_key: str | None
    overdue: bool
    urgent: bool
    #: Why she is urgent: what kind, the reason's words (CD-07) and since when.
    urgent_label: str | None
    urgent_reason: str | None
    urgent_since: dt.date | None
    #: (key, words) of each flag: twins, cerclage in situ, removal due, progesterone.
    flags: list[tuple[str, str]]
    #: Her latest symptom report: "2026-12-06 14:05" (or the day alone when no time is known),
    #: as the CSV gives it; the page writes its day in the clinic's format, and its time.
    last_report: str | None
    last_report_day: dt.date | None
    last_report_time: str | None
    #: The actions that need doing, each once, in the order the guidelines give them.
    actions: list[Action]

    @property
    def marking(self) -> str:
        """The row's class: urgent, else overdue (a scan or any action), else none."""
        if self.urgent:
            return "row-urgent"
        return "row-overdue" if self.overdue or any(a.overdue for a in self.actions) else ""


def _length(mm: float | None, on: dt.date | None) -> Length | None:
    return None if mm is None or on is None else Length(mm, on)


def moment_text(at: dt.datetime | None, on: dt.date | None) -> str | None:
    """An instant on the server's clock (as the pregnancy page shows times), else a day."""
    if at is not None:
        return at.astimezone().strftime("%Y-%m-%d %H:%M")
    return on.isoformat() if on is not None else None


def _flags(line: WorklistLine) -> list[tuple[str, str]]:
    e = line.entry
    flags: list[tuple[str, str]] = []
    if e.fetuses is not None and e.fetuses > 1:
        flags.append(("fetuses", fetus_words(e.fetuses)))
    if e.cerclage_in_situ:
        flags.append(("cerclage", "Cerclage in situ"))
    if e.cerclage_removal == "overdue":
        flags.append(("removal-overdue", "Removal overdue"))
    elif e.cerclage_removal == "due":
        flags.append(("removal-due", "Removal due"))
    if e.on_progesterone:
        flags.append(("progesterone", "On progesterone"))
    return flags


def _actions(line: WorklistLine, profiles: Mapping[str, GuidelineProfile]) -> list[Action]:
    stored = line.entry.actions or {}
    order = [g for g in profiles if g in stored] + sorted(g for g in stored if g not in profiles)
    by_code: dict[str, tuple[bool, list[str]]] = {}
    for g in order:
        for task in stored[g]:
            overdue, givers = by_code.setdefault(task["code"], (False, []))
            givers.append(guideline_short_name(profiles, g))
            by_code[task["code"]] = (overdue or task["state"] == "overdue", givers)
    everyone = len(profiles)
    return [
        Action(code_label(code), overdue, () if len(givers) >= everyone else tuple(givers))
        for code, (overdue, givers) in by_code.items()
    ]


def row_of(line: WorklistLine, profiles: Mapping[str, GuidelineProfile]) -> Row:
    e = line.entry
    status = e.next_scan_status
    return Row(
        pregnancy_id=e.pregnancy_id,
        name=display_name(e.family_name, e.given_name),
        hospital_number=e.hospital_number,
        birth_date=e.birth_date,
        ga=GestationalAge(e.ga_days) if e.ga_days is not None else None,
        tier=TIER_LABELS.get(e.risk_tier, e.risk_tier or "Unknown"),
        tier_key=e.risk_tier or "unknown",
        history=line.history,
        latest=_length(e.latest_length_mm, e.latest_length_on),
        shortest=_length(e.shortest_length_mm, e.shortest_length_on),
        next_scan_due=e.next_scan_due,
        scan_status="Overdue" if e.overdue else SCAN_STATUS_LABELS.get(status or "", status),
        scan_status_key="overdue" if e.overdue else status,
        overdue=e.overdue,
        urgent=e.urgent,
        urgent_label=URGENT_KIND_LABELS.get(e.urgent_kind or "") if e.urgent else None,
        urgent_reason=e.urgent_reason if e.urgent else None,
        urgent_since=e.urgent_since if e.urgent else None,
        flags=_flags(line),
        last_report=moment_text(line.last_report_at, line.last_report_on),
        last_report_day=(
            line.last_report_at.astimezone().date()
            if line.last_report_at is not None
            else line.last_report_on
        ),
        last_report_time=(
            line.last_report_at.astimezone().strftime("%H:%M")
            if line.last_report_at is not None
            else None
        ),
        actions=_actions(line, profiles),
    )


def count_text(total: int, page: int, pages: int, filtered: bool) -> str:
    """What the list holds, in words (announced to screen readers when it changes)."""
    if total == 0:
        where = "match these filters" if filtered else "are on your care teams' worklist"
        return f"No active pregnancies {where}."
    women = f"{total} active pregnanc{'y' if total == 1 else 'ies'}"
    verb = "matches" if total == 1 else "match"
    where = f"{verb} these filters" if filtered else "on your care teams' worklist"
    paged = f"; page {page} of {pages}" if pages > 1 else ""
    return f"{women} {where}{paged}."
