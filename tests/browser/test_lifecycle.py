"""A referral to her booked scan in the browser (issue 13, parts 2 and 4), as a clinician, by
keyboard: "Register a referral" in the header, the woman with her NHS number (a wrong check
digit refused first), then her pregnancy (EDD, fetuses), landing on its page; from its
"Appointments" section to the booking form, the day and time typed, Enter to book; back on
her page the booking is listed and said saved; two days after it, with no length that day,
it reads "Missed"; then the pregnancy ends with her birth at 33+2 and the page's history
lists it. axe-core clean; screenshots at 1280 and 360 px in tests/artifacts/."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import Page, expect

from tests.browser.harness import ARTIFACTS, WIDTHS, LiveServer, axe, screenshot, tab_to
from tests.web.conftest import TODAY


def test_registering_a_referral_and_booking_her_scan(clinician: Page, live: LiveServer) -> None:
    page = clinician
    page.goto("/worklist")
    tab_to(page, "header a[href='/patients/new']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a referral")
    page.get_by_label("Hospital number").focus()
    page.keyboard.type("CW-REF-1")
    page.keyboard.press("Tab")
    page.keyboard.type("943 476 5918")  # a wrong check digit first
    page.get_by_label("Family name").fill("Nwosu")
    page.get_by_label("Given name").fill("Ada")
    page.get_by_label("Date of birth").fill("1991-07-14")
    page.keyboard.press("Enter")
    expect(page.locator("#error-summary")).to_contain_text("its check digit does not match")
    axe(page)
    screenshot(page, "register-woman-refused")
    page.get_by_label("NHS number").fill("943 476 5919")
    page.get_by_label("NHS number").press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Register her pregnancy")
    expect(page.locator(".saved")).to_contain_text("Ada Nwosu registered")
    edd = TODAY + dt.timedelta(days=280 - (33 * 7 + 4))  # 33+4 today
    page.get_by_label("Estimated due date (EDD)").fill(edd.isoformat())
    page.get_by_label("Number of fetuses").fill("1")
    axe(page)
    screenshot(page, "register-pregnancy")
    page.get_by_label("Number of fetuses").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nwosu, Ada")
    pregnancy_id = page.url.split("/pregnancies/")[1].split("?")[0]

    section = page.locator("#appointments")
    expect(section).to_contain_text("No scan booked yet.")

    tab_to(page, "#appointments a[href$='/book-scan']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a cervical-length scan")
    expect(page.locator(".due-window")).to_be_visible()
    expect(page.get_by_label("Day of the scan")).to_have_value(TODAY.isoformat())
    axe(page)
    screenshot(page, "book-scan")

    day = TODAY + dt.timedelta(days=3)
    page.get_by_label("Day of the scan").fill(day.isoformat())
    page.get_by_label("Time").fill("09:30")
    page.get_by_label("Time").press("Enter")

    expect(page).to_have_url(f"{live.url}/pregnancies/{pregnancy_id}?saved=booking:1#appointments")
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
        page.goto(f"/pregnancies/{pregnancy_id}#appointments")
        expect(section.locator("table.bookings")).to_contain_text("Missed")
        expect(section).to_contain_text("1 missed")
        axe(page)
        section.screenshot(path=str(ARTIFACTS / "appointments-missed-360.png"))
    finally:
        live.app.state.today = lambda: TODAY

    # Her birth two days ago, at 33+2, after spontaneous labour: the pregnancy ends, and the
    # birth is a previous pregnancy of hers (an sPTB for her next pregnancy's rules).
    page.goto(f"/pregnancies/{pregnancy_id}")
    tab_to(page, "a[href$='/close']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("End the pregnancy with its outcome")
    page.get_by_label("Day of the birth or loss").fill((TODAY - dt.timedelta(days=2)).isoformat())
    page.get_by_label("Outcome").select_option("live-birth")
    page.get_by_label("How it started").select_option("spontaneous-labour")
    axe(page)
    screenshot(page, "close-pregnancy")
    page.get_by_role("button", name="End the pregnancy").press("Enter")
    ended = page.locator(".alert-info").first
    expect(ended).to_contain_text("This pregnancy has ended")
    # Its own birth is its outcome, shown here, and her history for the next pregnancy, not
    # this one's (I-L-3).
    expect(ended).to_contain_text("Its outcome: live birth at 33+2, spontaneous labour")
    expect(page.locator("#history")).not_to_contain_text("33+2")
    ended.screenshot(path=str(ARTIFACTS / "ended-outcome-1280.png"))
    axe(page)
    page.locator("#history").screenshot(path=str(ARTIFACTS / "history-after-birth-1280.png"))
