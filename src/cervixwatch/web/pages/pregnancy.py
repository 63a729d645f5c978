"""The clinician's page of one pregnancy (GET /pregnancies/{pregnancy_id}): who she is and how
far along, her obstetric history, a chart of her cervical lengths, the timeline of exams, scans,
symptoms, treatments and declined offers, the treatments under way, and the assessment of
every guideline side by side (each recommendation with its state in the course of care, its
assumptions, why it is urgent, its rule, citation, the facts that fired it and its
provenance: `pages.recommendations`), what data is missing and the scan plan.

The assessment is computed afresh for today from the stored records (`assess_pregnancy`, the
same document as `GET /api/pregnancies/{id}/assessment`). A patient has her own portal: she is
sent to /my.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.principal import Role
from cervixwatch.app import patients, pregnancies, recording
from cervixwatch.app.assessing import assess_pregnancy
from cervixwatch.app.errors import NotFound
from cervixwatch.app.rows import (
    CerclagePlacementRow,
    CerclageRemovalRow,
    CervicalExamRow,
    CervicalLengthRow,
    ComplicationRow,
    DeclinedDecisionRow,
    FibronectinTestRow,
    MedicationRow,
    PregnancyStatus,
    SymptomReportRow,
)
from cervixwatch.clinical.facts import FACT_CATALOGUE, RED_FLAG_SYMPTOMS
from cervixwatch.clinical.gestation import GestationalAge, gestational_age_on
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.clinical.records import PartialDate
from cervixwatch.views.clinical_words import fact_label
from cervixwatch.web.access import PatientData, PrincipalDep, allow, by_pregnancy
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep
from cervixwatch.web.pages.core import PageRoute, render
from cervixwatch.web.pages.recommendations import (
    State,
    current_treatments,
    state_of,
    tier_of,
    urgent_alerts,
)
from cervixwatch.web.pages.worklist import (
    SCAN_STATUS_LABELS,
    code_label,
    display_name,
    ga_words,
    guideline_name,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: The chart's axes and guides, as the clinic asked for them (issue 5): gestational age 14-30
#: weeks; lines at 25 mm (the short-cervix cut-off of ACOG142-04 and NICE-01) and 20 mm
#: (SMFM70's); the 16+0-24+0 window of serial surveillance (ACOG234-01, SBL-04) shaded.
CHART_WEEKS: Final = (14, 30)
CHART_LINES_MM: Final = (25, 20)
CHART_WINDOW_WEEKS: Final = (16, 24)

STRENGTH_LABELS: Final = {
    "recommend": "Recommended",
    "offer": "Offer",
    "consider": "Consider",
    "shared-decision": "Shared decision",
    "not-recommended": "Not recommended",
}
#: Provenance (docs/knowledge-base.md): S = verified in the source text, M = from memory (to
#: verify), D = derived by CervixWatch. Only the first goes without a badge.
PROVENANCE_BADGES: Final = {
    "unverified": (
        "Unverified source",
        "The source's words were not checked against the published text: verify before relying"
        " on it.",
    ),
    "derived": (
        "Derived",
        "Not a guideline statement: CervixWatch derived it from the sources cited.",
    ),
}
METHOD_LABELS: Final = {
    "transvaginal": "Transvaginal",
    "transabdominal": "Transabdominal",
    "other": "Other approach",
}
#: The record forms (`/pregnancies/{id}/record/{kind}`), in the order a clinic records things.
RECORD_FORMS: Final = (
    ("cervical-length", "a cervical-length scan"),
    ("cervical-exam", "a cervical examination"),
    ("prior-pregnancy", "a previous pregnancy"),
    ("complication", "a complication"),
    ("cerclage-placement", "a cerclage"),
    ("cerclage-removal", "a cerclage removal"),
    ("medication", "a medication"),
)


@dataclass(frozen=True, slots=True)
class Fact:
    name: str
    meaning: str
    value: str


@dataclass(frozen=True, slots=True)
class Rec:
    """One recommendation as the page shows it."""

    code: str
    label: str
    strength: str
    strength_key: str
    summary: str
    rule: str
    also: list[str]
    citation: str
    provenance: str
    badge: tuple[str, str] | None
    facts: list[Fact]
    window: str | None
    #: Its state in the course of care; an in-place one is shown as the current treatment
    #: (its note), never with the offer's words or strength (profiles.md).
    state: State
    #: The usual values it assumes for unknown facts, in plain words (CD-01).
    assumptions: list[str]
    #: Why it is urgent (urgent-evaluation: the symptoms, who, when, not yet reviewed; CD-07).
    reason: str


@dataclass(slots=True)
class GuidelineColumn:
    id: str
    name: str
    title: str
    version: str
    recommendations: list[Rec] = field(default_factory=list)
    withheld: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)


def _fact_value(name: str, value: Any) -> str:
    # A fact a profile gave a window is named with it ("shortest_tv_length_mm[..167]").
    family = name.partition("[")[0]
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if family == "ga_days" and isinstance(value, int):
        return str(GestationalAge(value))
    if family.endswith("_mm") and isinstance(value, int | float):
        return f"{value:g} mm"
    if family.endswith("_cm") and isinstance(value, int | float):
        return f"{value:g} cm"
    return str(value)


def _rec(r: Mapping[str, Any], treatments: Sequence[Mapping[str, Any]]) -> Rec:
    window = r.get("window")
    return Rec(
        code=r["code"],
        label=code_label(r["code"]),
        strength=STRENGTH_LABELS.get(r["strength"], r["strength"]),
        strength_key=r["strength"],
        summary=r["summary"],
        rule=r["rule"],
        also=[x for x in r.get("rules", ()) if x != r["rule"]],
        citation=r["citation"],
        provenance=r["provenance"],
        badge=PROVENANCE_BADGES.get(r["provenance"]),
        facts=[
            Fact(
                name,
                FACT_CATALOGUE[name].meaning if name in FACT_CATALOGUE else fact_label(name),
                _fact_value(name, value),
            )
            for name, value in r["facts"].items()
        ],
        window=f"{window['from']} to {window['to']}" if window else None,
        state=state_of(r, treatments),
        assumptions=[str(a) for a in r.get("assumptions") or ()],
        reason=str(r.get("reason") or ""),
    )


def _plan(p: Mapping[str, Any]) -> dict[str, Any]:
    """A scan plan of the assessment, with its next scan's status in words; a plan whose window
    passed without the scan is `missed` (CD-05), shown as such and no longer a task."""
    upcoming = p.get("next")
    status = "missed" if p.get("missed") else upcoming["status"] if upcoming else None
    return {
        **p,
        "status": SCAN_STATUS_LABELS.get(status or "", status),
        "status_key": status,
    }


def _columns(
    document: Mapping[str, Any], profiles: Mapping[str, GuidelineProfile]
) -> list[GuidelineColumn]:
    """One column per guideline, in the document's order."""
    columns = {
        g["id"]: GuidelineColumn(
            g["id"], guideline_name(profiles, g["id"]), g["title"], g["version"]
        )
        for g in document["guidelines"]
    }
    treatments = document.get("current_treatments") or ()
    for r in document["recommendations"]:
        columns[r["guideline"]].recommendations.append(_rec(r, treatments))
    for w in document["withheld"]:
        columns[w["guideline"]].withheld.append({**w, "label": code_label(w["code"])})
    for p in document["scan_plan"]:
        columns[p["guideline"]].plans.append(_plan(p))
    return list(columns.values())


