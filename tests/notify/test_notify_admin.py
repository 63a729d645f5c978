"""Where notifications go, managed by an admin through the JSON API and through
`cervixwatch notify ...`: secrets are taken but never answered, printed or echoed in a
refusal; bad input is refused naming the field; only admins may; each call is audited. And
`cervixwatch notify --once` delivers what is due, as cron would run it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner, Result

from cervixwatch.cli import app as cli
from cervixwatch.store.models import AuditEventRow, Role
from tests.notify.conftest import SECRET, Receiver, SmtpServer
from tests.web.accounts import TEAM, bearer, make_user
from tests.web.api_builders import ok, woman
from tests.web.conftest import TODAY

runner = CliRunner()


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    _, token = make_user(client, Role.ADMIN)
    return bearer(token)


def _contacts_url(team: str = TEAM) -> str:
    return f"/api/admin/notifications/{team}/contacts"


def test_an_admin_adds_lists_and_removes_contacts_and_never_sees_a_secret(
    client: TestClient, admin: dict[str, str], webhook: Receiver
) -> None:
    email = ok(
        client.post(
            _contacts_url(),
            json={"channel": "email", "address": "team@hospital.test"},
            headers=admin,
        ),
        201,
    )
    hook = ok(
        client.post(
            _contacts_url(),
            json={
                "channel": "webhook",
                "address": webhook.url,
                "secret": SECRET,
                "receives": "escalations",
            },
            headers=admin,
        ),
        201,
    )
    assert SECRET not in str(hook)
    assert hook["has_secret"] is True
    escalation = client.put(
        f"/api/admin/notifications/{TEAM}/escalation",
        json={"escalate_after_minutes": 45},
        headers=admin,
    )
    assert escalation.status_code == 204, escalation.text
    listed = ok(client.get("/api/admin/notifications", headers=admin))
    [team] = [t for t in listed if t["team"] == TEAM]
    assert team["escalate_after_minutes"] == 45
    assert [(c["channel"], c["receives"]) for c in team["contacts"]] == [
        ("email", "all"),
        ("webhook", "escalations"),
    ]
    assert SECRET not in client.get("/api/admin/notifications", headers=admin).text
    assert client.delete(f"{_contacts_url()}/{email['id']}", headers=admin).status_code == 204
    assert client.delete(f"{_contacts_url()}/{email['id']}", headers=admin).status_code == 404
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        actions = session.scalars(
            select(AuditEventRow.action).where(AuditEventRow.action == "notify-admin")
        ).all()
    assert len(actions) >= 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "email", "address": "not an address"}, "address"),
        ({"channel": "webhook", "address": "ftp://gateway.test/x", "secret": SECRET}, "address"),
        ({"channel": "webhook", "address": "https://gateway.test/x"}, "secret"),
        ({"channel": "webhook", "address": "https://gateway.test/x", "secret": "short"}, "secret"),
        ({"channel": "email", "address": "team@hospital.test", "secret": SECRET}, "secret"),
        ({"channel": "webhook", "address": "https://gateway.test/x", "secret": 12345}, "secret"),
    ],
)
def test_a_bad_contact_is_refused_naming_the_field_without_its_secret(
    client: TestClient, admin: dict[str, str], body: dict[str, object], field: str
) -> None:
    answer = client.post(_contacts_url(), json=body, headers=admin)
    assert answer.status_code == 422, answer.text
    assert field in answer.text
    assert SECRET not in answer.text
    assert "12345" not in answer.text


def test_a_secret_is_not_echoed_when_the_body_is_refused_by_its_model(
    client: TestClient, admin: dict[str, str]
) -> None:
    answer = client.post(
        _contacts_url(), json={"channel": "pager", "secret": SECRET}, headers=admin
    )
    assert answer.status_code == 422
    assert SECRET not in answer.text


def test_only_admins_manage_contacts(client: TestClient) -> None:
    # `client` acts for a clinician of the team.
    assert client.get("/api/admin/notifications").status_code == 403
    answer = client.post(_contacts_url(), json={"channel": "email", "address": "a@b.test"})
    assert answer.status_code == 403
    assert (
        client.post(
            _contacts_url("No such team"),
            json={"channel": "email", "address": "a@b.test"},
            headers=bearer(make_user(client, Role.ADMIN)[1]),
        ).status_code
        == 404
    )


def _notify(engine: Engine, *args: str, input: str | None = None) -> Result:
    url = engine.url.render_as_string(hide_password=False)
    return runner.invoke(cli, ["notify", *args, "--database-url", url], input=input)


def test_the_command_line_manages_contacts_and_delivers_once(
    client: TestClient,
    engine: Engine,
    smtp: SmtpServer,
    webhook: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    added = _notify(engine, "contact-add", TEAM, "--email", "team@hospital.test")
    assert added.exit_code == 0, added.output
    hooked = _notify(
        engine, "contact-add", TEAM, "--webhook", webhook.url, "--secret-stdin", input=SECRET + "\n"
    )
    assert hooked.exit_code == 0, hooked.output
    refused = _notify(engine, "contact-add", TEAM, "--email", "nobody")
    assert refused.exit_code == 2
    assert "--email/--webhook" in refused.stderr
    assert _notify(engine, "escalation", TEAM, "--minutes", "20").exit_code == 0
    listed = _notify(engine, "contacts")
    assert listed.exit_code == 0, listed.output
    assert "team@hospital.test" in listed.stdout
    assert "escalation after 20 min" in listed.stdout
    assert SECRET not in listed.stdout + hooked.stdout

    _, pregnancy_id = woman(client, "NTF-3001")
    body = {"reported_on": TODAY.isoformat(), "present": ["fluid-leak"]}
    ok(client.post(f"/api/pregnancies/{pregnancy_id}/symptom-reports", json=body), 201)
    for name, value in {
        "SMTP_HOST": smtp.host,
        "SMTP_PORT": str(smtp.port),
        "SMTP_STARTTLS": "false",
        "PUBLIC_BASE_URL": "https://cervixwatch.hospital.test",
    }.items():
        monkeypatch.setenv(f"CERVIXWATCH_{name}", value)
    once = _notify(engine, "--once")
    assert once.exit_code == 0, once.output
    assert "sent 2" in once.stdout
    listed_deliveries = _notify(engine, "deliveries")
    assert listed_deliveries.exit_code == 0, listed_deliveries.output
    assert listed_deliveries.stdout.count("  sent ") == 2
    assert len(smtp.mailbox.received()) == 1
    assert len(webhook.accepted) == 1


def test_an_admin_reads_what_was_sent_and_what_failed(
    client: TestClient, admin: dict[str, str], webhook: Receiver, smtp: SmtpServer
) -> None:
    from cervixwatch.app.notify_dispatch import NotifyConfig, dispatch_once

    for body in (
        {"channel": "email", "address": "team@hospital.test"},
        {"channel": "webhook", "address": webhook.url, "secret": SECRET},
    ):
        ok(client.post(_contacts_url(), json=body, headers=admin), 201)
    _, pregnancy_id = woman(client, "NTF-3101", family_name="Listedname")
    report = {"reported_on": TODAY.isoformat(), "present": ["bleeding"]}
    ok(client.post(f"/api/pregnancies/{pregnancy_id}/symptom-reports", json=report), 201)
    webhook.fail_next = 1
    config = NotifyConfig(smtp_host=smtp.host, smtp_port=smtp.port, smtp_starttls=False)
    dispatch_once(client.app.state.sessions, config)  # type: ignore[attr-defined]

    answer = client.get("/api/admin/notifications/deliveries", headers=admin)
    listed = {d["channel"]: d for d in ok(answer)}
    assert listed["email"]["status"] == "sent"
    assert listed["email"]["last_error"] is None
    assert listed["webhook"]["status"] == "pending"
    assert listed["webhook"]["last_error"] == "HTTP 500"
    assert listed["webhook"]["next_attempt_at"] is not None
    assert {d["pregnancy_id"] for d in listed.values()} == {pregnancy_id}
    assert "Listedname" not in answer.text
    assert "NTF-3101" not in answer.text
    assert SECRET not in answer.text
    assert client.get("/api/admin/notifications/deliveries").status_code == 403
    too_many = client.get("/api/admin/notifications/deliveries?limit=100000", headers=admin)
    assert too_many.status_code == 422
