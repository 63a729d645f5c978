"""Notifications of red-flag symptom reports (issue 13, part 1), end to end on real
components: the app on SQLite and PostgreSQL, a real SMTP server (aiosmtpd) and a real
webhook receiver that checks the HMAC signature.

- a red-flag report, however it arrives (her own report, a FHIR import), reaches the team by
  e-mail and webhook, audited; a report with no red flag notifies no one;
- a receiver that fails twice gets the notification on the third attempt, each attempt
  recorded; one that never answers is given up after the last attempt;
- a report not reviewed in time gets one escalation; a reviewed one none;
- a report rolled back, or a Bundle refused, sends nothing;
- two dispatchers at once deliver each notification once.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cervixwatch.app import notifications
from cervixwatch.app.notify_dispatch import NotifyConfig, retry_delay
from cervixwatch.store import transaction
from cervixwatch.store.models import (
    AuditEventRow,
    DeliveryStatus,
    NotificationAttemptRow,
    NotificationDeliveryRow,
    NotificationKind,
    NotificationRow,
    NotifyChannel,
    NotifyReceives,
    Role,
    SymptomReportRow,
)
from tests import fhir_builders as fb
from tests.notify.conftest import BASE_URL, SECRET, Receiver, SmtpServer, dispatch
from tests.web.accounts import TEAM, bearer, make_user
from tests.web.api_builders import ok, woman
from tests.web.conftest import TODAY
from tests.web.fhir_client import post_bundle

TEAM_MAIL = "preterm-team@hospital.test"
ON_CALL_MAIL = "consultant-on-call@hospital.test"


def _sessions(client: TestClient) -> Any:
    return client.app.state.sessions  # type: ignore[attr-defined]


def _contacts(client: TestClient, webhook: Receiver | None = None) -> None:
    sessions = _sessions(client)
    notifications.add_contact(sessions, TEAM, NotifyChannel.EMAIL, TEAM_MAIL)
    notifications.add_contact(
        sessions,
        TEAM,
        NotifyChannel.EMAIL,
        ON_CALL_MAIL,
        receives=NotifyReceives.ESCALATIONS,
    )
    if webhook is not None:
        notifications.add_contact(sessions, TEAM, NotifyChannel.WEBHOOK, webhook.url, secret=SECRET)


def _report(client: TestClient, pregnancy_id: str, *present: str, token: str | None = None) -> int:
    body = {"reported_on": TODAY.isoformat(), "present": list(present)}
    headers = bearer(token) if token else None
    created = ok(
        client.post(f"/api/pregnancies/{pregnancy_id}/symptom-reports", json=body, headers=headers),
        201,
    )
    return int(created["id"])


def _rows(client: TestClient, table: Any) -> list[Any]:
    with _sessions(client)() as session:
        return list(session.scalars(select(table).order_by(table.id)))


def _audit(client: TestClient, action: str) -> list[AuditEventRow]:
    with _sessions(client)() as session:
        return list(
            session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.action == action)
                .order_by(AuditEventRow.id)
            )
        )


def test_her_red_flag_report_reaches_the_team_by_email_and_webhook(
    client: TestClient, smtp: SmtpServer, webhook: Receiver, config: NotifyConfig
) -> None:
    _contacts(client, webhook)
    patient_id, pregnancy_id = woman(client, "NTF-1001", family_name="Notifiable")
    _, her_token = make_user(client, Role.PATIENT, patient_id=patient_id)
    audit_before = len(_audit(client, "notify"))

    report_id = _report(client, pregnancy_id, "bleeding", token=her_token)
    run = dispatch(client, config)

    assert run.sent == 2, run  # the team's address and the webhook; not the on-call's
    [(recipients, mail)] = smtp.mailbox.received()
    assert recipients == [TEAM_MAIL]
    subject = str(mail["Subject"])
    assert subject == "CervixWatch: an urgent symptom report to review"
    for private in ("NTF-1001", "Notifiable", "bleeding"):
        assert private not in subject
    text = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Hospital number: NTF-1001" in text
    assert f"{BASE_URL}/pregnancies/{pregnancy_id}" in text
    assert "Notifiable" not in text
    assert "bleeding" not in text
    [hook] = webhook.accepted
    assert webhook.refused_signatures == 0
    assert hook.body["event"] == "red-flag-report"
    assert hook.body["symptom_report_id"] == report_id
    assert hook.body["hospital_number"] == "NTF-1001"
    assert hook.body["url"] == f"{BASE_URL}/pregnancies/{pregnancy_id}"
    assert "bleeding" not in orjson.dumps(hook.body).decode()
    # Each delivery sent once, its attempt recorded and audited against her.
    deliveries = _rows(client, NotificationDeliveryRow)
    assert {(d.channel, d.status, d.attempts) for d in deliveries} == {
        (NotifyChannel.EMAIL, DeliveryStatus.SENT, 1),
        (NotifyChannel.WEBHOOK, DeliveryStatus.SENT, 1),
    }
    assert [a.sent for a in _rows(client, NotificationAttemptRow)] == [True, True]
    entries = _audit(client, "notify")[audit_before:]
    assert {(e.method, e.outcome.value, e.patient_id) for e in entries} == {
        ("EMAIL", "success", patient_id),
        ("WEBHOOK", "success", patient_id),
    }
    # Nothing more to send: a second run sends nothing again.
    assert dispatch(client, config).sent == 0
    assert len(smtp.mailbox.received()) == 1
    assert len(webhook.accepted) == 1


def test_a_report_without_a_red_flag_notifies_no_one(
    client: TestClient, smtp: SmtpServer, config: NotifyConfig
) -> None:
    _contacts(client)
    _, pregnancy_id = woman(client, "NTF-1002")
    _report(client, pregnancy_id, "backache", "cramping")
    assert dispatch(client, config).sent == 0
    assert smtp.mailbox.received() == []
    assert _rows(client, NotificationRow) == []


def test_a_fhir_import_of_a_red_flag_report_notifies_once(
    client: TestClient, smtp: SmtpServer, config: NotifyConfig
) -> None:
    _contacts(client)
    bundle = fb.bundle(fb.edd(), fb.symptom_report("2026-03-01", fluid_leak=True))
    ok(post_bundle(client, bundle))
    ok(post_bundle(client, bundle))  # sent again: the same report, not notified twice
    assert dispatch(client, config).sent == 1
    assert [r for r, _ in smtp.mailbox.received()] == [[TEAM_MAIL]]
    [notification] = _rows(client, NotificationRow)
    assert notification.kind is NotificationKind.RED_FLAG_REPORT


def test_a_refused_bundle_or_a_rolled_back_report_sends_nothing(
    client: TestClient, smtp: SmtpServer, config: NotifyConfig
) -> None:
    _contacts(client)
    # Refused whole: a finding dated after today, beside a red-flag report.
    late = (TODAY + dt.timedelta(days=3)).isoformat()
    refused = fb.bundle(
        fb.edd(), fb.symptom_report("2026-03-01", bleeding=True), fb.cervical_length(20, late)
    )
    assert post_bundle(client, refused).status_code == 422
    # Queued in a transaction that then fails: the report and its notification go together.
    _, pregnancy_id = woman(client, "NTF-1003")
    sessions = _sessions(client)
    try:
        with transaction(sessions) as session:
            session.add(
                SymptomReportRow(
                    pregnancy_id=pregnancy_id,
                    reported_on=TODAY,
                    present=["bleeding"],
                    absent=[],
                    source="form",
                )
            )
            session.flush()
            assert notifications.queue_red_flag_notifications(session, pregnancy_id)
            raise RuntimeError("the write fails after the report was queued")
    except RuntimeError:
        pass
    assert dispatch(client, config).sent == 0
    assert smtp.mailbox.received() == []
    assert _rows(client, NotificationRow) == []
    assert _rows(client, SymptomReportRow) == []


def test_a_receiver_failing_twice_gets_it_on_the_third_attempt(
    client: TestClient, webhook: Receiver, config: NotifyConfig
) -> None:
    notifications.add_contact(
        _sessions(client), TEAM, NotifyChannel.WEBHOOK, webhook.url, secret=SECRET
    )
    patient_id, pregnancy_id = woman(client, "NTF-1004")
    webhook.fail_next = 2
    _report(client, pregnancy_id, "contractions")
    first = dispatch(client, config)
    deadline = time.monotonic() + 10
    while not webhook.accepted and time.monotonic() < deadline:
        time.sleep(0.02)  # past the back-off
        dispatch(client, config)
    assert first.sent + first.retrying >= 1
    assert webhook.failed == 2
    assert len(webhook.accepted) == 1
    [delivery] = _rows(client, NotificationDeliveryRow)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 3)
    attempts = _rows(client, NotificationAttemptRow)
    assert [(a.sent, a.detail) for a in attempts] == [
        (False, "HTTP 500"),
        (False, "HTTP 500"),
        (True, None),
    ]
    audited = [(e.outcome.value, e.status) for e in _audit(client, "notify")]
    assert audited[-3:] == [("failed", 500), ("failed", 500), ("success", 204)]
    assert all(e.patient_id == patient_id for e in _audit(client, "notify")[-3:])


def test_an_address_that_never_answers_is_given_up_after_the_last_attempt(
    client: TestClient, config: NotifyConfig
) -> None:
    closed = f"http://127.0.0.1:{_closed_port()}/nobody"
    notifications.add_contact(_sessions(client), TEAM, NotifyChannel.WEBHOOK, closed, secret=SECRET)
    _, pregnancy_id = woman(client, "NTF-1005")
    _report(client, pregnancy_id, "fever")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        dispatch(client, config)
        [delivery] = _rows(client, NotificationDeliveryRow)
        if delivery.status is DeliveryStatus.FAILED:
            break
        time.sleep(0.02)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, config.max_attempts)
    assert notifications.notification_counts(client.app.state.engine).failed == 1  # type: ignore[attr-defined]
    assert [e.outcome.value for e in _audit(client, "notify")][-1] == "failed"


def _closed_port() -> int:
    from tests.notify.conftest import free_port

    return free_port()  # bound and closed again: nothing listens there


def test_back_off_doubles_up_to_the_longest_wait() -> None:
    config = NotifyConfig(retry_seconds=30, retry_max_seconds=300)
    assert [retry_delay(config, n).total_seconds() for n in (1, 2, 3, 4, 5, 6)] == [
        30,
        60,
        120,
        240,
        300,
        300,
    ]


def test_an_unreviewed_report_is_escalated_once_and_a_reviewed_one_not(
    client: TestClient, smtp: SmtpServer, config: NotifyConfig
) -> None:
    _contacts(client)
    notifications.set_escalation(_sessions(client), TEAM, 30)
    _, waiting = woman(client, "NTF-1006")
    _, seen = woman(client, "NTF-1007")
    _report(client, waiting, "bleeding")
    seen_report = _report(client, seen, "bleeding")
    assert dispatch(client, config).sent == 2  # the first notices
    ok(
        client.post(f"/api/symptom-reports/{seen_report}/reviews", json={"outcome": "admitted"}),
        201,
    )

    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=29)
    assert dispatch(client, config, clock=lambda: soon).escalated == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31)
    run = dispatch(client, config, clock=lambda: later)
    assert (run.escalated, run.sent) == (1, 2)  # the team and the consultant on call
    assert dispatch(client, config, clock=lambda: later + dt.timedelta(hours=1)).escalated == 0

    escalations = [
        (to, m) for to, m in smtp.mailbox.received() if "ESCALATION" in str(m["Subject"])
    ]
    assert sorted(to[0] for to, _ in escalations) == sorted([TEAM_MAIL, ON_CALL_MAIL])
    text = escalations[0][1].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Hospital number: NTF-1006" in text
    assert "no clinician has recorded a review of it 31 minutes after" in text
    assert f"/pregnancies/{waiting}" in text
    kinds = [(n.pregnancy_id, n.kind) for n in _rows(client, NotificationRow)]
    assert (waiting, NotificationKind.ESCALATION) in kinds
    assert (seen, NotificationKind.ESCALATION) not in kinds
    assert len(_audit(client, "notify-escalation")) >= 2


def test_without_an_escalation_setting_there_is_no_escalation(
    client: TestClient, smtp: SmtpServer, config: NotifyConfig
) -> None:
    _contacts(client)
    _, pregnancy_id = woman(client, "NTF-1008")
    _report(client, pregnancy_id, "bleeding")
    much_later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    assert dispatch(client, config, clock=lambda: much_later).escalated == 0
    # The site's setting applies to a team with none of its own.
    site = NotifyConfig(**{**_fields(config), "escalate_after_minutes": 60})
    assert dispatch(client, site, clock=lambda: much_later).escalated == 1


def _fields(config: NotifyConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in config.__dataclass_fields__}


def test_two_dispatchers_at_once_deliver_each_notification_once(
    client: TestClient, webhook: Receiver, config: NotifyConfig
) -> None:
    notifications.add_contact(
        _sessions(client), TEAM, NotifyChannel.WEBHOOK, webhook.url, secret=SECRET
    )
    reports = 12
    for n in range(reports):
        _, pregnancy_id = woman(client, f"NTF-2{n:03d}")
        _report(client, pregnancy_id, "bleeding")
    webhook.delay = 0.05  # so the two runs overlap
    small_batches = NotifyConfig(**{**_fields(config), "batch": 3})
    runs: list[Any] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        runs.append(dispatch(client, small_batches))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    delivered = [d.body["notification_id"] for d in webhook.accepted]
    assert sorted(delivered) == sorted(set(delivered))
    assert len(delivered) == reports
    assert sum(r.sent for r in runs) == reports
    with _sessions(client)() as session:
        attempts = session.scalar(select(func.count()).select_from(NotificationAttemptRow))
    assert attempts == reports


def test_the_server_delivers_by_itself(engine: Any, smtp: SmtpServer) -> None:
    """Each worker runs the dispatcher in a thread (`cervixwatch serve`): a report arrives,
    and the e-mail follows without anyone running a command."""
    from cervixwatch.web.app import create_app
    from tests.store.tables import delete_everything
    from tests.web.accounts import sign_in_as_clinician, test_settings

    delete_everything(engine)
    settings = test_settings(
        engine,
        public_base_url=BASE_URL,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_starttls=False,
        notify_interval_seconds=0.05,
    )
    try:
        with TestClient(create_app(settings, today=lambda: TODAY)) as served:
            sign_in_as_clinician(served)
            notifications.add_contact(_sessions(served), TEAM, NotifyChannel.EMAIL, TEAM_MAIL)
            _, pregnancy_id = woman(served, "NTF-4001")
            _report(served, pregnancy_id, "bleeding")
            deadline = time.monotonic() + 10
            while not smtp.mailbox.received() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [to for to, _ in smtp.mailbox.received()] == [[TEAM_MAIL]]
    finally:
        delete_everything(engine)


def test_the_mail_server_is_logged_in_to_when_credentials_are_set(
    client: TestClient, config: NotifyConfig
) -> None:
    """A server that offers a login gets the configured one (AUTH over the test server's
    plain connection: STARTTLS is the default in production, off here for want of a
    certificate the client would trust); a wrong password is a failed attempt."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    from tests.notify.conftest import Mailbox, free_port

    def authenticate(
        _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any
    ) -> AuthResult:
        good = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"cervixwatch",
            b"mail-password",
        )
        return AuthResult(success=good)

    mailbox = Mailbox()
    port = free_port()
    server = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    server.start()
    try:
        notifications.add_contact(_sessions(client), TEAM, NotifyChannel.EMAIL, TEAM_MAIL)
        _, pregnancy_id = woman(client, "NTF-5001")
        _report(client, pregnancy_id, "bleeding")
        wrong = NotifyConfig(
            **{
                **_fields(config),
                "smtp_port": port,
                "smtp_username": "cervixwatch",
                "smtp_password": "not-it",
                "retry_seconds": 0.001,
            }
        )
        assert dispatch(client, wrong).retrying == 1
        assert mailbox.received() == []
        time.sleep(0.01)
        right = NotifyConfig(**{**_fields(wrong), "smtp_password": "mail-password"})
        assert dispatch(client, right).sent == 1
        assert [to for to, _ in mailbox.received()] == [[TEAM_MAIL]]
        attempts = _rows(client, NotificationAttemptRow)
        # Refused (535, or the connection closed after the refused mechanisms).
        assert [a.sent for a in attempts] == [False, True]
        assert (attempts[0].detail or "").startswith("SMTP")
    finally:
        server.stop()
