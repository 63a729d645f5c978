"""The auditors' pages (issue 13, part 9): the audit log filtered by woman, user, action,
outcome and days, a page at a time; one entry; the CSV export (itself audited, its cells
never a spreadsheet formula); the hash chain verified against the kept checkpoints, a break
named. Only auditors read them. Signed in through the form; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cervixwatch.app import accounts
from cervixwatch.store.audit_chain import checkpoint_engine, seal_engine
from cervixwatch.store.models import Role
from cervixwatch.web.app import create_app
from cervixwatch.web.pages.audit_log import CSV_COLUMNS
from tests.pages.html import csp_clean, post_sign_in_form, sign_in
from tests.store.tables import delete_everything
from tests.web.accounts import PASSWORD, bearer, make_user, test_settings
from tests.web.conftest import TODAY
from tests.web.test_audit_log import only_entry


@pytest.fixture
def checkpoints(tmp_path: Path) -> Path:
    return tmp_path / "audit-checkpoints.jsonl"


@pytest.fixture
def auditing(engine: Engine, checkpoints: Path) -> Iterator[TestClient]:
    """A browser on an app whose file of audit checkpoints is `checkpoints`."""
    delete_everything(engine)
    settings = test_settings(engine, audit_checkpoints=checkpoints)
    with TestClient(create_app(settings, today=lambda: TODAY)) as client:
        yield client
    delete_everything(engine)


def entry_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<a href="/audit/(\d+)">', html)]


def clinician_at_work(client: TestClient) -> tuple[str, str]:
    """A clinician who searched her worklist twice and was refused the admin API once:
    (username, user id)."""
    username, token = make_user(client, Role.CLINICIAN, teams=("Test team",))
    for _ in range(2):
        assert client.get("/api/worklist", headers=bearer(token)).status_code == 200
    assert client.get("/api/admin/users", headers=bearer(token)).status_code == 403
    me = client.get("/auth/me", headers=bearer(token)).json()
    return username, me["id"]


def test_an_auditor_filters_the_log_and_reads_an_entry(
    auditing: TestClient, engine: Engine
) -> None:
    username, her_id = clinician_at_work(auditing)
    _, admin = make_user(auditing, Role.ADMIN)
    changed = auditing.patch(
        f"/api/admin/users/{username}", json={"unlock": True}, headers=bearer(admin)
    )
    assert changed.status_code == 200
    auditor, _ = make_user(auditing, Role.AUDITOR)
    assert post_sign_in_form(auditing, auditor, PASSWORD).headers["location"] == "/audit"
    page = auditing.get("/audit", params={"user": username})
    assert page.status_code == 200
    html = page.text
    csp_clean(html)
    assert '<a href="/audit">Audit log</a>' in html
    assert "3 entries match these filters." in html
    assert html.count(f'{username} <span class="muted">(clinician)</span>') == 3
    # The auditor's read is itself an entry.
    assert only_entry(auditing, page).action == "audit-read"
    # By user id too (the log keeps the ids of deleted accounts).
    assert "3 entries match" in auditing.get("/audit", params={"user": her_id}).text
    denied = auditing.get("/audit", params={"user": username, "outcome": "denied"}).text
    assert "1 entry matches these filters." in denied
    assert "/api/admin/users" in denied
    # The changes made to her account, by whoever made them.
    changes = auditing.get("/audit", params={"account": username}).text
    assert "1 entry matches these filters." in changes
    assert "/api/admin/users/{username}" in changes
    searches = auditing.get("/audit", params={"user": username, "action": "search"}).text
    assert "2 entries match" in searches
    today = dt.datetime.now(dt.UTC).date()
    days = {"user": username, "since": today.isoformat(), "until": today.isoformat()}
    assert "3 entries match" in auditing.get("/audit", params=days).text
    before = {"user": username, "until": (today - dt.timedelta(days=1)).isoformat()}
    assert "No entries match these filters." in auditing.get("/audit", params=before).text
    # One entry, every field, named; its hashes once it is sealed (on PostgreSQL by the
    # server's sealer, about a second after it was written: done here at once).
    first = entry_ids(denied)[0]
    seal_engine(engine)
    entry = auditing.get(f"/audit/{first}").text
    assert f"Audit entry {first}" in entry
    assert username in entry
    assert her_id in entry
    assert "Denied" in entry
    assert "(HTTP 403)" in entry
    assert re.search(r'<code class="hash">[0-9a-f]{64}</code>', entry)
    assert auditing.get("/audit/999999999").status_code == 404
    assert auditing.get("/audit/not-a-number").status_code == 404


def test_filters_that_cannot_be_read_are_named_and_pages_stay_in_range(
    auditing: TestClient,
) -> None:
    sign_in(auditing, Role.AUDITOR)
    bad = auditing.get("/audit", params={"since": "2026-13-01", "outcome": "maybe"})
    assert bad.status_code == 422
    assert '<a href="#audit-since">Enter a date as YYYY-MM-DD.</a>' in bad.text
    assert '<a href="#audit-outcome">Choose an outcome from the list.</a>' in bad.text
    assert 'value="2026-13-01"' in bad.text
    backwards = auditing.get("/audit", params={"since": "2026-03-02", "until": "2026-03-01"})
    assert "The last day must not be before the first day." in backwards.text
    # More than a page of entries: the first page, the last, never one past it.
    _, token = make_user(auditing, Role.CLINICIAN, teams=("Test team",))
    for _ in range(51):
        auditing.get("/api/worklist", headers=bearer(token))
    me = auditing.get("/auth/me", headers=bearer(token)).json()["id"]
    first = auditing.get("/audit", params={"user": me, "page": "0"}).text
    assert "showing 1 to 50, page 1 of 2" in first
    assert 'rel="next"' in first
    past = auditing.get("/audit", params={"user": me, "page": "99"}).text
    assert "51 entries match these filters; showing 51, page 2 of 2." in past
    assert len(entry_ids(past)) == 1


def test_the_export_is_the_filtered_log_as_csv_and_is_itself_audited(
    auditing: TestClient, engine: Engine
) -> None:
    sessions = auditing.app.state.sessions  # type: ignore[attr-defined]
    formula = "=HYPERLINK(1)"
    accounts.add_user(sessions, formula, Role.CLINICIAN, password=PASSWORD, teams=("Test team",))
    token = accounts.issue_token(sessions, formula, "tests", days=1).secret
    auditing.get("/api/worklist", headers=bearer(token))
    sign_in(auditing, Role.AUDITOR)
    log = auditing.get("/audit", params={"user": formula}).text
    assert 'href="/audit/export.csv?user=%3DHYPERLINK%281%29"' in log
    seal_engine(engine)
    export = auditing.get("/audit/export.csv", params={"user": formula})
    assert export.status_code == 200
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    assert export.headers["content-disposition"].startswith("attachment; filename=")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert len(rows) == 1
    assert rows[0]["actor_username"] == "'" + formula  # never run as a formula
    assert (rows[0]["action"], rows[0]["outcome"], rows[0]["status"]) == (
        "search",
        "success",
        "200",
    )
    assert re.fullmatch(r"[0-9a-f]{64}", rows[0]["entry_hash"])
    written = only_entry(auditing, export)
    assert (written.action, written.outcome.value) == ("audit-export", "success")


def test_the_chain_is_verified_through_the_kept_checkpoints_and_a_break_named(
    auditing: TestClient, checkpoints: Path
) -> None:
    sign_in(auditing, Role.AUDITOR)
    log = auditing.get("/audit").text
    assert "No checkpoint found in the server's file of checkpoints." in log
    holds = auditing.get("/audit/chain")
    assert holds.status_code == 200
    assert "The chain holds." in holds.text
    assert "the file of checkpoints cannot be read" in holds.text  # not written yet
    engine = auditing.app.state.engine  # type: ignore[attr-defined]
    kept = checkpoint_engine(engine, dt.datetime.now(dt.UTC))
    checkpoints.write_bytes(kept.to_json() + b"\n")
    log = auditing.get("/audit").text
    assert f"at entry {kept.entry_id} ({kept.entries} entries)" in log
    verified = auditing.get("/audit/chain").text
    assert "The chain holds." in verified
    assert "through 1 kept checkpoint" in verified
    # A checkpoint that names another hash for that entry: the log was rewritten.
    forged = orjson.loads(kept.to_json()) | {"entry_hash": "f" * 64}
    checkpoints.write_bytes(orjson.dumps(forged) + b"\n")
    broken = auditing.get("/audit/chain").text
    assert f"The chain is broken at entry {kept.entry_id}." in broken
    assert "the chain was rewritten" in broken
    assert 'role="alert" id="chain-result"' in broken
    checkpoints.write_text("not a checkpoint\n", encoding="utf-8")
    assert "the file of checkpoints is not one: line 1" in auditing.get("/audit/chain").text


def test_only_auditors_read_the_log(auditing: TestClient) -> None:
    for path in ("/audit", "/audit/chain", "/audit/export.csv", "/audit/1"):
        assert auditing.get(path, follow_redirects=False).status_code == 303, path
    sign_in(auditing, Role.ADMIN)
    for path in ("/audit", "/audit/chain", "/audit/export.csv", "/audit/1"):
        assert auditing.get(path).status_code == 403, path
    clinician = TestClient(auditing.app)
    sign_in(clinician, Role.CLINICIAN)
    assert clinician.get("/audit").status_code == 403
    assert clinician.get("/audit/export.csv").status_code == 403
    auditor = TestClient(auditing.app)
    sign_in(auditor, Role.AUDITOR)
    assert auditor.get("/worklist").status_code == 403
    assert auditor.get("/admin/users").status_code == 403
