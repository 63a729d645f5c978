"""The worklist's density (issue 13, part 5): at least twelve women on a 1280x900 screen,
even when most of them are urgent and flagged, with every column inside the screen. A module
of its own: the live server (and its database) is shared by a module's tests."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from cervixwatch.clinical.records import Medication, Symptom
from tests.browser.harness import ARTIFACTS, LiveServer
from tests.web.api_builders import at


def test_twelve_women_fit_a_1280x900_screen_when_most_are_urgent(
    clinician: Page, live: LiveServer
) -> None:
    """The demo cohort's first page: urgent women with a symptom report, on progesterone, with
    a latest and a shorter earlier length, have the tallest rows; twelve still fit, and no
    column is cut off at the right."""
    for n in range(10):
        woman = (
            at(f"{24 + n}+0")
            .with_prior_sptb("30+0")
            .with_length(31, at="18+0")
            .with_length(36, at="22+0")
            .with_medication(Medication.VAGINAL_PROGESTERONE, started_at="20+0")
            .with_symptoms(Symptom.PELVIC_PRESSURE, Symptom.BACKACHE)
        )
        live.seed(f"CW-U-{n:03d}", woman.with_cerclage("14+0") if n == 0 else woman, f"Urg{n:02d}")
    for n in range(4):
        live.seed(f"CW-O-{n:03d}", at(f"{18 + n}+0").with_prior_sptb("30+0"), f"Routine{n}")
    team = clinician
    team.set_viewport_size({"width": 1280, "height": 900})
    team.goto("/worklist")
    rows = team.locator("table.worklist tbody tr")
    expect(rows).to_have_count(14)
    expect(rows.first).to_contain_text("Symptoms reported")
    expect(rows.first).to_contain_text("On progesterone")
    team.screenshot(path=str(ARTIFACTS / "worklist-1280x900-urgent.png"))
    twelfth = rows.nth(11).bounding_box()
    assert twelfth is not None
    assert twelfth["y"] + twelfth["height"] <= 900, twelfth
    widths = team.evaluate(
        "[document.querySelector('table.worklist').scrollWidth,"
        " document.querySelector('.table-wrap').clientWidth]"
    )
    assert widths[0] <= widths[1], widths
