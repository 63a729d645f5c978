"""Registering a referral from the pages (issue 13, part 2), on SQLite and PostgreSQL: the
woman with her NHS number (stored as an identifier of https://fhir.nhs.uk/Id/nhs-number),
then her pregnancy, landing on its page; a wrong check digit, an implausible EDD and a woman
already registered (by hospital or NHS number) come back 422 with nothing stored, the last
with a link to her for her care team only."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient

from cervixwatch.app import patients
from cervixwatch.store.models import Role
from tests.pages.html import sign_in
from tests.pages.test_record_forms import csrf_of
from tests.web.api_builders import counts
from tests.web.conftest import TODAY

NHS = "943 476 5919"  # a valid check digit (NHS Data Dictionary's example)


def _post(client: TestClient, url: str, values: dict[str, str]) -> tuple[int, str, str]:
    page = client.get(url)
    assert page.status_code == 200, page.text
    answer = client.post(
        url, data={"csrf_token": csrf_of(page.text), **values}, follow_redirects=False
    )
    return answer.status_code, answer.text, answer.headers.get("location") or ""


def _woman(number: str, nhs: str = "") -> dict[str, str]:
    return {
        "hospital_number": number,
        "nhs_number": nhs,
        "family_name": "Adeyemi",
        "given_name": "Tola",
        "birth_date": "1990-05-04",
    }


def test_registering_a_woman_and_her_pregnancy(browser: TestClient) -> None:
    sign_in(browser)
    status, page, location = _post(browser, "/patients/new", _woman("REG-1", NHS))
    assert status == 303, page
    patient_id = re.fullmatch(r"/patients/([^/]+)/pregnancies/new\?saved=woman", location)
    assert patient_id, location
    form = browser.get(location).text
    assert "Saved: Tola Adeyemi registered with hospital number REG-1." in form
    sessions = browser.app.state.sessions  # type: ignore[attr-defined]
    her = patients.get_patient(sessions, patient_id.group(1))
    assert her.hospital_number == "REG-1"
    fhir = browser.get(f"/fhir/Patient/{her.id}").json()
    assert {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"} in [
        {k: i[k] for k in ("system", "value")} for i in fhir["identifier"]
    ]

    before = counts(browser)
    status, page, _ = _post(browser, location, {"edd": "2030-01-01", "fetuses": "1"})
    assert status == 422
    assert "that pregnancy would not have begun" in page
    assert 'id="f-edd-error"' in page
    assert counts(browser) == before

    edd = TODAY + dt.timedelta(days=150)
    # A chorionicity is of twins only: asked for, and refused for one fetus.
    form = browser.get(location).text
    assert '<option value="dichorionic-diamniotic">Dichorionic diamniotic (DCDA)</option>' in form
    twins = {"edd": edd.isoformat(), "fetuses": "1", "chorionicity": "monochorionic"}
    status, page, _ = _post(browser, location, twins)
    assert status == 422
    assert 'id="f-chorionicity-error"' in page
    assert "recorded for twins only" in page
    assert counts(browser) == before

    twins |= {
        "fetuses": "2",
        "chorionicity": "dichorionic-diamniotic",
        "dating_method": "ultrasound",
    }
    status, page, where = _post(browser, location, twins)
    assert status == 303, page
    assert where.startswith("/pregnancies/")
    shown = browser.get(where).text
    assert "Adeyemi" in shown
    assert "<dt>Fetuses</dt><dd>2, Dichorionic diamniotic (DCDA)</dd>" in shown
    assert '<span class="muted">by ultrasound (dating scan)</span>' in shown


def test_a_woman_is_not_registered_twice(browser: TestClient) -> None:
    sign_in(browser)
    assert _post(browser, "/patients/new", _woman("DUP-1", NHS))[0] == 303
    before = counts(browser)

    status, page, _ = _post(browser, "/patients/new", _woman("DUP-2", "9434765919"))
    assert status == 422
    assert "NHS number 9434765919 is already registered" in page
    assert "Open the woman already registered" in page
    status, page, _ = _post(browser, "/patients/new", _woman("DUP-1"))
    assert status == 422
    assert "Hospital number DUP-1 is already registered" in page
    status, page, _ = _post(browser, "/patients/new", _woman("DUP-3", "943 476 5918"))
    assert status == 422
    assert "its check digit does not match" in page
    assert 'id="f-nhs_number-error"' in page
    assert counts(browser) == before

    # A clinician of another team is told she exists (it cannot be hidden) but not shown her.
    browser.cookies.clear()
    sign_in(browser, Role.CLINICIAN, team="Another team")
    status, page, _ = _post(browser, "/patients/new", _woman("DUP-4", NHS))
    assert status == 422
    assert "already registered" in page
    assert "Open the woman already registered" not in page


def test_ending_a_pregnancy_from_its_page(browser: TestClient) -> None:
    sign_in(browser)
    status, _, location = _post(browser, "/patients/new", _woman("END-1"))
    assert status == 303
    edd = TODAY + dt.timedelta(days=280 - (33 * 7 + 4))  # 33+4 today
    status, _, where = _post(browser, location, {"edd": edd.isoformat(), "fetuses": "1"})
    assert status == 303
    pregnancy_id = where.split("/pregnancies/")[1].split("?")[0]
    url = f"/pregnancies/{pregnancy_id}/close"
    assert f'href="{url}"' in browser.get(f"/pregnancies/{pregnancy_id}").text
    assert f'value="{TODAY.isoformat()}"' in browser.get(url).text

    before = counts(browser)
    early = (edd - dt.timedelta(days=300)).isoformat()
    status, page, _ = _post(browser, url, {"ended_on": early, "outcome": "live-birth"})
    assert status == 422
    assert 'id="f-ended_on-error"' in page
    assert "is outside this pregnancy" in page
    assert counts(browser) == before

    birth = (TODAY - dt.timedelta(days=2)).isoformat()  # 33+2
    values = {"ended_on": birth, "outcome": "live-birth", "onset": "spontaneous-labour"}
    status, page, where = _post(browser, url, values)
    assert status == 303, page
    shown = browser.get(where).text
    assert "This pregnancy has ended" in shown
    assert f'href="{url}"' not in shown
    ended_list = browser.get("/pregnancies?status=ended").text
    assert f'<a href="/pregnancies/{pregnancy_id}">Adeyemi, Tola</a>' in ended_list
    assert (
        f'href="/pregnancies/{pregnancy_id}"' not in browser.get("/pregnancies?status=active").text
    )
    assert browser.get("/pregnancies?status=closed").status_code == 422
    browser.cookies.clear()
    sign_in(browser, Role.CLINICIAN, team="Another team")
    assert "Adeyemi" not in browser.get("/pregnancies?status=ended").text


def test_amending_the_edd_from_the_page_needs_a_reason_and_is_listed(
    browser: TestClient,
) -> None:
    """Issue 13, part 2: the EDD and fetus count are changed from the pregnancy's page; a
    recorded value changed needs the reason, the page says what was saved, and the change is
    listed among the corrections with what it was."""
    sign_in(browser)
    status, _, location = _post(browser, "/patients/new", _woman("AMEND-1"))
    assert status == 303
    edd = TODAY + dt.timedelta(days=280 - (20 * 7))  # 20+0 today
    status, _, where = _post(browser, location, {"edd": edd.isoformat(), "fetuses": "1"})
    assert status == 303
    pregnancy_id = where.split("/pregnancies/")[1].split("?")[0]
    url = f"/pregnancies/{pregnancy_id}/details"
    assert f'href="{url}"' in browser.get(f"/pregnancies/{pregnancy_id}").text
    form = browser.get(url).text
    assert f'value="{edd.isoformat()}"' in form  # what is recorded, to change

    before = counts(browser)
    later = edd + dt.timedelta(days=7)  # re-dated: 19+0 today
    status, page, _ = _post(browser, url, {"edd": later.isoformat(), "fetuses": "1"})
    assert status == 422
    assert 'id="f-reason-error"' in page
    assert "Give the reason for amending the recorded EDD" in page
    assert counts(browser) == before

    values = {"edd": later.isoformat(), "fetuses": "2", "reason": "re-dated by the 12-week scan"}
    status, page, where = _post(browser, url, values)
    assert status == 303, page
    shown = browser.get(where).text
    assert "Saved: EDD" in shown
    assert "number of fetuses 2" in shown
    assert "19+0" in shown  # reassessed from the new EDD
    assert "Reason: re-dated by the 12-week scan" in shown
    assert f"which were {edd.isoformat()}, not recorded, 1 and not recorded" in shown
    # Another team's clinician may not see the form.
    browser.cookies.clear()
    sign_in(browser, Role.CLINICIAN, team="Another team")
    assert browser.get(url, follow_redirects=False).status_code in (403, 404)
