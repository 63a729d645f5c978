"""A woman in her portal: her pregnancy in plain words, and reporting symptoms, which her care
team sees at once."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from cervixwatch.app import reviewing
from cervixwatch.clinical.records import ReviewOutcome
from cervixwatch.store.models import Role
from cervixwatch.web.pages.core import HOME
from tests.browser.harness import ARTIFACTS, LiveServer, OpenPage, SignIn, axe, screenshot, sign_in
from tests.web.api_builders import at
from tests.web.conftest import TODAY


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
    expect(page.get_by_role("alert")).to_contain_text("Go to your maternity unit now")
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


def _phone_shot(page: Page, name: str) -> None:
    """The page as her phone shows it (390 px), for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-390.png"), full_page=True)


def test_her_unit_number_then_her_team_has_seen_her_report(
    open_page: OpenPage, sign_in_patient: SignIn, live: LiveServer
) -> None:
    """Issue 13, parts 4 and 8: the admin sets the unit's numbers on the clinic settings
    page; at 390 px a woman reports fluid leaking and is told, on the advice page and on "My
    pregnancy" alike, to go to her unit now, with maternity triage's number to tap; once her
    team records its review (CD-07), both pages say her team has seen it."""
    admin = open_page()
    sign_in(admin, live.user(Role.ADMIN), lands_on=HOME[Role.ADMIN])
    admin.goto("/admin/clinic")
    expect(admin.get_by_role("status")).to_contain_text("maternity triage number is missing")
    admin.get_by_label("Clinic name").fill("Preterm Birth Clinic")
    admin.get_by_label("Clinic phone number").fill("01632 960 001")
    admin.get_by_label("Maternity triage phone number").fill("01632 960 999")
    admin.get_by_label("Address line for letters").fill("1 Hospital Road, Testtown")
    admin.get_by_role("button", name="Save settings").click()
    expect(admin.get_by_role("status")).to_contain_text("Saved.")
    axe(admin)
    screenshot(admin, "clinic-settings-saved")

    her = live.seed("CW-B-300", at("26+0").with_cerclage("14+0"), family_name="Moreau")
    page = sign_in_patient(her.patient_id)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/my/symptoms")
    page.get_by_label("Fluid leaking").check()
    page.get_by_role("button", name="Send my report").click()
    advice = page.get_by_role("alert")
    expect(advice).to_contain_text("Go to your maternity unit now")
    expect(advice).to_contain_text("You told us about fluid leaking on")
    triage = advice.get_by_role("link", name="01632 960 999")
    expect(triage).to_have_attribute("href", "tel:01632960999")
    report_url = page.url
    axe(page)
    _phone_shot(page, "portal-advice-go-now")

    page.goto("/my")
    mine = page.get_by_role("alert")
    expect(mine).to_contain_text("Go to your maternity unit now")
    expect(mine).to_contain_text("This needs a check straight away.")
    expect(page.locator(".report-list")).to_contain_text("fluid leaking")
    expect(page.locator(".report-list")).to_contain_text("Your team has not marked it as seen yet.")
    assert not re.search(r"\b(?:ACOG|NICE|SBL|TRI)\d*-\w+", page.content())
    axe(page)
    _phone_shot(page, "portal-my-pregnancy-go-now")

    app: Any = live.app
    (report_id,) = [int(report_url.rsplit("/", 1)[1])]
    reviewing.review_report(
        app.state.sessions,
        report_id,
        {"outcome": ReviewOutcome.SEEN_IN_TRIAGE, "reviewer": "Dr A Obstetrician"},
        today=TODAY,
        profiles=app.state.profiles,
    )
    page.reload()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator(".report-list")).to_contain_text("Seen by your team on")
    _phone_shot(page, "portal-my-pregnancy-seen")
    page.get_by_role("link", name=re.compile(r"at \d\d:\d\d")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your team has seen your report")
    expect(page.get_by_role("status")).to_contain_text("You were seen on the maternity unit.")
    axe(page)
    _phone_shot(page, "portal-advice-seen")
    screenshot(page, "portal-advice-seen")
