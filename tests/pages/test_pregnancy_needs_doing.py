"""The top of the pregnancy page (issue 13, parts 1 and 6) and how it is read ("How it is
built"): one transaction and a bounded number of statements; what needs doing, each action
once and the most urgent first, by the guidelines the clinic shows; the review of an urgent
report (who, when, outcome, note; audited; refusals naming the field); a report taken by
telephone; the saved message; the timeline's times and same-day order. SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select

from cervixwatch.app import clinic_settings
from cervixwatch.app.pregnancy_view import load_view
from cervixwatch.clinical.records import Medication, ReviewOutcome, Symptom
from cervixwatch.store.models import (
    AuditEventRow,
    CervicalLengthRow,
    SymptomReportRow,
    SymptomReviewRow,
)
from tests.pages.html import sign_in
from tests.pages.test_pregnancy_page import fisher, page_of, section
from tests.web.api_builders import at, seed
from tests.web.conftest import TODAY

#: Statements of the whole page request (signed-in check, access check, the read model),
#: and of the read model alone; before issue 13: 62 statements in 17 connection checkouts.
PAGE_STATEMENTS_MOST = 30
VIEW_STATEMENTS_MOST = 20


@contextmanager
def counting(engine: Engine) -> Iterator[dict[str, int]]:
    """Counts the SQL statements run and the connections checked out meanwhile."""
    counts = {"statements": 0, "checkouts": 0}

    def statement(*_: Any) -> None:
        counts["statements"] += 1

    def checkout(*_: Any) -> None:
        counts["checkouts"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine.pool, "checkout", checkout)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine.pool, "checkout", checkout)


def engine_of(client: TestClient) -> Engine:
    engine: Engine = client.app.state.sessions.kw["bind"]  # type: ignore[attr-defined]
    return engine


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def urgent_woman(client: TestClient) -> tuple[str, int]:
    """At 31+2 with a cerclage in situ, fluid leaking reported today: (pregnancy, report id)."""
    her = at("31+2").with_cerclage("14+0").with_symptoms(Symptom.FLUID_LEAK)
    written = seed(client, "H-URGENT", her, "Okafor")
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        report_id = session.scalars(
            select(SymptomReportRow.id).where(SymptomReportRow.pregnancy_id == written.pregnancy_id)
        ).one()
    return written.pregnancy_id, report_id


def test_the_page_is_read_in_one_transaction_with_few_statements(browser: TestClient) -> None:
    _, pregnancy_id = fisher(browser)
    sign_in(browser)
    page_of(browser, pregnancy_id)  # warm: the first request also reads the app's settings
    engine = engine_of(browser)
    with counting(engine) as page:
        page_of(browser, pregnancy_id)
    assert page["statements"] <= PAGE_STATEMENTS_MOST, page
    app = browser.app
    with counting(engine) as view:
        loaded = load_view(
            app.state.sessions,  # type: ignore[attr-defined]
            pregnancy_id,
            TODAY,
            app.state.profiles,  # type: ignore[attr-defined]
        )
    assert view["checkouts"] == 1, view
    assert view["statements"] <= VIEW_STATEMENTS_MOST, view
    # Clinical facts come from the assessment: the cerclage in situ is its current treatment.
    assert [t.treatment for t in loaded.assessment.current_treatments] == [
        "cerclage",
        "vaginal-progesterone",
    ]


def test_the_panel_comes_first_with_each_action_once_most_urgent_first(
    browser: TestClient,
) -> None:
    """No scan yet at 20+0 after a preterm birth: both guidelines ask for serial scans (one
    action, both guidelines), overdue before due."""
    her = at("20+0").with_prior_sptb("30+0")
    written = seed(browser, "H-PANEL", her, "Panel")
    sign_in(browser)
    page = page_of(browser, written.pregnancy_id)
    panel = section(page, "what-needs-doing")
    assert page.index('id="what-needs-doing"') < page.index('id="recommendations"')
    actions = re.findall(
        r'<li class="action[^"]*">\s*<p class="action-what">(.*?)</p>', panel, re.S
    )
    labels = [re.sub(r"<[^>]+>", "", a).split("(")[0].strip() for a in actions]
    assert len(labels) == len(set(labels)), labels  # each action once
    assert labels, "something is due after a preterm birth with no scan"
    serial = next(a for a in actions if "Serial cervical-length scans" in a)
    assert "ACOG/SMFM, NICE/RCOG" in serial
    overdue = [("Overdue" in a) for a in actions]
    assert overdue == sorted(overdue, reverse=True), "overdue first"
    # Rules and citations folded, not open.
    assert '<details class="folded">' in panel
    assert '<details class="rec-facts" open' not in page


def test_the_clinic_setting_chooses_the_guidelines_shown(browser: TestClient) -> None:
    her = at("20+0").with_prior_sptb("30+0")
    written = seed(browser, "H-NICE", her, "Nice")
    sessions = browser.app.state.sessions  # type: ignore[attr-defined]
    profiles = browser.app.state.profiles  # type: ignore[attr-defined]
    clinic_settings.save_settings(
        sessions, {"guidelines": "nice"}, known_guidelines=list(profiles), by=None
    )
    sign_in(browser)
    page = page_of(browser, written.pregnancy_id)
    assert 'id="guideline-nice"' in page
    assert 'id="guideline-acog"' not in page
    assert "ACOG" not in section(page, "what-needs-doing")


def test_a_review_of_an_urgent_report_is_recorded_and_shown(browser: TestClient) -> None:
    pregnancy_id, report_id = urgent_woman(browser)
    sign_in(browser)
    page = page_of(browser, pregnancy_id)
    assert page.count('class="alert alert-urgent') == 1
    panel = section(page, "what-needs-doing")
    assert (
        f'action="/pregnancies/{pregnancy_id}/reports/{report_id}/review#what-needs-doing"' in panel
    )
    assert "Source: Form." in panel
    # The date defaults to today, who reviewed to the signed-in clinician.
    assert f'name="reviewed_on" type="date" max="{TODAY.isoformat()}"' in panel
    assert f'value="{TODAY.isoformat()}"' in panel
    reviewer = re.search(
        r'name="reviewer" maxlength="200" autocomplete="off" value="([^"]+)"', panel
    )
    assert reviewer, "the reviewer defaults to the signed-in clinician"
    answer = browser.post(
        f"/pregnancies/{pregnancy_id}/reports/{report_id}/review",
        data={
            "csrf_token": csrf(page),
            "outcome": "admitted",
            "reviewer": "Dr A Registrar",
            "reviewed_on": TODAY.isoformat(),
            "note": "Admitted to the labour ward",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(f"/pregnancies/{pregnancy_id}?saved=review:")
    sessions = browser.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        review = session.scalars(select(SymptomReviewRow)).one()
        audited = session.scalars(
            # Her report's review only: the audit log outlives each test, and other tests
            # leave reviews of theirs (the device reports' /intake/review) in it.
            select(AuditEventRow).where(
                AuditEventRow.path.like(f"/pregnancies/{pregnancy_id}/reports/%/review")
            )
        ).all()
    assert (review.outcome, review.reviewer, review.note) == (
        ReviewOutcome.ADMITTED,
        "Dr A Registrar",
        "Admitted to the labour ward",
    )
    assert review.reviewed_at is not None
    assert [(a.action, a.status) for a in audited] == [("write", 303)]
    after = browser.get(answer.headers["location"]).text
    assert "Saved: review by Dr A Registrar of the report of" in after
    assert "alert-urgent" not in after  # no longer urgent for that report
    reviewed = section(after, "what-needs-doing")
    assert "reviewed by Dr A Registrar on" in reviewed
    assert "<strong>admitted</strong>. Note: Admitted to the labour ward" in reviewed


def test_a_review_without_an_outcome_or_with_a_future_date_is_refused(
    browser: TestClient,
) -> None:
    pregnancy_id, report_id = urgent_woman(browser)
    sign_in(browser)
    page = page_of(browser, pregnancy_id)
    url = f"/pregnancies/{pregnancy_id}/reports/{report_id}/review"
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    answer = browser.post(
        url, data={"csrf_token": csrf(page), "outcome": "", "reviewed_on": tomorrow, "note": "x"}
    )
    assert answer.status_code == 422
    assert "Choose the outcome of the review." in answer.text
    answer = browser.post(
        url, data={"csrf_token": csrf(page), "outcome": "admitted", "reviewed_on": tomorrow}
    )
    assert answer.status_code == 422
    assert f'id="review-{report_id}-reviewed-on-error"' in answer.text
    assert '<details class="review" open>' in answer.text
    # Another pregnancy's report is not found through this one.
    other = seed(browser, "H-OTHER2", at("20+0"), "Other")
    answer = browser.post(
        f"/pregnancies/{other.pregnancy_id}/reports/{report_id}/review",
        data={"csrf_token": csrf(page), "outcome": "admitted"},
    )
    assert answer.status_code == 404
    sessions = browser.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        assert session.scalars(select(SymptomReviewRow)).all() == []


def test_a_report_taken_by_telephone_is_stored_as_such(browser: TestClient) -> None:
    written = seed(browser, "H-PHONE", at("24+0"), "Phone")
    sign_in(browser)
    form = browser.get(f"/pregnancies/{written.pregnancy_id}/phone-report")
    assert form.status_code == 200
    assert f'name="reported_on" type="date" class="short" value="{TODAY.isoformat()}"' in form.text
    answer = browser.post(
        f"/pregnancies/{written.pregnancy_id}/phone-report",
        data={
            "csrf_token": csrf(form.text),
            "symptom": ["bleeding", "cramping"],
            "reported_on": TODAY.isoformat(),
            "reported_time": "07:45",
            "reported_by": "her partner",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    page = browser.get(answer.headers["location"]).text
    assert "Saved: report of bleeding, cramping on" in page
    assert "at 07:45, taken by telephone by" in page
    panel = section(page, "what-needs-doing")
    assert "alert-urgent" in panel  # bleeding: a red flag
    assert "by her partner." in panel
    assert "Source: Telephone, taken by" in panel
    sessions = browser.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        report = session.scalars(select(SymptomReportRow)).one()
    assert report.taken_by
    assert report.reported_by == "her partner"
    # Nothing ticked: refused, naming the field; nothing more stored.
    answer = browser.post(
        f"/pregnancies/{written.pregnancy_id}/phone-report",
        data={"csrf_token": csrf(form.text), "reported_on": TODAY.isoformat()},
    )
    assert answer.status_code == 422
    assert "Tick at least one symptom she reported." in answer.text
    with sessions() as session:
        assert len(session.scalars(select(SymptomReportRow)).all()) == 1


def test_the_timeline_shows_times_and_orders_a_day_by_them(browser: TestClient) -> None:
    """Two reports on one day, the later first; the review of the earlier above it."""
    written = seed(
        browser,
        "H-TIMES",
        at("24+0").with_medication(Medication.VAGINAL_PROGESTERONE, started_at="20+0"),
        "Times",
    )
    sign_in(browser)
    page = page_of(browser, written.pregnancy_id)
    for time, symptom in (("08:05", "cramping"), ("16:40", "backache")):
        browser.post(
            f"/pregnancies/{written.pregnancy_id}/phone-report",
            data={
                "csrf_token": csrf(page),
                "symptom": symptom,
                "reported_on": TODAY.isoformat(),
                "reported_time": time,
            },
        )
    sessions = browser.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        first = session.scalars(select(SymptomReportRow).order_by(SymptomReportRow.id)).first()
    assert first is not None
    browser.post(
        f"/pregnancies/{written.pregnancy_id}/reports/{first.id}/review",
        data={"csrf_token": csrf(page), "outcome": "advised-by-phone"},
    )
    timeline = section(page_of(browser, written.pregnancy_id), "timeline")
    details = re.findall(r'<td data-label="Details">(.*?)</td>', timeline, re.S)
    backache, cramping = (
        next(n for n, d in enumerate(details) if f"Reported {words}" in d)
        for words in ("lower backache", "cramping")
    )
    review = next(n for n, d in enumerate(details) if "reviewed by" in d)
    assert backache < cramping, "16:40 above 08:05 (the latest first)"
    assert review < cramping, "a review above the report it is of"
    times = re.findall(r'<span class="time">([^<]+)</span>', timeline)
    assert "16:40" in times
    assert "08:05" in times
    assert times.index("16:40") < times.index("08:05")


def test_the_saved_message_names_only_this_pregnancys_records(browser: TestClient) -> None:
    mine = seed(browser, "H-MINE", at("20+0").with_length(31, at="18+0"), "Mine")
    other = seed(browser, "H-THEIRS", at("20+0").with_length(27, at="19+0"), "Theirs")
    sign_in(browser)
    sessions = browser.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        ids = {row.pregnancy_id: row.id for row in session.scalars(select(CervicalLengthRow)).all()}
    url = f"/pregnancies/{mine.pregnancy_id}?saved="
    assert "Saved: cervical length 31 mm on" in page_of(
        browser, f"{mine.pregnancy_id}?saved=cervical-lengths:{ids[mine.pregnancy_id]}"
    )
    for saved in (
        f"cervical-lengths:{ids[other.pregnancy_id]}",  # another woman's scan
        f"cervical-exams:{ids[mine.pregnancy_id]}",  # the id, but of another kind
        "review:999999",
        "cervical-lengths:x",
        "<script>",
    ):
        page = browser.get(url + saved)
        assert page.status_code == 200
        assert 'role="status"' not in page.text.split('id="what-needs-doing"')[0]
        assert "Saved:" not in page.text
