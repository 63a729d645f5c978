"""The clinic letter (issue 13, part 7): what a preterm birth clinic sends to a woman's GP or
referrer, made by a clinician of her care team.

    GET  /pregnancies/{pregnancy_id}/letter       the form: to whom, a free-text addition
                                                  to the plan, a copy to the woman
    POST /pregnancies/{pregnancy_id}/letter       the letter: a PDF (`output=pdf`), or the
                                                  same letter as an HTML page (`output=html`)
    GET  /pregnancies/{pregnancy_id}/letter.pdf   the old address: sends to the form

The letter carries the clinic's name, address and numbers (`app.clinic_settings`), the
addressee, the author (the signed-in clinician), who she is, the findings (cervical lengths,
examinations, symptom reports with their reviews), the cerclage in situ and current
medication, and the plan of the clinic's guideline profiles in clinicians' words with the
clinician's own addition; what it says is chosen in `letter_content`. Dates are in the
clinic's format; it is named by her hospital number and the day, never by a name or an id,
and never cached; making it is recorded in the audit log as an export.

`templates/letter.html` and `static/letter.css` are set by WeasyPrint. Its URL fetcher reads
only the app's own static files: nothing is fetched from anywhere else. A letter that would run
past one page is set again in smaller type; one that still does not fit carries page numbers
(every page does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.request import url2pathname

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app import accounts, clinic_settings, patients, pregnancies, recording
from cervixwatch.app.assessing import assess_pregnancy
from cervixwatch.app.clinic_settings import ClinicSettings
from cervixwatch.app.errors import NotFound
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.web.access import PatientData, PrincipalDep, allow, by_pregnancy
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep
from cervixwatch.web.pages import letter_content as words
from cervixwatch.web.pages.core import PageRoute, render, templates
from cervixwatch.web.pages.letter_content import LetterForm
from cervixwatch.web.pages.recommendations import current_treatments, tier_of, urgent_alerts

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STATIC_DIR: Final = (Path(__file__).parent.parent / "static").resolve()
#: A letter is written by her care team's clinicians: a patient may read her record, not
#: write letters from it (403, as for the other forms). Making one is an export; opening the
#: form, a read.
LETTER_ACCESS: Final = PatientData("write", by_pregnancy(), audit_action="export")
LETTER_FORM_ACCESS: Final = PatientData("write", by_pregnancy(), audit_action="read")
TO_NAME_MAX: Final = 200
TO_ADDRESS_LINES: Final = 6
LINE_MAX: Final = 120
PLAN_ADDITION_MAX: Final = 2000
_FORM_MAX: Final = 4000


def check_local(url: str) -> None:
    """Refuse any URL but a file among the app's static files."""
    if not url.startswith("file:"):
        raise ValueError(f"the letter fetches nothing from outside: {url}")
    path = Path(url2pathname(url.split("?")[0].removeprefix("file:"))).resolve()
    if not path.is_relative_to(STATIC_DIR):
        raise ValueError(f"the letter reads only the app's static files: {url}")


