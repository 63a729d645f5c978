"""What the browser tests need beside their fixtures: the app served on loopback, a watch on
each page for content-security-policy violations and script errors, signing in through the
real form, axe-core, screenshots and keyboard moves.

Chromium comes from Debian (`/usr/bin/chromium`, installed by `make test`): Playwright is only
the driver here, and `playwright install` is never run (browsers cannot be downloaded).
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import BrowserContext, ConsoleMessage, Page

from cervixwatch.app.reassessing import Written
from cervixwatch.store.models import Role
from tests.builders import Woman
from tests.web.accounts import PASSWORD, make_user
from tests.web.api_builders import seed

CHROMIUM: Final = Path("/usr/bin/chromium")
HERE: Final = Path(__file__).parent
AXE_SCRIPT: Final = HERE / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS: Final = HERE.parent / "artifacts"
#: Desktop and the narrowest phone the pages promise to work on.
WIDTHS: Final = (1280, 360)
#: axe impacts that fail a test ("minor" and "moderate" are reported by axe but let pass).
BLOCKING_IMPACTS: Final = frozenset({"serious", "critical"})

#: Opens a watched page in a new browser context (the `open_page` fixture), optionally with
#: the cookies of an earlier sign-in (`page.context.storage_state()`).
OpenPage = Callable[..., Page]
#: Signs in as the woman with this patient id and returns her page (`sign_in_patient`).
SignIn = Callable[[str], Page]

INSTALL_CHROMIUM: Final = (
    f"Chromium is not installed at {CHROMIUM}: the browser tests need Debian's package "
    "(as root: apt-get install -y --no-install-recommends chromium; `make test` does this "
    "when run as root). Playwright never downloads a browser here."
)
INSTALL_AXE: Final = (
    f"axe-core is not installed at {AXE_SCRIPT}: run `npm ci` in tests/browser "
    "(`make test` does this)."
)


# --- the server -------------------------------------------------------------------------------


class LiveServer:
    """The real app served by Uvicorn in a background thread on a free loopback port."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, ws="none", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self, timeout: float = 30.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test server at {self.url} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._socket.close()

    @property
    def _as_client(self) -> TestClient:
        # The helpers of tests/web take a TestClient and use only its `.app` (its state:
        # the session factory, started by the lifespan, and the profiles).
        return cast(TestClient, self)

    def seed(self, hospital_number: str, her: Woman, family_name: str | None = None) -> Written:
        """Store a woman's records under `accounts.TEAM`, as `api_builders.seed` does."""
        return seed(self._as_client, hospital_number, her, family_name)

    def user(
        self, role: Role, *, teams: tuple[str, ...] = (), patient_id: str | None = None
    ) -> str:
        """A new user with `accounts.PASSWORD`; returns her username."""
        username, _token = make_user(self._as_client, role, teams=teams, patient_id=patient_id)
        return username


@contextmanager
def serving(app: FastAPI) -> Iterator[LiveServer]:
    server = LiveServer(app)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- watching a page --------------------------------------------------------------------------

#: Runs before any script of every document: reports each content-security-policy violation
#: to the test (the event fires even for what the policy silently blocks).
_CSP_LISTENER: Final = """
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cervixwatchCsp(
    `${event.effectiveDirective} blocked ${event.blockedURI || 'inline'} ` +
    `in ${event.sourceFile || document.location.pathname}:${event.lineNumber}` +
    (event.sample ? ` (${event.sample})` : '')
  );
});
"""


@dataclass
class Watch:
    """What the browser reported while a context's pages ran."""

    csp_violations: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        context.expose_binding("__cervixwatchCsp", lambda _source, text: self._csp(text))
        context.add_init_script(script=_CSP_LISTENER)
        context.on("page", self._watch_page)

    def _watch_page(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))

    def _csp(self, text: str) -> None:
        if text not in self.csp_violations:
            self.csp_violations.append(text)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = f"{message.location.get('url', '')}: {message.text}"
        self.console_errors.append(text)
        if "Content Security Policy" in message.text:
            self._csp(message.text)

    def problems(self) -> list[str]:
        """What fails a test: any CSP violation or uncaught script error. Other console
        errors (a rejected form's 400 is one) are listed alongside but do not fail it."""
        found = [f"CSP violation: {v}" for v in self.csp_violations]
        found += [f"script error: {e}" for e in self.page_errors]
        if found and self.console_errors:
            found += [f"(console) {e}" for e in self.console_errors]
        return found


# --- signing in -------------------------------------------------------------------------------


def sign_in(page: Page, username: str, *, lands_on: str) -> None:
    """Sign in through the real form, as a person would, and wait for her home page."""
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{lands_on}")


# --- axe --------------------------------------------------------------------------------------


