"""Browser tests: the real app, served by Uvicorn on a loopback port, driven by Debian's
Chromium through Playwright (sync API, headless).

One browser per test session, one server per test module, one browser context (cookies,
clock) per signed-in person. The server's database is a throwaway SQLite file: these tests are
about what a person sees and does in a browser, and the SQLite/PostgreSQL parity of what is
stored is already covered by tests/web and tests/store, which run on both. The clinic's clock
is fixed at `tests.web.conftest.TODAY`, on the server and in the browser.

Every page opened through these fixtures is watched: any content-security-policy violation
or uncaught script error fails the test (see `harness.Watch`). Screenshots land in
tests/artifacts/ (ignored by git).

Without /usr/bin/chromium every test here is skipped, saying how to install it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, StorageState, sync_playwright
from sqlalchemy import create_engine

from cervixwatch.store.models import Role
from cervixwatch.web.app import create_app
from tests.browser.harness import (
    CHROMIUM,
    INSTALL_CHROMIUM,
    LiveServer,
    OpenPage,
    SignIn,
    Watch,
    fixed_clock,
    serving,
    sign_in,
)
from tests.web.accounts import TEAM, test_settings
from tests.web.conftest import TODAY

#: Long enough for a slow shared machine, short enough that a missing element fails fast.
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(INSTALL_CHROMIUM)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[LiveServer]:
    """The app on a new SQLite database, served for the tests of one module."""
    del browser  # asked for first, so that a missing Chromium skips before a server starts
    directory: Path = tmp_path_factory.mktemp("browser")
    engine = create_engine(f"sqlite:///{directory / 'cervixwatch.db'}")
    try:
        settings = test_settings(engine)
    finally:
        engine.dispose()
    with serving(create_app(settings, today=lambda: TODAY)) as server:
        yield server


@pytest.fixture
def open_page(browser: Browser, live: LiveServer) -> Iterator[OpenPage]:
    """Opens a page in a new browser context (its own cookies, or those of `storage_state`);
    at the end, fails the test on any CSP violation or script error seen in any of them."""
    opened: list[tuple[Watch, Page]] = []

    def open_one(storage_state: StorageState | None = None) -> Page:
        context = browser.new_context(
            base_url=live.url,
            storage_state=storage_state,
            viewport={"width": 1280, "height": 800},
            locale="en-GB",
            timezone_id="UTC",
        )
        context.set_default_timeout(TIMEOUT_MS)
        fixed_clock(context, TODAY)
        watch = Watch()
        watch.attach(context)
        page = context.new_page()
        opened.append((watch, page))
        return page

    yield open_one
    problems = [p for watch, _ in opened for p in watch.problems()]
    for _, page in opened:
        page.context.close()
    assert not problems, "the browser reported:\n" + "\n".join(problems)


@pytest.fixture
def clinician(open_page: OpenPage, live: LiveServer) -> Page:
    """A page signed in, through the sign-in form, as a new clinician of `accounts.TEAM`."""
    page = open_page()
    sign_in(page, live.user(Role.CLINICIAN, teams=(TEAM,)), lands_on="/worklist")
    return page


@pytest.fixture
def sign_in_patient(open_page: OpenPage, live: LiveServer) -> SignIn:
    """Signs in, through the form, as the woman stored as `patient_id` (a new account)."""

    def signed_in(patient_id: str) -> Page:
        page = open_page()
        sign_in(page, live.user(Role.PATIENT, patient_id=patient_id), lands_on="/my")
        return page

    return signed_in
