"""A quality lead reads the population audit in Chromium (issue 15, parts 3 and 4): she signs
in and lands on the audits, opens Saving Babies' Lives element 5 and sees each measure's funnel
plot drawn with its styles, and a risk model's validation with its charts. The page is watched
for content-security-policy violations: the reports' inline styles (their own <style> and the
SVG charts' style attributes) must be allowed on those pages, and scripts still not; axe
checks every page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import create_engine

from cervixwatch.clinical.gestation import ga
from cervixwatch.store.models import Role
from cervixwatch.web.app import create_app
from tests.browser.harness import LiveServer, OpenPage, axe, screenshot, serving, sign_in
from tests.population.audit_rows import parquet_of, row
from tests.web.accounts import test_settings
from tests.web.conftest import TODAY

#: (length at 21+0 in mm, gestation at birth, spontaneous): two short cervices, one born early.
TWINS = [(15, "30+0", True), (18, "38+0", False), (35, "31+0", True), (40, "38+0", False)]


def _twin(n: int, mm: float, ended: str, sptb: bool) -> dict[str, object]:
    return row(
        n,
        unit="Unit A",
        fetuses=2,
        lengths=[{"ga_days": ga("21+0"), "mm": mm, "comparator": None}],
        ended_on="2026-05-01",
        ended_ga_days=ga(ended),
        outcome="live-birth",
        sptb=sptb,
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[LiveServer]:
    """The app with a network's rows (two units) for the population audit."""
    del browser
    directory: Path = tmp_path_factory.mktemp("browser")
    population = tmp_path_factory.mktemp("population")
    parquet_of(
        population,
        [
            row(1, unit="Unit A", ga_days=200, scan_ga_days=[112, 126, 140, 154, 168]),
            row(2, unit="Unit A", ga_days=200, scan_ga_days=[112, 140, 168]),
            row(3, unit="Unit B", ga_days=200, scan_ga_days=[112, 168]),
            row(4, unit="Unit B", ga_days=200, scan_ga_days=[112, 126, 140, 154]),
            row(5, unit="Unit B", risk_tier="intermediate", ga_days=160, scan_ga_days=[130]),
            # Twins whose births are known, for the risk models' validation.
            *(_twin(n, mm, ended, sptb) for n, (mm, ended, sptb) in enumerate(TWINS, 6)),
        ],
    )
    engine = create_engine(f"sqlite:///{directory / 'cervixwatch.db'}")
    try:
        settings = test_settings(engine, population_dir=population)
    finally:
        engine.dispose()
    with serving(create_app(settings, today=lambda: TODAY)) as server:
        yield server


def test_a_quality_lead_reads_the_saving_babies_lives_audit(
    open_page: OpenPage, live: LiveServer
) -> None:
    page = open_page()
    sign_in(page, live.user(Role.QUALITY_LEAD), lands_on="/quality/audit")
    expect(page.get_by_role("heading", name="Population audit")).to_be_visible()
    axe(page)
    page.locator("#audit-sbl").get_by_role("link", name="Calendar quarters").click()
    page.wait_for_url("**/quality/audit/sbl")
    expect(page.locator("h1")).to_contain_text("Saving Babies' Lives v3.1, element 5")
    funnel = page.get_by_role("img", name="Funnel plot of SBL5-HR-SERIAL by unit")
    expect(funnel).to_be_visible()
    box = funnel.bounding_box()
    assert box is not None
    assert box["width"] > 300
    # The report's own styles applied (blocked, the tables would have no borders and the
    # points their default black): a plotted point is filled with its colour.
    fills = page.evaluate(
        """() => [...document.querySelectorAll('svg.funnel path')]
                   .map((p) => getComputedStyle(p).fill)"""
    )
    assert any(fill not in ("rgb(0, 0, 0)", "none") for fill in fills)
    axe(page)
    screenshot(page, "population-audit-sbl")


def test_a_quality_lead_reads_a_risk_models_validation(
    open_page: OpenPage, live: LiveServer
) -> None:
    page = open_page()
    sign_in(page, live.user(Role.QUALITY_LEAD), lands_on="/quality/audit")
    page.locator("#model-conde-agudelo-2010-twins-32").get_by_role("link", name="Report").click()
    page.wait_for_url("**/quality/models/conde-agudelo-2010-twins-32")
    expect(page.locator("h1")).to_have_text("Validation of a risk model")
    for chart in ("Calibration plot", "Decision curve"):
        plot = page.get_by_role("img", name=f"{chart} of conde-agudelo-2010-twins-32")
        expect(plot).to_be_visible()
    expect(page.get_by_text("Only 2 women had the outcome")).to_be_visible()
    axe(page)
    screenshot(page, "risk-model-validation")
    page.get_by_role("link", name="Population audit").click()
    page.wait_for_url("**/quality/audit")
