"""The pregnancy page (GET /pregnancies/{id}): the header facts, the recommendations of both
guidelines with their rule ids, citations, facts and provenance badges, the missing data, the
scan plan, the chart's data and its table, the timeline; another team's pregnancy is 404 and a
patient is sent to her own portal. No inline script or style. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import html
import re

from fastapi.testclient import TestClient

from cervixwatch.app import accounts
from cervixwatch.app.clinic_settings import ClinicSettings
from cervixwatch.app.reassessing import write_records
from cervixwatch.clinical.gestation import GestationalAge
from cervixwatch.clinical.records import LengthMethod, Medication, Symptom
from cervixwatch.store import PatientFields
from cervixwatch.store.models import Role
from tests.pages.html import as_the_page_writes, csp_clean, page_date, sign_in
from tests.web.api_builders import at, day_at, ok, seed
from tests.web.conftest import TODAY

#: Dates on the page are in the clinic's format (its default: "26 Feb 2026").
shown = ClinicSettings().short_date


def fisher(client: TestClient) -> tuple[str, str]:
    """Jane Fisher, 35, at 21+0 with no fetus count: a previous sPTB at 30+0, lengths of 31 mm
    (16+0), 28 mm transabdominal (18+0) and 22 mm (19+0), an exam at 20+0, vaginal
    progesterone since 20+0, a cerclage placed at 14+0. (patient id, pregnancy id)."""
    her = (
        at("21+0")
        .with_records(birth_date=dt.date(1990, 6, 15))
        .with_fetuses(None)
        .with_prior_sptb("30+0")
        .with_length(31, at="16+0")
        .with_length(28, at="18+0", method=LengthMethod.TRANSABDOMINAL)
        .with_length(22, at="19+0")
        .with_exam("20+0", dilation_cm=0.0, membranes_exposed=False)
        .with_medication(Medication.VAGINAL_PROGESTERONE, started_at="20+0")
        .with_cerclage("14+0")
    )
    written = seed(client, "H-FISHER", her, "Fisher")
    return written.patient_id, written.pregnancy_id


def page_of(client: TestClient, pregnancy_id: str) -> str:
    answer = client.get(f"/pregnancies/{pregnancy_id}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    return answer.text


def section(page: str, anchor: str) -> str:
    """The HTML of the page's <section id=anchor>."""
    start = page.index(f'<section id="{anchor}"')
    return page[start : page.index("</section>\n\n", start)]


def chart_of(page: str) -> str:
    """The chart's SVG."""
    found = re.search(r'<svg class="cl-chart".*?</svg>', page, re.S)
    assert found, "no chart"
    return found.group(0)


def points_of(svg: str) -> list[str]:
    """The hover text of each point drawn, in drawing order."""
    return re.findall(r'<g class="point"><title>([^<]+)</title>', svg)


def test_the_header_says_who_she_is_and_how_far_along(browser: TestClient) -> None:
    _, pregnancy_id = fisher(browser)
    sign_in(browser)
    page = page_of(browser, pregnancy_id)
    edd = ClinicSettings().date(day_at("40+0", "21+0"))  # the clinic's format: "13 July 2026"
    assert "<h1>Fisher</h1>" in page
    assert "<dt>Hospital number</dt><dd>H-FISHER</dd>" in page
    assert "<dt>Age</dt><dd>35 years</dd>" in page
    assert f'<dt>EDD</dt><dd><span class="nowrap">{edd}</span>' in page
    change = f'href="/pregnancies/{pregnancy_id}/details">Change'
    assert change in page  # the EDD and fetus count are amended from here
    assert "<dt>GA today</dt><dd>21+0" in page
    assert "(21 weeks 0 days)" in page
    assert "Not recorded (rules take one)" in page  # fetuses: unknown, not 1
    placed = page_date(day_at("14+0", "21+0"))
    # The assessment's words (clinical.course), not the page's own reading of the rows.
    assert (
        "In situ</span> Cerclage (transvaginal, history-indicated) in situ since"
        f" 14+0 ({placed})" in page
    )
    assert '<span class="badge tier tier-high">High</span>' in page
    # The record forms and the letter are linked.
    for kind in ("cervical-length", "cervical-exam", "prior-pregnancy", "complication"):
        assert f'href="/pregnancies/{pregnancy_id}/record/{kind}"' in page
    for kind in ("cerclage-placement", "cerclage-removal", "medication"):
        assert f'href="/pregnancies/{pregnancy_id}/record/{kind}"' in page
    assert f'href="/pregnancies/{pregnancy_id}/letter.pdf"' in page


