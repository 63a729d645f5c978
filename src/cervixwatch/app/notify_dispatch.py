"""Delivering the queued notifications (issue 13, part 1): by e-mail (SMTP, the standard
library's smtplib) and by signed webhook (an HTTP POST, httpx2).

One run (`dispatch_once`) first queues the escalations that have come due
(`notifications.queue_escalations`), then, batch by batch, claims the deliveries due
(`store.notifications.claim_due`: locked with SKIP LOCKED on PostgreSQL, marked `sending`
and committed), sends each outside any transaction, and records the attempt in a transaction
of its own: the attempt's row, the delivery's new state (sent; or due again after a back-off
that doubles with each failed attempt; or failed once its attempts are spent) and an audit
entry (action `notify` or `notify-escalation`, the woman's id, outcome success or failed).

At most once per channel and recipient: a delivery is one row (unique per notification,
channel and recipient) and only the dispatcher holding its claim sends it, so two server
workers, or a server and `cervixwatch notify --once` from cron, never both send it. A
dispatcher that dies between sending and recording leaves its claim to lapse
(`claim_seconds`) and the delivery is sent again: an urgent notice sent twice is better than
one lost.

An escalation whose report has been reviewed by the time it is due to go is cancelled, not
sent; so is a delivery whose contact was removed.

`Notifier` runs `dispatch_once` every few seconds in a thread of each server worker
(`cervixwatch serve`); the claims make that safe with any number of workers.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Final

import httpx2
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.notifications import queue_escalations
from cervixwatch.app.notify_messages import email_message, webhook_request
from cervixwatch.settings import Settings
from cervixwatch.store import notifications as store
from cervixwatch.store import transaction
from cervixwatch.store.audit import AuditEntry
from cervixwatch.store.audit import append as append_audit_entry
from cervixwatch.store.models import AuditOutcome, DeliveryStatus, NotificationKind, NotifyChannel
from cervixwatch.store.notifications import DeliveryContext

log = logging.getLogger(__name__)

__all__ = ["DispatchRun", "Notifier", "NotifyConfig", "dispatch_once", "retry_delay"]

Clock = Callable[[], dt.datetime]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    """How notifications are sent (the settings' `smtp_*` and `notify_*`,
    docs/deployment.md "Notifications")."""

    base_url: str = "http://127.0.0.1:8000"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "cervixwatch@localhost"
    timeout_seconds: float = 10.0
    escalate_after_minutes: int | None = None
    max_attempts: int = 8
    retry_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    claim_seconds: float = 300.0
    batch: int = 50
    interval_seconds: float = 10.0

    @classmethod
    def of(cls, settings: Settings) -> NotifyConfig:
        password = settings.smtp_password
        return cls(
            base_url=settings.public_base_url,
            smtp_host=settings.smtp_host,
            smtp_port=settings.smtp_port,
            smtp_starttls=settings.smtp_starttls,
            smtp_ssl=settings.smtp_ssl,
            smtp_username=settings.smtp_username,
            smtp_password=None if password is None else password.get_secret_value(),
            smtp_from=settings.smtp_from,
            timeout_seconds=settings.notify_timeout_seconds,
            escalate_after_minutes=settings.notify_escalate_after_minutes,
            max_attempts=settings.notify_max_attempts,
            retry_seconds=settings.notify_retry_seconds,
            retry_max_seconds=settings.notify_retry_max_seconds,
            claim_seconds=settings.notify_claim_seconds,
            interval_seconds=settings.notify_interval_seconds,
        )


def retry_delay(config: NotifyConfig, attempts: int) -> dt.timedelta:
    """How long after its `attempts`-th failed attempt a delivery is tried again: the first
    wait, doubling each time, at most the longest."""
    seconds = config.retry_seconds * 2 ** max(0, attempts - 1)
    return dt.timedelta(seconds=min(config.retry_max_seconds, seconds))


@dataclass(frozen=True, slots=True)
class DispatchRun:
    """What one run did: escalations queued; deliveries sent, failed for now (to be tried
    again), given up, cancelled."""

    escalated: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0


@dataclass(frozen=True, slots=True)
class _Claimed:
    delivery_id: int
    channel: NotifyChannel
    recipient: str
    context: DeliveryContext


@dataclass(frozen=True, slots=True)
class _Outcome:
    sent: bool
    #: The receiver's answer: the SMTP reply code, the HTTP status; 0: no answer at all.
    status: int
    detail: str | None = None


# --- sending ------------------------------------------------------------------------------------


class _NotConfigured(Exception):
    pass


def send_email(config: NotifyConfig, message: EmailMessage) -> None:
    """Hand the message to the SMTP server (STARTTLS and a login when configured)."""
    if config.smtp_host is None:
        raise _NotConfigured("no SMTP server configured (CERVIXWATCH_SMTP_HOST)")
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if config.smtp_ssl:
        server = smtplib.SMTP_SSL(
            config.smtp_host, config.smtp_port, timeout=config.timeout_seconds, context=context
        )
    else:
        server = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout_seconds)
    with server:
        if config.smtp_starttls and not config.smtp_ssl:
            server.starttls(context=context)
        if config.smtp_username is not None:
            server.login(config.smtp_username, config.smtp_password or "")
        server.send_message(message)


def _email(config: NotifyConfig, claimed: _Claimed, now: dt.datetime) -> _Outcome:
    message = email_message(
        claimed.context, claimed.recipient, config.smtp_from, config.base_url, now
    )
    try:
        send_email(config, message)
    except _NotConfigured as error:
        return _Outcome(False, 0, str(error))
    except smtplib.SMTPResponseException as error:
        return _Outcome(False, error.smtp_code, f"{type(error).__name__} {error.smtp_code}")
    except smtplib.SMTPRecipientsRefused as error:
        codes = sorted({code for code, _ in error.recipients.values()})
        return _Outcome(False, codes[0] if codes else 0, f"recipient refused {codes}")
    except (smtplib.SMTPException, OSError) as error:
        # The type only: a server's message may quote what it was sent.
        return _Outcome(False, 0, type(error).__name__)
    return _Outcome(True, 250)


def _webhook(config: NotifyConfig, claimed: _Claimed, now: dt.datetime) -> _Outcome:
    secret = claimed.context.secret
    assert secret is not None, "a webhook delivery without a secret is cancelled, not sent"
    body, headers = webhook_request(claimed.context, secret, config.base_url, now)
    try:
        answer = httpx2.post(
            claimed.recipient, content=body, headers=headers, timeout=config.timeout_seconds
        )
    except httpx2.HTTPError as error:
        return _Outcome(False, 0, type(error).__name__)
    if 200 <= answer.status_code < 300:
        return _Outcome(True, answer.status_code)
    return _Outcome(False, answer.status_code, f"HTTP {answer.status_code}")


# --- a run --------------------------------------------------------------------------------------


def _cancelled(claimed: _Claimed) -> str | None:
    """Why a claimed delivery is not sent, if it is not."""
    context = claimed.context
    if context.kind is NotificationKind.ESCALATION and context.report_reviewed:
        return "the report was reviewed before its escalation went"
    if claimed.channel is NotifyChannel.WEBHOOK and not context.secret:
        return "the contact was removed"
    return None


def _claim(
    sessions: sessionmaker[Session], config: NotifyConfig, now: dt.datetime
) -> list[_Claimed]:
    lease = dt.timedelta(seconds=config.claim_seconds)
    with transaction(sessions) as session:
        rows = store.claim_due(session, now, lease, config.batch)
        return [
            _Claimed(row.id, row.channel, row.recipient, store.delivery_context(session, row))
            for row in rows
        ]


def _audit_entry(claimed: _Claimed, outcome: _Outcome) -> AuditEntry:
    context = claimed.context
    escalation = context.kind is NotificationKind.ESCALATION
    return AuditEntry(
        action="notify-escalation" if escalation else "notify",
        method=claimed.channel.value.upper(),
        route="/notifications/{notification_id}/deliveries/{delivery_id}",
        path=f"/notifications/{context.notification_id}/deliveries/{claimed.delivery_id}",
        status=outcome.status,
        request_id=str(uuid.uuid4()),
        actor_role="system",
        via="notify",
        patient_id=context.patient_id,
        outcome=AuditOutcome.SUCCESS if outcome.sent else AuditOutcome.FAILED,
    )


def _record(
    sessions: sessionmaker[Session],
    config: NotifyConfig,
    claimed: _Claimed,
    outcome: _Outcome,
    at: dt.datetime,
) -> DeliveryStatus | None:
    """The attempt, the delivery's new state and its audit entry, in one transaction; the new
    state (None: the delivery is gone, its woman or report deleted meanwhile)."""
    with transaction(sessions) as session:
        row = store.delivery(session, claimed.delivery_id)
        if row is None:
            return None
        store.add_attempt(session, row.id, at, sent=outcome.sent, detail=outcome.detail)
        row.claimed_until = None
        if outcome.sent:
            row.status = DeliveryStatus.SENT
            row.sent_at = at
        elif row.attempts >= config.max_attempts:
            row.status = DeliveryStatus.FAILED
        else:
            row.status = DeliveryStatus.PENDING
            row.next_attempt_at = at + retry_delay(config, row.attempts)
        status = row.status
        session.flush()
        append_audit_entry(session, _audit_entry(claimed, outcome))  # last: it locks the chain
    return status


def _cancel(sessions: sessionmaker[Session], claimed: _Claimed) -> None:
    with transaction(sessions) as session:
        row = store.delivery(session, claimed.delivery_id)
        if row is not None:
            row.status = DeliveryStatus.CANCELLED
            row.claimed_until = None


def dispatch_once(
    sessions: sessionmaker[Session], config: NotifyConfig, *, clock: Clock = _now
) -> DispatchRun:
    """Queue the escalations due, then send every delivery due now; what was done."""
    escalated = len(queue_escalations(sessions, config.escalate_after_minutes, clock()))
    counts = dict.fromkeys(DeliveryStatus, 0)
    cancelled = 0
    while True:
        start = clock()
        with sessions() as session:
            if not store.any_due(session, start):  # a read: no write lock taken for nothing
                break
        claimed = _claim(sessions, config, start)
        for item in claimed:
            reason = _cancelled(item)
            if reason is not None:
                _cancel(sessions, item)
                cancelled += 1
                log.info("notification delivery %s cancelled: %s", item.delivery_id, reason)
                continue
            at = clock()
            send = _email if item.channel is NotifyChannel.EMAIL else _webhook
            outcome = send(config, item, at)
            status = _record(sessions, config, item, outcome, at)
            if status is not None:
                counts[status] += 1
            _log_outcome(item, outcome, status)
        if len(claimed) < config.batch:
            break
    return DispatchRun(
        escalated=escalated,
        sent=counts[DeliveryStatus.SENT],
        retrying=counts[DeliveryStatus.PENDING],
        failed=counts[DeliveryStatus.FAILED],
        cancelled=cancelled,
    )


def _log_outcome(item: _Claimed, outcome: _Outcome, status: DeliveryStatus | None) -> None:
    """Ids, channel and the receiver's code: never the recipient, who may be a named person."""
    if outcome.sent:
        log.info(
            "notification %s delivery %s sent by %s",
            item.context.notification_id,
            item.delivery_id,
            item.channel.value,
        )
    else:
        log.warning(
            "notification %s delivery %s by %s failed (%s); now %s",
            item.context.notification_id,
            item.delivery_id,
            item.channel.value,
            outcome.detail,
            "gone" if status is None else status.value,
        )


# --- in the server ------------------------------------------------------------------------------

#: Seconds a stopping notifier waits for its run in progress before it is left behind.
STOP_WAIT_SECONDS: Final = 15.0


class Notifier:
    """`dispatch_once` every `interval_seconds` in a daemon thread, until stopped. A run that
    fails (the database unreachable) is logged by its type and tried at the next interval."""

    def __init__(self, sessions: sessionmaker[Session], config: NotifyConfig) -> None:
        self.sessions = sessions
        self.config = config
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cervixwatch-notify", daemon=True)

    def start(self) -> Notifier:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(STOP_WAIT_SECONDS)

    def _loop(self) -> None:
        # The first run an interval after the start: a worker that starts is busy enough.
        while not self._stop.wait(self.config.interval_seconds):
            try:
                dispatch_once(self.sessions, self.config)
            except Exception as error:  # the loop must go on
                log.warning("notification run failed (%s); trying again", type(error).__name__)
