"""The record forms (/pregnancies/{id}/record/{kind}): each renders with a label for every
field and the browser's constraints; a valid scan is saved and the recommendations change at
once; a refused form comes back 422 with what was typed and each error beside its field, and
stores nothing; CSRF, other teams and patients are refused. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient

from cervixwatch.store.models import Role
from cervixwatch.web.pages.forms import FORMS
from tests.pages.html import sign_in
from tests.web.accounts import bearer
from tests.web.api_builders import at, counts, day_at, edd_for, ok, seed
from tests.web.conftest import TODAY


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def form_url(pregnancy_id: str, kind: str) -> str:
    return f"/pregnancies/{pregnancy_id}/record/{kind}"


def post_form(
    client: TestClient, pregnancy_id: str, kind: str, values: dict[str, str]
) -> tuple[int, str, str | None]:
    """Open the form (for its CSRF token), send it; (status, page, redirect target)."""
    page = client.get(form_url(pregnancy_id, kind))
    assert page.status_code == 200, page.text
    answer = client.post(
        form_url(pregnancy_id, kind),
        data={"csrf_token": csrf_of(page.text), **values},
        follow_redirects=False,
    )
    return answer.status_code, answer.text, answer.headers.get("location")


def _input_tag(html: str, field_id: str) -> str:
    found = re.search(rf'<(?:input|select)[^>]*\bid="{field_id}"[^>]*>', html)
    assert found, f"no input {field_id}"
    return found.group(0)


def test_every_form_has_a_label_for_each_field(browser: TestClient) -> None:
    woman = seed(browser, "F1", at("19+0"), family_name="Okafor")
    sign_in(browser)
    start = edd_for("19+0") - dt.timedelta(days=280)
    for form in FORMS:
        page = browser.get(form_url(woman.pregnancy_id, form.slug))
        assert page.status_code == 200, (form.slug, page.text)
        assert page.headers["cache-control"] == "no-store"
        html = page.text
        assert f"<h1>{form.title}</h1>" in html
        assert "Okafor" in html
        assert 'name="csrf_token"' in html
        assert '<script src="/static/js/record-form.js"' in html
        assert "style=" not in html
        assert "<script>" not in html
        assert " on" + "click=" not in html
        assert f'data-edd="{edd_for("19+0").isoformat()}"' in html
        for inp in form.inputs:
            assert f'<label for="f-{inp.name}">{inp.label}' in html, (form.slug, inp.name)
            tag = _input_tag(html, f"f-{inp.name}")
            assert f'name="{inp.name}"' in tag
            if inp.widget == "date":
                # Inside this pregnancy and not after today, with the GA shown as it is typed.
                assert f'min="{start.isoformat()}"' in tag
                assert f'max="{TODAY.isoformat()}"' in tag
                assert f'data-ga="f-{inp.name}-ga"' in tag
    scan_form = browser.get(form_url(woman.pregnancy_id, "cervical-length")).text
    # The day of the scan starts at today (issue 13, part 6); an optional date stays empty.
    assert f'value="{TODAY.isoformat()}"' in _input_tag(scan_form, "f-measured_on")
    medication = browser.get(form_url(woman.pregnancy_id, "medication")).text
    assert 'value=""' in _input_tag(medication, "f-stopped_on")
    length = _input_tag(scan_form, "f-length_mm")
    # The browser's limits are the API model's: more than 0 and at most 80 mm.
    assert 'type="number"' in length
    assert 'min="0.1"' in length
    assert 'max="80"' in length
    assert "required" in length
    assert 'step="0.1"' in length


def test_the_script_and_stylesheet_are_served(browser: TestClient) -> None:
    script = browser.get("/static/js/record-form.js")
    assert script.status_code == 200
    assert "weeks on that day" in script.text
    assert browser.get("/static/forms.css").status_code == 200


def test_a_short_cervix_after_a_preterm_birth_changes_the_recommendations_at_once(
    browser: TestClient,
) -> None:
    woman = seed(browser, "F2", at("19+0").with_prior_sptb("30+0"))
    token = sign_in(browser)
    before = counts(browser)
    status, _, target = post_form(
        browser,
        woman.pregnancy_id,
        "cervical-length",
        {
            "measured_on": TODAY.isoformat(),
            "length_mm": "22",
            "method": "transvaginal",
            "operator": "A. Sonographer",
            "device": "",
        },
    )
    assert status == 303
    assert target is not None
    assert target.startswith(f"/pregnancies/{woman.pregnancy_id}?saved=cervical-lengths:")
    # Back on her page, which says what was saved.
    saved = browser.get(target).text
    assert "Saved: cervical length 22 mm on 2 March 2026." in saved
    after = counts(browser)
    assert after["cervical_lengths"] == before["cervical_lengths"] + 1
    lengths = ok(
        browser.get(
            f"/api/pregnancies/{woman.pregnancy_id}/cervical-lengths", headers=bearer(token)
        )
    )
    assert [(c["length_mm"], c["operator"], c["source"]) for c in lengths] == [
        (22, "A. Sonographer", "form")
    ]
    document = ok(
        browser.get(f"/api/pregnancies/{woman.pregnancy_id}/assessment", headers=bearer(token))
    )
    for guideline in ("acog", "nice"):
        codes = {r["code"] for r in document["recommendations"] if r["guideline"] == guideline}
        assert {"ultrasound-indicated-cerclage", "vaginal-progesterone"} <= codes, guideline


def test_a_length_out_of_range_comes_back_with_what_was_typed(browser: TestClient) -> None:
    woman = seed(browser, "F3", at("19+0").with_prior_sptb("30+0"))
    sign_in(browser)
    before = counts(browser)
    status, html, _ = post_form(
        browser,
        woman.pregnancy_id,
        "cervical-length",
        {
            "measured_on": TODAY.isoformat(),
            "length_mm": "150",
            "method": "transabdominal",
            "operator": "Dr Typed Name",
        },
    )
    assert status == 422
    assert counts(browser) == before
    # The error is beside its field, tied to it, and listed at the top with a link to it.
    message = "Cervical length must be more than 0 and at most 80 mm"
    assert '<p class="field-error" id="f-length_mm-error">' in html
    assert message in html
    tag = _input_tag(html, "f-length_mm")
    assert 'aria-invalid="true"' in tag
    assert re.search(r'aria-describedby="[^"]*\bf-length_mm-error\b', tag)
    assert 'id="error-summary"' in html
    assert f'<a href="#f-length_mm">{message}</a>' in html
    assert "nothing was saved" in html
    # Every value as typed.
    assert 'value="150"' in tag
    assert f'value="{TODAY.isoformat()}"' in _input_tag(html, "f-measured_on")
    assert 'value="Dr Typed Name"' in _input_tag(html, "f-operator")
    assert '<option value="transabdominal" selected>' in html
    # The GA of the date typed is shown without the script too.
    assert "19+0 weeks on that day" in html
    # Fields without an error are not marked.
    assert "aria-invalid" not in _input_tag(html, "f-measured_on")


@pytest.mark.parametrize(
    ("when", "says"),
    [
        (edd_for("19+0") - dt.timedelta(days=281), "is outside this pregnancy"),
        (TODAY + dt.timedelta(days=1), "is in the future"),
    ],
)
def test_a_date_outside_the_pregnancy_is_refused_by_the_use_case(
    browser: TestClient, when: dt.date, says: str
) -> None:
    woman = seed(browser, "F4", at("19+0"))
    sign_in(browser)
    before = counts(browser)
    status, html, _ = post_form(
        browser,
        woman.pregnancy_id,
        "cervical-length",
        {"measured_on": when.isoformat(), "length_mm": "30"},
    )
    assert status == 422
    assert counts(browser) == before
    assert says in html
    tag = _input_tag(html, "f-measured_on")
    assert 'aria-invalid="true"' in tag
    assert f'value="{when.isoformat()}"' in tag
    assert 'value="30"' in _input_tag(html, "f-length_mm")


def test_missing_and_unreadable_values_are_named(browser: TestClient) -> None:
    woman = seed(browser, "F5", at("19+0"))
    sign_in(browser)
    status, html, _ = post_form(
        browser, woman.pregnancy_id, "cervical-length", {"measured_on": "", "length_mm": "abc"}
    )
    assert status == 422
    assert "Enter the date of the scan" in html
    assert "Enter cervical length as a number" in html
    assert 'value="abc"' in _input_tag(html, "f-length_mm")


def test_a_previous_pregnancy_is_the_womans(browser: TestClient) -> None:
    woman = seed(browser, "F6", at("19+0"))
    token = sign_in(browser)
    refused, html, _ = post_form(
        browser, woman.pregnancy_id, "prior-pregnancy", {"ended": "2027", "gestation": "50+0"}
    )
    assert refused == 422
    # Every error at once: the model's, and the use case's check of the date.
    assert "Gestation when it ended must be from 0+0 to 44+0" in html
    assert "2027 is in the future" in html
    assert 'value="50+0"' in _input_tag(html, "f-gestation")
    assert 'value="2027"' in _input_tag(html, "f-ended")
    status, _, _ = post_form(
        browser,
        woman.pregnancy_id,
        "prior-pregnancy",
        {
            "ended": "2022-05",
            "outcome": "live-birth",
            "gestation": "30+0",
            "onset": "spontaneous-labour",
            "cerclage": "",
            "fetuses": "1",
        },
    )
    assert status == 303
    priors = ok(
        browser.get(f"/api/patients/{woman.patient_id}/prior-pregnancies", headers=bearer(token))
    )
    assert [(p["ended"], p["gestation_days"], p["onset"], p["cerclage"]) for p in priors] == [
        ("2022-05", 210, "spontaneous-labour", None)
    ]


def test_an_exam_keeps_unknown_as_unknown(browser: TestClient) -> None:
    woman = seed(browser, "F7", at("19+0"))
    token = sign_in(browser)
    status, _, _ = post_form(
        browser,
        woman.pregnancy_id,
        "cervical-exam",
        {"examined_on": day_at("18+0", "19+0").isoformat(), "dilation_cm": "1.5"},
    )
    assert status == 303
    exams = ok(
        browser.get(f"/api/pregnancies/{woman.pregnancy_id}/cervical-exams", headers=bearer(token))
    )
    assert [(e["dilation_cm"], e["effacement_percent"], e["membranes_exposed"]) for e in exams] == [
        (1.5, None, None)
    ]


def test_the_use_cases_checks_between_fields_apply(browser: TestClient) -> None:
    woman = seed(browser, "F8", at("19+0"))
    sign_in(browser)
    before = counts(browser)
    status, html, _ = post_form(
        browser,
        woman.pregnancy_id,
        "medication",
        {
            "medication": "vaginal-progesterone",
            "started_on": TODAY.isoformat(),
            "stopped_on": (TODAY - dt.timedelta(days=3)).isoformat(),
            "status": "stopped",
        },
    )
    assert status == 422
    assert counts(browser) == before
    assert "is before started_on" in html
    assert 'aria-invalid="true"' in _input_tag(html, "f-stopped_on")
    assert '<option value="stopped" selected>' in html


@pytest.mark.parametrize("kind", ["cerclage-placement", "cerclage-removal", "complication"])
def test_the_other_forms_save(browser: TestClient, kind: str) -> None:
    woman = seed(browser, "F9", at("19+0"))
    sign_in(browser)
    day = day_at("14+0", "19+0").isoformat()
    values = {
        "cerclage-placement": {"placed_on": day, "route": "transvaginal", "indication": ""},
        # No placement recorded: a warning, confirmed (tests/pages/test_record_corrections.py).
        "cerclage-removal": {"removed_on": day, "confirm": "cerclage-removal-without-placement"},
        "complication": {"complication": "vaginal-bleeding", "noted_on": day},
    }[kind]
    before = counts(browser)
    status, _, _ = post_form(browser, woman.pregnancy_id, kind, values)
    assert status == 303
    table = {
        "cerclage-placement": "cerclage_placements",
        "cerclage-removal": "cerclage_removals",
        "complication": "complications",
    }[kind]
    assert counts(browser)[table] == before[table] + 1


def test_without_the_csrf_token_nothing_is_saved(browser: TestClient) -> None:
    woman = seed(browser, "F10", at("19+0"))
    sign_in(browser)
    before = counts(browser)
    answer = browser.post(
        form_url(woman.pregnancy_id, "cervical-length"),
        data={"measured_on": TODAY.isoformat(), "length_mm": "22"},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert "CSRF" in answer.text
    wrong = browser.post(
        form_url(woman.pregnancy_id, "cervical-length"),
        data={"csrf_token": "guess", "measured_on": TODAY.isoformat(), "length_mm": "22"},
        follow_redirects=False,
    )
    assert wrong.status_code == 403
    assert counts(browser) == before


def test_another_teams_clinician_gets_not_found(browser: TestClient) -> None:
    woman = seed(browser, "F11", at("19+0"))
    sign_in(browser, team="Another team")
    assert browser.get(form_url(woman.pregnancy_id, "cervical-length")).status_code == 404
    page = browser.get("/account")  # any page: a CSRF token of this sign-in
    token_match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token_match
    answer = browser.post(
        form_url(woman.pregnancy_id, "cervical-length"),
        data={
            "csrf_token": token_match.group(1),
            "measured_on": TODAY.isoformat(),
            "length_mm": "22",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 404
    assert browser.get(form_url("no-such-pregnancy", "cervical-length")).status_code == 404


def test_a_patient_may_not_record(browser: TestClient) -> None:
    woman = seed(browser, "F12", at("19+0"))
    sign_in(browser, Role.PATIENT, patient_id=woman.patient_id)
    assert browser.get(form_url(woman.pregnancy_id, "cervical-length")).status_code == 403
    page = browser.get("/account")
    before = counts(browser)
    answer = browser.post(
        form_url(woman.pregnancy_id, "cervical-length"),
        data={
            "csrf_token": csrf_of(page.text),
            "measured_on": TODAY.isoformat(),
            "length_mm": "22",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert counts(browser) == before


def test_an_unknown_form_and_signing_in_first(browser: TestClient) -> None:
    woman = seed(browser, "F13", at("19+0"))
    url = form_url(woman.pregnancy_id, "cervical-length")
    signed_out = browser.get(url, follow_redirects=False)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/sign-in?next=")
    sign_in(browser)
    assert browser.get(form_url(woman.pregnancy_id, "haircut")).status_code == 404
