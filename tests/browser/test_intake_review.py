"""The review queue of device reports in the browser (issue 14, part 3), as a clinician: a
scan report that named no woman is listed at /intake/review (reached from the main menu);
a wrong hospital number is refused on the card, the right one stores it and links to her
pregnancy page, where the length shows. axe-core clean, by keyboard; screenshots at 1280
and 360 px in tests/artifacts/."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import Page, expect

from cervixwatch.app.device_intake import receive
from cervixwatch.app.device_readers import DeviceReaders, load_device_codes
from cervixwatch.app.patient_identity import Sender
from tests.browser.harness import LiveServer, axe, screenshot
from tests.integrations.conftest import PROFILES, audit_entry
from tests.integrations.sr_builder import build_sr, sr_bytes
from tests.web.api_builders import at
from tests.web.conftest import TODAY


def _queue_report(live: LiveServer) -> None:
    raw = sr_bytes(build_sr("SONO-77", lengths_mm=(16.0,), study_day=TODAY - dt.timedelta(days=1)))
    readers = DeviceReaders(load_device_codes())
    received = receive(
        live.app.state.sessions,
        readers.read("dicom-sr", raw),
        raw,
        sender=Sender("dicom:SONO1"),
        sender_label="dicom:SONO1",
        today=TODAY,
        profiles=PROFILES,
        audit=audit_entry(),
    )
    assert received.outcome == "review"


def test_a_clinician_matches_a_scan_report_to_a_woman(clinician: Page, live: LiveServer) -> None:
    written = live.seed("CW-INTAKE-1", at("20+0"), family_name="Okafor")
    _queue_report(live)
    page = clinician
    page.get_by_role("link", name="Reports to match").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports to match")
    card = page.locator("article.intake-report")
    expect(card).to_contain_text("cervical length 16 mm")
    expect(card).to_contain_text("SONO-77")
    axe(page)
    screenshot(page, "intake-review")

    page.get_by_label("Her hospital number").fill("CW-NOBODY")
    page.get_by_label("Her hospital number").press("Enter")
    expect(page.locator("article.intake-report [role=alert]")).to_contain_text(
        "no woman under your care teams has this hospital number"
    )
    axe(page)
    page.get_by_label("Her hospital number").fill("CW-INTAKE-1")
    page.get_by_role("button", name="Match and store").click()
    expect(page.locator("[role=status]")).to_contain_text("The report was stored for her.")
    expect(page.locator("article.intake-report")).to_have_count(0)
    page.get_by_role("link", name="Open her pregnancy page").click()
    expect(page).to_have_url(f"{live.url}/pregnancies/{written.pregnancy_id}")
    expect(page.locator("table.lengths")).to_contain_text("16 mm")
