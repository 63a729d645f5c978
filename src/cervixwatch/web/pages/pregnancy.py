"""The clinician's page of one pregnancy (GET /pregnancies/{pregnancy_id}). It starts with what
needs doing (issue 13, part 6): the urgent alert, once, with each report that keeps it open and
a form to review it (CD-07), and the due actions of the clinic's guidelines beside the
cervical-length chart; then who she is, the treatments under way, every recommendation of each
guideline (citations and facts folded), the missing data, the scan plan, her history and the
timeline.

    GET  /pregnancies/{id}                                the page (`?saved=` says what was saved)
    POST /pregnancies/{id}/reports/{report_id}/review     review an open report (CD-07)
    GET  /pregnancies/{id}/phone-report                   record a report taken by telephone
    POST /pregnancies/{id}/phone-report

The page reads one read model (`app.pregnancy_view`, one transaction) and shows what the
assessment says; nothing clinical is decided here. A patient has her own portal: she is sent
to /my.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from cervixwatch.access.principal import Role
from cervixwatch.app import accounts, recording, reviewing
from cervixwatch.app.clinic_clock import now_on
from cervixwatch.app.errors import InvalidField, NotFound
from cervixwatch.app.pregnancy_view import PregnancyView, load_view
from cervixwatch.clinical.assessment import Assessment, Recommendation
from cervixwatch.clinical.facts import FACT_CATALOGUE
from cervixwatch.clinical.gestation import GestationalAge, gestational_age_on
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.clinical.records import PartialDate, ReviewOutcome, Symptom
from cervixwatch.clinical.summary import describe_history
from cervixwatch.clinical.surveillance import ScanPlan
from cervixwatch.views import plain_language as plain
from cervixwatch.views.clinical_words import fact_label
from cervixwatch.web.access import PatientData, PrincipalDep, allow, by_pregnancy
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep
from cervixwatch.web.pages.core import PageRoute, render
from cervixwatch.web.pages.forms_corrections import correct_url, correction_words
from cervixwatch.web.pages.pregnancy_actions import (
    due_actions,
    summaries,
    urgent_alert,
)
from cervixwatch.web.pages.pregnancy_chart import chart_of
from cervixwatch.web.pages.pregnancy_saved import saved_message
from cervixwatch.web.pages.pregnancy_timeline import SYMPTOM_WORDS, source_words, timeline_of
from cervixwatch.web.pages.recommendations import (
    CHOICE_MADE,
    CODE_TREATMENTS,
    NO_FINDINGS,
    STATE_LABELS,
    TIER_WORDS,
    State,
    Tier,
    Treatment,
    capitalised,
)
from cervixwatch.web.pages.worklist import (
    SCAN_STATUS_LABELS,
    code_label,
    display_name,
    ga_words,
    guideline_name,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

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
#: CD-07's outcomes of a review, in the order the form offers them.
REVIEW_OUTCOMES: Final = (
    (ReviewOutcome.SEEN_IN_TRIAGE, "Seen in triage"),
    (ReviewOutcome.ADVISED_BY_PHONE, "Advised by phone"),
    (ReviewOutcome.ADMITTED, "Admitted"),
    (ReviewOutcome.NO_ACTION_NEEDED, "No action needed"),
)
#: Who usually reports by telephone; the form lets the clinician say someone else did.
PHONE_REPORTER: Final = "the woman"


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
    window: tuple[dt.date, dt.date] | None
    #: Its state in the course of care; an in-place one is shown as the current treatment
    #: (its note), never with the offer's words or strength (profiles.md).
    state: State
    #: The usual values it assumes for unknown facts, in plain words (CD-01).
    assumptions: list[str]
    #: Why it is urgent (urgent-evaluation: the symptoms, who, when, not yet reviewed; CD-07).
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    """A scan plan, with its next scan's status in words; a plan whose window passed without
    the scan is `missed` (CD-05), shown as such and no longer a task."""

    plan: ScanPlan
    status: str | None
    status_key: str | None


@dataclass(slots=True)
class GuidelineColumn:
    id: str
    name: str
    title: str
    version: str
    recommendations: list[Rec] = field(default_factory=list)
    withheld: list[dict[str, Any]] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)


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


def state_of(r: Recommendation, assessment: Assessment) -> State:
    """How a recommendation stands in the course of care (`pages.recommendations`' words): an
    `in-place` one whose own treatment is not under way is the other option of a choice."""
    if r.state == "in-place":
        own = CODE_TREATMENTS.get(r.code, r.code)
        if not any(t.treatment == own for t in assessment.current_treatments):
            return State("choice-made", CHOICE_MADE, r.state_note, current=True)
        return State(r.state, STATE_LABELS[r.state], r.state_note, current=True)
    return State(r.state, STATE_LABELS.get(r.state), r.state_note, current=False)


def _rec(r: Recommendation, assessment: Assessment) -> Rec:
    return Rec(
        code=r.code,
        label=code_label(r.code),
        strength=STRENGTH_LABELS.get(r.strength, r.strength),
        strength_key=r.strength,
        summary=r.summary,
        rule=r.rule,
        also=[x for x in r.rules if x != r.rule],
        citation=r.citation,
        provenance=r.provenance,
        badge=PROVENANCE_BADGES.get(r.provenance),
        facts=[
            Fact(
                name,
                FACT_CATALOGUE[name].meaning if name in FACT_CATALOGUE else fact_label(name),
                _fact_value(name, value),
            )
            for name, value in r.facts.items()
        ],
        window=r.window,
        state=state_of(r, assessment),
        assumptions=list(r.assumptions),
        reason=r.reason,
    )


def _plan(p: ScanPlan) -> Plan:
    status = "missed" if p.missed else p.next_scan.status if p.next_scan else None
    return Plan(p, SCAN_STATUS_LABELS.get(status or "", status), status)


def columns_of(
    assessment: Assessment, profiles: Sequence[GuidelineProfile], known: Mapping[str, Any]
) -> list[GuidelineColumn]:
    """One column per guideline the clinic shows, in its order."""
    columns = {
        p.id: GuidelineColumn(p.id, guideline_name(known, p.id), p.title, p.version)
        for p in profiles
    }
    for r in assessment.recommendations:
        columns[r.guideline].recommendations.append(_rec(r, assessment))
    for w in assessment.withheld:
        columns[w.guideline].withheld.append(
            {
                "label": code_label(w.code),
                "rule": w.rule,
                "withheld_by": w.withheld_by,
                "reason": w.reason,
            }
        )
    for p in assessment.scan_plans:
        columns[p.guideline].plans.append(_plan(p))
    return list(columns.values())


def treatments_of(assessment: Assessment) -> list[Treatment]:
    """The treatments under way on the assessment's day: a cerclage in situ, active orders."""
    return [
        Treatment(
            t.treatment,
            t.since.isoformat() if t.since else None,
            str(t.since_ga) if t.since_ga else None,
            capitalised(t.detail),
        )
        for t in assessment.current_treatments
    ]


def tier_of(assessment: Assessment) -> Tier:
    risk = assessment.risk
    return Tier(
        label=risk.tier_label,
        key=risk.tier or "unknown",
        word=TIER_WORDS.get(str(risk.tier), "Unknown"),
        rule=risk.tier_rule,
        findings=tuple(risk.current_findings),
    )


def ga_on(edd: dt.date | None, day: dt.date) -> str | None:
    """The gestational age on `day` ("19+3"); None without an EDD."""
    return str(gestational_age_on(edd, day)) if edd is not None else None


def history_date(
    year: int | None,
    month: int | None,
    day: int | None,
    write: Callable[[dt.date], str] | None = None,
) -> str | None:
    """A history date known to the year, month or day ("2021", "2021-05"); a whole date in
    the clinic's format when `write` is given (as every other date of the page)."""
    if year is None:
        return None
    if write is not None and month is not None and day is not None:
        try:
            return write(dt.date(year, month, day))
        except ValueError:
            pass  # stored before the checks of issue 12: shown as stored
    return str(PartialDate(year, month, day))


def _age(birth: dt.date | None, today: dt.date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@dataclass(slots=True)
class FormState:
    """A form of the page sent back with errors (by field) and what was sent."""

    form: str  # "review-<report id>"
    errors: dict[str, str]
    sent: Mapping[str, Any]


def _page(
    request: Request,
    view: PregnancyView,
    known: Mapping[str, GuidelineProfile],
    *,
    saved: str | None = None,
    form: FormState | None = None,
    status_code: int = 200,
) -> Response:
    pregnancy, woman, assessment = view.pregnancy, view.patient, view.assessment
    ga = assessment.gestational_age
    rows = view.rows
    in_situ = [t for t in assessment.current_treatments if t.treatment == "cerclage"]
    lengths = sorted(rows.get("cervical_lengths", ()), key=lambda m: m.measured_on)
    chart = chart_of(
        lengths,
        rows.get("cerclage_placements", ()),
        rows.get("cerclage_removals", ()),
        rows.get("medications", ()),
        pregnancy.edd,
        view.as_of,
        view.settings.short_date,
    )
    return render(
        request,
        "pregnancy.html",
        {
            # The clinic's date format, from the settings read with the page.
            "date": view.settings.short_date,
            "view": view,
            "pregnancy": pregnancy,
            "ended": pregnancy.status.value != "active",
            "woman": woman,
            "name": display_name(woman.family_name, woman.given_name),
            "age": _age(woman.birth_date, view.as_of),
            "ga": ga,
            "ga_words": ga_words,
            "cerclage_in_situ": bool(in_situ),
            "cerclage": "; ".join(capitalised(t.detail) for t in in_situ) or "None in situ today",
            "assessment": assessment,
            "as_of": view.as_of,
            "history_text": describe_history(view.records, view.as_of),
            "notes": view.records.notes,
            "tier": tier_of(assessment),
            "no_findings": NO_FINDINGS,
            "treatments": treatments_of(assessment),
            "columns": columns_of(assessment, view.profiles, known),
            "urgent": urgent_alert(assessment, known),
            "actions": due_actions(assessment, known),
            "summaries": summaries,
            "open_reports": view.open_reports,
            "reviewed_today": _reviewed_on(view, view.as_of),
            "review_outcomes": REVIEW_OUTCOMES,
            "symptom_words": SYMPTOM_WORDS,
            "source_words": source_words,
            "clock_time": plain.clock_time,
            "form": form,
            "saved": saved_message(view, saved) if saved else None,
            "lengths": lengths,
            "chart": chart,
            "timeline": timeline_of(rows, pregnancy.id, view.settings.short_date),
            "corrections": view.corrections,
            "correction_words": correction_words,
            "correct_url": lambda collection, row_id: correct_url(pregnancy.id, collection, row_id),
            "priors": rows.get("prior_pregnancies", ()),
            "excisions": rows.get("excisions", ()),
            "conditions": rows.get("maternal_conditions", ()),
            "ga_of_days": lambda days: str(GestationalAge(days)) if days is not None else None,
            "record_forms": RECORD_FORMS,
            "ga_on": lambda day: ga_on(pregnancy.edd, day),
            "history_date": lambda y, m, d: history_date(y, m, d, view.settings.short_date),
            "viewer_name": view.viewer_name,
        },
        status_code=status_code,
    )


def _reviewed_on(view: PregnancyView, day: dt.date) -> list[tuple[Any, Any]]:
    """(report, review) of the reviews recorded on `day`, the latest first: the page says who
    reviewed which report when."""
    found = [
        (report, review)
        for report in view.rows.get("symptom_reports", ())
        for review in report.reviews
        if review.reviewed_on == day
    ]
    return sorted(found, key=lambda pair: pair[1].id, reverse=True)


def _view(
    sessions: Any, pregnancy_id: str, today: dt.date, profiles: Any, viewer: str
) -> PregnancyView:
    try:
        return load_view(sessions, pregnancy_id, today, profiles, viewer)
    except NotFound as error:
        raise HTTPException(404, str(error)) from error


@router.get("/pregnancies/{pregnancy_id}")
@allow(PatientData("read", by_pregnancy()))
def pregnancy_page(
    pregnancy_id: str,
    request: Request,
    principal: PrincipalDep,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
    saved: str | None = None,
) -> Response:
    """Everything the clinic needs about one pregnancy, as of today."""
    if principal.role is Role.PATIENT:
        return RedirectResponse("/my", status_code=303)
    view = _view(sessions, pregnancy_id, today, profiles, principal.user_id)
    return _page(request, view, profiles, saved=saved)


# --- reviewing a report (CD-07) ----------------------------------------------------------------


def _day(field_name: str, text: str | None, today: dt.date) -> dt.date:
    """A date field's value (today when left blank), or an error naming the field."""
    if not text:
        return today
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidField(field_name, "give a date as YYYY-MM-DD") from None


@router.post("/pregnancies/{pregnancy_id}/reports/{report_id}/review")
@allow(PatientData("write", by_pregnancy()))
def review_report(
    pregnancy_id: str,
    report_id: int,
    request: Request,
    principal: PrincipalDep,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
    outcome: Annotated[str, Form(max_length=40)] = "",
    reviewer: Annotated[str, Form(max_length=400)] = "",
    reviewed_on: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Record who reviewed the report, when, the outcome and a note; back to the page, which
    says so. Refused, naming the field, when the outcome is not one of CD-07's."""
    sent = {"outcome": outcome, "reviewer": reviewer, "reviewed_on": reviewed_on, "note": note}
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"note": note, "reviewed_at": now_on(today)}
    values["reviewer"] = reviewer.strip() or _viewer_name(sessions, principal.user_id)
    try:
        values["outcome"] = ReviewOutcome(outcome)
    except ValueError:
        errors["outcome"] = "Choose the outcome of the review."
    try:
        values["reviewed_on"] = _day("reviewed_on", reviewed_on, today)
    except InvalidField as error:
        errors[error.field] = capitalised(error.message) + "."
    if not errors:
        try:
            saved = reviewing.review_report(
                sessions,
                report_id,
                values,
                today=today,
                profiles=profiles,
                pregnancy_id=pregnancy_id,
            )
        except NotFound as error:
            raise HTTPException(404, str(error)) from error
        except InvalidField as error:
            errors[error.field] = capitalised(error.message) + "."
        else:
            return RedirectResponse(
                f"/pregnancies/{pregnancy_id}?saved=review:{saved.row.id}#what-needs-doing",
                status_code=303,
            )
    view = _view(sessions, pregnancy_id, today, profiles, principal.user_id)
    state = FormState(f"review-{report_id}", errors, sent)
    return _page(request, view, profiles, form=state, status_code=422)


def _viewer_name(sessions: Any, user_id: str) -> str | None:
    return accounts.shown_name(sessions, user_id)


# --- a report taken by telephone ---------------------------------------------------------------


def _phone_page(
    request: Request,
    view: PregnancyView,
    *,
    errors: Mapping[str, str] | None = None,
    sent: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    now = dt.datetime.now(dt.UTC).astimezone()
    return render(
        request,
        "pregnancy_phone_report.html",
        {
            "pregnancy": view.pregnancy,
            "name": display_name(view.patient.family_name, view.patient.given_name),
            "symptoms": [(s.value, label) for s, label in plain.SYMPTOM_LABELS.items()],
            "errors": errors or {},
            "sent": sent
            or {
                "reported_on": view.as_of.isoformat(),
                "reported_time": now.strftime("%H:%M"),
                "reported_by": PHONE_REPORTER,
                "symptom": [],
            },
            "viewer_name": view.viewer_name,
        },
        status_code=status_code,
    )


@router.get("/pregnancies/{pregnancy_id}/phone-report")
@allow(PatientData("read", by_pregnancy()))
def phone_report_form(
    pregnancy_id: str,
    request: Request,
    principal: PrincipalDep,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
) -> Response:
    if principal.role is Role.PATIENT:
        return RedirectResponse("/my/symptoms", status_code=303)
    return _phone_page(request, _view(sessions, pregnancy_id, today, profiles, principal.user_id))


def _time(text: str, day: dt.date) -> dt.datetime | None:
    """The instant of a time of day ("14:05") on `day`, on the clinic's clock."""
    if not text:
        return None
    try:
        clock = dt.time.fromisoformat(text)
    except ValueError:
        raise InvalidField("reported_time", "give a time as HH:MM (24-hour clock)") from None
    offset = dt.datetime.now(dt.UTC).astimezone().tzinfo
    return dt.datetime.combine(day, clock, tzinfo=offset)


@router.post("/pregnancies/{pregnancy_id}/phone-report")
@allow(PatientData("write", by_pregnancy()))
async def record_phone_report(
    pregnancy_id: str,
    request: Request,
    principal: PrincipalDep,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
) -> Response:
    """Store the report as the woman gave it by telephone (her symptoms; who reported it;
    when), recording the clinician who took it; back to the page, which says it was saved."""
    form = await request.form()
    ticked = [str(v) for v in form.getlist("symptom")]
    reported_on = str(form.get("reported_on") or "")
    reported_time = str(form.get("reported_time") or "")
    reported_by = str(form.get("reported_by") or "").strip()
    sent = {
        "symptom": ticked,
        "reported_on": reported_on,
        "reported_time": reported_time,
        "reported_by": reported_by,
    }
    errors: dict[str, str] = {}
    known = {s.value for s in Symptom}
    unknown = [t for t in ticked if t not in known]
    if unknown or not ticked:
        errors["symptom"] = "Tick at least one symptom she reported."
    values: dict[str, Any] = {}
    try:
        day = _day("reported_on", reported_on, today)
        values["reported_on"] = day
        values["reported_at"] = _time(reported_time, day)
    except InvalidField as error:
        errors[error.field] = capitalised(error.message) + "."
    if len(reported_by) > 200:
        errors["reported_by"] = "At most 200 characters."
    view = await run_in_threadpool(
        _view, sessions, pregnancy_id, today, profiles, principal.user_id
    )
    if not errors:
        present = sorted(ticked)
        values |= {
            "present": present,
            "absent": [],
            "reported_by": reported_by or PHONE_REPORTER,
            "taken_by": view.viewer_name,
        }
        try:
            saved = await run_in_threadpool(
                lambda: recording.add_record(
                    sessions,
                    recording.SYMPTOM_REPORT,
                    pregnancy_id,
                    values,
                    today=today,
                    profiles=profiles,
                )
            )
        except InvalidField as error:
            errors[error.field] = capitalised(error.message) + "."
        except NotFound as error:
            raise HTTPException(404, str(error)) from error
        else:
            return RedirectResponse(
                f"/pregnancies/{pregnancy_id}?saved=symptom-reports:{saved.row.id}",
                status_code=303,
            )
    return _phone_page(request, view, errors=errors, sent=sent, status_code=422)
