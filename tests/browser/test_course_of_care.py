"""The course of care on a pregnancy's page, as a clinician sees it in the browser: what is in
place shown as the current treatment, a declined offer, overdue and missed scans with their
badges, the urgent report and why, an assumption beside its recommendation, the history tier
beside the current findings. Screenshots at 1280 and 360 px in tests/artifacts/."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from cervixwatch.clinical.records import DeclinableCode, Medication, Symptom
from tests.browser.harness import LiveServer, axe, screenshot
from tests.web.api_builders import at


def column_of(page: Page, guideline: str) -> Locator:
    return page.locator("section.guideline-column").filter(
        has=page.locator("h3", has_text=guideline)
    )


def rec_of(page: Page, guideline: str, label: str) -> Locator:
    """One recommendation's card in one guideline's column, by its heading."""
    return (
        column_of(page, guideline)
        .locator("article.rec")
        .filter(has=page.get_by_role("heading", level=4, name=label, exact=True))
    )


def test_the_course_of_care_on_her_page(clinician: Page, live: LiveServer) -> None:
    """20+0, three previous early births and losses (a history-indicated cerclage was offered
    and declined at 13+0), vaginal progesterone since 16+0, no scan yet, and contractions
    with pelvic pressure reported two days ago that nobody has reviewed."""
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
    written = live.seed("CW-CC-100", her, family_name="Lindqvist")
    page = clinician
    page.goto(f"/pregnancies/{written.pregnancy_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lindqvist")

    # Urgent, and why: the symptoms, who reported them, when, and that no one has looked.
    alert = page.locator(".alert-urgent")
    expect(alert).to_have_count(1)  # both guidelines say so: once, with both rules
    expect(alert).to_contain_text("contractions or tightenings, pelvic pressure")
    expect(alert).to_contain_text("reported by the woman")
    expect(alert).to_contain_text("2 days ago; not yet reviewed")

    # What she is on now, with its date; and progesterone is not offered to her again.
    treatments = page.locator("#current-treatments")
    expect(treatments).to_contain_text("Vaginal progesterone since 16+0")
    for guideline in ("ACOG/SMFM", "NICE/RCOG"):
        progesterone = rec_of(page, guideline, "Vaginal progesterone")
        expect(progesterone.locator(".badge-state")).to_have_text("In place")
        expect(progesterone).to_contain_text("the current treatment, not an offer")
        expect(progesterone.locator(".badge.strength")).to_have_count(0)
        expect(progesterone.locator(".rec-summary")).to_have_count(0)
        scans = rec_of(page, guideline, "Serial cervical-length scans")
        expect(scans.locator(".badge-state")).to_have_text("Overdue")
    declined = rec_of(page, "ACOG/SMFM", "History-indicated cerclage")
    expect(declined.locator(".badge-state")).to_have_text("Declined")
    expect(declined).to_contain_text("Offered and declined on 13+0")

    # The tier says what it is, beside what this pregnancy has shown.
    header = page.locator(".header-tier")
    expect(header).to_contain_text("Saving Babies' Lives v3.1 history tier")
    expect(header).to_contain_text("High")
    expect(header).to_contain_text("Current findings: none recorded")

    axe(page)
    screenshot(page, "pregnancy-course-of-care")


def test_an_assumption_and_a_missed_scan(clinician: Page, live: LiveServer) -> None:
    """A 22 mm cervix at 19+0 with no exam recorded (SMFM70-06 assumes no dilation, CD-01) in a
    woman whose history tier is low; then, at 26+0, a woman whose serial scans never happened."""
    short = live.seed("CW-CC-101", at("20+0").with_length(22, at="19+0"), family_name="Moreau")
    page = clinician
    page.goto(f"/pregnancies/{short.pregnancy_id}")
    not_recommended = rec_of(page, "ACOG/SMFM", "Cerclage not recommended")
    expect(not_recommended.locator(".assumes")).to_have_text(
        "Assumes: no cervical dilation is assumed: no cervical exam is recorded"
    )
    header = page.locator(".header-tier")
    expect(header).to_contain_text("Low")
    expect(header).to_contain_text("short cervix: shortest transvaginal length 22 mm")
    screenshot(page, "pregnancy-assumption")

    missed = live.seed("CW-CC-102", at("26+0").with_prior_sptb("30+0"), family_name="Achebe")
    page.goto(f"/pregnancies/{missed.pregnancy_id}")
    for guideline in ("ACOG/SMFM", "NICE/RCOG"):
        scans = rec_of(page, guideline, "Serial cervical-length scans")
        expect(scans.locator(".badge-state")).to_have_text("Missed")
    plan = page.locator("#scan-plan")
    expect(plan.locator(".badge-state")).to_have_count(2)
    expect(plan).to_contain_text("None: the window has passed")
    axe(page)
    screenshot(page, "pregnancy-missed-scans")
