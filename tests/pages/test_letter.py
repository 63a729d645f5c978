"""The clinic letter (issue 13, part 7): made by a clinician of her care team on the form at
/pregnancies/{id}/letter, to the GP or referrer she names, signed by her, on the clinic's
letterhead (clinic settings); the findings (cervical lengths, exams, symptom reports with
their times and reviews), the cerclage in situ and current medication, the plan of the
clinic's guidelines in clinicians' words with her own addition; no recommendation code, no
file path, rule ids only beside the works they cite; dates in the clinic's format; named by
hospital number and date; never cached; an export in the audit log. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine, select

from cervixwatch.app import accounts, clinic_settings
from cervixwatch.clinical.records import (
    CerclageIndication,
    DeclinableCode,
    Medication,
    Symptom,
)
from cervixwatch.store.models import AuditEventRow, Role
from cervixwatch.web.app import create_app
from cervixwatch.web.pages.letter import STATIC_DIR, _weasyprint, letter_context, render_letter
from cervixwatch.web.pages.letter_content import LetterForm, without_paths, without_rule_ids
from tests.store.tables import delete_everything
from tests.web.accounts import TEAM, bearer, make_user, test_settings
from tests.web.api_builders import at, day_at, seed
from tests.web.conftest import TODAY

A4_POINTS = (595, 842)
#: Every recommendation code of the contract (DESIGN.md): none may be printed.
CODES = (
    "refer-preterm-birth-clinic",
    "single-cervical-length-screen",
    "serial-cervical-length",
    "history-indicated-cerclage",
    "ultrasound-indicated-cerclage",
    "exam-indicated-cerclage",
    "vaginal-progesterone",
    "cerclage-not-recommended",
    "cerclage-contraindicated",
    "no-activity-restriction",
    "remove-cerclage",
    "urgent-evaluation",
    "consider-abdominal-cerclage",
    "discontinue-17ohpc",
    "preterm-labour-diagnosed",
)
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
TO_GP = {"to_name": "Dr J Smith", "to_address": "Riverside Surgery\n1 High Street"}


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    delete_everything(engine)
    with TestClient(create_app(test_settings(engine), today=lambda: TODAY)) as test_client:
        yield test_client
    delete_everything(engine)


def clinician(
    client: TestClient, team: str = TEAM, display_name: str | None = None
) -> dict[str, str]:
    if display_name is None:
        _, token = make_user(client, Role.CLINICIAN, teams=(team,))
        return bearer(token)
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    username = f"clinician-{uuid.uuid4().hex[:10]}"
    accounts.create_user(
        sessions, username, Role.CLINICIAN, password=None, display_name=display_name, teams=(team,)
    )
    return bearer(accounts.issue_token(sessions, username, "tests", days=1).secret)


def set_clinic(client: TestClient, **values: Any) -> None:
    app: Any = client.app
    clinic_settings.save_settings(
        app.state.sessions,
        {"guidelines": list(app.state.profiles), **values},
        known_guidelines=list(app.state.profiles),
        by=None,
    )


def pdf_text(content: bytes) -> tuple[int, str, tuple[int, int]]:
    """Pages, text and the size of the first page (points) of a PDF."""
    reader = PdfReader(io.BytesIO(content))
    box = reader.pages[0].mediabox
    text = "\n".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), " ".join(text.split()), (round(box.width), round(box.height))


def make_letter(client: TestClient, pregnancy_id: str, headers: dict[str, str], **form: Any) -> Any:
    return client.post(
        f"/pregnancies/{pregnancy_id}/letter", data={**TO_GP, **form}, headers=headers
    )


def letter_text(client: TestClient, pregnancy_id: str, headers: dict[str, str], **form: Any) -> str:
    answer = make_letter(client, pregnancy_id, headers, **form)
    assert answer.status_code == 200, answer.text
    pages, text, _ = pdf_text(answer.content)
    assert pages == 1, text
    return text


def test_a_letter_to_the_gp_says_what_a_clinic_would_send(client: TestClient) -> None:
    """Bleeding reported at 20+6 and not yet reviewed; a 22 mm cervix measured today, 21+0,
    after 31 and 27 mm; a closed cervix on exam today; a cerclage since 20+1 and progesterone
    since 19+2; a clinic with its name, address and numbers, dates day first."""
    set_clinic(
        client,
        clinic_name="Preterm Birth Clinic, St Elsewhere's",
        letter_address="Level 3, 1 Hospital Road, Testtown TT1 1AA",
        phone="01632 960 001",
        triage_phone="01632 960 999",
        date_format="dd/mm/yyyy",
    )
    her = (
        at("21+0")
        .with_prior_sptb("30+0")
        .with_length(31, at="16+0")
        .with_length(27, at="18+0")
        .with_length(22, at="21+0")
        .with_closed_cervix("21+0")
        .with_cerclage("20+1", indication=CerclageIndication.ULTRASOUND)
        .with_medication(Medication.VAGINAL_PROGESTERONE, started_at="19+2")
    )
    her = her.with_symptoms(Symptom.BLEEDING, reported_on=her.day("20+6"))
    woman = seed(client, "H777", her, family_name="Okafor")
    headers = clinician(client, display_name="Dr A Obstetrician")
    answer = make_letter(
        client, woman.pregnancy_id, headers, plan_addition="Review in clinic in 2 weeks."
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["cache-control"] == "no-store"
    disposition = answer.headers["content-disposition"]
    assert disposition == f'attachment; filename="letter-H777-{TODAY.isoformat()}.pdf"'
    pages, text, size = pdf_text(answer.content)
    assert (pages, size) == (1, A4_POINTS)
    today = f"{TODAY:%d/%m/%Y}"
    for words in (
        # The letterhead, the addressee and the author.
        "Preterm Birth Clinic, St Elsewhere's",
        "Level 3, 1 Hospital Road, Testtown TT1 1AA",
        "Clinic: 01632 960 001",
        "Maternity triage (24 hours): 01632 960 999",
        "Dr J Smith Riverside Surgery 1 High Street",
        "Dear Dr J Smith,",
        "Re: Okafor, hospital number H777",
        "Yours sincerely, Dr A Obstetrician Preterm Birth Clinic, St Elsewhere's",
        # Who she is and the findings, today's marked.
        "She is 21+0 weeks pregnant today",
        "Obstetric history: 1 previous pregnancy: sPTB 30+0",
        f"{today} (today) 21+0 22 mm transvaginal",
        f"{day_at('16+0', '21+0'):%d/%m/%Y} 16+0 31 mm",
        "(today, 21+0): cervix closed, membranes not exposed",
        f"{day_at('20+6', '21+0'):%d/%m/%Y} (20+6), by the woman: bleeding; not yet reviewed",
        # The current treatment and the plan, in clinicians' words.
        "Cerclage (transvaginal, ultrasound-indicated) in situ since 20+1",
        "Vaginal progesterone since 19+2",
        "Needs same-day assessment",
        "Why: bleeding: reported by the woman on 20+6",
        "In place:",
        "Bed rest and activity restriction are not recommended.",
        "Also Review in clinic in 2 weeks.",
        # The works cited, with the rules that cite them.
        "NICE guideline NG25",
        "(rules NICE-01",
    ):
        assert words in text, words
    for code in CODES:
        assert code not in text, code
    assert not ISO_DATE.search(text), ISO_DATE.search(text)
    for leak in (".md", "shared/", "docs/", woman.pregnancy_id, woman.patient_id):
        assert leak not in text, leak
    # A rule id only in the references: "(rules ...)" at the end, never in the plan's lines.
    plan = text[text.index("Plan") : text.index("References")]
    assert not re.search(r"\b(?:NICE|ACOG|SMFM|SBL|TRI|RCOG)\d*-\w+", plan), plan


def test_the_form_asks_to_whom_and_refuses_a_letter_to_no_one(client: TestClient) -> None:
    woman = seed(client, "H778", at("19+0"))
    headers = clinician(client)
    form = client.get(f"/pregnancies/{woman.pregnancy_id}/letter", headers=headers)
    assert form.status_code == 200
    for field in (
        'name="to_name"',
        'name="to_address"',
        'name="plan_addition"',
        'name="copy_to_patient"',
    ):
        assert field in form.text, field
    refused = make_letter(client, woman.pregnancy_id, headers, to_name="  ")
    assert refused.status_code == 400
    assert "To: Enter who the letter is to" in refused.text
    assert 'aria-invalid="true"' in refused.text
    too_long = make_letter(client, woman.pregnancy_id, headers, plan_addition="x" * 2001)
    assert too_long.status_code == 400
    assert "Add to the plan: At most 2000 characters" in too_long.text
    old = client.get(
        f"/pregnancies/{woman.pregnancy_id}/letter.pdf", headers=headers, follow_redirects=False
    )
    assert (old.status_code, old.headers["location"]) == (
        303,
        f"/pregnancies/{woman.pregnancy_id}/letter",
    )


def test_the_letter_is_an_export_in_the_audit_log(client: TestClient) -> None:
    woman = seed(client, "H779", at("19+0").with_prior_sptb("30+0"))
    answer = make_letter(client, woman.pregnancy_id, clinician(client))
    assert answer.status_code == 200
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        entries = list(
            session.scalars(
                select(AuditEventRow).where(
                    AuditEventRow.request_id == answer.headers["X-Request-ID"]
                )
            )
        )
    assert [(e.action, e.patient_id, e.status) for e in entries] == [
        ("export", woman.patient_id, 200)
    ]


def test_unknown_stays_unknown_and_nothing_is_invented(client: TestClient) -> None:
    """Nothing recorded but her pregnancy, and no clinic settings: every gap is said, no
    clinic name, address or number is made up; dates in the default format."""
    woman = seed(client, "H780", at("19+0").without_edd())
    text = letter_text(client, woman.pregnancy_id, clinician(client))
    for words in (
        "Preterm birth clinic",
        f"{TODAY.day} {TODAY:%B %Y}",
        "Her gestation is unknown (no EDD recorded)",
        "No cervical length recorded in this pregnancy.",
        "No cervical examination recorded in this pregnancy.",
        "No symptom report in this pregnancy.",
        "No cerclage in situ.",
        "No current medication recorded.",
        "hospital number H780",
    ):
        assert words in text, words
    for invented in ("Clinic:", "Maternity triage", "Tel"):
        assert invented not in text, invented


def test_a_nice_only_clinic_sends_the_nice_plan(client: TestClient) -> None:
    set_clinic(client, guidelines=["nice"], clinic_name="A UK unit")
    woman = seed(client, "H781", at("20+0").with_prior_sptb("30+0").with_length(22, at="20+0"))
    text = letter_text(client, woman.pregnancy_id, clinician(client))
    assert "NICE guideline NG25" in text
    assert "Practice Bulletin No. 142" not in text
    assert "ACOG/SMFM" not in text


def test_declined_overdue_and_reviewed_in_the_clinics_words(client: TestClient) -> None:
    her = (
        at("20+0")
        .with_prior_sptb("30+0")
        .with_prior_loss("20+0")
        .with_prior_sptb("28+0")
        .with_declined(DeclinableCode.HISTORY_INDICATED_CERCLAGE, at="13+0")
    )
    her = her.with_symptoms(
        Symptom.CRAMPING, reported_on=her.day("19+5"), reviewed_on=her.day("19+6")
    )
    woman = seed(client, "H782", her)
    text = letter_text(client, woman.pregnancy_id, clinician(client), copy_to_patient="true")
    assert "Declined:" in text
    assert f"Offered and declined on 13+0 ({day_at('13+0', '20+0'):%-d %B %Y})" in text
    assert "Overdue:" in text
    assert "cramping; reviewed on" in text
    assert "seen in triage" in text
    assert "cc:" in text
    assert "Needs same-day assessment" not in text


def test_the_same_letter_as_a_page(client: TestClient) -> None:
    woman = seed(client, "H783", at("21+0").with_length(22, at="21+0"))
    answer = make_letter(client, woman.pregnancy_id, clinician(client), output="html")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert (
        f'filename="letter-H783-{TODAY.isoformat()}.html"' in answer.headers["content-disposition"]
    )
    assert 'href="/static/letter.css"' in answer.text
    assert "Dear Dr J Smith," in answer.text


def test_only_her_care_teams_clinicians(client: TestClient) -> None:
    woman = seed(client, "H784", at("19+0"))
    url = f"/pregnancies/{woman.pregnancy_id}/letter"
    assert (
        make_letter(client, woman.pregnancy_id, clinician(client, "Another team")).status_code
        == 404
    )
    _, own = make_user(client, Role.PATIENT, patient_id=woman.patient_id)
    assert client.get(url, headers=bearer(own)).status_code == 403
    assert make_letter(client, woman.pregnancy_id, bearer(own)).status_code == 403
    _, auditor = make_user(client, Role.AUDITOR)
    assert client.get(url, headers=bearer(auditor)).status_code == 403
    assert make_letter(client, "nobody", clinician(client)).status_code == 404
    signed_out = client.get(url, follow_redirects=False)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/sign-in")


def test_words_without_codes_paths_or_rule_ids() -> None:
    assert (
        without_paths(
            'CervixWatch derived rule (shared/clinical/guidelines.md section 7 and profiles.md "The'
            ' course of care"): not a guideline statement; shown as derived.'
        )
        == "CervixWatch derived rule: not a guideline statement; shown as derived."
    )
    assert without_rule_ids("continue until 34+0 (AFP22-VP; 34+0 (2026-07-30)).") == (
        "continue until 34+0 (2026-07-30)."
    )
    assert without_rule_ids("after P-PROM (NICE-05)") == "after P-PROM"


def test_nothing_is_fetched_from_outside(tmp_path: Path) -> None:
    fetcher = _weasyprint()[1]()
    for url in ("http://example.org/x.css", "https://example.org/x.png", "data:,hello"):
        with pytest.raises(ValueError, match="nothing from outside"):
            fetcher.fetch(url)
    outside = tmp_path / "secret.css"
    outside.write_text("body {}")
    with pytest.raises(ValueError, match="only the app's static files"):
        fetcher.fetch(outside.as_uri())
    own = fetcher.fetch((STATIC_DIR / "letter.css").as_uri())
    try:
        assert b"@page" in own.read()
    finally:
        own.close()


def test_past_one_page_every_page_has_the_footer(client: TestClient) -> None:
    woman = seed(client, "H785", at("21+0").with_prior_sptb("30+0").with_length(22, at="20+0"))
    context = letter_context(
        client.app.state.sessions,  # type: ignore[attr-defined]
        client.app.state.profiles,  # type: ignore[attr-defined]
        woman.pregnancy_id,
        TODAY,
        form=LetterForm("Dr J Smith"),
        author="Dr A",
    )
    context["lengths"] = context["lengths"] * 90
    content, pages = render_letter(context)
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == pages > 1
    for number, page in enumerate(reader.pages, start=1):
        text = " ".join(page.extract_text().split())
        assert "check against the notes" in text
        assert f"Page {number} of {pages}" in text


def test_a_gestation_said_twice_is_said_once() -> None:
    assert without_rule_ids("until 34+0 - for twins until birth (NICE-04; 34+0 (2026-07-30)).") == (
        "until 34+0 - for twins until birth (34+0, 2026-07-30)."
    )
