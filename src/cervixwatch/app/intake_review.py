"""The review queue of device reports (issue 14, part 3): a DICOM SR or HL7 v2 result that
names no woman stored here (or cannot name one, or contradicts the woman it names) waits for a
clinician, who either matches it to a woman by her hospital number (then it is stored
through the import use case, as if it had named her) or discards it. Both are audited in the
same transaction as what they change.

Every clinician may see the queue: a report that matches no one belongs to no care team yet.
Matching needs the woman to be under one of the clinician's care teams.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.principal import Scope
from cervixwatch.app.device_intake import note_who_measured
from cervixwatch.app.device_readers import DeviceReaders
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.app.importing import RejectedBundle, import_intake
from cervixwatch.app.patient_identity import Sender
from cervixwatch.app.reassessing import Profiles
from cervixwatch.interop.device_result import Channel, device_intake
from cervixwatch.interop.intake import IntakeError
from cervixwatch.store import transaction
from cervixwatch.store.accounts import in_scope
from cervixwatch.store.audit import AuditEntry
from cervixwatch.store.audit import append as append_audit_entry
from cervixwatch.store.models import (
    DeviceMessageRow,
    DeviceMessageStatus,
    PatientRow,
    RecordSource,
)

__all__ = ["WaitingReport", "discard", "match", "waiting"]

#: How the page names each channel.
CHANNEL_NAMES = {"dicom-sr": "Scan report (DICOM SR)", "hl7v2": "HL7 result"}


@dataclass(frozen=True, slots=True)
class WaitingReport:
    """A report waiting for a clinician: what it says and why it matched no one."""

    id: int
    channel: str
    received_at: dt.datetime
    sender: str
    device: str | None
    patient_value: str
    identifier_system: str | None
    summary: str
    reason: str


def waiting(sessions: sessionmaker[Session]) -> list[WaitingReport]:
    """The reports waiting for review, oldest first."""
    with sessions() as session:
        rows = session.scalars(
            select(DeviceMessageRow)
            .where(DeviceMessageRow.status == DeviceMessageStatus.REVIEW)
            .order_by(DeviceMessageRow.received_at, DeviceMessageRow.id)
        ).all()
        return [
            WaitingReport(
                id=row.id,
                channel=CHANNEL_NAMES.get(row.channel.value, row.channel.value),
                received_at=row.received_at,
                sender=row.sender,
                device=row.device,
                patient_value=row.patient_value,
                identifier_system=row.identifier_system,
                summary=row.summary,
                reason=row.reason or "",
            )
            for row in rows
        ]


def _waiting_row(session: Session, report_id: int) -> DeviceMessageRow:
    row = session.get(DeviceMessageRow, report_id)
    if row is None or row.status is not DeviceMessageStatus.REVIEW:
        raise NotFound(f"no report {report_id} waiting for review (matched or discarded already?)")
    return row


def _resolved(row: DeviceMessageRow, status: DeviceMessageStatus, user_id: str) -> None:
    row.status = status
    row.resolved_by = user_id
    row.resolved_at = dt.datetime.now(dt.UTC)
    row.payload = None  # read again no more: not kept once resolved


def discard(
    sessions: sessionmaker[Session], report_id: int, *, user_id: str, audit: AuditEntry
) -> None:
    """Discard a waiting report (sent for a woman not in this clinic's care): its message is
    no longer kept; what it said stays in the log."""
    with transaction(sessions) as session:
        row = _waiting_row(session, report_id)
        _resolved(row, DeviceMessageStatus.DISCARDED, user_id)
        append_audit_entry(session, audit)


def _woman(sessions: sessionmaker[Session], hospital_number: str, scope: Scope) -> str:
    """The woman of `scope`'s care teams whose hospital number, as the pages show it, is
    `hospital_number` (`PatientRow.hospital_number`: her number of the installation's system,
    else her medical record number)."""
    number = hospital_number.strip()
    if not number:
        raise InvalidField("hospital_number", "enter her hospital number")
    with sessions() as session:
        owners = session.scalars(
            select(PatientRow.id).where(
                PatientRow.hospital_number == number, in_scope(PatientRow.id, scope)
            )
        ).all()
    if not owners:
        raise InvalidField(
            "hospital_number", "no woman under your care teams has this hospital number"
        )
    if len(owners) > 1:
        raise InvalidField(
            "hospital_number",
            f"{len(owners)} women under your care teams show this hospital number; "
            "match the report from her own record instead",
        )
    return owners[0]


def match(
    sessions: sessionmaker[Session],
    report_id: int,
    hospital_number: str,
    *,
    readers: DeviceReaders,
    profiles: Profiles,
    today: dt.date,
    local_system: str,
    scope: Scope,
    user_id: str,
    audit: AuditEntry,
) -> tuple[str, str]:
    """Store a waiting report for the woman with `hospital_number` (as the pages show it,
    under one of `scope`'s care teams) through the import use case. Raises
    `InvalidField` (no such woman), `NotFound` (not waiting) or `Conflict` (it cannot be
    applied to her: a date outside her pregnancy), nothing written then. Returns her id and
    her pregnancy's."""
    patient_id = _woman(sessions, hospital_number, scope)
    with sessions() as session:
        row = _waiting_row(session, report_id)
        channel: Channel = "hl7v2" if row.channel.value == "hl7v2" else "dicom-sr"
        payload = row.payload or b""
    try:
        result = readers.read(channel, payload)
    except IntakeError as error:
        raise Conflict(f"the report can no longer be read: {error.problem}") from None
    frame, intake = device_intake(result, woman_id=patient_id)

    def resolve(session: Session, _patient_id: str, pregnancy_id: str) -> None:
        row = _waiting_row(session, report_id)
        _resolved(row, DeviceMessageStatus.MATCHED, user_id)
        row.patient_id = patient_id
        note_who_measured(session, pregnancy_id, result)

    try:
        imported = import_intake(
            sessions,
            frame,
            lambda _session, _frame, _woman: intake,
            source=RecordSource(channel),
            register=False,
            also=resolve,
            today=today,
            profiles=profiles,
            sender=Sender(f"user:{user_id}", local_system),
            scope=scope,
            audit=replace(audit, patient_id=patient_id),
        )
    except RejectedBundle as error:
        raise Conflict(str(error)) from None
    return imported.patient_id, imported.pregnancy_id
