"""What the clinic letter says (issue 13, part 7): the letter a preterm birth clinic sends to a
woman's GP or referrer, built from today's assessment and her records, in the clinic's words
and date format.

Every clinical statement is the assessment's own (`app.assessing.assess_pregnancy`, the
`cervixwatch assess` JSON): the recommendations' summaries and state notes in the profiles'
clinician words, the treatments under way (a cerclage in situ, current medication), the
assumptions (CD-01), why an evaluation is urgent (CD-07), the scan plan and what is missing.
The findings are the records as entered: cervical lengths, examinations and symptom reports
with their reviews. Nothing is re-derived here; this module chooses words and order only:

- no recommendation code is printed: each is said by its summary, or by `CODE_WORDS`;
- rule ids appear only inside the numbered references, beside the work they cite;
- a citation that names a file of the project (a derived rule's) keeps its words, not the path;
- dates in the clinic's format (`app.clinic_settings`), including those inside the
  assessment's sentences; gestational ages as weeks+days.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from cervixwatch.app.clinic_settings import ClinicSettings
from cervixwatch.clinical.course import SYMPTOM_WORDS
from cervixwatch.clinical.gestation import gestational_age_on
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.web.pages.recommendations import (
    capitalised,
    state_of,
)

URGENT_CODE: Final = "urgent-evaluation"
#: The letter lists this many symptom reports, newest first, and counts the rest.
REPORTS_SHOWN: Final = 6
#: What each recommendation code is about, in a clinician's words (DESIGN.md, the codes'
#: meanings), for the lines that name a recommendation without its summary (withheld ones).
CODE_WORDS: Final = {
    "refer-preterm-birth-clinic": "referral to a preterm birth prevention clinic",
    "single-cervical-length-screen": "a single cervical-length screen",
    "serial-cervical-length": "serial transvaginal cervical-length scans",
    "history-indicated-cerclage": "history-indicated cerclage",
    "ultrasound-indicated-cerclage": "ultrasound-indicated cerclage",
    "exam-indicated-cerclage": "physical-exam-indicated (rescue) cerclage",
    "vaginal-progesterone": "vaginal progesterone",
    "cerclage-not-recommended": "advice against cerclage",
    "cerclage-contraindicated": "a contraindication to cerclage",
    "no-activity-restriction": "advice against activity restriction",
    "remove-cerclage": "removal of the cerclage",
    URGENT_CODE: "same-day assessment on labour ward or triage",
    "consider-abdominal-cerclage": "transabdominal cerclage",
    "discontinue-17ohpc": "stopping hydroxyprogesterone caproate (17-OHPC)",
    "preterm-labour-diagnosed": "management as diagnosed preterm labour",
}
OTHER_RECOMMENDATION: Final = "a further recommendation (see the pregnancy record)"
STATE_WORDS: Final = {
    "in-place": "In place",
    "choice-made": "Choice made",
    "declined": "Declined",
    "overdue": "Overdue",
    "missed": "Missed",
}
PROVENANCE_WORDS: Final = {
    "unverified": "not yet checked against the source text",
    "derived": "derived: extrapolated, not stated by the source",
}
REVIEW_WORDS: Final = {
    "seen-in-triage": "seen in triage",
    "advised-by-phone": "advised by phone",
    "admitted": "admitted",
    "no-action-needed": "no action needed",
}
METHOD_WORDS: Final = {"transvaginal": "transvaginal", "transabdominal": "transabdominal"}
FETUS_WORDS: Final = {1: "singleton", 2: "twins", 3: "triplets"}
COMPARATOR_WORDS: Final = {"<": "<", "<=": "≤", ">=": "≥", ">": ">"}

_ISO_DATE: Final = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
#: A bracketed remark naming a file of the project ("(shared/clinical/guidelines.md ...)").
_PATH_REMARK: Final = re.compile(r"\s*\([^()]*(?:\.md|\.ya?ml|\.txt|shared/|docs/|src/)[^()]*\)")
#: A rule id inside an assessment sentence: "(NICE-04; 34+0 (2026-07-30))" keeps its date and
#: loses its rule; "(ACOG142-14)" goes. A rule id has a digit ("SBL-04", "AFP22-VP"), which
#: keeps words such as "P-PROM".
_RULE_ID: Final = re.compile(r"\b[A-Z][A-Z0-9]+-[A-Z0-9]+\b(?:;\s*)?")
_EMPTY_BRACKETS: Final = re.compile(r"\s*\(\s*\)")
#: A gestation said again in the brackets after it, once its rule id is gone: "34+0 (34+0
#: (2026-07-30))".
_SAID_TWICE: Final = re.compile(r"(\d{1,2}\+\d) \(\1 \(([^()]*)\)\)")
#: Otherwise a gestation and its date in brackets of their own: "(34+0 (2026-07-30))".
_NESTED_GA: Final = re.compile(r"\((\d{1,2}\+\d) \(([^()]*)\)\)")
_FILENAME_UNSAFE: Final = re.compile(r"[^A-Za-z0-9-]")


@dataclass(frozen=True, slots=True)
class LetterForm:
    """What the clinician writes on the form that makes the letter."""

    to_name: str
    to_address: tuple[str, ...] = ()
    plan_addition: str = ""
    copy_to_patient: bool = False


# --- words ------------------------------------------------------------------------------------


def dates_in(text: str, settings: ClinicSettings) -> str:
    """`text` with each ISO date written in the clinic's format."""
    return _ISO_DATE.sub(lambda m: settings.date(m.group(1)), text)


