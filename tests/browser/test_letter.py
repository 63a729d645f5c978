"""The clinic letter read as a clinician (issue 13, part 7): from her pregnancy page to the
form, by keyboard, to the letter shown in the browser and downloaded as a PDF named by her
hospital number and the day."""

from __future__ import annotations

import io
import re

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from cervixwatch.clinical.records import CerclageIndication, Medication, Symptom
from tests.browser.harness import LiveServer, axe, screenshot
from tests.web.api_builders import at
from tests.web.conftest import TODAY


def test_a_clinician_writes_the_letter_to_her_gp(clinician: Page, live: LiveServer) -> None:
    her = (
        at("22+0")
        .with_prior_sptb("31+0")
        .with_length(30, at="18+0")
        .with_length(23, at="22+0")
        .with_closed_cervix("22+0")
        .with_cerclage("20+2", indication=CerclageIndication.ULTRASOUND)
        .with_medication(Medication.VAGINAL_PROGESTERONE, started_at="18+1")
    )
    her = her.with_symptoms(Symptom.CRAMPING, reported_on=her.day("21+5"))
    woman = live.seed("CW-L-100", her, family_name="Adeyemi")

    page = clinician
    page.goto(f"/pregnancies/{woman.pregnancy_id}/letter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Clinic letter")
    axe(page)
    # By keyboard only: the addressee, her address, an addition to the plan, past the copy
    # box and the PDF button to "Show the letter here".
    page.get_by_label("To", exact=True).focus()
    page.keyboard.type("Dr P Okonjo")
    page.keyboard.press("Tab")
    page.keyboard.type("Riverside Surgery\n1 High Street, Testtown")
    page.keyboard.press("Tab")
    page.keyboard.type("Please continue progesterone until 34 weeks.")
    for _ in range(3):
        page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Show the letter here")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator("h1.re")).to_contain_text("Re: Adeyemi")
    letter = page.locator("body").inner_text()
    for words in (
        "Dear Dr P Okonjo,",
        "Riverside Surgery",
        "She is 22+0 weeks pregnant today",
        "23 mm",
        "cervix closed",
        "cramping; not yet reviewed",
        "Cerclage (transvaginal, ultrasound-indicated) in situ since 20+2",
        "Needs same-day assessment",
        "Please continue progesterone until 34 weeks.",
        "Yours sincerely,",
        f"{TODAY.day} {TODAY:%B %Y}",
    ):
        assert words in letter, words
    for code in ("urgent-evaluation", "vaginal-progesterone", "serial-cervical-length", ".md"):
        assert code not in letter, code
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", letter)
    axe(page)
    screenshot(page, "clinic-letter")

    # The PDF, downloaded from the same form.
    page.go_back()
    page.get_by_label("To", exact=True).fill("Dr P Okonjo")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the letter (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"letter-CW-L-100-{TODAY.isoformat()}.pdf"
    path = download.path()
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert len(reader.pages) == 1
    assert "Dear Dr P Okonjo," in text
    assert "urgent-evaluation" not in text
