"""The notifications' tables (migration 0012): care teams' contacts and escalation settings,
the outbox of notifications with their deliveries, and each attempt at a delivery.

A delivery is claimed before it is sent: in one short transaction its row is locked
(`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so a second dispatcher passes over it
instead of waiting; SQLite serialises writers, `database.transaction`), marked `sending`
until a lease ends, and committed. No other dispatcher takes a row that is `sending` before
its lease ends, so two dispatchers never send the same delivery; a dispatcher that died
while sending leaves its claim to lapse, and the delivery is tried again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from cervixwatch.store.models import (
    CareTeamRow,
    DeliveryStatus,
    NotificationAttemptRow,
    NotificationDeliveryRow,
    NotificationKind,
    NotificationRow,
    NotifyChannel,
    NotifyContactRow,
    NotifyReceives,
    NotifyTeamSettingRow,
    PatientRow,
    PregnancyRow,
    PregnancyStatus,
    SymptomReportRow,
    SymptomReviewRow,
    TeamPatientRow,
)

# --- contacts and settings ----------------------------------------------------------------------


def contacts_of_team(session: Session, team_id: str) -> Sequence[NotifyContactRow]:
    return session.scalars(
        select(NotifyContactRow)
        .where(NotifyContactRow.team_id == team_id)
        .order_by(NotifyContactRow.channel, NotifyContactRow.address)
    ).all()


def contact(session: Session, contact_id: int) -> NotifyContactRow | None:
    return session.get(NotifyContactRow, contact_id)


def same_contact(
    session: Session, team_id: str, channel: NotifyChannel, address: str
) -> NotifyContactRow | None:
    return session.scalars(
        select(NotifyContactRow).where(
            NotifyContactRow.team_id == team_id,
            NotifyContactRow.channel == channel,
            NotifyContactRow.address == address,
        )
    ).one_or_none()


def escalation_minutes_of_team(session: Session, team_id: str) -> int | None:
    row = session.get(NotifyTeamSettingRow, team_id)
    return None if row is None else row.escalate_after_minutes


def set_escalation_minutes(session: Session, team_id: str, minutes: int | None) -> None:
    row = session.get(NotifyTeamSettingRow, team_id)
    if minutes is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(NotifyTeamSettingRow(team_id=team_id, escalate_after_minutes=minutes))
    else:
        row.escalate_after_minutes = minutes


def team_names(session: Session) -> dict[str, str]:
    """{team id: name} of every care team."""
    rows = session.execute(select(CareTeamRow.id, CareTeamRow.name)).all()
    return {row.id: row.name for row in rows}


# --- queueing -----------------------------------------------------------------------------------


def reports_not_notified(
    session: Session, pregnancy_id: str, kind: NotificationKind
) -> Sequence[SymptomReportRow]:
    """The open (unreviewed) reports of the pregnancy, if it is active, that have no
    notification of `kind` yet."""
    notified = exists().where(
        NotificationRow.symptom_report_id == SymptomReportRow.id, NotificationRow.kind == kind
    )
    reviewed = exists().where(SymptomReviewRow.symptom_report_id == SymptomReportRow.id)
    return session.scalars(
        select(SymptomReportRow)
        .join(PregnancyRow, PregnancyRow.id == SymptomReportRow.pregnancy_id)
        .where(
            SymptomReportRow.pregnancy_id == pregnancy_id,
            PregnancyRow.status == PregnancyStatus.ACTIVE,
            ~notified,
            ~reviewed,
        )
        .order_by(SymptomReportRow.id)
    ).all()


def patient_and_teams(session: Session, pregnancy_id: str) -> tuple[str, list[str]] | None:
    """The woman whose pregnancy it is, and the ids of her care teams."""
    patient_id = session.scalar(
        select(PregnancyRow.patient_id).where(PregnancyRow.id == pregnancy_id)
    )
    if patient_id is None:
        return None
    teams = session.scalars(
        select(TeamPatientRow.team_id)
        .where(TeamPatientRow.patient_id == patient_id)
        .order_by(TeamPatientRow.team_id)
    ).all()
    return patient_id, list(teams)


def contacts_for(
    session: Session, team_ids: Iterable[str], kind: NotificationKind
) -> Sequence[NotifyContactRow]:
    """The contacts of these teams that receive a notification of `kind`."""
    teams = sorted(set(team_ids))
    if not teams:
        return []
    query = select(NotifyContactRow).where(NotifyContactRow.team_id.in_(teams))
    if kind is NotificationKind.RED_FLAG_REPORT:
        query = query.where(NotifyContactRow.receives == NotifyReceives.ALL)
    return session.scalars(query.order_by(NotifyContactRow.id)).all()


def add_notification(
    session: Session,
    kind: NotificationKind,
    report: SymptomReportRow,
    patient_id: str,
    contacts: Iterable[NotifyContactRow],
    now: dt.datetime,
) -> NotificationRow:
    """The notification and one delivery per channel and recipient (a recipient named by two
    of her teams is sent one), due now."""
    notification = NotificationRow(
        kind=kind,
        symptom_report_id=report.id,
        pregnancy_id=report.pregnancy_id,
        patient_id=patient_id,
        created_at=now,
    )
    session.add(notification)
    session.flush()
    seen: set[tuple[NotifyChannel, str]] = set()
    for c in contacts:
        if (c.channel, c.address) in seen:
            continue
        seen.add((c.channel, c.address))
        session.add(
            NotificationDeliveryRow(
                notification_id=notification.id,
                contact_id=c.id,
                channel=c.channel,
                recipient=c.address,
                status=DeliveryStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
            )
        )
    session.flush()
    return notification


@dataclass(frozen=True, slots=True)
class Unreviewed:
    """A red-flag notification whose report is still open, with no escalation yet."""

    notification_id: int
    symptom_report_id: int
    pregnancy_id: str
    patient_id: str
    created_at: dt.datetime


def unreviewed_without_escalation(session: Session, before: dt.datetime) -> list[Unreviewed]:
    """Red-flag notifications queued before `before` whose report is still open on an active
    pregnancy and has no escalation."""
    escalation = aliased(NotificationRow)
    escalated = exists().where(
        escalation.symptom_report_id == NotificationRow.symptom_report_id,
        escalation.kind == NotificationKind.ESCALATION,
    )
    reviewed = exists().where(
        SymptomReviewRow.symptom_report_id == NotificationRow.symptom_report_id
    )
    rows = session.execute(
        select(
            NotificationRow.id,
            NotificationRow.symptom_report_id,
            NotificationRow.pregnancy_id,
            NotificationRow.patient_id,
            NotificationRow.created_at,
        )
        .join(PregnancyRow, PregnancyRow.id == NotificationRow.pregnancy_id)
        .where(
            NotificationRow.kind == NotificationKind.RED_FLAG_REPORT,
            NotificationRow.created_at <= before,
            PregnancyRow.status == PregnancyStatus.ACTIVE,
            ~escalated,
            ~reviewed,
        )
        .order_by(NotificationRow.id)
    ).all()
    return [Unreviewed(*row) for row in rows]


def escalation_minutes_of_teams(session: Session, patient_ids: Iterable[str]) -> dict[str, int]:
    """{woman's id: the shortest escalation setting among her care teams}, for the women of
    whose teams at least one has a setting."""
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(TeamPatientRow.patient_id, func.min(NotifyTeamSettingRow.escalate_after_minutes))
        .join(NotifyTeamSettingRow, NotifyTeamSettingRow.team_id == TeamPatientRow.team_id)
        .where(TeamPatientRow.patient_id.in_(ids))
        .group_by(TeamPatientRow.patient_id)
    ).all()
    return {patient_id: int(minutes) for patient_id, minutes in rows}


def report_row(session: Session, report_id: int) -> SymptomReportRow | None:
    return session.get(SymptomReportRow, report_id)


# --- claiming and recording ---------------------------------------------------------------------


def _due(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        and_(
            NotificationDeliveryRow.status == DeliveryStatus.PENDING,
            NotificationDeliveryRow.next_attempt_at <= now,
        ),
        # A claim whose dispatcher died while sending: tried again.
        and_(
            NotificationDeliveryRow.status == DeliveryStatus.SENDING,
            NotificationDeliveryRow.claimed_until < now,
        ),
    )


def any_due(session: Session, now: dt.datetime) -> bool:
    """Whether any delivery is due at `now` (a read, so an idle dispatcher takes no lock)."""
    return bool(session.scalar(select(exists().where(_due(now)))))


def claim_due(
    session: Session, now: dt.datetime, lease: dt.timedelta, limit: int
) -> list[NotificationDeliveryRow]:
    """Up to `limit` deliveries due at `now`, claimed (`sending` until `now + lease`, one
    attempt more) in the caller's transaction, which must commit before they are sent.
    Rows another transaction has locked are passed over (PostgreSQL), not waited for."""
    rows = session.scalars(
        select(NotificationDeliveryRow)
        .where(_due(now))
        .order_by(NotificationDeliveryRow.next_attempt_at, NotificationDeliveryRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        row.status = DeliveryStatus.SENDING
        row.claimed_until = now + lease
        row.attempts += 1
    session.flush()
    return list(rows)


@dataclass(frozen=True, slots=True)
class DeliveryContext:
    """What a message about a delivery's notification says and where it goes."""

    notification_id: int
    kind: NotificationKind
    symptom_report_id: int
    pregnancy_id: str
    patient_id: str
    hospital_number: str | None
    #: When the report reached CervixWatch: its first (red-flag) notification was queued.
    reached_at: dt.datetime
    report_reviewed: bool
    secret: str | None


def delivery_context(session: Session, delivery: NotificationDeliveryRow) -> DeliveryContext:
    notification = session.get(NotificationRow, delivery.notification_id)
    assert notification is not None, "a delivery's notification exists (foreign key)"
    hospital_number = session.scalar(
        select(PatientRow.hospital_number).where(PatientRow.id == notification.patient_id)
    )
    reviewed = bool(
        session.scalar(
            select(
                exists().where(SymptomReviewRow.symptom_report_id == notification.symptom_report_id)
            )
        )
    )
    first = session.scalar(
        select(NotificationRow.created_at).where(
            NotificationRow.symptom_report_id == notification.symptom_report_id,
            NotificationRow.kind == NotificationKind.RED_FLAG_REPORT,
        )
    )
    secret = None
    if delivery.contact_id is not None:
        found = session.get(NotifyContactRow, delivery.contact_id)
        secret = None if found is None else found.secret
    return DeliveryContext(
        notification_id=notification.id,
        kind=notification.kind,
        symptom_report_id=notification.symptom_report_id,
        pregnancy_id=notification.pregnancy_id,
        patient_id=notification.patient_id,
        hospital_number=hospital_number,
        reached_at=first or notification.created_at,
        report_reviewed=reviewed,
        secret=secret,
    )


def delivery(session: Session, delivery_id: int) -> NotificationDeliveryRow | None:
    return session.get(NotificationDeliveryRow, delivery_id, populate_existing=True)


def add_attempt(
    session: Session, delivery_id: int, at: dt.datetime, *, sent: bool, detail: str | None
) -> None:
    session.add(
        NotificationAttemptRow(
            delivery_id=delivery_id,
            attempted_at=at,
            sent=sent,
            detail=None if detail is None else detail[:500],
        )
    )


def cancel_deliveries_of_contact(session: Session, contact_id: int) -> None:
    """A contact removed: what is still waiting for it is not sent."""
    session.execute(
        update(NotificationDeliveryRow)
        .where(
            NotificationDeliveryRow.contact_id == contact_id,
            NotificationDeliveryRow.status == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.CANCELLED)
    )


def delete_contact(session: Session, contact_id: int) -> None:
    session.execute(delete(NotifyContactRow).where(NotifyContactRow.id == contact_id))


# --- reading ------------------------------------------------------------------------------------


def count_deliveries(session: Session) -> dict[DeliveryStatus, int]:
    """How many deliveries are in each status."""
    rows = session.execute(
        select(NotificationDeliveryRow.status, func.count()).group_by(
            NotificationDeliveryRow.status
        )
    ).all()
    return {DeliveryStatus(status): int(n) for status, n in rows}


def notification(session: Session, notification_id: int) -> NotificationRow | None:
    return session.get(NotificationRow, notification_id)


def notifications_of_pregnancy(session: Session, pregnancy_id: str) -> Sequence[NotificationRow]:
    return session.scalars(
        select(NotificationRow)
        .where(NotificationRow.pregnancy_id == pregnancy_id)
        .order_by(NotificationRow.id)
    ).all()


def deliveries_of(session: Session, notification_id: int) -> Sequence[NotificationDeliveryRow]:
    return session.scalars(
        select(NotificationDeliveryRow)
        .where(NotificationDeliveryRow.notification_id == notification_id)
        .order_by(NotificationDeliveryRow.id)
    ).all()


def attempts_of(session: Session, delivery_id: int) -> Sequence[NotificationAttemptRow]:
    return session.scalars(
        select(NotificationAttemptRow)
        .where(NotificationAttemptRow.delivery_id == delivery_id)
        .order_by(NotificationAttemptRow.id)
    ).all()


def recent_deliveries(session: Session, limit: int) -> Sequence[NotificationDeliveryRow]:
    """The newest deliveries, newest first."""
    return session.scalars(
        select(NotificationDeliveryRow).order_by(NotificationDeliveryRow.id.desc()).limit(limit)
    ).all()