def without_paths(text: str) -> str:
    """A citation without a remark that names a file of the project."""
    return " ".join(_PATH_REMARK.sub("", text).split())


def without_rule_ids(text: str) -> str:
    """An assessment sentence without its rule ids (the references give them): "until 34+0
    (NICE-04; 34+0 (2026-07-30))" becomes "until 34+0 (2026-07-30)"."""
    stripped = _RULE_ID.sub(lambda m: "" if any(c.isdigit() for c in m[0]) else m[0], text)
    stripped = _EMPTY_BRACKETS.sub("", stripped)
    stripped = " ".join(stripped.replace("( ", "(").split())
    stripped = _SAID_TWICE.sub(r"\1 (\2)", stripped)
    return _NESTED_GA.sub(r"(\1, \2)", stripped)


def _ga(edd: dt.date | None, day: dt.date) -> str | None:
    return str(gestational_age_on(edd, day)) if edd is not None else None


def _when(
    settings: ClinicSettings, edd: dt.date | None, day: dt.date, today: dt.date | None = None
) -> str:
    """ "6 March 2026 (20+1)", "6 March 2026 (today, 20+1)", or the date alone without an
    EDD."""
    notes = [n for n in ("today" if day == today else None, _ga(edd, day)) if n]
    return f"{settings.date(day)} ({', '.join(notes)})" if notes else settings.date(day)


