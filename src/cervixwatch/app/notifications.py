"""Telling a woman's care team of her red-flag symptom report (issue 13, part 1): what is
queued, and where it goes.

- **Queued in the report's transaction** (`queue_red_flag_notifications`): every use case
  that stores a symptom report (her form, a clinician's phone report, a FHIR import) calls it
  in its own transaction, after the write; so a report rolled back queues nothing and one
  committed always has its notification (an outbox). It queues one notification for each open
  report of the pregnancy that names a red-flag symptom (`clinical.facts.RED_FLAG_SYMPTOMS`,
  TRI-05) and has none yet: a report stored again, or amended, is not notified twice.
- **Escalation** (`queue_escalations`, run by the dispatcher): a red-flag report still not
  reviewed (CD-07) some minutes after its notification was queued gets one escalation. The
  minutes are an operational setting of the clinic, per care team or for the site; the
  guidelines give none, so with neither set there is no escalation.
- **Contacts** (`add_contact`, `remove_contact`, `set_escalation`, `team_contacts`): per care
  team, an e-mail address or a webhook URL with its signing secret, for every notification or
  for escalations only. A contact is answered without its secret (`has_secret` says whether
  one is stored); the CLI and the admin JSON API call these.

Logs carry ids only: never a name, a hospital number or a symptom.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.clinical.facts import RED_FLAG_SYMPTOMS
from cervixwatch.store import notifications as store
from cervixwatch.store import transaction
from cervixwatch.store.accounts import team_by_name
from cervixwatch.store.models import (
    CareTeamRow,
    DeliveryStatus,
    NotificationKind,
    NotifyChannel,
    NotifyContactRow,
    NotifyReceives,
    SymptomReportRow,
)

log = logging.getLogger(__name__)

__all__ = [
    "ContactPublic",
    "DeliveryPublic",
    "DeliveryStatus",
    "NotificationCounts",
    "NotificationKind",
    "NotifyChannel",
    "NotifyReceives",
    "TeamNotifySettings",
    "add_contact",
    "is_red_flag",
    "notification_counts",
    "queue_escalations",
    "queue_red_flag_notifications",
    "recent_deliveries",
    "remove_contact",
    "set_escalation",
    "team_contacts",
]

_RED_FLAGS: Final = frozenset(s.value for s in RED_FLAG_SYMPTOMS)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def is_red_flag(report: SymptomReportRow) -> bool:
    """Whether the report names a symptom that sends her in now (TRI-05)."""
    return bool(_RED_FLAGS & set(report.present or ()))


# --- queueing -----------------------------------------------------------------------------------


def queue_red_flag_notifications(
    session: Session, pregnancy_id: str | None, now: dt.datetime | None = None
) -> list[int]:
    """In the caller's transaction: a notification (with its deliveries to her care teams'
    contacts) for each open red-flag report of the pregnancy not yet notified. The ids of
    the notifications queued."""
    if pregnancy_id is None:
        return []
    reports = [
        r
        for r in store.reports_not_notified(session, pregnancy_id, NotificationKind.RED_FLAG_REPORT)
        if is_red_flag(r)
    ]
    if not reports:
        return []
    owner = store.patient_and_teams(session, pregnancy_id)
    if owner is None:
        return []
    patient_id, team_ids = owner
    contacts = store.contacts_for(session, team_ids, NotificationKind.RED_FLAG_REPORT)
    queued = []
    for report in reports:
        notification = store.add_notification(
            session, NotificationKind.RED_FLAG_REPORT, report, patient_id, contacts, now or _now()
        )
        queued.append(notification.id)
        _log_queued(notification.id, pregnancy_id, len(contacts))
    return queued


def _log_queued(notification_id: int, pregnancy_id: str, recipients: int) -> None:
    if recipients:
        log.info(
            "notification %s queued for pregnancy %s: %s deliveries",
            notification_id,
            pregnancy_id,
            recipients,
        )
    else:
        log.warning(
            "notification %s for pregnancy %s has no recipient: her care teams have no "
            "contacts (cervixwatch notify contact-add)",
            notification_id,
            pregnancy_id,
        )


def queue_escalations(
    sessions: sessionmaker[Session], site_minutes: int | None, now: dt.datetime | None = None
) -> list[int]:
    """One escalation for each red-flag report still open once its team's (else the site's)
    minutes have passed since its notification was queued; the ids queued. Once per report:
    the outbox holds at most one escalation of a report (a unique constraint), so two
    dispatchers sweeping at once queue one."""
    now = now or _now()
    with sessions() as session:
        candidates = store.unreviewed_without_escalation(session, now)
        if not candidates:
            return []
        minutes = store.escalation_minutes_of_teams(session, {c.patient_id for c in candidates})
    due = []
    for candidate in candidates:
        after = minutes.get(candidate.patient_id, site_minutes)
        if after is not None and candidate.created_at + dt.timedelta(minutes=after) <= now:
            due.append(candidate)
    queued = []
    for candidate in due:
        try:
            with transaction(sessions) as session:
                report = store.report_row(session, candidate.symptom_report_id)
                if report is None or report.reviews:
                    continue
                owner = store.patient_and_teams(session, candidate.pregnancy_id)
                team_ids = owner[1] if owner else []
                contacts = store.contacts_for(session, team_ids, NotificationKind.ESCALATION)
                notification = store.add_notification(
                    session,
                    NotificationKind.ESCALATION,
                    report,
                    candidate.patient_id,
                    contacts,
                    now,
                )
        except IntegrityError:
            continue  # another dispatcher queued it first
        queued.append(notification.id)
        _log_queued(notification.id, candidate.pregnancy_id, len(contacts))
    return queued


# --- contacts and settings ----------------------------------------------------------------------

#: An address as a mail server takes it (RFC 5321 allows 254 characters); the server checks
#: the rest.
_EMAIL: Final = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
EMAIL_MAX: Final = 254
URL_MAX: Final = 500
#: The shortest webhook secret accepted: 128 bits as hex.
SECRET_MIN: Final = 32
SECRET_MAX: Final = 200


@dataclass(frozen=True, slots=True)
class ContactPublic:
    """A contact as answered: never its secret."""

    id: int
    team: str
    channel: NotifyChannel
    address: str
    receives: NotifyReceives
    has_secret: bool
    created_at: dt.datetime

    @classmethod
    def of(cls, row: NotifyContactRow, team: str) -> ContactPublic:
        return cls(
            id=row.id,
            team=team,
            channel=row.channel,
            address=row.address,
            receives=row.receives,
            has_secret=bool(row.secret),
            created_at=row.created_at,
        )


@dataclass(frozen=True, slots=True)
class TeamNotifySettings:
    """A care team's contacts and escalation setting (minutes; None: the site's)."""

    team_id: str
    team: str
    escalate_after_minutes: int | None
    contacts: tuple[ContactPublic, ...]


def _team(session: Session, name: str) -> CareTeamRow:
    row = team_by_name(session, name.strip())
    if row is None:
        raise NotFound(f"no care team {name.strip()!r}")
    return row


def _checked_address(channel: NotifyChannel, address: str) -> str:
    address = address.strip()
    if channel is NotifyChannel.EMAIL:
        if len(address) > EMAIL_MAX or not _EMAIL.match(address):
            raise InvalidField("address", "an e-mail address such as team@hospital.example")
        return address
    parts = urlsplit(address)
    if (
        len(address) > URL_MAX
        or parts.scheme not in ("https", "http")
        or not parts.hostname
        or not address.isprintable()
        or " " in address
    ):
        raise InvalidField("address", "the webhook's URL: http:// or https:// with a host")
    return address


def _checked_secret(channel: NotifyChannel, secret: str | None) -> str | None:
    if channel is NotifyChannel.EMAIL:
        if secret:
            raise InvalidField("secret", "only a webhook has a secret")
        return None
    if secret is None or not SECRET_MIN <= len(secret) <= SECRET_MAX or not secret.isprintable():
        raise InvalidField(
            "secret",
            f"a webhook needs the secret its requests are signed with: {SECRET_MIN} to "
            f"{SECRET_MAX} printable characters (e.g. `openssl rand -hex 32`)",
        )
    return secret


def team_contacts(sessions: sessionmaker[Session]) -> list[TeamNotifySettings]:
    """Every care team's contacts and escalation setting, by team name."""
    with sessions() as session:
        found = []
        for team_id, name in sorted(store.team_names(session).items(), key=lambda t: t[1]):
            found.append(
                TeamNotifySettings(
                    team_id=team_id,
                    team=name,
                    escalate_after_minutes=store.escalation_minutes_of_team(session, team_id),
                    contacts=tuple(
                        ContactPublic.of(c, name) for c in store.contacts_of_team(session, team_id)
                    ),
                )
            )
        return found