def _weeks(edd: dt.date, day: dt.date) -> float:
    return round(gestational_age_on(edd, day).total_days / 7, 3)


def chart_data(lengths: Sequence[CervicalLengthRow], edd: dt.date | None) -> dict[str, Any]:
    """The chart's `data-chart` JSON: one series per scanning approach, x in weeks."""
    series: dict[str, list[dict[str, Any]]] = {}
    if edd is not None:
        for m in sorted(lengths, key=lambda m: m.measured_on):
            method = m.method.value
            ga = gestational_age_on(edd, m.measured_on)
            text = f"{m.measured_on.isoformat()} ({ga}): {m.length_mm:g} mm, {method}"
            series.setdefault(method, []).append(
                {"x": _weeks(edd, m.measured_on), "y": m.length_mm, "text": text}
            )
    low, high = CHART_WINDOW_WEEKS
    return {
        "x": {"min": CHART_WEEKS[0], "max": CHART_WEEKS[1]},
        "window": {"from": low, "to": high, "label": f"{low}+0 to {high}+0 weeks"},
        "lines": [{"mm": mm, "label": f"{mm} mm"} for mm in CHART_LINES_MM],
        "series": [
            {"label": METHOD_LABELS.get(method, method), "method": method, "points": points}
            for method, points in series.items()
        ],
    }


