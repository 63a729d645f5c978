"""The course of care on the pregnancy page (profiles.md, "The course of care"; CD-01, CD-05,
CD-07; I-83..I-90): each recommendation's state as a badge with its note, a treatment in place
shown as the current treatment and never offered, the treatments under way with their dates,
assumptions beside their recommendation, why an evaluation is urgent, the history tier
labelled and beside the current findings, missed scans in the scan plan, and declined offers and
unreviewed reports in the timeline. Server-rendered HTML through the app, on SQLite and
PostgreSQL."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from cervixwatch.app.clinic_settings import ClinicSettings
from cervixwatch.clinical.records import CerclageIndication, DeclinableCode, Medication, Symptom
from tests.pages.html import csp_clean, iso_dates_shown, page_date, sign_in
from tests.pages.test_pregnancy_page import page_of, section
from tests.web.api_builders import at, day_at, seed


def columns_of(page: str) -> dict[str, str]:
    """Each guideline's column of recommendations, by guideline id."""
    found = re.split(r'<section class="guideline-column" aria-labelledby="guideline-', page)[1:]
    return {c[: c.index('"')]: c for c in found}


def card(column: str, label: str) -> str:
    """One recommendation's <article> in a column, by its heading."""
    cards = [a for a in column.split("<article")[1:] if f"<h4>{label}</h4>" in a]
    assert len(cards) == 1, (label, len(cards))
    return html.unescape(cards[0][: cards[0].index("</article>")])


def test_progesterone_in_place_is_the_current_treatment_not_an_offer(
    browser: TestClient,
) -> None:
    """A previous sPTB at 30+0, a 22 mm cervix at 19+0, vaginal progesterone since 20+0 and a
    cerclage since 14+0: the page shows both as current treatments with their dates, and the
    progesterone recommendation as the treatment under way, never as "Offer"."""
    her = (
        at("21+0")
        .with_prior_sptb("30+0")
        .with_length(22, at="19+0")
        .with_medication(Medication.VAGINAL_PROGESTERONE, started_at="20+0")
        .with_cerclage("14+0")
    )
    written = seed(browser, "H-INPLACE", her, "Ivanova")
    sign_in(browser)
    page = page_of(browser, written.pregnancy_id)
    csp_clean(page)

    treatments = section(page, "current-treatments")
    started = page_date(day_at("20+0", "21+0"))
    placed = page_date(day_at("14+0", "21+0"))
    assert f"<li>Vaginal progesterone since 20+0 ({started})</li>" in treatments
    assert (
        f"<li>Cerclage (transvaginal, history-indicated) in situ since 14+0 ({placed})</li>"
        in treatments
    )

    columns = columns_of(section(page, "recommendations"))
    for guideline in ("acog", "nice"):
        progesterone = card(columns[guideline], "Vaginal progesterone")
        assert '<span class="badge badge-state state-in-place">In place</span>' in progesterone
        assert f"Vaginal progesterone since 20+0 ({started}): the current treatment" in (
            progesterone
        )
        assert "continue until 34+0" in progesterone
        # Not offered: no strength badge and none of the offer's words.
        assert 'class="badge strength"' not in progesterone
        assert "rec-summary" not in progesterone
        for offer in ("Offer", "Consider", "Shared decision", "shared decision-making"):
            assert offer not in progesterone, (guideline, offer)
    # The cerclage in situ is not offered either (profiles.md: cerclage codes are not given).
    for column in columns.values():
        assert "cerclage</h4>" not in column.replace("Cerclage not recommended</h4>", "")