@cache
def _weasyprint() -> tuple[Any, Any]:
    """WeasyPrint's HTML class, and a URL fetcher of the app's own static files only.

    Imported on the first letter rather than with the app: it loads Pango and HarfBuzz, which
    takes seconds and which nothing else needs."""
    from weasyprint import HTML  # type: ignore[import-untyped]
    from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

    class LocalFiles(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            check_local(url)
            return super().fetch(url, headers)

    return HTML, LocalFiles


# --- what the letter says -------------------------------------------------------------------


def _dated(value: Any, settings: ClinicSettings) -> Any:
    """Every ISO date inside the letter's sentences in the clinic's format."""
    if isinstance(value, str):
        return words.dates_in(value, settings)
    if isinstance(value, list):
        return [_dated(v, settings) for v in value]
    if isinstance(value, dict):
        return {k: _dated(v, settings) for k, v in value.items()}
    return value


def letter_context(
    sessions: sessionmaker[Session],
    profiles: Mapping[str, GuidelineProfile],
    pregnancy_id: str,
    today: dt.date,
    *,
    form: LetterForm,
    author: str | None,
    settings: ClinicSettings | None = None,
) -> dict[str, Any]:
    settings = settings or clinic_settings.read_settings(sessions)
    shown = clinic_settings.chosen(settings, profiles)
    try:
        pregnancy = pregnancies.get_pregnancy(sessions, pregnancy_id)
        patient = patients.get_patient(sessions, pregnancy.patient_id)
        document = assess_pregnancy(sessions, pregnancy_id, today, shown)
        lengths = recording.list_records(sessions, recording.CERVICAL_LENGTH, pregnancy_id)
        exams = recording.list_records(sessions, recording.CERVICAL_EXAM, pregnancy_id)
        reports = recording.list_records(sessions, recording.SYMPTOM_REPORT, pregnancy_id)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    edd = pregnancy.edd
    treatments = document.get("current_treatments") or []
    recommendations = [dict(r) for r in document["recommendations"]]
    references = words.references(recommendations, {p.id: p for p in shown})
    report_lines, earlier = words.report_lines(reports, edd, today, settings)
    name = " ".join(n for n in (patient.given_name, patient.family_name) if n)
    tier = tier_of(document)
    context = {
        "today": settings.date(today),
        "clinic": {
            "name": settings.clinic_name,
            "address": settings.letter_address,
            "phone": settings.phone,
            "triage_phone": settings.triage_phone,
        },
        "to_name": form.to_name,
        "to_address": list(form.to_address),
        "plan_addition": form.plan_addition.splitlines(),
        "copy_to_patient": form.copy_to_patient,
        "author": author,
        "name": name or None,
        "hospital_number": patient.hospital_number,
        "birth_date": settings.date(patient.birth_date) if patient.birth_date else None,
        "age": words.age_on(patient.birth_date, today),
        "edd": settings.date(edd) if edd else None,
        "fetuses": words.FETUS_WORDS.get(pregnancy.fetuses or 0) if pregnancy.fetuses else None,
        "fetus_count": pregnancy.fetuses,
        "ga_today": document["gestational_age"]["text"] if document["gestational_age"] else None,
        "ended": pregnancy.status.value != "active",
        "history": document["history"],
        "tier": {
            "label": tier.label,
            "key": tier.key,
            "findings": tier.findings_words,
        },
        "treatments": [t.detail for t in current_treatments(document)],
        "cerclage_in_situ": any(t["treatment"] == "cerclage" for t in treatments),
        "on_medication": any(t["treatment"] != "cerclage" for t in treatments),
        "lengths": words.length_lines(lengths, edd, today, settings),
        "exams": words.exam_lines(exams, edd, today, settings),
        "reports": report_lines,
        "earlier_reports": earlier,
        "urgent": [
            {
                "summary": a.summary,
                "reason": words.without_rule_ids(a.reason),
                "assumptions": list(a.assumptions),
                "refs": sorted(
                    {
                        n
                        for r in recommendations
                        if r["code"] == words.URGENT_CODE and r["rule"] in a.rules
                        for n in r.get("refs") or ()
                    }
                ),
            }
            for a in urgent_alerts(document)
        ],
        "plans": words.plan_by_guideline(document, recommendations, edd),
        "several_guidelines": len(shown) > 1,
        "missing": list(document["missing"]),
        "notes": [words.without_rule_ids(n) for n in document["notes"]],
        "references": references,
    }
    dated: dict[str, Any] = _dated(context, settings)
    return dated


# --- setting it -----------------------------------------------------------------------------


def letter_html(context: Mapping[str, Any], *, compact: bool = False, page: bool = False) -> str:
    """The letter as HTML: for WeasyPrint (`letter.css` beside it), or as a page of the app."""
    template = templates.env.get_template("letter.html")
    stylesheet = "/static/letter.css" if page else "letter.css"
    return template.render({**context, "compact": compact, "stylesheet": stylesheet})


def render_letter(context: Mapping[str, Any]) -> tuple[bytes, int]:
    """The letter as PDF bytes and its number of pages: one, in smaller type if need be."""
    html_class, local_files = _weasyprint()
    document = None
    for compact in (False, True):
        html = letter_html(context, compact=compact)
        document = html_class(
            string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=local_files()
        ).render()
        if len(document.pages) == 1:
            break
    assert document is not None
    pdf: bytes = document.write_pdf()
    return pdf, len(document.pages)


# --- the form ---------------------------------------------------------------------------------


def _form_page(
    request: Request,
    sessions: sessionmaker[Session],
    pregnancy_id: str,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    status_code: int = 200,
) -> Response:
    try:
        pregnancy = pregnancies.get_pregnancy(sessions, pregnancy_id)
        patient = patients.get_patient(sessions, pregnancy.patient_id)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    name = ", ".join(n for n in (patient.family_name, patient.given_name) if n)
    return render(
        request,
        "letter_form.html",
        {
            "pregnancy_id": pregnancy_id,
            "name": name or "name not recorded",
            "hospital_number": patient.hospital_number,
            "values": values,
            "errors": errors,
            "limits": {
                "to_name": TO_NAME_MAX,
                "to_address": TO_ADDRESS_LINES,
                "plan_addition": PLAN_ADDITION_MAX,
            },
        },
        status_code=status_code,
    )


def read_form(
    to_name: str, to_address: str, plan_addition: str, copy_to_patient: bool
) -> tuple[LetterForm | None, dict[str, str]]:
    """The form's values checked: the letter's form, or the errors by field."""
    errors: dict[str, str] = {}
    name = " ".join(to_name.split())
    if not name:
        errors["to_name"] = "Enter who the letter is to, e.g. Dr J Smith (GP)."
    elif len(name) > TO_NAME_MAX:
        errors["to_name"] = f"At most {TO_NAME_MAX} characters (this is {len(name)})."
    lines = tuple(" ".join(line.split()) for line in to_address.splitlines() if line.strip())
    if len(lines) > TO_ADDRESS_LINES:
        errors["to_address"] = f"At most {TO_ADDRESS_LINES} lines (this is {len(lines)})."
    elif any(len(line) > LINE_MAX for line in lines):
        errors["to_address"] = f"At most {LINE_MAX} characters a line."
    addition = "\n".join(line.rstrip() for line in plan_addition.strip().splitlines())
    if len(addition) > PLAN_ADDITION_MAX:
        errors["plan_addition"] = (
            f"At most {PLAN_ADDITION_MAX} characters (this is {len(addition)})."
        )
    for field, text in (
        ("to_name", name),
        ("to_address", " ".join(lines)),
        ("plan_addition", addition.replace("\n", " ")),
    ):
        if field not in errors and not text.isprintable():
            errors[field] = "Holds a character that cannot be printed."
    if errors:
        return None, errors
    return LetterForm(name, lines, addition, copy_to_patient), {}


@router.get("/pregnancies/{pregnancy_id}/letter")
@allow(LETTER_FORM_ACCESS)
def letter_form(request: Request, pregnancy_id: str, sessions: SessionsDep) -> Response:
    values = {"to_name": "", "to_address": "", "plan_addition": "", "copy_to_patient": False}
    return _form_page(request, sessions, pregnancy_id, values, {})


@router.get("/pregnancies/{pregnancy_id}/letter.pdf")
@allow(LETTER_FORM_ACCESS)
def old_letter_address(pregnancy_id: str) -> Response:
    """The letter needs its addressee: the old address of the PDF leads to the form."""
    return RedirectResponse(f"/pregnancies/{pregnancy_id}/letter", status_code=303)


FormText = Annotated[str, Form(max_length=_FORM_MAX)]


@router.post("/pregnancies/{pregnancy_id}/letter")
@allow(LETTER_ACCESS)
def clinic_letter(
    request: Request,
    pregnancy_id: str,
    principal: PrincipalDep,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
    to_name: FormText = "",
    to_address: FormText = "",
    plan_addition: FormText = "",
    copy_to_patient: Annotated[bool, Form()] = False,
    output: Annotated[str, Form(max_length=8)] = "pdf",
) -> Response:
    form, errors = read_form(to_name, to_address, plan_addition, copy_to_patient)
    if form is None:
        values = {
            "to_name": to_name,
            "to_address": to_address,
            "plan_addition": plan_addition,
            "copy_to_patient": copy_to_patient,
        }
        return _form_page(request, sessions, pregnancy_id, values, errors, status_code=400)
    settings = clinic_settings.read_settings(sessions)
    author = accounts.shown_name(sessions, principal.user_id)
    context = letter_context(
        sessions, profiles, pregnancy_id, today, form=form, author=author, settings=settings
    )
    headers = {"Cache-Control": "no-store"}
    if output == "html":
        name = words.filename(context["hospital_number"], today, "html")
        headers["Content-Disposition"] = f'inline; filename="{name}"'
        return HTMLResponse(letter_html(context, page=True), headers=headers)
    pdf, _ = render_letter(context)
    name = words.filename(context["hospital_number"], today, "pdf")
    headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(pdf, media_type="application/pdf", headers=headers)