def axe(page: Page, *, disable: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; fails listing every serious or critical
    violation, and returns the lesser ones.

    axe is evaluated through the DevTools protocol (`page.evaluate`), which the page's
    content-security policy does not govern: `add_script_tag` would add an inline script
    that the policy (rightly) blocks, and `bypass_csp` would switch the policy off for the
    whole page, hiding the very violations these tests look for."""
    if not AXE_SCRIPT.exists():
        pytest.skip(INSTALL_AXE)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    results: dict[str, Any] = page.evaluate(
        """async (disabled) => await window.axe.run(document, {
             resultTypes: ['violations'],
             rules: Object.fromEntries(disabled.map((id) => [id, {enabled: false}])),
           })""",
        list(disable),
    )
    violations: list[dict[str, Any]] = results["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, f"axe on {page.url}:\n" + "\n".join(map(describe, blocking))
    return violations


def describe(violation: dict[str, Any]) -> str:
    nodes = violation.get("nodes", [])
    targets = "; ".join(" ".join(map(str, n.get("target", []))) for n in nodes[:5])
    more = f" (+{len(nodes) - 5} more)" if len(nodes) > 5 else ""
    return (
        f"- [{violation.get('impact')}] {violation['id']}: {violation.get('help')} "
        f"-> {targets}{more}"
    )


_AXE_SOURCE: list[str] = []


def _axe_source() -> str:
    if not _AXE_SOURCE:
        _AXE_SOURCE.append(AXE_SCRIPT.read_text(encoding="utf-8"))
    return _AXE_SOURCE[0]


# --- screenshots and layout -------------------------------------------------------------------


def screenshot(page: Page, name: str) -> list[Path]:
    """Full-page screenshots at 1280 and 360 px wide: `tests/artifacts/<name>-<width>.png`.
    Fails when the page is wider than the viewport at either width (it must fit at 360 px;
    wide tables scroll inside their `.table-wrap`)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    written = []
    try:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            path = ARTIFACTS / f"{name}-{width}.png"
            page.screenshot(path=str(path), full_page=True)
            written.append(path)
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (
                f"{page.url} is {overflow} px wider than a {width} px screen "
                f"(see {path.relative_to(HERE.parent.parent)}); widest: {widest(page)}"
            )
    finally:
        if before is not None:
            page.set_viewport_size(before)
    return written


def widest(page: Page) -> str:
    """What sticks out past the right edge (for a failure): elements whose box does, and
    elements whose content spills out of them (a long word, a wide image), deepest first;
    what scrolls inside its own box (a `.table-wrap`) is left out."""
    found: list[str] = page.evaluate(
        """() => {
          const edge = document.documentElement.clientWidth;
          const scrolls = (el) => ['auto', 'scroll', 'hidden', 'clip'].includes(
            getComputedStyle(el).overflowX);
          const inScroller = (el) => {
            for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
              if (scrolls(p)) return true;
            }
            return false;
          };
          const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
            (typeof el.className === 'string' && el.className.trim()
              ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
          const out = [];
          for (const el of [...document.querySelectorAll('body *')].reverse()) {
            if (inScroller(el)) continue;
            const box = el.getBoundingClientRect();
            const spills = !scrolls(el) && box.left + el.scrollWidth > edge + 1;
            if (box.right > edge + 1 || spills) {
              const text = (el.innerText || '').trim().slice(0, 40);
              out.push(`${name(el)} (right ${Math.round(box.left + el.scrollWidth)}: "${text}")`);
            }
          }
          return out.slice(0, 5);
        }"""
    )
    return "; ".join(found) or "?"


# --- the keyboard -----------------------------------------------------------------------------


def focused(page: Page) -> str:
    """A short description of the element that has the focus."""
    text: str = page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el) return '';
          return `${el.tagName.toLowerCase()}#${el.id} ${el.getAttribute('name') || ''} ` +
                 `${(el.innerText || el.value || '').trim().slice(0, 40)}`;
        }"""
    )
    return text


def tab_to(page: Page, selector: str, *, limit: int = 40) -> int:
    """Press Tab until the element matching `selector` has the focus; returns the presses.
    Fails, naming the stops it passed, when it is not reached within `limit` presses."""
    stops = []
    for presses in range(limit + 1):
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return presses
        page.keyboard.press("Tab")
        stops.append(focused(page))
    raise AssertionError(f"{selector} not reached by Tab; stops: {stops}")


def fixed_clock(context: BrowserContext, day: dt.date) -> None:
    """The browser's clock on the clinic's day (10:00 UTC), as the server's is."""
    context.clock.set_fixed_time(dt.datetime.combine(day, dt.time(10, 0), tzinfo=dt.UTC))
