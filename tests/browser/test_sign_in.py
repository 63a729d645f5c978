"""Signing in from a browser: the form, its refusal, the way back to the page first asked for,
the account page, and all of it with the keyboard alone."""

from __future__ import annotations

import re
from html import escape as html_escape

from playwright.sync_api import expect

from cervixwatch.app import accounts
from cervixwatch.store.models import Role
from tests.browser.harness import LiveServer, OpenPage, axe, screenshot, sign_in, tab_to
from tests.web.accounts import PASSWORD, TEAM

NEW_PASSWORD = "a much longer new passphrase"


def test_a_wrong_password_is_refused_keeping_the_username(
    open_page: OpenPage, live: LiveServer
) -> None:
    username = live.user(Role.CLINICIAN, teams=(TEAM,))
    page = open_page()
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Wrong username or password")
    username_box = page.get_by_label("Username")
    expect(username_box).to_have_value(username)
    expect(username_box).to_have_attribute("aria-describedby", "sign-in-error")
    expect(page.get_by_label("Password")).to_have_value("")
    axe(page)
    screenshot(page, "sign-in-refused")


def test_signing_in_returns_to_the_page_first_asked_for(
    open_page: OpenPage, live: LiveServer
) -> None:
    page = open_page()
    page.goto("/account")
    page.wait_for_url(re.compile(r"/sign-in\?next=(/|%2F)account$"))
    sign_in_here = live.user(Role.ADMIN)
    page.get_by_label("Username").fill(sign_in_here)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")


def test_signing_out(open_page: OpenPage, live: LiveServer) -> None:
    page = open_page()
    sign_in(page, live.user(Role.ADMIN), lands_on="/admin/users")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")
    page.goto("/account")
    page.wait_for_url(re.compile(r"/sign-in\?next=(/|%2F)account$"))


def test_keyboard_alone_signs_in_and_reaches_the_worklist(
    open_page: OpenPage, live: LiveServer
) -> None:
    username = live.user(Role.CLINICIAN, teams=(TEAM,))
    page = open_page()
    page.goto("/sign-in")
    tab_to(page, "#username")  # the form has the focus on arrival (autofocus)
    page.keyboard.type(username)
    tab_to(page, "#password", limit=1)
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/worklist")

    # The first stop is the skip link, and it takes the focus past the navigation.
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    expect(page.get_by_role("heading", level=1)).to_have_count(1)


def test_a_user_sets_her_own_password_with_the_admins_one_time_code(
    open_page: OpenPage, live: LiveServer
) -> None:
    """Issue 12, F2: after an admin's reset the old password no longer opens the account; the
    user reaches the form from the sign-in page and sets a new one with her code."""
    username = live.user(Role.CLINICIAN, teams=(TEAM,))
    sessions = live.app.state.sessions
    code = accounts.update_user(sessions, username, reset_password=True).code
    assert code is not None
    page = open_page()
    page.goto("/sign-in")
    page.get_by_role("link", name=re.compile("Set your password")).click()
    page.wait_for_url("**/set-password")
    page.get_by_label("Username").fill(username)
    page.get_by_label("One-time code").fill("not the code")
    page.get_by_label("New password (12 to 256 characters)").fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    axe(page)
    page.get_by_label("One-time code").fill(code.secret)
    page.get_by_label("New password (12 to 256 characters)").fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is set")
    axe(page)
    screenshot(page, "set-password-done")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/worklist")


#: A page of another site that posts its owner's username and password to our sign-in: the
#: login CSRF of issue 12 (the victim then works, unawares, in the attacker's account).
_ATTACKER_PAGE = """<!doctype html><title>Win a prize</title>
<form method="post" action="{action}" enctype="{enctype}">
  <input type="hidden" name="{username_field}" value="{username_value}">
  <input type="hidden" name="password" value="{password}">
  <button type="submit">Claim</button>
</form>"""


def test_another_sites_form_does_not_sign_the_browser_in(
    open_page: OpenPage, live: LiveServer
) -> None:
    """Issue 12, low finding (login CSRF): Chromium posts a form from another site's page to
    the sign-in page and to the API's sign-in, as a form and as smuggled JSON; none of them
    leaves the browser signed in."""
    attacker = live.user(Role.ADMIN)
    smuggled_name = f'{{"username":"{attacker}","password":"{PASSWORD}","x":"'
    forms = [
        (f"{live.url}/sign-in", "application/x-www-form-urlencoded", "username", attacker),
        (f"{live.url}/auth/sign-in", "application/x-www-form-urlencoded", "username", attacker),
        (f"{live.url}/auth/sign-in", "text/plain", smuggled_name, '"}'),
    ]
    page = open_page()
    served: list[str] = []
    page.context.route(
        "http://attacker.test/**",
        lambda route: route.fulfill(body=served[-1], content_type="text/html"),
    )
    for action, enctype, username_field, username_value in forms:
        served.append(
            _ATTACKER_PAGE.format(
                action=action,
                enctype=enctype,
                username_field=html_escape(username_field),
                username_value=html_escape(username_value),
                password=PASSWORD,
            )
        )
        page.goto("http://attacker.test/prize")
        with page.expect_navigation():
            page.get_by_role("button", name="Claim").click()
        assert "cw_session" not in {c["name"] for c in page.context.cookies()}, action
    page.goto("/account")
    page.wait_for_url(re.compile(r"/sign-in\?next=(/|%2F)account$"))
    # Her own sign-in, on our page, still works in the same browser.
    page.get_by_label("Username").fill(attacker)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account")
