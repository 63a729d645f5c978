"""Helpers for the pages' tests: signing in through the form, and what the
content-security policy forbids in a page."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from httpx2 import Response

from cervixwatch.store.models import Role
from tests.web.accounts import PASSWORD, TEAM, make_user


def sign_in(
    client: TestClient,
    role: Role = Role.CLINICIAN,
    *,
    team: str = TEAM,
    patient_id: str | None = None,
) -> str:
    """Sign `client` in through the form as a new user; returns her bearer token too."""
    teams = (team,) if role == Role.CLINICIAN else ()
    username, token = make_user(client, role, teams=teams, patient_id=patient_id)
    answer = post_sign_in_form(client, username, PASSWORD)
    assert answer.status_code == 303, answer.text
    return token


def post_sign_in_form(client: TestClient, username: str, password: str) -> Response:
    """Post the sign-in page's form as a browser does: the page first (it sets the
    pre-session cookie), then the form with its token (login CSRF, issue 12)."""
    page = client.get("/sign-in")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "no pre-session token on the sign-in form"
    form = {"csrf_token": found.group(1), "username": username, "password": password}
    return client.post("/sign-in", data=form, follow_redirects=False)


class _Markup(HTMLParser):
    """What the content-security policy forbids in a page: inline scripts, <style>, style=
    attributes, on...= handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script":
            source = dict(attrs).get("src")
            if not source:
                self.problems.append("a <script> without src")
            else:
                self.scripts.append(source)
        if tag == "style":
            self.problems.append("a <style> element")
        if "style" in names:
            self.problems.append(f"a style attribute on <{tag}>")
        self.problems += [f"{n} on <{tag}>" for n in names if n.startswith("on") or n == "hx-on"]
        self.problems += [f"{n} on <{tag}>" for n in names if n.startswith(("hx-on:", "hx-on-"))]

    def handle_data(self, data: str) -> None:
        if self.lasttag == "script" and data.strip():
            self.problems.append("a <script> with content")


def csp_clean(html: str) -> list[str]:
    """The page's scripts (all by src), after asserting nothing inline is in it."""
    markup = _Markup()
    markup.feed(html)
    assert markup.problems == [], markup.problems
    for source in markup.scripts:
        assert source.startswith("/static/"), source
    return markup.scripts


_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def page_date(day: dt.date) -> str:
    """A date as the pages write it with the clinic's default format ("12 Jan 2026")."""
    return f"{day.day} {day:%b %Y}"


def as_the_page_writes(sentence: str) -> str:
    """A sentence of the assessment (ISO dates, as the API gives it) as a page shows it: each
    date in the clinic's format (`web.pages.core.clinic_dates`)."""
    return _ISO_DATE.sub(lambda m: page_date(dt.date.fromisoformat(m.group(0))), sentence)


def iso_dates_shown(page: str) -> list[str]:
    """ISO dates in a page's text (not in its attributes, where date inputs and links keep
    them): each with a little of the text around it."""
    text_only = re.sub(r"<[^>]*>", "<>", page)
    return [
        text_only[max(0, m.start() - 40) : m.end() + 10]
        for m in re.finditer(r"\b20\d\d-\d\d-\d\d\b", text_only)
    ]
