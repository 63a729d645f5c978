"""Issue 13, parts 1 and 6, as a clinician does it in the browser: she opens an urgent
pregnancy (a cerclage in situ, fluid leaking reported today at 31+2), sees what needs doing
first, beside the chart, reviews the report with the keyboard alone, and sees it reviewed:
who, when, the outcome and her note, and the pregnancy no longer urgent for it.
Screenshots at 1280, 390 and 360 px in tests/artifacts/; axe-core before and after."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from cervixwatch.app.clinic_settings import ClinicSettings
from cervixwatch.clinical.records import Symptom
from tests.browser.harness import ARTIFACTS, LiveServer, axe, screenshot
from tests.web.api_builders import at

#: Enough Tab presses to reach any control of the page from the top, and no more.
MOST_TABS = 80

#: Dates on the page are in the clinic's format (its default: "6 Mar 2026").
shown = ClinicSettings().short_date


def tab_to(page: Page, selector: str) -> None:
    """Press Tab until the element `selector` has the focus (fails after MOST_TABS)."""
    for _ in range(MOST_TABS):
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never took the focus by Tab")


def test_a_clinician_reviews_an_urgent_report_by_keyboard(
    clinician: Page, live: LiveServer
) -> None:
    her = (
        at("31+2")
        .with_cerclage("14+0")
        .with_length(24, at="20+0")
        .with_length(15, at="30+5")
        .with_symptoms(Symptom.FLUID_LEAK)
    )
    written = live.seed("CW-PR-131", her, family_name="Okafor")
    page = clinician
    page.goto(f"/pregnancies/{written.pregnancy_id}")

    # First on the page, before any guideline's list: what needs doing, beside the chart.
    panel = page.locator("#what-needs-doing")
    expect(panel.get_by_role("heading", level=2)).to_have_text("What needs doing today")
    alert = page.locator(".alert-urgent")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("leaking fluid: reported by the woman")
    box = alert.bounding_box()
    assert box is not None
    assert box["y"] < 800, "the urgent alert is in the first screen"
    chart = page.locator("#chart svg.cl-chart")
    chart_box = chart.bounding_box()
    assert chart_box is not None
    assert chart_box["x"] > box["x"], "the chart is beside the panel at 1280 px"
    report = panel.locator(".open-report")
    expect(report).to_contain_text("Red flag")
    expect(report).to_contain_text("fluid leaking")
    expect(report).to_contain_text("Source: Form")
    # The 15 mm scan at 30+5 is on the chart, and so is the cerclage.
    expect(chart.locator("g.point title")).to_have_text(
        [
            f"20+0 ({shown(her.day('20+0'))}): 24 mm, transvaginal",
            f"30+5 ({shown(her.day('30+5'))}): 15 mm, transvaginal",
        ]
    )
    expect(chart.locator(".marker-cerclage title")).to_contain_text("Cerclage placed at 14+0")
    axe(page)
    screenshot(page, "pregnancy-urgent")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "pregnancy-urgent-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})

    # The review, with the keyboard alone: open the form, choose, write, send.
    tab_to(page, ".open-report summary")
    page.keyboard.press("Enter")
    tab_to(page, "input[name=outcome]")
    page.keyboard.press("ArrowRight")  # seen in triage -> advised by phone
    page.keyboard.press("ArrowRight")  # -> admitted
    expect(page.get_by_label("Admitted")).to_be_checked()
    tab_to(page, "input[name=reviewer]")
    reviewer = page.evaluate("() => document.activeElement.value")
    assert reviewer, "who reviewed defaults to the signed-in clinician"
    tab_to(page, "textarea[name=note]")
    page.keyboard.type("Admitted to the labour ward for assessment")
    tab_to(page, ".review-form button[type=submit]")
    page.keyboard.press("Enter")

    # Back on her page: saved, who reviewed it and when, and no longer urgent for it.
    page.wait_for_url(f"**/pregnancies/{written.pregnancy_id}?saved=review:*")
    expect(page.get_by_role("status")).to_contain_text(f"Saved: review by {reviewer}")
    expect(page.locator(".alert-urgent")).to_have_count(0)
    expect(page.locator("#what-needs-doing .open-report")).to_have_count(0)
    reviewed = page.locator("#what-needs-doing .reviewed li")
    expect(reviewed).to_contain_text(f"reviewed by {reviewer} on {shown(her.as_of)} at")
    expect(reviewed).to_contain_text("admitted")
    expect(reviewed).to_contain_text("Note: Admitted to the labour ward for assessment")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(f"reviewed by {reviewer}: admitted")
    axe(page)
    screenshot(page, "pregnancy-reviewed")