def test_the_other_option_of_a_choice_is_not_said_to_be_in_place(browser: TestClient) -> None:
    """NICE-01 offers progesterone *or* cerclage: with a cerclage in situ the progesterone
    recommendation's choice is made; its badge must not read "In place" (she is not on it)."""
    her = (
        at("21+0")
        .with_prior_sptb("30+0")
        .with_length(22, at="19+0")
        .with_cerclage("20+0", indication=CerclageIndication.ULTRASOUND)
    )
    written = seed(browser, "H-CHOICE", her)
    sign_in(browser)
    page = page_of(browser, written.pregnancy_id)
    progesterone = card(columns_of(page)["nice"], "Vaginal progesterone")
    assert '<span class="badge badge-state state-choice-made">Choice made</span>' in progesterone
    assert "In place</span>" not in progesterone
    assert "The choice is made: a cerclage is in situ" in progesterone
    assert "Offer a choice" not in progesterone


def test_declined_overdue_and_urgent_with_its_reason(browser: TestClient) -> None:
    """20+0, three previous early births and losses; a history-indicated cerclage declined at
    13+0; progesterone since 16+0; no scan yet; contractions reported at 19+5, not reviewed."""
    her = (
        at("20+0")
        .with_prior_sptb("30+0")
        .with_prior_loss("20+0")
        .with_prior_sptb("28+0")
        .with_medication(Medication.VAGINAL_PROGESTERONE, started_at="16+0")
        .with_declined(DeclinableCode.HISTORY_INDICATED_CERCLAGE, at="13+0")
    )
    her = her.with_symptoms(
        Symptom.CONTRACTIONS, Symptom.PELVIC_PRESSURE, reported_on=her.day("19+5")
    )
    written = seed(browser, "H-COURSE", her, "Lindqvist")
    sign_in(browser)
    page = page_of(browser, written.pregnancy_id)
    reported = page_date(day_at("19+5", "20+0"))
    reason = (
        "contractions or tightenings, pelvic pressure: reported by the woman on"
        f" 19+5 ({reported}), 2 days ago; not yet reviewed"
    )

    # One urgent alert for both guidelines, saying why, above the recommendations.
    alerts = re.findall(r'<div class="alert alert-urgent[^"]*">(.*?)</div>', page, re.S)
    assert len(alerts) == 1
    assert f"<strong>Why:</strong> {reason}" in html.unescape(alerts[0])
    assert page.index("alert-urgent") < page.index('id="recommendations"')

    columns = columns_of(section(page, "recommendations"))
    for guideline in ("acog", "nice"):
        urgent = card(columns[guideline], "Urgent same-day evaluation")
        assert f"<strong>Why urgent:</strong> {reason}" in urgent
        scans = card(columns[guideline], "Serial cervical-length scans")
        assert '<span class="badge badge-state state-overdue">Overdue</span>' in scans
        assert "Overdue: the next scan was due by" in scans
    declined = card(columns["acog"], "History-indicated cerclage")
    assert '<span class="badge badge-state state-declined">Declined</span>' in declined
    declined_on = page_date(day_at("13+0", "20+0"))
    assert f"Offered and declined on 13+0 ({declined_on}): not a task" in declined
    # Plain "due" recommendations carry no state badge.
    assert "badge-state" not in card(columns["nice"], "Refer to preterm birth clinic")

    timeline = html.unescape(section(page, "timeline"))
    assert "Reported contractions, pelvic pressure; not yet reviewed</td>" in timeline
    assert "Offered and declined: History-indicated cerclage" in timeline


