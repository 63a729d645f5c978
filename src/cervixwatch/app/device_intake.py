"""Receiving a report from an ultrasound machine (a DICOM SR) or its reporting system (an HL7 v2
result), whatever carried it (C-STORE, STOW-RS, MLLP): stored through the import use case
(`app.importing.import_intake`), the one every reader's intake goes through, all or nothing.

- A message is known by its channel and its own id (the SOP Instance UID; the sending
  application and MSH-10): sent again, it is answered as before and nothing is written twice.
- The woman is found by her identifier (system, value) as any Patient is
  (`app.patient_identity`). A report that names no woman stored here, cannot name one (no
  issuer, none configured), or contradicts the woman it names (another birth date) is kept
  for review (`intake_review`): a device never registers a woman.
- What it stores is logged in the same transaction (`device_messages`: sender, device,
  operator, what it said), and every intake, refusals included, has its audit entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.device_readers import DeviceReaders
from cervixwatch.app.errors import Conflict
from cervixwatch.app.importing import RejectedBundle, UnknownWoman, import_intake
from cervixwatch.app.patient_identity import IdentityConflict, Sender
from cervixwatch.app.reassessing import Profiles
from cervixwatch.interop.device_result import Channel, DeviceResult, device_intake
from cervixwatch.interop.intake import IntakeError
from cervixwatch.store import transaction
from cervixwatch.store.audit import AuditEntry
from cervixwatch.store.audit import append as append_audit_entry
from cervixwatch.store.models import (
    CervicalLengthRow,
    DeviceMessageRow,
    DeviceMessageStatus,
    RecordSource,
)

__all__ = ["IntakeDesk", "Received", "Refused", "log_refusal", "receive"]

Outcome = Literal["stored", "already", "review"]

#: The status an intake's audit entry carries: created, already there, accepted for review.
_AUDIT_STATUS: Final[dict[Outcome, int]] = {"stored": 201, "already": 200, "review": 202}


@dataclass(frozen=True, slots=True)
class Received:
    """What became of a message: its records stored for a woman, already received before, or
    kept for review (`reason` says why)."""

    outcome: Outcome
    message_row: int
    patient_id: str | None = None
    reason: str | None = None


class Refused(ValueError):
    """A readable message that cannot be applied (a date outside her pregnancy or in the
    future): nothing was written. The message names the item and element."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


def _channel(result: DeviceResult) -> RecordSource:
    return RecordSource(result.channel)


def _row(
    result: DeviceResult,
    payload: bytes,
    sender: str,
    status: DeviceMessageStatus,
    *,
    patient_id: str | None = None,
    reason: str | None = None,
) -> DeviceMessageRow:
    return DeviceMessageRow(
        channel=_channel(result),
        message_id=result.message_id[:255],
        sender=sender[:255],
        status=status,
        reason=None if reason is None else reason[:500],
        patient_value=result.patient_value[:255],
        identifier_system=None if result.identifier is None else result.identifier.system,
        summary=result.summary()[:1000],
        operator=None if result.operator is None else result.operator[:200],
        device=None if result.device is None else result.device[:200],
        # Kept while it waits for a clinician, who reads it again; not once it is stored.
        payload=payload if status is DeviceMessageStatus.REVIEW else None,
        patient_id=patient_id,
    )


def note_who_measured(session: Session, pregnancy_id: str, result: DeviceResult) -> None:
    """The operator and device the report names, on the lengths it stored (the pregnancy
    page shows who measured a length; `CervicalLengthRow.operator`, `.device`)."""
    ids = [r.source_id for r in result.lengths]
    if not ids or (result.operator is None and result.device is None):
        return
    session.execute(
        update(CervicalLengthRow)
        .where(
            CervicalLengthRow.pregnancy_id == pregnancy_id,
            CervicalLengthRow.source == _channel(result),
            CervicalLengthRow.source_ref.in_(ids),
        )
        .values(
            operator=None if result.operator is None else result.operator[:200],
            device=None if result.device is None else result.device[:200],
        )
    )


def _already(sessions: sessionmaker[Session], result: DeviceResult) -> DeviceMessageRow | None:
    with sessions() as session:
        return session.scalars(
            select(DeviceMessageRow).where(
                DeviceMessageRow.channel == _channel(result),
                DeviceMessageRow.message_id == result.message_id[:255],
            )
        ).first()


def _audited(audit: AuditEntry, result: DeviceResult, outcome: Outcome) -> AuditEntry:
    return replace(
        audit, path=f"{result.channel}/{result.message_id}"[:500], status=_AUDIT_STATUS[outcome]
    )