# --- the timeline of this pregnancy -------------------------------------------------------------

SYMPTOM_WORDS: Final = {
    "cramping": "cramping",
    "backache": "lower backache",
    "pelvic-pressure": "pelvic pressure",
    "spotting": "spotting",
    "bleeding": "bleeding",
    "fluid-leak": "fluid leaking",
    "discharge-change": "a change in discharge",
    "contractions": "contractions",
    "fever": "fever",
}
MEDICATION_WORDS: Final = {
    "vaginal-progesterone": "Vaginal progesterone",
    "hydroxyprogesterone-caproate": "Hydroxyprogesterone caproate (17-OHPC)",
}


@dataclass(frozen=True, slots=True)
class Event:
    """One dated line of the timeline; `flag` is a warning word shown as a badge."""

    day: dt.date | None
    kind: str
    detail: str
    source: str
    flag: str | None = None


def _words(value: str) -> str:
    return value.replace("-", " ")


def _known(value: float | bool | None, unit: str = "") -> str:
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:g}{unit}"


def _scan(m: CervicalLengthRow) -> Event:
    by = f"; {m.operator}" if m.operator else ""
    detail = f"Cervical length {m.length_mm:g} mm, {m.method.value}{by}"
    return Event(m.measured_on, "Scan", detail, m.source.value)


def _exam(e: CervicalExamRow) -> Event:
    detail = (
        f"Dilation {_known(e.dilation_cm, ' cm')}; effacement "
        f"{_known(e.effacement_percent, '%')}; membranes exposed {_known(e.membranes_exposed)}"
    )
    return Event(e.examined_on, "Exam", detail, e.source.value)


def _fibronectin(t: FibronectinTestRow) -> Event:
    parts = [f"{t.ng_per_ml:g} ng/mL" if t.ng_per_ml is not None else None]
    parts.append(None if t.positive is None else ("positive" if t.positive else "negative"))
    detail = "Fetal fibronectin " + ", ".join(p for p in parts if p)
    return Event(t.tested_on, "Test", detail, t.source.value)


def _complication(c: ComplicationRow) -> list[Event]:
    name = _words(c.complication.value).capitalize()
    events = [Event(c.noted_on, "Complication", f"{name} noted", c.source.value)]
    if c.resolved_on is not None:
        events.append(Event(c.resolved_on, "Complication", f"{name} resolved", c.source.value))
    return events


def _placement(c: CerclagePlacementRow) -> Event:
    why = f", {c.indication.value}" if c.indication else ""
    return Event(
        c.placed_on, "Treatment", f"Cerclage placed ({c.route.value}{why})", c.source.value
    )


