"""Booking a scan in the browser (issue 13, part 4), as a clinician, by keyboard: from her
page's "Appointments" section to the form (which starts at the day the plan wants and says the
window in the clinic's date format), the day and time typed, Enter to book; back on her page
the booking is listed and said saved; two days after it, with no length that day, it reads
"Missed". axe-core clean; screenshots at 1280 and 360 px in tests/artifacts/."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import Page, expect

from tests.browser.harness import ARTIFACTS, WIDTHS, LiveServer, axe, screenshot, tab_to
from tests.web.api_builders import at
from tests.web.conftest import TODAY


def test_booking_her_next_scan_by_keyboard(clinician: Page, live: LiveServer) -> None:
    """19+0 after a preterm birth at 30+0: serial scans from 16+0, none yet."""
    written = live.seed("CW-BOOK-1", at("19+0").with_prior_sptb("30+0"), family_name="Nwosu")
    page = clinician
    page.goto(f"/pregnancies/{written.pregnancy_id}")
    section = page.locator("#appointments")
    expect(section).to_contain_text("No scan booked yet.")

    tab_to(page, "#appointments a[href$='/book-scan']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a cervical-length scan")
    expect(page.locator(".due-window")).to_contain_text("was due on 9 February 2026")
    expect(page.get_by_label("Day of the scan")).to_have_value(TODAY.isoformat())
    axe(page)
    screenshot(page, "book-scan")

    day = TODAY + dt.timedelta(days=3)
    page.get_by_label("Day of the scan").fill(day.isoformat())
    page.get_by_label("Time").fill("09:30")
    page.get_by_label("Time").press("Enter")

    expect(page).to_have_url(
        f"{live.url}/pregnancies/{written.pregnancy_id}?saved=booking:1#appointments"
    )
    expect(section.locator(".saved")).to_have_text(
        "Saved: cervical-length scan booked on 5 March 2026 at 09:30."
    )
    expect(section.locator("table.bookings")).to_contain_text("Booked")
    axe(page)
    screenshot(page, "pregnancy-appointments")
    for width in WIDTHS:  # the section alone, to look at (the page is long)
        page.set_viewport_size({"width": width, "height": 800})
        section.screenshot(path=str(ARTIFACTS / f"appointments-section-{width}.png"))

    # Two days after it, no length recorded that day: missed.
    live.app.state.today = lambda: day + dt.timedelta(days=2)
    try:
        page.goto(f"/pregnancies/{written.pregnancy_id}#appointments")
        expect(section.locator("table.bookings")).to_contain_text("Missed")
        expect(section).to_contain_text("1 missed")
        axe(page)
        section.screenshot(path=str(ARTIFACTS / "appointments-missed-360.png"))
    finally:
        live.app.state.today = lambda: TODAY
