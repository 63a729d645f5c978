"""The worklist page (GET /worklist): only the clinician's care teams' women, urgent first, the
overdue word beside the colour; filters, order and pages; an htmx request answers only the
results. No inline script or style anywhere. On SQLite and PostgreSQL."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from cervixwatch.app import accounts
from cervixwatch.app.reassessing import write_records
from cervixwatch.clinical.records import Symptom
from cervixwatch.store import PatientFields
from cervixwatch.store.models import Role
from tests.pages.html import csp_clean, sign_in
from tests.web.api_builders import at, seed
from tests.web.conftest import TODAY

OTHER_TEAM = "Another team"


def numbers(html: str) -> list[str]:
    """The hospital numbers of the worklist's rows, in order."""
    return re.findall(r'<td data-label="Hospital number">([^<]*)</td>', html)


def _clinic(client: TestClient) -> dict[str, str]:
    """Five women of the team (as in tests/web/test_api_worklist.py) and one of another team;
    pregnancy id by hospital number.

    A  prior sPTB, 18+0, last scanned at 15+0: serial scans from 16+0, overdue
    B  prior sPTB, 20+0, 30 mm at 17+0: next due at 19+0, overdue
    C  no history, 12+0: single screen at 18+0-22+6, upcoming
    D  no history, 24+0, reports fluid leaking today: urgent
    F  prior sPTB, 19+0, 31 mm and 26 mm: next scan upcoming
    Z  another team's woman, urgent: never listed
    """
    women = {
        "A": ("Adams", at("18+0").with_prior_sptb("30+0").with_length(35, at="15+0")),
        "B": ("Baker", at("20+0").with_prior_sptb("30+0").with_length(30, at="17+0")),
        "C": ("Clark", at("12+0")),
        "D": ("Davis", at("24+0").with_symptoms(Symptom.FLUID_LEAK, reported_on=TODAY)),
        "F": (
            "Fisher",
            at("19+0").with_prior_sptb("30+0").with_length(31, at="17+0").with_length(26, "19+0"),
        ),
    }
    ids = {
        number: seed(client, number, her, family).pregnancy_id
        for number, (family, her) in women.items()
    }
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    other = write_records(
        sessions,
        PatientFields("Z", family_name="Zola"),
        at("25+0").with_symptoms(Symptom.BLEEDING, reported_on=TODAY).records,
        as_of=TODAY,
        profiles=client.app.state.profiles,  # type: ignore[attr-defined]
    )
    accounts.assign_patient(sessions, OTHER_TEAM, other.patient_id)
    ids["Z"] = other.pregnancy_id
    return ids


def test_the_worklist_lists_the_teams_women_most_pressing_first(browser: TestClient) -> None:
    ids = _clinic(browser)
    sign_in(browser)
    page = browser.get("/worklist")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert numbers(html) == ["D", "A", "B", "F", "C"]
    assert "Zola" not in html
    assert ids["Z"] not in html
    assert "5 active pregnancies on your care teams&#39; worklist." in html
    # Every row links to the pregnancy page.
    for number in "ABCDF":
        assert f'href="/pregnancies/{ids[number]}"' in html
    rows = html.split("<tr")[2:]
    davis, adams, _, fisher, clark = rows
    # Urgent and overdue are words, not colour alone.
    assert '<span class="badge badge-urgent">Urgent</span>' in davis
    assert '<span class="badge badge-overdue">Overdue</span>' in adams
    assert "Overdue" not in fisher
    assert "Upcoming" in fisher
    # GA in weeks+days, the tier and history, lengths with dates, recommendations by guideline.
    assert '19+0<span class="visually-hidden"> (19 weeks 0 days)</span>' in fisher
    assert "High" in fisher
    assert "sPTB 30+0" in fisher
    assert f'Latest 26 mm <span class="muted">on {TODAY.isoformat()}' in fisher
    assert "Shortest 26 mm" in fisher
    assert "ACOG/SMFM:" in fisher
    assert "NICE/RCOG:" in fisher
    assert "Serial cervical-length scans" in fisher
    assert "Urgent same-day evaluation" in davis
    assert "No scan recorded" in clark
    assert "Low" in clark


def test_the_page_has_nothing_inline_and_loads_htmx_from_the_app(browser: TestClient) -> None:
    _clinic(browser)
    sign_in(browser)
    html = browser.get("/worklist").text
    assert csp_clean(html) == ["/static/vendor/htmx/htmx.min.js", "/static/js/htmx-csrf.js"]
    assert '"includeIndicatorStyles":false' in html
    assert '"allowEval":false' in html
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', html)
    # The form works without script: a GET form to the page itself, every field labelled.
    assert '<form class="worklist-filters" role="search" method="get" action="/worklist"' in html
    for field in ("q", "overdue", "urgent", "guideline", "tier", "sort"):
        assert f'<label for="worklist-{field}">' in html
        assert f'id="worklist-{field}" name="{field}"' in html
    for asset in (
        "/static/vendor/htmx/htmx.min.js",
        "/static/js/htmx-csrf.js",
        "/static/clinician.css",
    ):
        assert browser.get(asset).status_code == 200, asset


