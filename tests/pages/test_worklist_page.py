"""The worklist page (GET /worklist): only the clinician's care teams' women, most pressing
first (a red-flag report, an exam finding, other symptoms, anything overdue), the overdue word
beside the colour; the row's flags (twins, cerclage, removal, progesterone, date of birth, last
report), why she is urgent and only the actions that need doing; filters, sortable headers,
page size, forgiving paging and search (name either order, NHS number, date of birth); the
CSV export (audited, no formulas); an htmx request answers only the results; the event
stream. No inline script or style anywhere. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cervixwatch.app import accounts, appointments, clinic_settings
from cervixwatch.app.clinic_settings import ClinicSettings
from cervixwatch.app.reassessing import write_records
from cervixwatch.clinical.records import Medication, Symptom
from cervixwatch.interop.fhir_patient import Identifier
from cervixwatch.store import PatientFields
from cervixwatch.store.models import AuditEventRow, Role
from tests.builders import Woman
from tests.pages.html import csp_clean, sign_in
from tests.web.accounts import under_team
from tests.web.api_builders import at, seed
from tests.web.conftest import TODAY

OTHER_TEAM = "Another team"
#: A day as the worklist writes it with the clinic's settings left as they come ("6 Mar 2026").
shown = ClinicSettings().short_date


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
    assert (
        '<span class="date">19+0</span><span class="visually-hidden"> (19 weeks 0 days)</span>'
        in fisher
    )
    assert "High" in fisher
    assert "sPTB 30+0" in fisher
    assert '<span class="length">Latest 26 mm<span class="muted">, ' in fisher
    assert f'<span class="date">{shown(TODAY)}</span>' in fisher
    # An action both guidelines give is said once, with no guideline named.
    assert '<div class="action">Vaginal progesterone</div>' in fisher
    # Why she is urgent, from whom and since when, on the row; the action is not repeated.
    assert "Red-flag report" in davis
    assert "leaking fluid: reported by the woman" in davis
    assert f'since <span class="date">{shown(TODAY)}</span>' in davis
    assert "Urgent same-day evaluation" not in davis
    # Generic advice and the referral stay on the pregnancy page.
    for row in rows:
        assert "No activity restriction" not in row
        assert "Refer to preterm birth clinic" not in row
    assert "No scan recorded" in clark
    assert "Low" in clark


def test_the_page_has_nothing_inline_and_loads_htmx_from_the_app(browser: TestClient) -> None:
    _clinic(browser)
    sign_in(browser)
    html = browser.get("/worklist").text
    assert csp_clean(html) == [
        "/static/vendor/htmx/htmx.min.js",
        "/static/vendor/htmx-ext-sse/sse.min.js",
        "/static/js/htmx-csrf.js",
        "/static/js/worklist.js",
    ]
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
        "/static/vendor/htmx-ext-sse/sse.min.js",
        "/static/js/htmx-csrf.js",
        "/static/js/worklist.js",
        "/static/clinician.css",
        "/static/worklist.css",
        "/static/worklist-print.css",
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
    "sort=-next_scan_due": ["C", "F", "B", "A", "D"],
    "sort=-name": ["F", "D", "C", "B", "A"],
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
    assert '<option value="name" selected>Name, A to Z</option>' in html
    assert 'name="q" type="search" value="ad"' in html
    nobody = browser.get("/worklist?q=nobody").text
    assert numbers(nobody) == []
    assert "No active pregnancy matches these filters." in nobody


def test_a_filter_value_the_page_does_not_know_is_a_page_saying_so(browser: TestClient) -> None:
    sign_in(browser)
    for query in ("overdue=maybe", "guideline=figo", "tier=extreme", "sort=age", "cerclage=x"):
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
    # Past the end: the last page, saying so; a page that is no number: the first, saying so.
    beyond = browser.get("/worklist?page_size=2&page=9")
    assert beyond.status_code == 200
    assert numbers(beyond.text) == ["C"]
    assert "There is no page 9: the list has 3 pages; showing the last." in beyond.text
    assert "page 3 of 3" in beyond.text
    for asked in ("0", "-1", "x"):
        answer = browser.get(f"/worklist?page_size=2&page={asked}")
        assert answer.status_code == 200, asked
        assert numbers(answer.text) == ["D", "A"], asked
        assert f"There is no page {asked}: showing page 1." in answer.text
        assert "Input should be" not in answer.text
    # "Next page" brings the reader back to the top of the list (htmx scrolls to the count).
    assert 'hx-swap="innerHTML show:#worklist-count:top" rel="next"' in answer.text
    # The page size is the form's, kept by the links; sizes past the maximum are served at it.
    sized = browser.get("/worklist?page_size=100").text
    assert '<option value="100" selected>100</option>' in sized


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


NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"


def _add(
    client: TestClient, number: str, family: str, given: str, her: Woman, **fields: object
) -> str:
    app = client.app
    written = write_records(
        app.state.sessions,  # type: ignore[attr-defined]
        PatientFields(number, family_name=family, given_name=given, **fields),  # type: ignore[arg-type]
        her.records,
        as_of=TODAY,
        profiles=app.state.profiles,  # type: ignore[attr-defined]
    )
    under_team(client, written.patient_id)
    return written.pregnancy_id


def _flagged_clinic(client: TestClient) -> None:
    """Women whose rows carry flags (hospital numbers as letters):

    M  Mockup, Ada: 37+4, a transvaginal cerclage since 13+0: removal overdue (window to
       37+0); born 1990-04-23, NHS number 943 476 5919
    T  twins at 18+0, no scan yet
    P  prior sPTB, 22+0, 20 mm at 20+0, on vaginal progesterone since 20+0
    R  28+0, reported bleeding today (red flag)
    E  22+0, membranes exposed on exam today (urgent exam finding)
    S  26+0, reported backache today (urgent, not a red flag)
    """
    ada = at("37+4").with_prior_sptb("30+0").with_cerclage("13+0")
    _add(
        client,
        "M",
        "Mockup",
        "Ada",
        ada.with_records(birth_date=dt.date(1990, 4, 23)),
        identifiers=(
            Identifier("M", "urn:cervixwatch:hospital-number"),
            Identifier("9434765919", NHS_SYSTEM),
        ),
    )
    _add(client, "T", "Twomey", "Tia", at("18+0").with_fetuses(2))
    progesterone = at("22+0").with_prior_sptb("30+0").with_length(20, at="20+0")
    _add(
        client,
        "P",
        "Pratt",
        "Pia",
        progesterone.with_medication(Medication.VAGINAL_PROGESTERONE, started_at="20+0"),
    )
    _add(client, "R", "Reed", "Rae", at("28+0").with_symptoms(Symptom.BACKACHE, Symptom.BLEEDING))
    _add(client, "E", "Eames", "Eve", at("22+0").with_exam("22+0", 1.0, membranes_exposed=True))
    _add(client, "S", "Stone", "Sue", at("26+0").with_symptoms(Symptom.BACKACHE))


def _row(html: str, number: str) -> str:
    return next(r for r in html.split("<tr")[2:] if f'"Hospital number">{number}<' in r)


def test_rows_carry_the_flags_and_rank_by_severity(browser: TestClient) -> None:
    _flagged_clinic(browser)
    sign_in(browser)
    html = browser.get("/worklist").text
    # A red-flag report first, then the exam finding, other symptoms, then the overdue
    # removal of a cerclage (issue 13: she sat at row 208 of 500).
    assert numbers(html)[:4] == ["R", "E", "S", "M"]
    assert "Red-flag report" in _row(html, "R")
    assert "Exam finding" in _row(html, "E")
    assert "membranes exposed" in _row(html, "E")
    assert "Symptoms reported" in _row(html, "S")
    assert shown(TODAY) in _row(html, "R")  # the last report's day
    ada = _row(html, "M")
    assert "Mockup, Ada" in ada
    assert '<span class="date">23 Apr 1990</span>' in ada
    assert "Cerclage in situ" in ada
    assert "Removal overdue" in ada
    assert "Remove cerclage" in ada
    assert "Twins" in _row(html, "T")
    assert "Twins" not in ada
    assert "On progesterone" in _row(html, "P")
    csp_clean(html)


FLAG_QUERIES = {
    "cerclage=true": ["M"],
    "removal=true": ["M"],
    "ga=16-24": ["E", "P", "T"],
    "no_scan=true&ga=16-24": ["E", "T"],
    # Her name as the list shows it, in either order; her NHS number with or without spaces;
    # her date of birth as ISO or day first.
    "q=Mockup%2C+Ada": ["M"],
    "q=Ada+Mockup": ["M"],
    "q=943+476+5919": ["M"],
    "q=9434765919": ["M"],
    "q=1990-04-23": ["M"],
    "q=23%2F04%2F1990": ["M"],
    "q=Ada+Reed": [],
}


def test_filters_on_the_flags_and_search(browser: TestClient) -> None:
    _flagged_clinic(browser)
    sign_in(browser)
    for query, expected in FLAG_QUERIES.items():
        page = browser.get(f"/worklist?{query}&sort=name")
        assert page.status_code == 200, query
        assert numbers(page.text) == expected, query
    html = browser.get("/worklist?cerclage=true&ga=16-24").text
    assert 'name="cerclage" value="true" checked' in html
    assert 'name="ga" value="16-24" checked' in html


def test_column_headers_sort_both_ways(browser: TestClient) -> None:
    _clinic(browser)
    sign_in(browser)
    html = browser.get("/worklist?tier=high").text
    link = re.search(r'<a class="sort" href="([^"]+)"[^>]*>Name', html)
    assert link is not None
    by_name = link.group(1).replace("&amp;", "&")
    assert "sort=name" in by_name
    assert "tier=high" in by_name
    ascending = browser.get(by_name).text
    assert numbers(ascending) == ["A", "B", "F"]
    assert re.search(
        r'<th scope="col" aria-sort="ascending">\s*<a class="sort"[^>]*>Name', ascending
    )
    back = re.search(r'<a class="sort" href="([^"]+)"[^>]*>Name', ascending)
    assert back is not None
    assert numbers(browser.get(back.group(1).replace("&amp;", "&")).text) == ["F", "B", "A"]


def test_the_csv_holds_every_row_escapes_formulas_and_is_audited(browser: TestClient) -> None:
    _clinic(browser)
    app = browser.app
    # The audit log outlives each test (it cannot be emptied): count this test's entries only.
    with app.state.sessions() as session:  # type: ignore[attr-defined]
        before = session.scalar(select(func.max(AuditEventRow.id))) or 0
    written = write_records(
        app.state.sessions,  # type: ignore[attr-defined]
        PatientFields("=cmd|' /C calc'!A0", family_name="@SUM(1+1)", given_name="-2"),
        at("20+0").records,
        as_of=TODAY,
        profiles=app.state.profiles,  # type: ignore[attr-defined]
    )
    under_team(browser, written.patient_id)
    sign_in(browser)
    answer = browser.get("/worklist.csv?page_size=2")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert f"worklist-{TODAY.isoformat()}.csv" in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Name", "Hospital number", "Date of birth"]
    # Every row, not a page of them, in the list's order; the other team's woman never.
    assert [r[1] for r in rows[1:] if r[1] in "ABCDF"] == ["D", "A", "B", "F", "C"]
    assert len(rows) == 7
    assert "Zola" not in answer.text
    [formula] = [r for r in rows[1:] if "calc" in r[1]]
    assert formula[0] == "'@SUM(1+1), -2"
    assert formula[1] == "'=cmd|' /C calc'!A0"
    davis = next(r for r in rows if r[1] == "D")
    assert davis[7] == "Red-flag report"
    assert "No activity restriction" not in answer.text
    # The filters apply to the export too.
    only = browser.get("/worklist.csv?overdue=true").text
    assert [r[1] for r in csv.reader(io.StringIO(only.lstrip("\ufeff")))][1:] == ["A", "B"]
    # Each download is an audit entry: an export, by the clinician, with no query values.
    with app.state.sessions() as session:  # type: ignore[attr-defined]
        exports = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "export", AuditEventRow.id > before)
        ).all()
    assert len(exports) == 2
    assert all(e.path == "/worklist.csv" for e in exports)


def test_the_event_stream_is_for_clinicians_and_holds_no_data(browser: TestClient) -> None:
    assert browser.get("/worklist/events", follow_redirects=False).status_code in (303, 401)
    _clinic(browser)
    sign_in(browser)
    page = browser.get("/worklist").text
    assert 'sse-connect="/worklist/events"' in page
    assert 'hx-trigger="sse:worklist"' in page
    assert '<script src="/static/vendor/htmx-ext-sse/sse.min.js"></script>' in page
    # Without asking for a stream (EventSource does: Accept: text/event-stream), the stream's
    # opening alone: how soon to reconnect, and nothing about anyone.
    opening = browser.get("/worklist/events")
    assert opening.status_code == 200
    assert opening.headers["content-type"].startswith("text/event-stream")
    assert opening.text == "retry: 1000\n\n"
    assert browser.get("/static/vendor/htmx-ext-sse/LICENSE").status_code == 200


def test_rows_show_booked_and_missed_scans_in_the_clinic_s_date_format(
    browser: TestClient,
) -> None:
    """Issue 13, part 4: the next booked scan, and a missed one, on her row; every date in
    the format the clinic chose (here day first, UK)."""
    sessions = browser.app.state.sessions  # type: ignore[attr-defined]
    booked = _add(browser, "K", "Booker", "Kim", at("20+0").with_prior_sptb("30+0"))
    missed = _add(browser, "N", "Noshow", "Nia", at("21+0").with_prior_sptb("30+0"))
    now = dt.datetime.combine(TODAY, dt.time(12, 0))
    later = TODAY + dt.timedelta(days=3)
    appointments.book_scan(
        sessions, booked, later, dt.time(9, 30), now=now, window=None, booked_by=None
    )
    earlier = TODAY - dt.timedelta(days=2)
    appointments.book_scan(
        sessions,
        missed,
        earlier,
        dt.time(10, 0),
        now=dt.datetime.combine(earlier - dt.timedelta(days=1), dt.time(9, 0)),
        window=None,
        booked_by=None,
    )
    clinic_settings.save_settings(
        sessions,
        {"date_format": "dd/mm/yyyy", "guidelines": list(browser.app.state.profiles)},  # type: ignore[attr-defined]
        known_guidelines=list(browser.app.state.profiles),  # type: ignore[attr-defined]
        by=None,
    )
    sign_in(browser)
    html = browser.get("/worklist").text
    kim, nia = _row(html, "K"), _row(html, "N")
    assert f'Booked <span class="date">{later:%d/%m/%Y}</span> 09:30' in kim
    assert "Missed" not in kim
    missed_badge = '<span class="badge badge-overdue">Missed</span>'
    assert f'{missed_badge} <span class="date">{earlier:%d/%m/%Y}</span>' in nia
    assert "Booked" not in nia
    # The heading's day too; the CSV keeps ISO dates, for machines.
    assert f'<span class="date">{TODAY:%d/%m/%Y}</span>' in html