def age_on(birth: dt.date | None, today: dt.date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _time_of(moment: dt.datetime | None) -> str | None:
    """The clock time of an instant on the server's clock (the clinic's:
    `app.clinic_clock.now_on` dates a report by it), "14:32"."""
    return None if moment is None else moment.astimezone().strftime("%H:%M")


def filename(hospital_number: str | None, today: dt.date, suffix: str) -> str:
    """ "letter-H777-2026-03-06.pdf": her hospital number and the day, never a name or an id."""
    number = _FILENAME_UNSAFE.sub("", hospital_number or "") or "no-hospital-number"
    return f"letter-{number}-{today.isoformat()}.{suffix}"


# --- the findings -----------------------------------------------------------------------------


def length_lines(
    rows: Sequence[Any], edd: dt.date | None, today: dt.date, settings: ClinicSettings
) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        if row.measured_on > today:
            continue
        comparator = getattr(row.comparator, "value", row.comparator)
        sign = COMPARATOR_WORDS.get(str(comparator), "") if comparator else ""
        method = getattr(row.method, "value", row.method)
        out.append(
            {
                "on": settings.date(row.measured_on),
                "ga": _ga(edd, row.measured_on) or "—",
                "mm": f"{sign}{row.length_mm:g} mm",
                "method": METHOD_WORDS.get(str(method), str(method)),
                "operator": row.operator,
                "today": row.measured_on == today,
            }
        )
    return out


def exam_lines(
    rows: Sequence[Any], edd: dt.date | None, today: dt.date, settings: ClinicSettings
) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        if row.examined_on > today:
            continue
        found = []
        if row.dilation_cm is not None:
            found.append(
                "cervix closed" if row.dilation_cm == 0 else f"dilated {row.dilation_cm:g} cm"
            )
        if row.effacement_percent is not None:
            found.append(f"effacement {row.effacement_percent:g}%")
        if row.membranes_exposed is not None:
            found.append(
                "membranes exposed at the os" if row.membranes_exposed else "membranes not exposed"
            )
        out.append(
            {
                "when": _when(settings, edd, row.examined_on, today),
                "findings": ", ".join(found) or "no finding recorded",
            }
        )
    return out


def report_lines(
    rows: Sequence[Any], edd: dt.date | None, today: dt.date, settings: ClinicSettings
) -> tuple[list[dict[str, Any]], int]:
    """Her symptom reports up to today, newest first (at most `REPORTS_SHOWN`), each with its
    time and its review; and how many earlier ones are not listed."""
    shown = [r for r in rows if r.reported_on <= today]
    shown.sort(
        key=lambda r: (r.reported_on, r.reported_at or dt.datetime.min.replace(tzinfo=dt.UTC), r.id)
    )
    shown.reverse()
    out = []
    for row in shown[:REPORTS_SHOWN]:
        symptoms = [SYMPTOM_WORDS.get(s, s) for s in row.present]
        reviews = [r for r in row.reviews if r.reviewed_on <= today]
        if reviews:
            first = reviews[0]
            by = f" by {first.reviewer}" if first.reviewer else ""
            outcome = REVIEW_WORDS.get(str(getattr(first.outcome, "value", first.outcome)), "")
            review = f"reviewed{by} on {settings.date(first.reviewed_on)}: {outcome}"
        else:
            review = "not yet reviewed"
        time = _time_of(row.reported_at)
        out.append(
            {
                "when": _when(settings, edd, row.reported_on, today)
                + (f" at {time}" if time else ""),
                "by": row.reported_by or "the woman",
                "symptoms": ", ".join(symptoms) or "no symptoms",
                "review": review,
                "open": not reviews,
            }
        )
    return out, max(0, len(shown) - REPORTS_SHOWN)


# --- the plan ---------------------------------------------------------------------------------


def references(
    recommendations: Sequence[dict[str, Any]], profiles: Mapping[str, GuidelineProfile]
) -> list[str]:
    """The works the recommendations cite, each once and numbered, each followed by the rule
    ids that cite it; each recommendation gets `refs`, the numbers of its works."""
    works: list[str] = []
    rules_of: dict[str, list[str]] = {}
    for item in recommendations:
        profile = profiles.get(item["guideline"])
        numbers: list[int] = []
        for rule_id in item.get("rules") or [item["rule"]]:
            source = profile.sources.get(rule_id) if profile else None
            text = profile.citations.get(source.citation) if profile and source else None
            if text is None:
                continue
            text = without_paths(text)
            if text not in works:
                works.append(text)
            if rule_id not in rules_of.setdefault(text, []):
                rules_of[text].append(rule_id)
            if works.index(text) + 1 not in numbers:
                numbers.append(works.index(text) + 1)
        item["refs"] = numbers
    return [f"{work} (rules {', '.join(rules_of[work])})" for work in works]


def _plan_item(r: Mapping[str, Any], treatments: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    state = state_of(r, treatments)
    note = without_rule_ids(state.note)
    if state.current:
        # A treatment under way is said as what she is on, never as the offer (I-83).
        text = note or capitalised(CODE_WORDS.get(r["code"], OTHER_RECOMMENDATION))
        extra = ""
    else:
        text = str(r["summary"])
        extra = note
    return {
        "state": STATE_WORDS.get(state.key),
        "key": state.key,
        "text": text,
        "note": extra,
        "assumptions": list(r.get("assumptions") or ()),
        "provenance": PROVENANCE_WORDS.get(str(r.get("provenance"))),
        "refs": r.get("refs") or [],
    }


def plan_by_guideline(
    document: Mapping[str, Any], recommendations: Sequence[dict[str, Any]], edd: dt.date | None
) -> list[dict[str, Any]]:
    """Each guideline's recommendations (but the urgent evaluation, said once at the top),
    what it withholds and its next scan."""
    treatments = document.get("current_treatments") or []
    out = []
    for g in document.get("guidelines") or ():
        items = [
            _plan_item(r, treatments)
            for r in recommendations
            if r["guideline"] == g["id"] and r["code"] != URGENT_CODE
        ]
        withheld = [
            f"{capitalised(CODE_WORDS.get(w['code'], OTHER_RECOMMENDATION))} withheld:"
            f" {without_rule_ids(str(w.get('reason') or ''))}".rstrip(": ")
            for w in document.get("withheld") or ()
            if w["guideline"] == g["id"]
        ]
        scans = []
        for p in document.get("scan_plan") or ():
            if p["guideline"] != g["id"]:
                continue
            scans.append(_scan_line(p, edd))
        out.append({"title": g["title"], "items": items, "withheld": withheld, "scans": scans})
    return out


def _scan_line(plan: Mapping[str, Any], edd: dt.date | None) -> dict[str, Any]:
    """The plan's next scan with its window, or that the window passed (CD-05); dates as ISO
    here, written in the clinic's format by the caller (`dates_in`)."""
    kind = "Serial cervical-length scans" if plan["kind"] == "serial" else "Cervical-length scan"
    window = plan["window"]
    every = f", every {plan['interval_days']} days" if plan.get("interval_days") else ""
    span = f"{kind}{every}, {window['from_ga']} to {window['to_ga']}"
    if plan.get("missed"):
        return {"span": span, "next": "missed: the window has passed", "status": "missed"}
    following = plan.get("next")
    if not following:
        return {"span": span, "next": "no date set", "status": None}
    due = dt.date.fromisoformat(following["due"])
    latest = dt.date.fromisoformat(following["latest"])
    due_ga = f" ({_ga(edd, due)})" if edd else ""
    latest_ga = f" ({_ga(edd, latest)})" if edd else ""
    words = f"{due.isoformat()}{due_ga}"
    if latest != due:
        words += f", at the latest {latest.isoformat()}{latest_ga}"
    status = following.get("status")
    lead = {"overdue": "overdue: was due", "due": "due now:"}.get(str(status), "next due")
    return {"span": span, "next": f"{lead} {words}", "status": status}