def test_an_assumption_beside_its_recommendation_and_a_tier_never_alone(
    browser: TestClient,
) -> None:
    """A 22 mm cervix at 19+0, no previous pregnancy and no exam: SMFM70-06 gives
    cerclage-not-recommended assuming no dilation (CD-01); her history tier is low, shown as
    the history tier beside the short cervix (I-90)."""
    written = seed(browser, "H-ASSUME", at("20+0").with_length(22, at="19+0"))
    sign_in(browser)
    page = page_of(browser, written.pregnancy_id)
    column = columns_of(section(page, "recommendations"))["acog"]
    not_recommended = card(column, "Cerclage not recommended")
    assert (
        '<p class="assumes"><strong>Assumes:</strong> no cervical dilation is assumed: no'
        " cervical exam is recorded</p>"
    ) in not_recommended
    # The assumption sits after the recommendation's words, before its source.
    assert not_recommended.index("Assumes:") < not_recommended.index("<dt>Rule</dt>")

    header = html.unescape(page[page.index('<div class="header-tier">') :])
    header = header[: header.index("</div>")]
    assert "<dt>Saving Babies' Lives v3.1 history tier</dt>" in header
    assert "tier-low tier-not-reassuring" in header  # no green beside a short cervix
    assert ">Low</span>" in header
    assert "Current findings: short cervix: shortest transvaginal length 22 mm" in header
    history = html.unescape(section(page, "history"))
    assert "<h3>Saving Babies' Lives v3.1 history tier</h3>" in history
    assert "<li>short cervix: shortest transvaginal length 22 mm</li>" in history
    assert "Risk tier" not in page


def test_missed_scans_in_the_scan_plan(browser: TestClient) -> None:
    """26+0 after a previous sPTB and no scan at all: the serial scans of both guidelines
    were missed (CD-05), shown as missed, not as tasks, in the plan and the recommendations."""
    written = seed(browser, "H-MISSED", at("26+0").with_prior_sptb("30+0"))
    sign_in(browser)
    page = page_of(browser, written.pregnancy_id)
    plan = section(page, "scan-plan")
    rows = re.findall(r'<tr class="plan-missed">(.*?)</tr>', plan, re.S)
    assert len(rows) == 2
    for row in rows:
        assert '<span class="badge badge-state state-missed">Missed</span>' in row
        assert "None: the window has passed" in row
        assert "none was recorded by the end of the surveillance window" in row
    assert "badge-overdue" not in plan
    columns = columns_of(section(page, "recommendations"))
    for guideline in ("acog", "nice"):
        scans = card(columns[guideline], "Serial cervical-length scans")
        assert '<span class="badge badge-state state-missed">Missed</span>' in scans
    assert "None recorded today: no cerclage in situ and no active medication order." in (
        section(page, "current-treatments")
    )


def test_a_reviewed_report_is_no_longer_urgent_and_its_review_is_in_the_timeline(
    browser: TestClient,
) -> None:
    her = at("24+0")
    her = her.with_symptoms(
        Symptom.BACKACHE, reported_on=her.day("23+0"), reviewed_on=her.day("23+1")
    )
    written = seed(browser, "H-REVIEWED", her)
    sign_in(browser)
    page = page_of(browser, written.pregnancy_id)
    assert "alert-urgent" not in page
    timeline = html.unescape(section(page, "timeline"))
    assert "Reported lower backache</td>" in timeline
    # In the clinic's date format (its default: "23 Feb 2026"), as every date on the page.
    reported = ClinicSettings().short_date(day_at("23+0", "24+0"))
    assert f"Symptoms of {reported} reviewed: seen in triage" in timeline
    assert "not yet reviewed" not in timeline


def test_the_page_writes_every_date_one_way(browser: TestClient) -> None:
    """Issue 13: the clinical core's sentences (a treatment since, a scan due by, why urgent,
    the history) are shown with their dates as the rest of the page writes dates, not as the
    ISO dates the API and FHIR answer with."""
    her = (
        at("20+0")
        .with_prior_sptb("30+0")
        .with_length(22, at="19+0")
        .with_medication(Medication.VAGINAL_PROGESTERONE, started_at="16+0")
        .with_cerclage("14+0")
        .with_declined(DeclinableCode.HISTORY_INDICATED_CERCLAGE, at="13+0")
    )
    her = her.with_symptoms(Symptom.CONTRACTIONS, reported_on=her.day("19+5"))
    written = seed(browser, "H-DATES", her, "Datewell")
    sign_in(browser)
    page = page_of(browser, written.pregnancy_id)
    assert iso_dates_shown(page) == []
    assert f"since 16+0 ({page_date(her.day('16+0'))})" in page
