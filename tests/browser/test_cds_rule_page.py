"""The page a CDS Hooks card's `source.url` links to, as a clinician opens it from the EHR
(not signed in to CervixWatch): the rule's words, citation and provenance, axe-clean and
fitting a phone."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.harness import OpenPage, axe, screenshot


def test_a_rule_page_explains_the_rule_to_anyone(open_page: OpenPage) -> None:
    page = open_page()
    page.goto("/cds-services/rules/acog/ACOG234-06")
    expect(page.get_by_role("heading", level=1)).to_contain_text("ACOG234-06")
    expect(page.get_by_text("Multifetal gestation")).to_be_visible()
    expect(page.get_by_text("Practice Bulletin No. 234")).to_be_visible()
    expect(page.get_by_text("Withholds")).to_be_visible()
    axe(page)
    screenshot(page, "cds-rule-page")