def test_the_recommendations_of_both_guidelines_side_by_side(browser: TestClient) -> None:
    _, pregnancy_id = fisher(browser)
    token = sign_in(browser)
    page = page_of(browser, pregnancy_id)
    assessment = ok(
        browser.get(
            f"/api/pregnancies/{pregnancy_id}/assessment",
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    recommendations = section(page, "recommendations")
    columns = recommendations.split('<section class="guideline-column"')[1:]
    assert len(columns) == 2
    acog, nice = columns
    assert "ACOG/SMFM (United States)" in acog
    assert "NICE/RCOG (United Kingdom)" in nice
    assert assessment["recommendations"], "the scenario gives recommendations"
    for r in assessment["recommendations"]:
        column = html.unescape(acog if r["guideline"] == "acog" else nice)
        assert f"<code>{r['rule']}</code>" in column, r
        assert r["citation"] in column, r
        if r["state"] == "in-place":
            # Her progesterone is under way: shown as the current treatment, not the offer.
            assert as_the_page_writes(r["state_note"]) in column, r
            assert r["summary"] not in column, r
        else:
            assert r["summary"] in column, r
        for fact in r["facts"]:
            assert f"<code>{fact}</code>" in column, (r["rule"], fact)
    # Strength in words; unverified and derived sources are badged, verified ones are not.
    assert '<span class="badge strength">Recommended</span>' in nice
    assert '<span class="badge strength">Offer</span>' not in nice  # her progesterone is in place
    provenances = {r["provenance"] for r in assessment["recommendations"]}
    # Profiles 2026.12 checked every row against the full texts: none is unverified now.
    assert {"verified", "derived"} <= provenances
    assert ("Unverified source</span>" in recommendations) == ("unverified" in provenances)
    assert "Derived</span>" in recommendations
    badges = recommendations.count('class="badge badge-provenance')
    assert badges == sum(r["provenance"] != "verified" for r in assessment["recommendations"])
    # A fact's value reads as a clinician writes it.
    assert "<strong>22 mm</strong>" in recommendations
    ga_values = [
        value
        for r in assessment["recommendations"]
        for name, value in r["facts"].items()
        if name == "ga_days" and isinstance(value, int)
    ]
    for value in ga_values:
        assert f"<strong>{GestationalAge(value)}</strong>" in recommendations


def test_missing_data_and_the_scan_plan(browser: TestClient) -> None:
    _, pregnancy_id = fisher(browser)
    sign_in(browser)
    page = page_of(browser, pregnancy_id)
    missing = section(page, "missing")
    assert "<li>the number of fetuses (taken as one)</li>" in missing
    # Her cervix is short (22 mm) with a cerclage in situ: serial scans have stopped.
    assert "Scan plan" in section(page, "scan-plan")
    # A woman whose scan is overdue: the word beside the colour, with the date it was due.
    overdue = seed(
        browser, "H-ADAMS", at("18+0").with_prior_sptb("30+0").with_length(35, at="15+0")
    )
    late = section(page_of(browser, overdue.pregnancy_id), "scan-plan")
    assert '<span class="badge badge-overdue">Overdue</span>' in late
    assert "<code>SMFM40-01</code>" in late
    assert "<code>SBL-04</code>" in late
    assert "(16+0) to" in late
    assert shown(day_at("16+0", "18+0")) in late


def test_the_chart_holds_every_length_and_a_table_repeats_them(browser: TestClient) -> None:
    _, pregnancy_id = fisher(browser)
    sign_in(browser)
    page = page_of(browser, pregnancy_id)
    chart = chart_of(page)
    # Drawn on the server: every length, each approach its own shape, the guides, today.
    assert points_of(chart) == [
        f"16+0 ({shown(day_at('16+0', '21+0'))}): 31 mm, transvaginal",
        f"19+0 ({shown(day_at('19+0', '21+0'))}): 22 mm, transvaginal",
        f"18+0 ({shown(day_at('18+0', '21+0'))}): 28 mm, transabdominal",
    ]
    assert chart.count("<circle") == 2
    assert '<g class="series series-square">' in chart
    assert ">25 mm</text>" in chart
    assert ">20 mm</text>" in chart
    assert "<title>16+0 to 24+0 weeks</title>" in chart
    assert ">Today 21+0</text>" in chart
    # Markers: the cerclage placed at 14+0, progesterone started at 20+0.
    assert f"<title>Cerclage placed at 14+0 ({shown(day_at('14+0', '21+0'))})</title>" in chart
    assert "<title>Vaginal progesterone started at 20+0" in chart
    # Accessible: named and described, and the table repeats every measurement.
    assert 'role="img" aria-labelledby="cl-chart-title cl-chart-desc"' in chart
    assert "3 measurements drawn, 14 to 30 weeks, the shortest 22 mm." in chart
    lengths = section(page, "cervical-length")
    rows = re.findall(
        r'<td data-label="Date">([^<]+)</td>\s*<td data-label="GA">([^<]+)</td>\s*'
        r'<td data-label="Length">([^<]+)</td>\s*<td data-label="Approach">([^<]+)',
        lengths,
    )
    assert rows == [
        (shown(day_at("16+0", "21+0")), "16+0", "31 mm", "transvaginal"),
        (shown(day_at("18+0", "21+0")), "18+0", "28 mm", "transabdominal"),
        (shown(day_at("19+0", "21+0")), "19+0", "22 mm", "transvaginal"),
    ]
    # No script draws it.
    assert csp_clean(page) == []


def test_the_chart_axis_follows_the_data_to_42_weeks(browser: TestClient) -> None:
    """A 15 mm scan at 32+3 is drawn (the axis stopped at 30 weeks before issue 13)."""
    late = seed(browser, "H-LATE", at("33+0").with_length(15, at="32+3"))
    sign_in(browser)
    chart = chart_of(page_of(browser, late.pregnancy_id))
    assert points_of(chart) == [f"32+3 ({shown(day_at('32+3', '33+0'))}): 15 mm, transvaginal"]
    assert "1 measurement drawn, 14 to 34 weeks" in chart
    assert ">34</text>" in chart
    assert ">Today 33+0</text>" in chart


def test_history_and_timeline(browser: TestClient) -> None:
    _, pregnancy_id = fisher(browser)
    sign_in(browser)
    page = page_of(browser, pregnancy_id)
    history = section(page, "history")
    assert "sPTB 30+0" in history
    assert '<td data-label="Gestation">30+0</td>' in history
    assert '<td data-label="Onset">spontaneous labour</td>' in history
    timeline = section(page, "timeline")
    details = re.findall(r'<td data-label="Details">(.*?)</td>', timeline)
    assert details == [
        "Dilation 0 cm; effacement not recorded; membranes exposed no",
        "Vaginal progesterone started (active)",
        "Cervical length 22 mm, transvaginal",
        "Cervical length 28 mm, transabdominal",
        "Cervical length 31 mm, transvaginal",
        "Cerclage placed (transvaginal, history-indicated)",
    ]


def test_urgent_symptoms_are_at_the_top(browser: TestClient) -> None:
    urgent = seed(
        browser, "H-DAVIS", at("24+0").with_symptoms(Symptom.FLUID_LEAK, reported_on=TODAY)
    )
    sign_in(browser)
    page = page_of(browser, urgent.pregnancy_id)
    # One urgent alert, however many guidelines give it, at the top of what needs doing.
    assert page.count('class="alert alert-urgent') == 1
    assert page.index('id="what-needs-doing"') < page.index('class="alert alert-urgent')
    assert page.index('class="alert alert-urgent') < page.index('id="recommendations"')
    timeline = section(page, "timeline")
    assert '<span class="badge badge-urgent">Red flag</span> Reported fluid leaking' in timeline
    # Without lengths there is no chart, and no chart script.
    assert "No cervical length recorded this pregnancy." in page
    assert csp_clean(page) == []


def test_another_teams_pregnancy_is_not_found(browser: TestClient) -> None:
    sessions = browser.app.state.sessions  # type: ignore[attr-defined]
    other = write_records(
        sessions,
        PatientFields("H-OTHER", family_name="Other"),
        at("20+0").records,
        as_of=TODAY,
        profiles=browser.app.state.profiles,  # type: ignore[attr-defined]
    )
    accounts.assign_patient(sessions, "Another team", other.patient_id)
    sign_in(browser)
    for pregnancy_id in (other.pregnancy_id, "no-such-pregnancy"):
        answer = browser.get(f"/pregnancies/{pregnancy_id}")
        assert answer.status_code == 404
        assert "<h1>Not found</h1>" in answer.text
        assert "Other" not in answer.text


def test_a_patient_is_sent_to_her_own_portal(browser: TestClient) -> None:
    patient_id, pregnancy_id = fisher(browser)
    sign_in(browser, Role.PATIENT, patient_id=patient_id)
    answer = browser.get(f"/pregnancies/{pregnancy_id}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/my"
    # Another woman's pregnancy is not found, as for anyone outside her care.
    other = seed(browser, "H-OTHER", at("20+0"))
    assert browser.get(f"/pregnancies/{other.pregnancy_id}").status_code == 404


def test_signing_in_comes_first(browser: TestClient) -> None:
    _, pregnancy_id = fisher(browser)
    answer = browser.get(f"/pregnancies/{pregnancy_id}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/sign-in?next=/pregnancies/{pregnancy_id}"
    sign_in(browser, Role.ADMIN)
    assert browser.get(f"/pregnancies/{pregnancy_id}").status_code == 403