def add_contact(
    sessions: sessionmaker[Session],
    team: str,
    channel: NotifyChannel,
    address: str,
    *,
    secret: str | None = None,
    receives: NotifyReceives = NotifyReceives.ALL,
) -> ContactPublic:
    """A new contact of a care team (which must exist). Refused: a bad address (`address`),
    a webhook without a secret or an e-mail with one (`secret`), the same contact twice."""
    address = _checked_address(channel, address)
    secret = _checked_secret(channel, secret)
    with transaction(sessions) as session:
        row = _team(session, team)
        if store.same_contact(session, row.id, channel, address) is not None:
            raise Conflict(f"the team already has this {channel.value} contact")
        contact = NotifyContactRow(
            team_id=row.id, channel=channel, address=address, secret=secret, receives=receives
        )
        session.add(contact)
        session.flush()
        added = ContactPublic.of(contact, row.name)
    log.info("notification contact %s added to care team %s", added.id, row.id)
    return added


def remove_contact(sessions: sessionmaker[Session], team: str, contact_id: int) -> None:
    """Remove a team's contact; what still waits to be sent to it is cancelled."""
    with transaction(sessions) as session:
        row = _team(session, team)
        contact = store.contact(session, contact_id)
        if contact is None or contact.team_id != row.id:
            raise NotFound(f"no contact {contact_id} of care team {row.name!r}")
        store.cancel_deliveries_of_contact(session, contact_id)
        store.delete_contact(session, contact_id)
    log.info("notification contact %s removed from care team %s", contact_id, row.id)


