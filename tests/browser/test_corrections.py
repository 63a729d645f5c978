"""Corrections and plausibility in the browser (issue 13, part 3), as a clinician: a scan on
her page marked entered in error with a reason leaves the list and the assessment, and the
correction is listed; a 2.5 mm scan typed on the form asks "did you mean cm?" and is saved
once confirmed. axe-core clean; screenshots at 1280 and 360 px in tests/artifacts/."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.harness import LiveServer, axe, screenshot
from tests.web.api_builders import at
from tests.web.conftest import TODAY


def test_a_scan_entered_in_error_and_a_slip_of_unit_confirmed(
    clinician: Page, live: LiveServer
) -> None:
    """19+0 after a preterm birth at 30+0, with an 18 mm scan at 18+0 that was another
    woman's: it makes progesterone a recommendation until it is marked entered in error."""
    her = at("19+0").with_prior_sptb("30+0").with_length(18, at="18+0")
    written = live.seed("CW-CORR-1", her, family_name="Ashworth")
    page = clinician
    page.goto(f"/pregnancies/{written.pregnancy_id}")
    lengths = page.locator("table.lengths")
    expect(lengths).to_contain_text("18 mm")

    # The scan's own "Correct" link, then the reason, then the button.
    lengths.get_by_role("link", name="Correct the length of").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Correct a cervical length")
    axe(page)
    screenshot(page, "correct-record")
    page.get_by_label("Reason it was entered in error").fill("Another woman's scan")
    page.get_by_role("button", name="Mark entered in error").click()

    expect(page).to_have_url(f"{live.url}/pregnancies/{written.pregnancy_id}#corrections")
    expect(page.locator("#cervical-length")).to_contain_text(
        "No cervical length recorded this pregnancy."
    )
    corrections = page.locator("ul.corrections")
    expect(corrections).to_contain_text("Entered in error")
    expect(corrections).to_contain_text("Another woman's scan")

    # 2.5 mm typed on the scan form: nothing saved, "did you mean cm?", then confirmed.
    page.get_by_role("link", name="Record a cervical-length scan").click()
    page.get_by_label("Date of the scan").fill(TODAY.isoformat())
    page.get_by_label("Cervical length (mm)").fill("2.5")
    page.get_by_role("button", name="Save").click()
    warning = page.locator("#warnings")
    expect(warning).to_be_focused()
    expect(warning).to_contain_text("did you mean 2.5 cm (25 mm)?")
    expect(page.locator("#f-length_mm-warning")).to_be_visible()
    axe(page)
    screenshot(page, "record-form-confirm")
    page.get_by_label("Yes, it is right", exact=False).check()
    page.get_by_role("button", name="Save").click()
    # Back on her page (which may say what was saved, `?saved=`).
    expect(page).to_have_url(re.compile(rf"/pregnancies/{written.pregnancy_id}(\?saved=.*)?$"))
    expect(page.locator("table.lengths")).to_contain_text("2.5 mm")
    axe(page)
    screenshot(page, "pregnancy-after-corrections")
