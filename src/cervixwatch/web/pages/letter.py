"""The clinic letter: one A4 page for the notes summarising a pregnancy's assessment, as a PDF.

    GET /pregnancies/{pregnancy_id}/letter.pdf

The letter is the assessment of today (`app.assessing.assess_pregnancy`, computed afresh from
the records held now, as the JSON API gives it): who she is, her dates, her Saving Babies' Lives
history tier beside the current findings and the history behind it, the treatments under way
with their dates, her cervical lengths, each guideline's recommendations side by side with
their state in the course of care (in place, declined, overdue, missed), assumptions (CD-01),
why an evaluation is urgent (CD-07), rule ids, strength, provenance and the works they cite,
what is missing, and the scan plan. A treatment in place is written as the current treatment,
never as an offer, as on the pregnancy page (`pages.recommendations`). Its footer says it was
generated from the records held on that day and must be checked against the notes.

`templates/letter.html` and `static/letter.css` are set by WeasyPrint. Its URL fetcher reads
only the app's own static files: nothing is fetched from anywhere else. A letter that would run
past one page is set again in smaller type; one that still does not fit (a long history)
carries page numbers. The download is named by the pregnancy's id, never by the woman's name,
and is never cached.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Final
from urllib.request import url2pathname

from fastapi import APIRouter, HTTPException, Response
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app import patients, pregnancies, recording
from cervixwatch.app.assessing import assess_pregnancy
from cervixwatch.app.errors import NotFound
from cervixwatch.clinical.gestation import gestational_age_on
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.web.access import PatientData, allow, by_pregnancy
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep
from cervixwatch.web.pages.core import PageRoute, templates
from cervixwatch.web.pages.recommendations import current_treatments, state_of, tier_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STATIC_DIR: Final = (Path(__file__).parent.parent / "static").resolve()

STRENGTH_WORDS: Final = {
    "recommend": "Recommended",
    "offer": "Offer",
    "consider": "Consider",
    "shared-decision": "Shared decision",
    "not-recommended": "Not recommended",
}
PROVENANCE_WORDS: Final = {
    "unverified": "Unverified: not yet checked against the source text",
    "derived": "Derived: extrapolated, not stated by the source",
}
STATUS_WORDS: Final = {
    "upcoming": "Upcoming",
    "due": "Due now",
    "overdue": "Overdue",
    "missed": "Missed",
}


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


def _age(birth: dt.date | None, today: dt.date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _references(
    recommendations: list[dict[str, Any]], profiles: Mapping[str, GuidelineProfile]
) -> list[str]:
    """The works the recommendations cite, each once and numbered; each recommendation gets
    `refs`, the numbers of its works (its full citation is `citation` in the assessment)."""
    works: list[str] = []
    for item in recommendations:
        profile = profiles.get(item["guideline"])
        numbers: list[int] = []
        for rule_id in item.get("rules") or [item["rule"]]:
            source = profile.sources.get(rule_id) if profile else None
            text = profile.citations.get(source.citation) if profile and source else None
            if text is None:
                continue
            if text not in works:
                works.append(text)
            if works.index(text) + 1 not in numbers:
                numbers.append(works.index(text) + 1)
        item["refs"] = numbers
    return works


def letter_context(
    sessions: sessionmaker[Session],
    profiles: Mapping[str, GuidelineProfile],
    pregnancy_id: str,
    today: dt.date,
) -> dict[str, Any]:
    try:
        pregnancy = pregnancies.get_pregnancy(sessions, pregnancy_id)
        patient = patients.get_patient(sessions, pregnancy.patient_id)
        document = assess_pregnancy(sessions, pregnancy_id, today, list(profiles.values()))
        lengths = recording.list_records(sessions, recording.CERVICAL_LENGTH, pregnancy_id)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    edd = pregnancy.edd
    treatments = document.get("current_treatments") or []
    recommendations: list[dict[str, Any]] = [
        {**r, "course": state_of(r, treatments)} for r in document["recommendations"]
    ]
    references = _references(recommendations, profiles)
    guidelines = [
        {
            **g,
            "recommendations": [r for r in recommendations if r["guideline"] == g["id"]],
            "withheld": [w for w in document["withheld"] if w["guideline"] == g["id"]],
            "scan_plan": [p for p in document["scan_plan"] if p["guideline"] == g["id"]],
        }
        for g in document["guidelines"]
    ]
    name = " ".join(n for n in (patient.given_name, patient.family_name) if n)
    return {
        "today": today,
        "name": name or None,
        "hospital_number": patient.hospital_number,
        "birth_date": patient.birth_date,
        "age": _age(patient.birth_date, today),
        "pregnancy_id": pregnancy.id,
        "edd": edd,
        "fetuses": pregnancy.fetuses,
        "ga_today": document["gestational_age"]["text"] if document["gestational_age"] else None,
        "status": pregnancy.status.value,
        "history": document["history"],
        "risk": document["risk"],
        "tier": tier_of(document),
        "treatments": current_treatments(document),
        "lengths": [
            {
                "on": row.measured_on,
                "ga": gestational_age_on(edd, row.measured_on) if edd else None,
                "mm": f"{row.length_mm:g}",
                "method": row.method.value,
                "operator": row.operator,
            }
            for row in lengths
            if row.measured_on <= today
        ],
        "guidelines": guidelines,
        "missing": document["missing"],
        "notes": document["notes"],
        "references": references,
        "strength_words": STRENGTH_WORDS,
        "provenance_words": PROVENANCE_WORDS,
        "status_words": STATUS_WORDS,
    }


# --- setting it -----------------------------------------------------------------------------


def render_letter(context: Mapping[str, Any]) -> tuple[bytes, int]:
    """The letter as PDF bytes and its number of pages: one, in smaller type if need be."""
    html_class, local_files = _weasyprint()
    template = templates.env.get_template("letter.html")
    document = None
    for compact in (False, True):
        html = template.render({**context, "compact": compact})
        document = html_class(
            string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=local_files()
        ).render()
        if len(document.pages) == 1:
            break
    assert document is not None
    pdf: bytes = document.write_pdf()
    return pdf, len(document.pages)


_SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")


@router.get("/pregnancies/{pregnancy_id}/letter.pdf")
@allow(PatientData("read", by_pregnancy(), audit_action="export"))
def clinic_letter(
    pregnancy_id: str,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
) -> Response:
    context = letter_context(sessions, profiles, pregnancy_id, today)
    pdf, _ = render_letter(context)
    filename = f"cervixwatch-letter-{_SAFE_NAME.sub('', pregnancy_id)}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
