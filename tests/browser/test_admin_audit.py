"""An admin and an auditor at work in the browser (issue 13, part 9): the admin makes a care
team and a clinician in it, who sets her own password with the one-time code; the admin
resets that password and, by keyboard alone, unlocks the account; the auditor filters the
log down to the admin's actions on that account, reads an entry, exports it as CSV and
verifies the chain. Every page is checked by axe-core and photographed at 1280 and 360 px."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from playwright.sync_api import Page, expect
from sqlalchemy import update

from cervixwatch.store.models import Role, UserRow
from tests.browser.harness import LiveServer, OpenPage, axe, screenshot, sign_in, tab_to

FIRST_PASSWORD = "her own first passphrase"
SECOND_PASSWORD = "her own second passphrase"


def set_password(page: Page, username: str, code: str, password: str) -> None:
    page.goto("/set-password")
    page.get_by_label("Username").fill(username)
    page.get_by_label("One-time code").fill(code)
    page.get_by_label("New password (12 to 256 characters)").fill(password)
    page.get_by_label("New password again").fill(password)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is set")


def signs_in(page: Page, username: str, password: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_an_admin_makes_resets_and_unlocks_and_an_auditor_exports_it(
    open_page: OpenPage, live: LiveServer
) -> None:
    admin_name = live.user(Role.ADMIN)
    admin = open_page()
    sign_in(admin, admin_name, lands_on="/admin/users")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Accounts")

    # A care team, then a clinician in it.
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Care teams").click()
    admin.get_by_label("Name of the team").fill("Preterm clinic north")
    admin.get_by_role("button", name="Make the team").click()
    expect(admin.get_by_role("status")).to_contain_text("The care team is made")

    admin.goto("/admin/users/new")
    admin.get_by_role("button", name="Make the account").click()  # nothing filled in
    summary = admin.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter a username.")
    axe(admin)
    screenshot(admin, "admin-new-account-refused")
    admin.get_by_label("Username").fill("dr.okafor")
    admin.get_by_label("Name (optional)").fill("Dr N. Okafor")
    admin.get_by_label("Clinician", exact=True).check()
    admin.get_by_label("Preterm clinic north").check()
    admin.get_by_role("button", name="Make the account").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Account made: dr.okafor")
    code = admin.locator("#one-time-code").inner_text()
    axe(admin)
    screenshot(admin, "admin-account-made")

    clinician = open_page()
    set_password(clinician, "dr.okafor", code, FIRST_PASSWORD)
    signs_in(clinician, "dr.okafor", FIRST_PASSWORD)
    clinician.wait_for_url("**/worklist")

    # The admin finds her and resets her password: her sign-in ends.
    admin.goto("/admin/users")
    admin.get_by_label("Username or name").fill("okafor")
    admin.get_by_role("button", name="Show").click()
    expect(admin.get_by_role("status")).to_contain_text("1 account matches these filters.")
    row = admin.locator("table tbody tr").filter(has_text="dr.okafor")
    expect(row).to_contain_text("Preterm clinic north")
    expect(row).to_contain_text("Clinician")
    axe(admin)
    screenshot(admin, "admin-accounts")
    row.get_by_role("link", name="dr.okafor").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Account dr.okafor")
    account_url = admin.url
    axe(admin)
    screenshot(admin, "admin-account")
    admin.get_by_role("button", name="Reset the password").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Password reset: dr.okafor")
    new_code = admin.locator("#one-time-code").inner_text()
    assert new_code != code
    axe(admin)
    clinician.goto("/worklist")
    clinician.wait_for_url(re.compile(r"/sign-in\?next="))  # signed out by the reset
    set_password(clinician, "dr.okafor", new_code, SECOND_PASSWORD)

    # An account locked by an earlier version: unlocked with the keyboard alone.
    with live.app.state.sessions.begin() as session:
        session.execute(
            update(UserRow)
            .where(UserRow.username == "dr.okafor")
            .values(locked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        )
    admin.goto(account_url)
    expect(admin.locator("dl.facts")).to_contain_text("Locked")
    tab_to(admin, "form[action$='/unlock'] button", limit=60)
    admin.keyboard.press("Enter")
    expect(admin.get_by_role("status")).to_contain_text("The account is unlocked")
    expect(admin.locator("dl.facts")).to_contain_text("Active")
    signs_in(clinician, "dr.okafor", SECOND_PASSWORD)
    clinician.wait_for_url("**/worklist")

    # The auditor: the admin's actions on that account, one entry, the export, the chain.
    auditor = open_page()
    sign_in(auditor, live.user(Role.AUDITOR), lands_on="/audit")
    auditor.get_by_label("User", exact=True).fill(admin_name)
    auditor.get_by_label("Action").fill("password-reset")
    auditor.get_by_role("button", name="Show").click()
    expect(auditor.locator("#audit-count")).to_have_text(
        re.compile(r"1 entry matches these filters\.")
    )
    entry_row = auditor.locator("table tbody tr")
    expect(entry_row).to_have_count(1)
    expect(entry_row).to_contain_text("dr.okafor")  # the account changed, by name
    axe(auditor)
    screenshot(auditor, "audit-log-filtered")
    with auditor.expect_download() as download:
        auditor.get_by_role("link", name="Export this entry as CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert [(r["actor_username"], r["action"], r["target_username"]) for r in rows] == [
        (admin_name, "password-reset", "dr.okafor")
    ]
    entry_row.get_by_role("link").first.click()
    expect(auditor.get_by_role("heading", level=1)).to_contain_text("Audit entry")
    expect(auditor.locator("dl.facts")).to_contain_text("password-reset")
    axe(auditor)
    screenshot(auditor, "audit-entry")
    # The export is in the log too.
    auditor.goto("/audit?action=audit-export")
    expect(auditor.locator("#audit-count")).to_contain_text("1 entry matches")
    auditor.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Chain verification"
    ).click()
    expect(auditor.locator("#chain-result")).to_contain_text("The chain holds.")
    axe(auditor)
    screenshot(auditor, "audit-chain")
