"""The admins' pages (issue 13, part 9): accounts listed and made, an account's role, care
teams, password reset, unlock, disable and enable; care teams made and their members. Each
change is audited naming the account (a team given to a clinician as "access-grant", a reset
as "password-reset"); refusals come back beside their field; no one but an admin opens these
pages, and an admin opens no clinical page. Signed in through the form, as a browser is; on
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import update

from cervixwatch.app import account_admin
from cervixwatch.store.models import Role, UserRow
from cervixwatch.web.pages.core import landing
from tests.pages.html import csp_clean, post_sign_in_form, sign_in
from tests.web.accounts import PASSWORD, make_user
from tests.web.api_builders import at, seed
from tests.web.test_audit_log import only_entry

NEW_PASSWORD = "a brand new passphrase of hers"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def csrf(client: TestClient) -> str:
    """The CSRF token of the signed-in browser (any page of hers carries it)."""
    page = client.get("/account")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def post(client: TestClient, path: str, **form: str | list[str]) -> Response:
    return client.post(path, data={"csrf_token": csrf(client), **form}, follow_redirects=False)


def user_id(client: TestClient, username: str) -> str:
    found = account_admin.user_id_of(client.app.state.sessions, username)  # type: ignore[attr-defined]
    assert found is not None
    return found


def code_of(page: Response) -> str:
    found = re.search(r'<code id="one-time-code">([^<]+)</code>', page.text)
    assert found, page.text[:1000]
    return found.group(1)


def admin(client: TestClient) -> None:
    sign_in(client, Role.ADMIN)


def test_an_admin_lands_on_the_accounts_and_finds_her_pages_in_the_header(
    browser: TestClient,
) -> None:
    username, _ = make_user(browser, Role.ADMIN)
    # Asked for a clinical page first, she still lands on a page she can use.
    form = browser.get("/sign-in", params={"next": "/worklist"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    signed_in = browser.post(
        "/sign-in",
        data={
            "csrf_token": token.group(1),
            "username": username,
            "password": PASSWORD,
            "next": "/worklist",
        },
        follow_redirects=False,
    )
    assert signed_in.headers["location"] == "/admin/users"
    accounts_page = browser.get("/admin/users")
    assert accounts_page.status_code == 200
    html = accounts_page.text
    csp_clean(html)
    assert '<a href="/admin/users">Accounts</a>' in html
    assert '<a href="/admin/teams">Care teams</a>' in html
    assert "/worklist" not in html
    found = browser.get("/admin/users", params={"q": username})
    assert f">{username}</a>" in found.text
    assert "1 account matches these filters." in found.text


def test_an_admin_makes_a_clinician_in_a_team_who_sets_her_own_password(
    browser: TestClient,
) -> None:
    admin(browser)
    team = unique("Team")
    made_team = post(browser, "/admin/teams", name=team)
    assert made_team.status_code == 303
    username = unique("dr")
    made = post(
        browser,
        "/admin/users/new",
        username=username,
        display_name="Dr Example",
        role="clinician",
        teams=[team],
    )
    assert made.status_code == 201, made.text[:2000]
    csp_clean(made.text)
    code = code_of(made)
    her_id = user_id(browser, username)
    entry = only_entry(browser, made)
    assert (entry.action, entry.target_user_id) == ("access-grant", her_id)
    # No password works until she sets hers with the code.
    her = TestClient(browser.app)
    assert post_sign_in_form(her, username, PASSWORD).status_code == 401
    answer = her.post(
        "/set-password",
        data={"username": username, "code": code, "password": NEW_PASSWORD, "again": NEW_PASSWORD},
    )
    assert "Your password is set" in answer.text
    assert post_sign_in_form(her, username, NEW_PASSWORD).headers["location"] == "/worklist"
    listed = browser.get("/admin/users", params={"q": username}).text
    assert team in listed
    assert "Active" in listed


def test_a_new_account_refused_comes_back_with_each_problem_beside_its_field(
    browser: TestClient,
) -> None:
    admin(browser)
    empty = post(browser, "/admin/users/new", username="", role="")
    assert empty.status_code == 422
    html = empty.text
    assert "There are 2 problems: no account was made" in html
    assert '<a href="#new-username">Enter a username.</a>' in html
    assert 'id="new-username-error"' in html
    assert 'aria-invalid="true"' in html
    assert "Choose a role." in html
    taken, _ = make_user(browser, Role.AUDITOR)
    again = post(browser, "/admin/users/new", username=taken, role="auditor")
    assert again.status_code == 409
    assert "That username is taken: choose another." in again.text
    assert f'value="{taken}"' in again.text  # what she typed is kept
    patient = post(browser, "/admin/users/new", username=unique("pt"), role="patient")
    assert "A patient&#39;s account needs the id of her record." in patient.text
    teams = post(
        browser, "/admin/users/new", username=unique("a"), role="admin", teams=["Some team"]
    )
    assert "Only clinicians belong to care teams" in teams.text
    no_such = post(
        browser, "/admin/users/new", username=unique("pt"), role="patient", patient_id="nobody"
    )
    assert no_such.status_code == 422
    assert "No such patient." in no_such.text
    # Without the sign-in's CSRF token nothing is made.
    forged = browser.post(
        "/admin/users/new", data={"username": unique("x"), "role": "admin"}, follow_redirects=False
    )
    assert forged.status_code == 403


def test_a_reset_gives_a_code_ends_her_password_and_her_sign_ins(browser: TestClient) -> None:
    admin(browser)
    username, _ = make_user(browser, Role.CLINICIAN, teams=("Test team",))
    her = TestClient(browser.app)
    assert post_sign_in_form(her, username, PASSWORD).status_code == 303
    assert her.get("/worklist").status_code == 200
    her_id = user_id(browser, username)
    reset = post(browser, f"/admin/users/{her_id}/reset-password")
    assert reset.status_code == 200
    assert "no longer works" in reset.text
    code = code_of(reset)
    entry = only_entry(browser, reset)
    assert (entry.action, entry.target_user_id, entry.path) == (
        "password-reset",
        her_id,
        f"/admin/users/{her_id}/reset-password",
    )
    assert username not in entry.path
    # Her sign-in has ended, and the old password no longer works.
    assert her.get("/worklist", follow_redirects=False).status_code == 303
    assert post_sign_in_form(her, username, PASSWORD).status_code == 401
    her.post(
        "/set-password",
        data={"username": username, "code": code, "password": NEW_PASSWORD, "again": NEW_PASSWORD},
    )
    assert post_sign_in_form(her, username, NEW_PASSWORD).status_code == 303
    page = browser.get(f"/admin/users/{her_id}").text
    assert "Set by her" in page


def test_an_admin_unlocks_a_locked_account(browser: TestClient) -> None:
    admin(browser)
    username, _ = make_user(browser, Role.CLINICIAN)
    her_id = user_id(browser, username)
    with browser.app.state.sessions.begin() as session:  # type: ignore[attr-defined]
        session.execute(
            update(UserRow)
            .where(UserRow.id == her_id)
            .values(locked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), failed_sign_ins=10)
        )
    page = browser.get(f"/admin/users/{her_id}").text
    assert 'class="badge state-locked">Locked<' in page
    assert "10 since the last right one" in page
    listed = browser.get("/admin/users", params={"q": username, "state": "locked"}).text
    assert f">{username}</a>" in listed
    unlocked = post(browser, f"/admin/users/{her_id}/unlock")
    assert unlocked.status_code == 303
    assert unlocked.headers["location"] == f"/admin/users/{her_id}?done=unlocked"
    entry = only_entry(browser, unlocked)
    assert (entry.action, entry.target_user_id) == ("user-admin", her_id)
    after = browser.get(unlocked.headers["location"]).text
    assert "The account is unlocked" in after
    assert 'class="badge state-active">Active<' in after
    assert post_sign_in_form(TestClient(browser.app), username, PASSWORD).status_code == 303


def test_disable_and_enable_and_an_admin_cannot_disable_herself(browser: TestClient) -> None:
    me, _ = make_user(browser, Role.ADMIN)
    post_sign_in_form(browser, me, PASSWORD)
    username, _ = make_user(browser, Role.AUDITOR)
    her_id = user_id(browser, username)
    disabled = post(browser, f"/admin/users/{her_id}/disable")
    assert disabled.status_code == 303
    assert only_entry(browser, disabled).target_user_id == her_id
    assert post_sign_in_form(TestClient(browser.app), username, PASSWORD).status_code == 401
    assert "Enable the account" in browser.get(f"/admin/users/{her_id}").text
    assert post(browser, f"/admin/users/{her_id}/enable").status_code == 303
    assert post_sign_in_form(TestClient(browser.app), username, PASSWORD).status_code == 303
    mine = user_id(browser, me)
    refused = post(browser, f"/admin/users/{mine}/disable")
    assert refused.status_code == 422
    assert "An admin cannot disable her own account." in refused.text
    assert only_entry(browser, refused).target_user_id == mine
    assert post(browser, "/admin/users/no-such-id/disable").status_code == 404


def test_a_role_change_ends_her_sign_ins_and_takes_her_out_of_her_teams(
    browser: TestClient,
) -> None:
    me, _ = make_user(browser, Role.ADMIN)
    post_sign_in_form(browser, me, PASSWORD)
    username, _ = make_user(browser, Role.CLINICIAN, teams=("Test team",))
    her = TestClient(browser.app)
    post_sign_in_form(her, username, PASSWORD)
    her_id = user_id(browser, username)
    changed = post(browser, f"/admin/users/{her_id}/role", role="auditor")
    assert changed.status_code == 303
    assert only_entry(browser, changed).target_user_id == her_id
    assert her.get("/worklist", follow_redirects=False).status_code == 303  # signed out
    page = browser.get(changed.headers["location"]).text
    assert "The role is changed." in page
    assert "<dd>Auditor</dd>" in page
    assert 'id="teams-title"' not in page  # no care teams for an auditor
    assert post_sign_in_form(her, username, PASSWORD).headers["location"] == "/audit"
    mine = user_id(browser, me)
    own = post(browser, f"/admin/users/{mine}/role", role="auditor")
    assert own.status_code == 422
    assert "An admin cannot change her own role." in own.text
    same = post(browser, f"/admin/users/{her_id}/role", role="auditor")
    assert "already has the auditor role" in same.text
    # A patient's account is linked to her record: it keeps its role.
    woman = seed(browser, "CW-ROLE-1", at("20+0"))
    patient, _ = make_user(browser, Role.PATIENT, patient_id=woman.patient_id)
    patient_id = user_id(browser, patient)
    page = browser.get(f"/admin/users/{patient_id}").text
    assert "keeps its role" in page
    assert f'action="/admin/users/{patient_id}/role"' not in page
    refused = post(browser, f"/admin/users/{patient_id}/role", role="clinician")
    assert refused.status_code == 422
    assert "A patient&#39;s account is linked to her record" in refused.text
    assert post(browser, f"/admin/users/{her_id}/role", role="patient").status_code == 422


def test_care_teams_made_and_their_members_added_and_removed(browser: TestClient) -> None:
    admin(browser)
    team = unique("Clinic")
    made = post(browser, "/admin/teams", name=team)
    assert made.status_code == 303
    team_page = made.headers["location"].split("?")[0]
    assert "The care team is made" in browser.get(made.headers["location"]).text
    assert team in browser.get("/admin/teams").text
    twice = post(browser, "/admin/teams", name=team)
    assert twice.status_code == 409
    assert "A care team has that name already" in twice.text
    assert post(browser, "/admin/teams", name="  ").status_code == 422
    username, _ = make_user(browser, Role.CLINICIAN)
    her_id = user_id(browser, username)
    added = post(browser, f"{team_page}/members", username=username)
    assert added.status_code == 303
    entry = only_entry(browser, added)
    assert (entry.action, entry.target_user_id) == ("access-grant", her_id)
    listed = browser.get(team_page).text
    assert f'href="/admin/users/{her_id}">{username}</a>' in listed
    auditor, _ = make_user(browser, Role.AUDITOR)
    refused = post(browser, f"{team_page}/members", username=auditor)
    assert refused.status_code == 422
    assert "Only clinicians belong to care teams." in refused.text
    unknown = post(browser, f"{team_page}/members", username=unique("nobody"))
    assert "No account has that username." in unknown.text
    removed = post(browser, f"{team_page}/members/remove", user_id=her_id)
    assert removed.status_code == 303
    assert only_entry(browser, removed).target_user_id == her_id
    assert username not in browser.get(team_page).text
    # From her account's page too: a grant of access.
    given = post(browser, f"/admin/users/{her_id}/teams", team=team)
    assert only_entry(browser, given).action == "access-grant"
    assert post(browser, f"/admin/users/{her_id}/teams/remove", team=team).status_code == 303
    assert browser.get("/admin/teams/no-such-team").status_code == 404


def test_only_admins_open_these_pages_and_admins_no_clinical_page(browser: TestClient) -> None:
    assert browser.get("/admin/users", follow_redirects=False).status_code == 303
    sign_in(browser, Role.CLINICIAN)
    for path in ("/admin/users", "/admin/users/new", "/admin/teams"):
        refused = browser.get(path)
        assert refused.status_code == 403, path
        assert "You do not have access to this page" in refused.text
    auditor = TestClient(browser.app)
    sign_in(auditor, Role.AUDITOR)
    assert auditor.get("/admin/users").status_code == 403
    admin_browser = TestClient(browser.app)
    sign_in(admin_browser, Role.ADMIN)
    assert admin_browser.get("/worklist").status_code == 403
    assert admin_browser.get("/audit").status_code == 403


def test_admins_and_auditors_go_back_only_to_pages_they_can_use() -> None:
    assert landing(Role.ADMIN, "/worklist") == "/admin/users"
    assert landing(Role.ADMIN, "/admin/teams") == "/admin/teams"
    assert landing(Role.ADMIN, "/account") == "/account"
    assert landing(Role.ADMIN, None) == "/admin/users"
    assert landing(Role.AUDITOR, "/audit?user=x") == "/audit?user=x"
    assert landing(Role.AUDITOR, "/auditing") == "/audit"
    assert landing(Role.AUDITOR, "/admin/users") == "/audit"
    assert landing(Role.CLINICIAN, "/pregnancies/p1") == "/pregnancies/p1"
    assert landing(Role.PATIENT, None) == "/my"