#: The longest escalation setting accepted: a week, in minutes (a longer one is a typo).
ESCALATION_MAX_MINUTES: Final = 7 * 24 * 60


def check_escalation_minutes(field: str, minutes: int | None) -> int | None:
    if minutes is not None and not 1 <= minutes <= ESCALATION_MAX_MINUTES:
        raise InvalidField(field, f"whole minutes from 1 to {ESCALATION_MAX_MINUTES}, or none")
    return minutes


def set_escalation(sessions: sessionmaker[Session], team: str, minutes: int | None) -> None:
    """A team's escalation setting: minutes a red-flag report may wait unreviewed before its
    escalation is sent; None: the site's setting applies."""
    check_escalation_minutes("escalate_after_minutes", minutes)
    with transaction(sessions) as session:
        row = _team(session, team)
        store.set_escalation_minutes(session, row.id, minutes)


# --- what was sent -----------------------------------------------------------------------------

#: The most deliveries one listing gives.
DELIVERIES_MAX: Final = 500


@dataclass(frozen=True, slots=True)
class DeliveryPublic:
    """One delivery as an admin sees it: ids, where it went, and how it went (no woman's
    name, no clinical value; her id is the patient_id of the audit log's entries)."""

    id: int
    notification_id: int
    kind: NotificationKind
    pregnancy_id: str
    channel: NotifyChannel
    recipient: str
    status: DeliveryStatus
    attempts: int
    queued_at: dt.datetime
    sent_at: dt.datetime | None
    next_attempt_at: dt.datetime | None
    #: How the last attempt ended, when it failed (the receiver's code, an error's type).
    last_error: str | None


def recent_deliveries(sessions: sessionmaker[Session], limit: int = 100) -> list[DeliveryPublic]:
    """The newest deliveries first, at most `limit` (1 to `DELIVERIES_MAX`)."""
    if not 1 <= limit <= DELIVERIES_MAX:
        raise InvalidField("limit", f"1 to {DELIVERIES_MAX}")
    with sessions() as session:
        found = []
        for d in store.recent_deliveries(session, limit):
            notification = store.notification(session, d.notification_id)
            assert notification is not None, "a delivery's notification exists (foreign key)"
            attempts = store.attempts_of(session, d.id)
            last = attempts[-1] if attempts else None
            waiting = d.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
            found.append(
                DeliveryPublic(
                    id=d.id,
                    notification_id=d.notification_id,
                    kind=notification.kind,
                    pregnancy_id=notification.pregnancy_id,
                    channel=d.channel,
                    recipient=d.recipient,
                    status=d.status,
                    attempts=d.attempts,
                    queued_at=notification.created_at,
                    sent_at=d.sent_at,
                    next_attempt_at=d.next_attempt_at if waiting else None,
                    last_error=None if last is None or last.sent else last.detail,
                )
            )
        return found


# --- figures ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NotificationCounts:
    """Deliveries waiting to be sent (or being sent) and given up."""

    waiting: int
    failed: int


def notification_counts(engine: Engine) -> NotificationCounts:
    """Read at each metrics scrape, on one short connection."""
    with Session(engine) as session:
        counts = store.count_deliveries(session)
    return NotificationCounts(
        waiting=counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0),
        failed=counts.get(DeliveryStatus.FAILED, 0),
    )