def _medication(m: MedicationRow) -> list[Event]:
    name = MEDICATION_WORDS.get(m.medication.value, m.medication.value)
    events = [
        Event(m.started_on, "Treatment", f"{name} started ({m.status.value})", m.source.value)
    ]
    if m.stopped_on is not None:
        events.append(Event(m.stopped_on, "Treatment", f"{name} stopped", m.source.value))
    return events


def _symptoms(r: SymptomReportRow) -> list[Event]:
    """The report, who made it, and whether a clinician has reviewed it (CD-07: it stays
    urgent until then); each review on its own day."""
    present = [SYMPTOM_WORDS.get(s, s) for s in r.present]
    absent = [SYMPTOM_WORDS.get(s, s) for s in r.absent]
    detail = "Reported " + (", ".join(present) if present else "no symptoms")
    if r.reported_by:
        detail += f" by {r.reported_by}"
    if absent:
        detail += f"; not: {', '.join(absent)}"
    if not r.reviews and present:
        detail += "; not yet reviewed"
    red = {s.value for s in RED_FLAG_SYMPTOMS} & set(r.present)
    events = [Event(r.reported_on, "Symptoms", detail, r.source.value, "Red flag" if red else None)]
    for review in r.reviews:
        by = f" by {review.reviewer}" if review.reviewer else ""
        events.append(
            Event(
                review.reviewed_on,
                "Review",
                f"Symptoms of {r.reported_on.isoformat()} reviewed{by}:"
                f" {_words(review.outcome.value)}",
                review.source.value,
            )
        )
    return events


def _declined(d: DeclinedDecisionRow) -> Event:
    return Event(
        d.declined_on,
        "Decision",
        f"Offered and declined: {code_label(d.code.value)}",
        d.source.value,
    )


def timeline_of(records: Mapping[str, Sequence[Any]]) -> list[Event]:
    """Exams, scans, tests, symptoms and their reviews, complications, treatments and declined
    offers, the latest first (undated complications and medications last). `records`: the
    pregnancy's records by kind name."""

    def rows(kind: recording.RecordType[Any]) -> Sequence[Any]:
        return records.get(kind.name, ())

    events = [_scan(m) for m in rows(recording.CERVICAL_LENGTH)]
    events += [_exam(e) for e in rows(recording.CERVICAL_EXAM)]
    events += [_fibronectin(t) for t in rows(recording.FIBRONECTIN_TEST)]
    events += [e for c in rows(recording.COMPLICATION) for e in _complication(c)]
    events += [_placement(c) for c in rows(recording.CERCLAGE_PLACEMENT)]
    events += [
        Event(r.removed_on, "Treatment", "Cerclage removed", r.source.value)
        for r in rows(recording.CERCLAGE_REMOVAL)
    ]
    events += [e for m in rows(recording.MEDICATION) for e in _medication(m)]
    events += [e for r in rows(recording.SYMPTOM_REPORT) for e in _symptoms(r)]
    events += [_declined(d) for d in rows(recording.DECLINED_DECISION)]
    return sorted(events, key=lambda e: (e.day is not None, e.day or dt.date.min), reverse=True)


def _records(
    sessions: sessionmaker[Session], kinds: Sequence[recording.RecordType[Any]], owner_id: str
) -> dict[str, list[Any]]:
    return {kind.name: recording.list_records(sessions, kind, owner_id) for kind in kinds}


#: Her history: the records of the woman rather than of this pregnancy.
HISTORY_RECORDS: Final = (
    recording.PRIOR_PREGNANCY,
    recording.CERVICAL_EXCISION,
    recording.MATERNAL_CONDITION,
)


# --- the page ------------------------------------------------------------------------------------


def ga_on(edd: dt.date | None, day: dt.date) -> str | None:
    """The gestational age on `day` ("19+3"); None without an EDD."""
    return str(gestational_age_on(edd, day)) if edd is not None else None


def history_date(year: int | None, month: int | None, day: int | None) -> str | None:
    """A history date known to the year, month or day ("2021", "2021-05")."""
    return str(PartialDate(year, month, day)) if year is not None else None


