"""An open worklist does not keep its sign-in alive (issue 13, part 1, and issue 12's idle
limit): the event stream and the refreshes it triggers are the page's own requests, not the
clinician's, so an unattended screen still signs out after `session_idle_minutes`; and once
signed out, the page's own request sends the whole window to sign in (HX-Redirect) instead of
putting the sign-in page inside the table. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import ColumnElement, select, update

from cervixwatch.access.credentials import secret_hash
from cervixwatch.store.models import SignInSessionRow
from cervixwatch.web.access import BY_THE_PAGE_HEADER, SESSION_COOKIE
from tests.pages.html import sign_in

BY_THE_PAGE = {BY_THE_PAGE_HEADER: "live-refresh", "HX-Request": "true"}


def _this_sign_in(client: TestClient) -> ColumnElement[bool]:
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie is not None
    return SignInSessionRow.token_hash == secret_hash(cookie)


def _last_seen(client: TestClient) -> dt.datetime:
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        found = select(SignInSessionRow.last_seen_at).where(_this_sign_in(client))
        seen: dt.datetime = session.scalars(found).one()
        return seen


def _idle_for(client: TestClient, minutes: int) -> dt.datetime:
    """Make the client's sign-in last seen `minutes` ago; that moment, as stored."""
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        session.execute(
            update(SignInSessionRow).where(_this_sign_in(client)).values(last_seen_at=moment)
        )
        session.commit()
    return _last_seen(client)


def test_the_page_s_own_requests_do_not_keep_her_signed_in(browser: TestClient) -> None:
    sign_in(browser)
    idle_since = _idle_for(browser, 30)

    # The stream and a live refresh are answered, and leave the sign-in as idle as it was.
    assert browser.get("/worklist/events").status_code == 200
    assert browser.get("/worklist", headers=BY_THE_PAGE).status_code == 200
    assert _last_seen(browser) == idle_since

    # Her own request (a filter, a click) is activity.
    assert browser.get("/worklist", headers={"HX-Request": "true"}).status_code == 200
    assert _last_seen(browser) > idle_since


def test_once_idle_the_page_s_refresh_takes_the_window_to_sign_in(browser: TestClient) -> None:
    sign_in(browser)
    limit = browser.app.state.settings.session_idle_minutes  # type: ignore[attr-defined]
    _idle_for(browser, limit + 1)

    shown = "http://127.0.0.1/worklist?cerclage=true&page_size=50"
    refresh = browser.get(
        "/worklist?cerclage=true&page_size=50",
        headers={**BY_THE_PAGE, "HX-Current-URL": shown},
        follow_redirects=False,
    )
    assert refresh.status_code == 204, refresh.text
    assert refresh.text == ""  # nothing to put in the table
    target = urlsplit(refresh.headers["HX-Redirect"])
    assert target.path == "/sign-in"
    assert parse_qs(target.query) == {
        "next": ["/worklist?cerclage=true&page_size=50"],
        "ended": ["1"],  # the sign-in page says why
    }

    # A page the window asks for itself is sent to sign in as always.
    page = browser.get("/worklist", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/sign-in?next=/worklist&ended=1"


def test_a_foreign_page_is_never_where_sign_in_returns_to(browser: TestClient) -> None:
    sign_in(browser)
    _idle_for(browser, 24 * 60)
    refresh = browser.get(
        "/worklist",
        headers={**BY_THE_PAGE, "HX-Current-URL": "https://elsewhere.invalid//evil.example/x"},
        follow_redirects=False,
    )
    assert refresh.status_code == 204
    # Its path (//evil.example/x) would leave the site: back to the start page instead.
    assert refresh.headers["HX-Redirect"] == "/sign-in?next=/&ended=1"


def test_the_sign_in_page_says_why_she_was_signed_out(browser: TestClient) -> None:
    """Idled out, she is told why she must sign in again, and comes back where she was; a
    visitor who never signed in is not told she was signed out."""
    sign_in(browser)
    limit = browser.app.state.settings.session_idle_minutes  # type: ignore[attr-defined]
    _idle_for(browser, limit + 1)

    sent = browser.get("/worklist?urgent=yes", follow_redirects=False)
    assert sent.status_code == 303
    target = urlsplit(sent.headers["location"])
    assert parse_qs(target.query) == {"next": ["/worklist?urgent=yes"], "ended": ["1"]}
    page = browser.get(sent.headers["location"])
    assert 'id="sign-in-ended"' in page.text
    assert f"after {limit} minutes without activity" in page.text
    assert 'name="next" value="/worklist?urgent=yes"' in page.text

    # The page's own refresh sends the window to the same notice.
    refresh = browser.get(
        "/worklist",
        headers={**BY_THE_PAGE, "HX-Current-URL": "http://127.0.0.1/worklist"},
        follow_redirects=False,
    )
    assert parse_qs(urlsplit(refresh.headers["HX-Redirect"]).query)["ended"] == ["1"]

    browser.cookies.clear()
    stranger = browser.get("/worklist", follow_redirects=False)
    assert "ended" not in parse_qs(urlsplit(stranger.headers["location"]).query)
    assert 'id="sign-in-ended"' not in browser.get(stranger.headers["location"]).text
