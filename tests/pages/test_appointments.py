"""The scan-booking form and the pregnancy page's "Appointments" section (issue 13, part 4),
on SQLite and PostgreSQL: the form offers the day the scan plan wants, in the clinic's date
format; a booked scan is saved and said so; a past day or a second booking that day comes
back 422 with the field named and nothing stored; a booking whose time passed without a
length is "Missed"; one can be cancelled; the form is her care team's only."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient

from cervixwatch.store.models import Role
from tests.pages.html import sign_in
from tests.pages.test_record_forms import csrf_of
from tests.web.api_builders import at, counts, seed
from tests.web.conftest import TODAY


def _book(client: TestClient, pregnancy_id: str, values: dict[str, str]) -> tuple[int, str, str]:
    page = client.get(f"/pregnancies/{pregnancy_id}/book-scan")
    assert page.status_code == 200, page.text
    answer = client.post(
        f"/pregnancies/{pregnancy_id}/book-scan",
        data={"csrf_token": csrf_of(page.text), **values},
        follow_redirects=False,
    )
    return answer.status_code, answer.text, answer.headers.get("location") or ""


def _section(html: str) -> str:
    found = re.search(r'<section id="appointments".*?</section>', html, re.S)
    assert found, "no Appointments section"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(0)))


def test_booking_a_scan_from_the_plan_and_seeing_it_missed(browser: TestClient) -> None:
    woman = seed(browser, "B1", at("19+0").with_prior_sptb("30+0"), family_name="Okafor")
    sign_in(browser)
    form = browser.get(f"/pregnancies/{woman.pregnancy_id}/book-scan").text
    # Serial scans from 16+0 after an sPTB, none recorded: the first was due at 16+0, so the
    # form starts at today, and says so in the clinic's date format (not 2026-02-09).
    assert "The next scan was due on" in form
    assert "9 February 2026</strong> (overdue" in form
    assert f'value="{TODAY.isoformat()}"' in form
    assert 'type="time"' in form
    assert "<h1>Book a cervical-length scan</h1>" in form

    day = TODAY + dt.timedelta(days=3)
    status, page, location = _book(
        browser, woman.pregnancy_id, {"scheduled_on": day.isoformat(), "scheduled_at": "09:30"}
    )
    assert status == 303, page
    assert location.startswith(f"/pregnancies/{woman.pregnancy_id}?saved=booking:")
    section = _section(browser.get(location).text)
    assert "Saved: cervical-length scan booked on 5 March 2026 at 09:30." in section
    assert "Booked" in section
    assert "Missed" not in section

    before = counts(browser)
    status, page, _ = _book(
        browser, woman.pregnancy_id, {"scheduled_on": day.isoformat(), "scheduled_at": "14:00"}
    )
    assert status == 422
    assert "A scan is booked on 2026-03-05 already" in page
    status, page, _ = _book(
        browser,
        woman.pregnancy_id,
        {"scheduled_on": (TODAY - dt.timedelta(days=1)).isoformat(), "scheduled_at": "09:00"},
    )
    assert status == 422
    assert 'id="f-scheduled_on-error"' in page
    assert "is in the past" in page
    status, page, _ = _book(browser, woman.pregnancy_id, {"scheduled_on": day.isoformat()})
    assert status == 422
    assert "Enter the time" in page
    assert counts(browser) == before

    # Two days after it, with no length recorded that day: missed, and no longer cancellable.
    browser.app.state.today = lambda: day + dt.timedelta(days=2)  # type: ignore[attr-defined]
    section = _section(browser.get(f"/pregnancies/{woman.pregnancy_id}").text)
    assert "Missed" in section
    assert "1 missed" in section
    assert "Cancel the scan" not in section


def test_cancelling_a_booking_and_who_may_book(browser: TestClient) -> None:
    woman = seed(browser, "B2", at("19+0"))
    sign_in(browser)
    day = TODAY + dt.timedelta(days=5)
    status, page, location = _book(
        browser, woman.pregnancy_id, {"scheduled_on": day.isoformat(), "scheduled_at": "11:00"}
    )
    assert status == 303, page
    page_html = browser.get(location).text
    cancel = re.search(r'action="(/pregnancies/[^"]+/cancel)"', page_html)
    assert cancel, "no cancel button for a booked scan"
    answer = browser.post(
        cancel.group(1), data={"csrf_token": csrf_of(page_html)}, follow_redirects=False
    )
    assert answer.status_code == 303
    section = _section(browser.get(answer.headers["location"]).text)
    assert "Cancelled: the scan of 7 March 2026 at 11:00." in section

    browser.cookies.clear()
    sign_in(browser, Role.PATIENT, patient_id=woman.patient_id)
    assert browser.get(f"/pregnancies/{woman.pregnancy_id}/book-scan").status_code == 403
