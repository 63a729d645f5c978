"""A clinician at work in the browser: the worklist, a pregnancy's page and the record forms,
with the mouse and with the keyboard alone."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from cervixwatch.store.models import Role
from tests.browser.harness import LiveServer, OpenPage, axe, screenshot, tab_to
from tests.web.accounts import PASSWORD, TEAM
from tests.web.api_builders import at
from tests.web.conftest import TODAY


def row_of(page: Page, name: str) -> Locator:
    """Her row of the worklist table."""
    return page.locator("table.worklist tbody tr").filter(
        has=page.get_by_role("link", name=name, exact=True)
    )


def column_of(page: Page, guideline: str) -> Locator:
    """One guideline's column of recommendations on the pregnancy page ("ACOG/SMFM")."""
    return page.locator("section.guideline-column").filter(
        has=page.locator("h3", has_text=guideline)
    )


def test_a_short_cervix_recorded_from_the_worklist_brings_cerclage_and_progesterone(
    clinician: Page, live: LiveServer
) -> None:
    """Issue 5's first check: she is overdue on the worklist; a 22 mm scan recorded through
    the form brings each guideline's cerclage and progesterone recommendations at once."""
    live.seed("CW-A-100", at("20+0").with_prior_sptb("30+0"), family_name="Adeyemi")
    live.seed("CW-A-101", at("18+0").with_length(38, at="17+0"), family_name="Brennan")

    page = clinician
    page.goto("/worklist")
    page.get_by_label("Scans").select_option("true")  # "Overdue only": htmx updates the list
    expect(page).to_have_url(re.compile(r"overdue=true"))
    expect(row_of(page, "Brennan")).to_have_count(0)
    her_row = row_of(page, "Adeyemi")
    expect(her_row).to_contain_text("Overdue")
    expect(her_row).to_contain_text("CW-A-100")
    expect(her_row).to_contain_text("20+0")
    expect(her_row).to_contain_text("No scan recorded")

    her_row.get_by_role("link", name="Adeyemi").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Adeyemi")
    for guideline in ("ACOG/SMFM", "NICE"):
        column = column_of(page, guideline)
        expect(column).to_contain_text("Vaginal progesterone")
        expect(column).not_to_contain_text("Ultrasound-indicated cerclage")

    page.get_by_role("link", name="Record a cervical-length scan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a cervical length")
    page.get_by_label("Date of the scan").fill(TODAY.isoformat())
    expect(page.locator(".hint.ga")).to_contain_text("20+0")  # GA shown as the date is typed
    page.get_by_label("Cervical length").fill("22")
    page.get_by_label("Approach").select_option("transvaginal")
    page.get_by_role("button", name="Save").click()

    page.wait_for_url(re.compile(r"/pregnancies/[^/]+$"))
    for guideline in ("ACOG/SMFM", "NICE"):
        column = column_of(page, guideline)
        expect(column).to_contain_text("Ultrasound-indicated cerclage")
        expect(column).to_contain_text("Vaginal progesterone")
        # Each recommendation shows where it comes from.
        expect(column.locator(".rec-source").first).to_contain_text("Rule")
        expect(column.locator(".rec-source").first).to_contain_text("Citation")
    expect(page.locator("#cervical-length")).to_contain_text("22")

    page.goto("/worklist")
    expect(row_of(page, "Adeyemi")).to_contain_text("Latest 22 mm")


def test_a_rejected_form_keeps_what_was_typed(clinician: Page, live: LiveServer) -> None:
    """The browser refuses an impossible length first; when the server refuses it (here with
    the browser's checks switched off, as an old browser would have none), the form comes back
    with every value as typed and the error beside its field."""
    written = live.seed("CW-C-100", at("21+0"), family_name="Castellano")
    page = clinician
    page.goto(f"/pregnancies/{written.pregnancy_id}/record/cervical-length")
    page.get_by_label("Date of the scan").fill(TODAY.isoformat())
    length = page.get_by_label("Cervical length")
    length.fill("250")
    page.get_by_label("Approach").select_option("transabdominal")
    page.get_by_role("button", name="Save").click()
    assert length.evaluate("(el) => !el.validity.valid"), "the browser lets 250 mm through"
    expect(page).to_have_url(re.compile(r"/record/cervical-length$"))

    page.locator("form.record-form").evaluate("(form) => { form.noValidate = true; }")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("nothing was saved")
    length = page.get_by_label("Cervical length")
    expect(length).to_have_value("250")
    expect(length).to_have_attribute("aria-invalid", "true")
    error_id = length.get_attribute("aria-describedby") or ""
    error = page.locator(".field-error")
    expect(error).to_have_count(1)
    assert error.get_attribute("id") in error_id.split(), "the error is not tied to its field"
    expect(page.get_by_label("Date of the scan")).to_have_value(TODAY.isoformat())
    expect(page.get_by_label("Approach")).to_have_value("transabdominal")
    screenshot(page, "record-cervical-length-refused")

    # The summary's link takes the focus to the field.
    page.get_by_role("alert").get_by_role("link").first.click()
    expect(page.get_by_label("Cervical length")).to_be_focused()
    axe(page)  # last: without axe-core only this check is skipped


def test_keyboard_alone_reaches_a_pregnancy_from_the_worklist(
    open_page: OpenPage, live: LiveServer
) -> None:
    live.seed("CW-K-100", at("22+0").with_prior_sptb("28+0"), family_name="Kowalczyk")
    username = live.user(Role.CLINICIAN, teams=(TEAM,))
    page = open_page()
    page.goto("/sign-in")
    tab_to(page, "#username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/worklist")

    tab_to(page, "table.worklist tbody a", limit=60)
    expect(page.locator(":focus")).to_have_text("Kowalczyk")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/pregnancies/[^/]+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kowalczyk")

    tab_to(page, "a[href$='/record/cervical-length']", limit=60)
    page.keyboard.press("Enter")
    page.wait_for_url("**/record/cervical-length")
    tab_to(page, "input[name=measured_on]")


def test_the_worklist_finds_her_by_hospital_number(clinician: Page, live: LiveServer) -> None:
    live.seed("CW-S-777", at("25+0"), family_name="Svensson")
    live.seed("CW-S-778", at("25+0"), family_name="Takahashi")
    page = clinician
    page.goto("/worklist")
    page.get_by_label("Name, hospital or NHS no., date of birth").fill("CW-S-777")
    expect(row_of(page, "Takahashi")).to_have_count(0)
    expect(row_of(page, "Svensson")).to_have_count(1)
    expect(page.get_by_role("status")).to_contain_text("1 active pregnancy")
