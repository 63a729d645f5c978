"""A woman in her portal: her pregnancy in plain words, and reporting symptoms, which her care
team sees at once."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.harness import LiveServer, SignIn, axe
from tests.web.api_builders import at


def test_a_report_of_pressure_and_bleeding_says_go_now_and_is_urgent_for_her_team(
    sign_in_patient: SignIn, clinician: Page, live: LiveServer
) -> None:
    """Issue 5's second check."""
    her = live.seed("CW-B-100", at("23+0").with_length(34, at="22+0"), family_name="Bianchi")
    live.seed("CW-B-101", at("20+0").with_prior_sptb("30+0"), family_name="Abara")  # overdue

    team = clinician
    team.goto("/worklist")
    her_row = team.locator("table.worklist tbody tr").filter(has_text="Bianchi")
    expect(her_row).not_to_contain_text("Urgent")

    page = sign_in_patient(her.patient_id)
    expect(page.get_by_role("heading", level=1)).to_have_text("My pregnancy")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Report symptoms").click()
    page.wait_for_url("**/my/symptoms")
    page.get_by_label("Pressure low down").check()
    page.get_by_label("Bleeding").check()
    page.get_by_role("button", name="Send my report").click()

    advice = page.get_by_role("alert")
    expect(advice).to_contain_text("Go to your maternity unit now")
    expect(advice).to_contain_text("bleeding")
    expect(page.get_by_text("marked as urgent on their list")).to_be_visible()

    team.reload()
    first = team.locator("table.worklist tbody tr").first
    expect(first).to_contain_text("Bianchi")  # urgent before the overdue
    expect(first).to_contain_text("Urgent")
    first.get_by_role("link", name="Bianchi").click()
    expect(team.locator(".alert-urgent").first).to_be_visible()

    page.goto("/my")
    expect(page.get_by_text("You need to be checked today.")).to_be_visible()
    axe(page)  # her page when urgent (the advice page is checked in test_every_page)


def test_a_report_with_nothing_ticked_is_refused_and_says_why(
    sign_in_patient: SignIn, live: LiveServer
) -> None:
    her = live.seed("CW-B-200", at("19+0"), family_name="Lindqvist")
    page = sign_in_patient(her.patient_id)
    page.goto("/my/symptoms")
    page.get_by_role("button", name="Send my report").click()
    expect(page.locator("#symptoms-error")).to_contain_text("Tick at least one box")
    expect(page.get_by_label("Low backache")).to_have_attribute("aria-invalid", "true")
    axe(page)


def test_a_clinician_who_opens_the_portal_is_told_it_is_not_hers(
    clinician: Page,
) -> None:
    clinician.goto("/my")
    expect(clinician.get_by_role("heading", level=1)).to_have_text(
        re.compile("do not have access", re.IGNORECASE)
    )
