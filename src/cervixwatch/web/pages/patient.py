"""The patient's portal: her pregnancy in plain language, what cervical insufficiency is, and
reporting her symptoms.

    GET  /my            her gestational age, due date, next scan and what her team recommends
    GET  /learn         "About cervical insufficiency" (any signed-in user may read it)
    GET  /my/symptoms   the symptom form
    POST /my/symptoms   store her report; say what to do now

She sees only her own record: it is found from her account (`principal.patient_id`), never
from the request, so no id in a URL can reach another woman. Her report goes through the same
use case as the API's (`recording.add_record`), which reassesses her pregnancy in the same
transaction: a report that calls for same-day review is urgent on her team's worklist at once.

What she is told to do about a report is one answer on every page (`plain.what_to_do`): go to
the unit now, or call now, until her team records a review of it (CD-07), then that her team
has seen it. The unit's numbers come from the clinic's settings (`app.clinic_settings`), as
`tel:` links; where none is set, she is told to call "your maternity unit". Her page shows
the guideline profiles the clinic chose, and no rule id or code.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.principal import Principal, Role
from cervixwatch.app import clinic_settings, pregnancies, recording
from cervixwatch.app.assessing import URGENT_CODE, assess_pregnancy
from cervixwatch.app.clinic_clock import now_on
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.app.patients import Patient, get_patient
from cervixwatch.clinical.facts import RED_FLAG_SYMPTOMS
from cervixwatch.clinical.records import Symptom
from cervixwatch.views import plain_language as plain
from cervixwatch.web.access import (
    EVERYONE_SIGNED_IN,
    PrincipalDep,
    SignedIn,
    allow,
    audit_patient,
)
from cervixwatch.web.api.findings import SymptomReportCreate
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep
from cervixwatch.web.pages.core import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PATIENTS: Final = frozenset({Role.PATIENT})
#: The checkbox field of the symptom form (one value per ticked symptom).
SYMPTOM_FIELD: Final = "symptom"
_KNOWN: Final = frozenset(s.value for s in Symptom)
#: Her recent reports shown on her page.
RECENT_REPORTS: Final = 3


def _her_record(sessions: sessionmaker[Session], principal: Principal) -> Patient | None:
    """Her own record, by her account; None if the account is linked to no woman."""
    if principal.patient_id is None:
        return None
    try:
        return get_patient(sessions, principal.patient_id)
    except NotFound:
        return None


def unit_numbers(sessions: sessionmaker[Session]) -> dict[str, str | None]:
    """The numbers she is given: maternity triage (day and night) and her clinic's, each with
    its `tel:` link; None where the clinic has not set one."""
    settings = clinic_settings.read_settings(sessions)
    return {
        "triage": settings.triage_phone,
        "triage_tel": clinic_settings.tel_uri(settings.triage_phone),
        "clinic": settings.phone,
        "clinic_tel": clinic_settings.tel_uri(settings.phone),
        "clinic_name": settings.clinic_name,
    }


def _review_of(row: Any, today: dt.date) -> Any:
    """The first review of a report recorded on or before today (CD-07), or None."""
    known = [r for r in row.reviews if r.reviewed_on <= today]
    return min(known, key=lambda r: (r.reviewed_on, r.id)) if known else None


def _advice(row: Any, today: dt.date) -> plain.WhatToDo:
    review = _review_of(row, today)
    return plain.what_to_do(
        frozenset(Symptom(s) for s in row.present if s in _KNOWN),
        when=plain.when_sentence(row.reported_on, row.reported_at),
        review_outcome=str(getattr(review.outcome, "value", review.outcome)) if review else None,
        reviewed_on=review.reviewed_on if review else None,
        report_id=row.id,
    )


def _most_pressing(rows: list[Any], today: dt.date) -> Any | None:
    """The open report (symptoms, no review yet) to act on first: a red-flag one before any
    other, then the latest."""
    open_rows = [
        r for r in rows if r.present and r.reported_on <= today and _review_of(r, today) is None
    ]

    def order(row: Any) -> tuple[bool, dt.date, dt.datetime, int]:
        red = any(s in RED_FLAG_SYMPTOMS for s in row.present)
        moment = row.reported_at or dt.datetime.min.replace(tzinfo=dt.UTC)
        return (red, row.reported_on, moment, row.id)

    return max(open_rows, key=order, default=None)


def _symptom_form(
    request: Request,
    patient: Patient | None,
    *,
    ticked: frozenset[str] = frozenset(),
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "symptoms.html",
        {
            "patient": patient,
            "symptoms": [(s.value, label) for s, label in plain.SYMPTOM_LABELS.items()],
            "field": SYMPTOM_FIELD,
            "ticked": ticked,
            "error": error,
            "unit": unit_numbers(request.app.state.sessions),
        },
        status_code=status_code,
    )


@router.get("/my")
@allow(SignedIn(PATIENTS, audit_action="read"))
def my_pregnancy(
    request: Request,
    principal: PrincipalDep,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
) -> Response:
    patient = _her_record(sessions, principal)
    audit_patient(request, patient.id if patient else None)
    context: dict[str, Any] = {
        "patient": patient,
        "page": None,
        "reports": [],
        "now": None,
        "unit": unit_numbers(sessions),
    }
    if patient is not None and patient.active_pregnancy_id is not None:
        pregnancy_id = patient.active_pregnancy_id
        settings = clinic_settings.read_settings(sessions)
        shown = clinic_settings.chosen(settings, profiles)
        assessment = assess_pregnancy(sessions, pregnancy_id, today, shown)
        rows = [
            r
            for r in recording.list_records(sessions, recording.SYMPTOM_REPORT, pregnancy_id)
            if r.reported_on <= today
        ]
        page = plain.my_pregnancy(assessment)
        context["page"] = page
        newest = sorted(
            rows,
            key=lambda r: (
                r.reported_on,
                r.reported_at or dt.datetime.min.replace(tzinfo=dt.UTC),
                r.id,
            ),
            reverse=True,
        )
        pressing = _most_pressing(rows, today)
        if pressing is not None:
            context["now"] = _advice(pressing, today)
        elif page.urgent:
            context["now"] = plain.CHECKED_TODAY
        elif newest and newest[0].present:
            # Her latest report, seen by her team: said as its advice page says it (CD-07).
            context["now"] = _advice(newest[0], today)
        context["reports"] = [
            plain.report_news(
                row.id,
                row.reported_on,
                row.reported_at,
                row.present,
                review.reviewed_on if (review := _review_of(row, today)) else None,
            )
            for row in newest[:RECENT_REPORTS]
        ]
    return render(request, "my_pregnancy.html", context)


@router.get("/learn")
@allow(SignedIn(EVERYONE_SIGNED_IN))
def learn(request: Request, sessions: SessionsDep) -> Response:
    return render(request, "learn.html", {"unit": unit_numbers(sessions)})


@router.get("/my/symptoms")
@allow(SignedIn(PATIENTS))
def symptom_form(request: Request, principal: PrincipalDep, sessions: SessionsDep) -> Response:
    return _symptom_form(request, _her_record(sessions, principal))


@router.post("/my/symptoms")
@allow(SignedIn(PATIENTS, audit_action="write"))
def report_symptoms(
    request: Request,
    principal: PrincipalDep,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
    symptom: Annotated[list[str] | None, Form(max_length=64)] = None,
) -> Response:
    patient = _her_record(sessions, principal)
    audit_patient(request, patient.id if patient else None)
    if patient is None or patient.active_pregnancy_id is None:
        return _symptom_form(request, patient, status_code=409)
    ticked = frozenset(symptom or ())
    if not ticked:
        return _symptom_form(
            request,
            patient,
            error="Tick at least one box. If you are not sure, call your maternity unit.",
            status_code=400,
        )
    if not ticked <= _KNOWN:
        return _symptom_form(
            request,
            patient,
            ticked=ticked & _KNOWN,
            error="We did not understand one of your answers. Please tick the boxes again.",
            status_code=400,
        )
    present = [Symptom(s) for s in sorted(ticked)]
    absent = [s for s in Symptom if s.value not in ticked]
    try:
        # The JSON API's own model checks the report, as for a report sent to the API.
        report = SymptomReportCreate(
            reported_on=today, reported_at=now_on(today), present=present, absent=absent
        )
        saved = recording.add_record(
            sessions,
            recording.SYMPTOM_REPORT,
            patient.active_pregnancy_id,
            report.columns(),
            today=today,
            profiles=profiles,
        )
    except (ValidationError, InvalidField, NotFound, Conflict):
        return _symptom_form(
            request,
            patient,
            ticked=ticked,
            error="We could not save your report. Please call your maternity unit.",
            status_code=409,
        )
    # Post/Redirect/Get: reloading the advice page must not send the report again.
    return RedirectResponse(f"/my/symptoms/{saved.row.id}", status_code=303)


@router.get("/my/symptoms/{report_id}")
@allow(SignedIn(PATIENTS, audit_action="read"))
def symptom_advice(
    report_id: str,
    request: Request,
    principal: PrincipalDep,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
) -> Response:
    """What to do now about one of her reports (where a report's submission lands)."""
    patient = _her_record(sessions, principal)
    audit_patient(request, patient.id if patient else None)
    if patient is None or not (report_id.isascii() and report_id.isdigit()) or len(report_id) > 9:
        raise HTTPException(404, f"no symptom report {report_id}")
    try:
        row = recording.get_record(sessions, recording.SYMPTOM_REPORT, int(report_id))
    except NotFound:
        raise HTTPException(404, f"no symptom report {report_id}") from None
    # Only her own reports: another woman's report id answers as one that does not exist.
    hers = {p.id for p in pregnancies.pregnancies_of(sessions, patient.id)}
    if row.pregnancy_id not in hers:
        raise HTTPException(404, f"no symptom report {report_id}")
    present = frozenset(Symptom(s) for s in row.present if s in _KNOWN)
    reported = plain.symptom_advice(present).reported
    now = _advice(row, today)
    urgent = False
    if now.urgent:
        shown = clinic_settings.chosen(clinic_settings.read_settings(sessions), profiles)
        document = assess_pregnancy(sessions, row.pregnancy_id, today, shown)
        urgent = any(r["code"] == URGENT_CODE for r in document["recommendations"])
    return render(
        request,
        "symptom_advice.html",
        {
            "now": now,
            "reported": plain.join_words(reported) or "no symptoms",
            "urgent_for_team": urgent,
            "reported_when": plain.when_sentence(row.reported_on, row.reported_at),
            "unit": unit_numbers(sessions),
        },
    )