def log_refusal(sessions: sessionmaker[Session], audit: AuditEntry, what: str) -> None:
    """The audit entry of a message refused (unreadable, or not applicable): nothing else is
    written. `what` names it by its id (never by a name or value)."""
    with transaction(sessions) as session:
        append_audit_entry(session, replace(audit, path=what[:500], status=422))


def _queue(
    sessions: sessionmaker[Session],
    result: DeviceResult,
    payload: bytes,
    sender: str,
    reason: str,
    audit: AuditEntry,
) -> Received:
    with transaction(sessions) as session:
        row = _row(result, payload, sender, DeviceMessageStatus.REVIEW, reason=reason)
        session.add(row)
        session.flush()
        append_audit_entry(session, _audited(audit, result, "review"))
        return Received("review", row.id, reason=reason)


def receive(
    sessions: sessionmaker[Session],
    result: DeviceResult,
    payload: bytes,
    *,
    sender: Sender,
    sender_label: str,
    today: dt.date,
    profiles: Profiles,
    audit: AuditEntry,
) -> Received:
    """Store the report `result` (read from `payload`) for the woman it names, or keep it for
    review. `audit`: the intake's audit entry (its path and status are filled in here).
    Raises `Refused` when it cannot be applied; nothing is written then but the audit entry
    (`log_refusal`, by the caller, which also logs what it could not read)."""
    seen = _already(sessions, result)
    if seen is not None:
        with transaction(sessions) as session:
            append_audit_entry(session, _audited(audit, result, "already"))
        return Received("already", seen.id, seen.patient_id, seen.reason)
    if result.identifier is None:
        reason = result.unidentified or "the report does not say who she is"
        return _queue(sessions, result, payload, sender_label, reason, audit)
    frame, intake = device_intake(result)
    logged: list[int] = []

    def log(session: Session, patient_id: str, pregnancy_id: str) -> None:
        row = _row(result, payload, sender_label, DeviceMessageStatus.STORED, patient_id=patient_id)
        session.add(row)
        session.flush()
        logged.append(row.id)
        note_who_measured(session, pregnancy_id, result)

    try:
        imported = import_intake(
            sessions,
            frame,
            lambda _session, _frame, _woman: intake,
            source=_channel(result),
            register=False,
            also=log,
            today=today,
            profiles=profiles,
            sender=sender,
            audit=_audited(audit, result, "stored"),
        )
    except UnknownWoman:
        system = result.identifier.system or "no system"
        reason = f"no woman stored here has this Patient ID under {system}"
        return _queue(sessions, result, payload, sender_label, reason, audit)
    except IdentityConflict:
        reason = (
            "the report's Patient ID names a woman stored here, but its birth date or another "
            "identifier differs from hers"
        )
        return _queue(sessions, result, payload, sender_label, reason, audit)
    except RejectedBundle as error:
        raise Refused(str(error), path=error.expression) from None
    except Conflict as error:
        # The same message received twice at once: the other one stored it.
        if _already(sessions, result) is not None:
            seen = _already(sessions, result)
            assert seen is not None
            return Received("already", seen.id, seen.patient_id)
        raise Refused(str(error)) from None
    return Received("stored", logged[0], imported.patient_id)


@dataclass(frozen=True, slots=True)
class IntakeDesk:
    """Where every listener hands a message (C-STORE, STOW-RS, MLLP): reads it with the
    device readers and receives it; a message refused has its audit entry too. `today`
    is asked for each message (a listener runs for days)."""

    sessions: sessionmaker[Session]
    readers: DeviceReaders
    profiles: Profiles
    today: Callable[[], dt.date]
    #: The installation's hospital-number system (`Settings.hospital_number_system`).
    local_system: str

    def take(self, channel: Channel, payload: bytes, *, source: str, audit: AuditEntry) -> Received:
        """Read and receive one message from the sender `source` (`dicom:<AE title>`,
        `user:<id>`, `hl7:<application>`). Raises `IntakeError` (unreadable, or nothing to
        store: no length, a unit that is not a length) or `Refused` (not applicable), each
        after its audit entry; nothing else is written then."""
        try:
            result = self.readers.read(channel, payload)
        except IntakeError:
            log_refusal(self.sessions, audit, f"{channel}/unreadable")
            raise
        try:
            return receive(
                self.sessions,
                result,
                payload,
                sender=Sender(source, self.local_system),
                sender_label=source,
                today=self.today(),
                profiles=self.profiles,
                audit=audit,
            )
        except Refused:
            log_refusal(self.sessions, audit, f"{channel}/{result.message_id}")
            raise
