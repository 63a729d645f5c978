"""The worklist as a clinic uses it (issue 13, part 5, and the worklist side of part 1): a
screenful of women, a filter, the printed handover list, and the list updating itself when a
woman reports bleeding from her portal."""

from __future__ import annotations

import datetime as dt
import re
import time

from playwright.sync_api import Page, expect
from sqlalchemy import update

from cervixwatch.store.models import SignInSessionRow
from tests.browser.harness import ARTIFACTS, LiveServer, SignIn, axe, screenshot
from tests.web.api_builders import at


def _clinic(live: LiveServer) -> str:
    """Fourteen women of the team; returns the patient id of Ms Quayle, who will report."""
    for n in range(12):
        week = 16 + n
        live.seed(f"CW-W-{n:03d}", at(f"{week}+0").with_prior_sptb("30+0"), f"Woman{n:02d}")
    live.seed("CW-W-100", at("37+4").with_prior_sptb("30+0").with_cerclage("13+0"), "Cerclo")
    return live.seed("CW-W-200", at("26+0").with_length(34, at="22+0"), "Quayle").patient_id


def test_a_screenful_a_filter_the_handover_list_and_a_report_arriving_live(
    clinician: Page, sign_in_patient: SignIn, live: LiveServer
) -> None:
    quayle = _clinic(live)
    team = clinician
    team.set_viewport_size({"width": 1280, "height": 900})
    team.goto("/worklist")
    rows = team.locator("table.worklist tbody tr")
    expect(rows).to_have_count(14)
    # At least twelve women on a 1280x900 screen, without scrolling.
    team.screenshot(path=str(ARTIFACTS / "worklist-1280x900.png"))
    twelfth = rows.nth(11).bounding_box()
    assert twelfth is not None
    assert twelfth["y"] + twelfth["height"] <= 900, twelfth
    # The overdue cerclage removal is near the top, flagged (issue 13: row 208 of 500).
    first = rows.first
    expect(first).to_contain_text("Cerclo")
    expect(first).to_contain_text("Removal overdue")
    # An action one guideline alone gives says which (at 24+0 only NICE's progesterone).
    expect(rows.filter(has_text="Woman08")).to_contain_text("Vaginal progesterone (NICE only)")
    # No date breaks over two lines.
    heights = team.eval_on_selector_all(
        "table.worklist .date", "els => els.map(e => e.getClientRects().length)"
    )
    assert set(heights) == {1}
    team.screenshot(path=str(ARTIFACTS / "worklist-1280x900.png"))
    axe(team)

    # A filter: only the woman with a cerclage in situ.
    team.get_by_label("Cerclage in situ").check()
    expect(team).to_have_url(re.compile(r"cerclage=true"))
    expect(rows).to_have_count(1)
    expect(team.get_by_role("status")).to_contain_text("1 active pregnancy matches")
    team.get_by_label("Cerclage in situ").uncheck()
    expect(rows).to_have_count(14)

    # The handover list: A4 landscape, every column on the page, no filters or buttons.
    team.emulate_media(media="print")
    expect(team.locator(".worklist-filters")).to_be_hidden()
    expect(team.locator(".print-title")).to_be_visible()
    team.set_viewport_size({"width": 1123, "height": 794})  # A4 landscape at 96 dpi
    # The list may be swapped in again just then (htmx, after the filter or a live update):
    # measured once it is on the page.
    worklist = team.locator("table.worklist")
    expect(worklist).to_be_visible()
    table = worklist.bounding_box(timeout=15_000)
    if table is None:  # replaced between the two steps: once more, now it is there
        expect(worklist).to_be_visible()
        table = worklist.bounding_box(timeout=15_000)
    assert table is not None
    assert table["x"] + table["width"] <= 1123
    team.screenshot(path=str(ARTIFACTS / "worklist-print.png"), full_page=True)
    team.pdf(path=str(ARTIFACTS / "worklist-handover.pdf"), prefer_css_page_size=True)
    team.emulate_media(media="screen")
    team.set_viewport_size({"width": 1280, "height": 900})

    # She reports bleeding from her portal; the open worklist shows her first within
    # seconds, with no reload.
    team.evaluate("window.__notReloaded = true")
    patient = sign_in_patient(quayle)
    patient.goto("/my/symptoms")
    patient.get_by_label("Bleeding").check()
    patient.get_by_role("button", name="Send my report").click()
    expect(patient.get_by_role("alert")).to_contain_text("Go to your maternity unit now")
    sent = time.monotonic()
    expect(rows.first).to_contain_text("Quayle", timeout=5_000)
    arrived = time.monotonic() - sent
    assert arrived < 3.0, f"the report reached the open worklist after {arrived:.1f} s"
    expect(rows.first).to_contain_text("Red-flag report")
    expect(rows.first).to_contain_text("bleeding")
    assert team.evaluate("window.__notReloaded") is True
    axe(team)
    screenshot(team, "worklist")
    team.set_viewport_size({"width": 390, "height": 844})
    team.screenshot(path=str(ARTIFACTS / "worklist-390.png"), full_page=True)


def test_an_unattended_worklist_signs_out_and_leaves_the_screen(
    clinician: Page, live: LiveServer
) -> None:
    """Left open past the idle limit, the worklist's live updates do not keep it signed in:
    the next change sends the window to the sign-in page, so no woman's data stays on it."""
    live.seed("CW-W-300", at("20+0").with_prior_sptb("30+0"), "Idlewild")
    team = clinician
    team.goto("/worklist")
    expect(team.get_by_text("Idlewild")).to_be_visible()
    limit = live.app.state.settings.session_idle_minutes
    with live.app.state.sessions() as session:
        session.execute(
            update(SignInSessionRow).values(
                last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=limit + 1)
            )
        )
        session.commit()
    live.seed("CW-W-301", at("22+0").with_prior_sptb("30+0"), "Latecomer")  # a change
    expect(team).to_have_url(re.compile(r"/sign-in\?next=/worklist"), timeout=10_000)
    expect(team.get_by_text("Idlewild")).to_have_count(0)
    # Told why, not left to wonder where the worklist went.
    expect(team.locator("#sign-in-ended")).to_contain_text("You were signed out")
    screenshot(team, "worklist-idle-signed-out")