def _age(birth: dt.date | None, today: dt.date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def cerclage_status(
    placements: Sequence[CerclagePlacementRow],
    removals: Sequence[CerclageRemovalRow],
    today: dt.date,
    edd: dt.date | None = None,
) -> tuple[bool, str]:
    """(in situ?, in words): a cerclage placed this pregnancy by today and not removed since,
    as `clinical.facts` decides `cerclage_in_situ` (a date before the pregnancy began, EDD
    less 280 days, is another pregnancy's)."""
    removed = [r.removed_on for r in removals if r.removed_on <= today]
    start = edd - dt.timedelta(days=280) if edd is not None else None
    for c in sorted(placements, key=lambda c: c.placed_on, reverse=True):
        if c.placed_on > today or (start is not None and c.placed_on < start):
            continue
        how = ", ".join(
            x for x in (c.route.value, c.indication.value if c.indication else None) if x
        )
        if not any(day >= c.placed_on for day in removed):
            return True, f"Yes: placed {c.placed_on.isoformat()} ({how})"
        return False, f"No: placed {c.placed_on.isoformat()} and removed since"
    return False, "No cerclage recorded this pregnancy"


@router.get("/pregnancies/{pregnancy_id}")
@allow(PatientData("read", by_pregnancy()))
def pregnancy_page(
    pregnancy_id: str,
    request: Request,
    principal: PrincipalDep,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
) -> Response:
    """Everything the clinic needs about one pregnancy, as of today."""
    if principal.role is Role.PATIENT:
        return RedirectResponse("/my", status_code=303)
    try:
        pregnancy = pregnancies.get_pregnancy(sessions, pregnancy_id)
        woman = patients.get_patient(sessions, pregnancy.patient_id)
        document = assess_pregnancy(sessions, pregnancy.id, today, list(profiles.values()))
        records = _records(sessions, recording.PREGNANCY_RECORDS, pregnancy.id)
        history = _records(sessions, HISTORY_RECORDS, woman.id)
    except NotFound as error:
        raise HTTPException(404, str(error)) from error
    lengths = records[recording.CERVICAL_LENGTH.name]
    in_situ, cerclage = cerclage_status(
        records[recording.CERCLAGE_PLACEMENT.name],
        records[recording.CERCLAGE_REMOVAL.name],
        today,
        pregnancy.edd,
    )
    ga = document["gestational_age"]
    chart = chart_data(lengths, pregnancy.edd)
    return render(
        request,
        "pregnancy.html",
        {
            "pregnancy": pregnancy,
            "ended": pregnancy.status is not PregnancyStatus.ACTIVE,
            "woman": woman,
            "name": display_name(woman.family_name, woman.given_name),
            "age": _age(woman.birth_date, today),
            "ga": GestationalAge.of(ga["weeks"], ga["days"]) if ga else None,
            "ga_words": ga_words,
            "cerclage_in_situ": in_situ,
            "cerclage": cerclage,
            "document": document,
            "tier": tier_of(document),
            "treatments": current_treatments(document),
            "columns": _columns(document, profiles),
            "urgent": urgent_alerts(document),
            "lengths": sorted(lengths, key=lambda m: m.measured_on),
            "chart_json": json.dumps(chart, separators=(",", ":")),
            "chart_has_points": any(s["points"] for s in chart["series"]),
            "timeline": timeline_of(records),
            "priors": history[recording.PRIOR_PREGNANCY.name],
            "excisions": history[recording.CERVICAL_EXCISION.name],
            "conditions": history[recording.MATERNAL_CONDITION.name],
            "ga_of_days": lambda days: str(GestationalAge(days)) if days is not None else None,
            "record_forms": RECORD_FORMS,
            "ga_on": lambda day: ga_on(pregnancy.edd, day),
            "history_date": history_date,
        },
    )
