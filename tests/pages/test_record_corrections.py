"""Plausibility warnings and corrections on the pages (issue 13, part 3): a 2.5 mm scan comes
back asking to confirm (nothing saved), and is saved once the box is ticked; a scan is
corrected from the pregnancy page's list (its "Correct" link): amended with a reason (the form
filled with what is stored), or marked entered in error with a reason, which takes it out of
the page and the assessment and lists the correction. On SQLite and PostgreSQL."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from cervixwatch.store.models import Role
from tests.pages.html import sign_in
from tests.pages.test_record_forms import csrf_of, post_form
from tests.web.accounts import bearer, make_user
from tests.web.api_builders import at, counts, day_at, ok, seed
from tests.web.conftest import TODAY

UNDER_5 = "cervical-length-under-5-mm"


def _scan_values(mm: str) -> dict[str, str]:
    return {"measured_on": TODAY.isoformat(), "length_mm": mm, "method": "transvaginal"}


def test_a_2_5_mm_scan_asks_for_confirmation_then_is_saved(browser: TestClient) -> None:
    woman = seed(browser, "C1", at("19+0"))
    sign_in(browser)
    before = counts(browser)
    status, html, _ = post_form(browser, woman.pregnancy_id, "cervical-length", _scan_values("2.5"))
    assert status == 422
    assert counts(browser) == before
    assert "nothing was saved yet" in html
    assert "did you mean 2.5 cm (25 mm)?" in html
    assert f'name="confirm" value="{UNDER_5}"' in html
    assert '<p class="field-warning" id="f-length_mm-warning">' in html
    assert re.search(r'aria-describedby="[^"]*\bf-length_mm-warning\b', html)
    assert 'value="2.5"' in html  # as typed
    # Sent again without ticking the box: asked again; ticked: saved.
    status, _, _ = post_form(browser, woman.pregnancy_id, "cervical-length", _scan_values("2.5"))
    assert status == 422
    status, _, target = post_form(
        browser,
        woman.pregnancy_id,
        "cervical-length",
        {**_scan_values("2.5"), "confirm": UNDER_5},
    )
    assert status == 303
    assert (target or "").split("?")[0] == f"/pregnancies/{woman.pregnancy_id}"
    assert counts(browser)["cervical_lengths"] == before["cervical_lengths"] + 1


def test_85_mm_is_refused_beside_its_field(browser: TestClient) -> None:
    woman = seed(browser, "C2", at("19+0"))
    sign_in(browser)
    status, html, _ = post_form(browser, woman.pregnancy_id, "cervical-length", _scan_values("85"))
    assert status == 422
    assert "Cervical length must be more than 0 and at most 80 mm" in html
    assert 'name="confirm"' not in html  # a hard limit: nothing to confirm


def _correct_link(html: str, collection: str) -> str:
    found = re.search(rf'href="(/pregnancies/[^"]+/records/{collection}/\d+)"', html)
    assert found, f"no link to correct a record of {collection}"
    return found.group(1)


def test_a_scan_is_amended_from_the_pregnancy_page_with_a_reason(browser: TestClient) -> None:
    woman = seed(browser, "C3", at("19+0").with_length(35, at="18+0"))
    token = sign_in(browser)
    page = browser.get(f"/pregnancies/{woman.pregnancy_id}").text
    url = _correct_link(page, "cervical-lengths")
    correct = browser.get(url)
    assert correct.status_code == 200
    html = correct.text
    assert "<h1>Correct a cervical length</h1>" in html
    assert 'value="35"' in html  # the form filled with what is stored
    assert day_at("18+0", "19+0").isoformat() in html
    token_field = csrf_of(html)
    values = {
        "csrf_token": token_field,
        "measured_on": day_at("18+0", "19+0").isoformat(),
        "length_mm": "15",
        "method": "transvaginal",
    }
    no_reason = browser.post(url + "/amend", data=values, follow_redirects=False)
    assert no_reason.status_code == 422
    assert "Give the reason for the amendment" in no_reason.text
    amended = browser.post(
        url + "/amend", data={**values, "reason": "typed 35 for 15"}, follow_redirects=False
    )
    assert amended.status_code == 303, amended.text
    lengths = ok(
        browser.get(
            f"/api/pregnancies/{woman.pregnancy_id}/cervical-lengths", headers=bearer(token)
        )
    )
    assert [m["length_mm"] for m in lengths] == [15]
    page = browser.get(f"/pregnancies/{woman.pregnancy_id}").text
    assert 'id="corrections"' in page
    assert "typed 35 for 15" in page
    assert "Earlier corrections of this record" in browser.get(url).text


def test_a_scan_marked_entered_in_error_leaves_the_page_and_the_assessment(
    browser: TestClient,
) -> None:
    woman = seed(browser, "C4", at("19+0").with_prior_sptb("30+0").with_length(18, at="18+0"))
    token = sign_in(browser)
    document = ok(
        browser.get(f"/api/pregnancies/{woman.pregnancy_id}/assessment", headers=bearer(token))
    )
    assert "vaginal-progesterone" in {r["code"] for r in document["recommendations"]}
    url = _correct_link(browser.get(f"/pregnancies/{woman.pregnancy_id}").text, "cervical-lengths")
    html = browser.get(url).text
    refused = browser.post(
        url + "/entered-in-error",
        data={"csrf_token": csrf_of(html), "reason": "  "},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert "Give the reason for the correction" in refused.text
    marked = browser.post(
        url + "/entered-in-error",
        data={"csrf_token": csrf_of(html), "reason": "another woman's scan"},
        follow_redirects=False,
    )
    assert marked.status_code == 303
    assert marked.headers["location"] == f"/pregnancies/{woman.pregnancy_id}#corrections"
    page = browser.get(f"/pregnancies/{woman.pregnancy_id}").text
    assert "Cervical length 18 mm" not in page  # not in the timeline
    assert "cervical length of 23 Feb 2026: 18 mm. Reason: another woman&#39;s scan" in page
    assert "No cervical length recorded this pregnancy." in page
    document = ok(
        browser.get(f"/api/pregnancies/{woman.pregnancy_id}/assessment", headers=bearer(token))
    )
    assert document["cervical_lengths"] == []
    assert browser.get(url).status_code == 404  # no longer one of her records


def test_only_her_care_team_corrects_and_only_her_records(browser: TestClient) -> None:
    woman = seed(browser, "C5", at("19+0").with_length(30, at="18+0"))
    other = seed(browser, "C6", at("19+0"))
    sign_in(browser)
    url = _correct_link(browser.get(f"/pregnancies/{woman.pregnancy_id}").text, "cervical-lengths")
    assert browser.get(url).status_code == 200
    # The same record under another pregnancy's path is not found there.
    assert browser.get(url.replace(woman.pregnancy_id, other.pregnancy_id)).status_code == 404
    assert browser.get(url.replace("cervical-lengths", "no-such-records")).status_code == 404
    _, other_team = make_user(browser, Role.CLINICIAN, teams=("Another team",))
    assert browser.get(url, headers=bearer(other_team)).status_code == 404
    refused = browser.post(
        url + "/entered-in-error",
        headers=bearer(other_team),
        data={"reason": "not mine"},
        follow_redirects=False,
    )
    assert refused.status_code == 404
    assert counts(browser)["cervical_lengths"] == 1