#: Query -> the hospital numbers listed, in order.
QUERIES = {
    "overdue=true": ["A", "B"],
    "overdue=false": ["D", "F", "C"],
    "urgent=true": ["D"],
    "urgent=false&overdue=false": ["F", "C"],
    "tier=high": ["A", "B", "F"],
    "tier=low&tier=intermediate": ["D", "C"],
    "guideline=nice": ["D", "A", "B", "F"],
    "q=bak": ["B"],
    "q=F+fisher": ["F"],
    "sort=ga": ["C", "A", "F", "B", "D"],
    "sort=-ga": ["D", "B", "F", "A", "C"],
    "sort=name": ["A", "B", "C", "D", "F"],
    "sort=next_scan_due": ["A", "B", "F", "C", "D"],
    # What the form sends when a filter is left at "any".
    "q=&overdue=&urgent=&guideline=&tier=&sort=urgent": ["D", "A", "B", "F", "C"],
}


def test_filters_and_order(browser: TestClient) -> None:
    _clinic(browser)
    sign_in(browser)
    for query, expected in QUERIES.items():
        page = browser.get(f"/worklist?{query}")
        assert page.status_code == 200, query
        assert numbers(page.text) == expected, query
    # The form shows the filters chosen.
    html = browser.get("/worklist?overdue=true&tier=high&sort=name&q=ad").text
    assert '<option value="true" selected>Overdue only</option>' in html
    assert '<option value="high" selected>High</option>' in html
    assert '<option value="name" selected>Name</option>' in html
    assert 'name="q" type="search" value="ad"' in html
    nobody = browser.get("/worklist?q=nobody").text
    assert numbers(nobody) == []
    assert "No active pregnancy matches these filters." in nobody


def test_a_filter_value_the_page_does_not_know_is_a_page_saying_so(browser: TestClient) -> None:
    sign_in(browser)
    for query in ("overdue=maybe", "guideline=figo", "tier=extreme", "sort=age", "page=0"):
        page = browser.get(f"/worklist?{query}")
        assert page.status_code == 400, query
        assert "text/html" in page.headers["content-type"]
        assert query.split("=")[0] in page.text


def test_pages_keep_the_filters(browser: TestClient) -> None:
    _clinic(browser)
    sign_in(browser)
    first = browser.get("/worklist?page_size=2&tier=high").text
    assert numbers(first) == ["A", "B"]
    assert "3 active pregnancies match these filters; page 1 of 2." in first
    link = re.search(r'<a href="(/worklist\?[^"]+)"[^>]*rel="next"', first)
    assert link is not None
    target = link.group(1).replace("&amp;", "&")
    assert "tier=high" in target
    assert "page=2" in target
    assert "page_size=2" in target
    second = browser.get(target).text
    assert numbers(second) == ["F"]
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second
    # Several tiers (as a link or the API may give them) are all kept from page to page.
    both = browser.get("/worklist?page_size=1&tier=low&tier=intermediate").text
    link = re.search(r'<a href="(/worklist\?[^"]+)"[^>]*rel="next"', both)
    assert link is not None
    assert numbers(browser.get(link.group(1).replace("&amp;", "&")).text) == ["C"]
    beyond = browser.get("/worklist?page_size=2&page=9").text
    assert numbers(beyond) == []
    assert "There is no page 9" in beyond


def test_an_htmx_request_answers_only_the_results(browser: TestClient) -> None:
    _clinic(browser)
    sign_in(browser)
    answer = browser.get("/worklist?overdue=true", headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert answer.headers["vary"] == "HX-Request"
    html = answer.text
    assert numbers(html) == ["A", "B"]
    assert "<html" not in html
    assert "<form" not in html
    assert "<h1" not in html
    # The count line outside the results is updated out of band.
    assert (
        '<p id="worklist-count" hx-swap-oob="innerHTML">2 active pregnancies match these'
        " filters.</p>" in html
    )
    csp_clean(html)
    # A history restore or a boosted link wants the whole page.
    for header in ("HX-History-Restore-Request", "HX-Boosted"):
        whole = browser.get("/worklist", headers={"HX-Request": "true", header: "true"}).text
        assert "<html" in whole
        assert numbers(whole) == ["D", "A", "B", "F", "C"]


def test_only_clinicians_see_the_worklist(browser: TestClient) -> None:
    anonymous = browser.get("/worklist?overdue=true", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/sign-in?next=/worklist%3Foverdue%3Dtrue"
    _clinic(browser)
    sign_in(browser, Role.ADMIN)
    refused = browser.get("/worklist")
    assert refused.status_code == 403
    assert "<h1>You do not have access to this page</h1>" in refused.text
