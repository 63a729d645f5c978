"""DICOM SR intake through the import use case (`app.device_intake`): stored once per SOP
Instance UID, a corrected SR replaces the value it corrects, an unknown woman waits for
review, and bad reports are refused with nothing written (row counts before and after)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.device_intake import Received, Refused, receive
from cervixwatch.app.device_readers import DeviceReaders
from cervixwatch.interop.intake import IntakeError
from cervixwatch.store.models import (
    AuditEventRow,
    CervicalLengthRow,
    DeviceMessageRow,
    DeviceMessageStatus,
    PregnancyRow,
    RecordSource,
)
from tests.integrations.conftest import PROFILES, SENDER, TODAY, audit_entry, register
from tests.integrations.sr_builder import build_sr, sr_bytes
from tests.store.tables import row_counts


def _send(factory: sessionmaker[Session], readers: DeviceReaders, raw: bytes) -> Received:
    result = readers.read("dicom-sr", raw)
    return receive(
        factory,
        result,
        raw,
        sender=SENDER,
        sender_label="SONO1",
        today=TODAY,
        profiles=PROFILES,
        audit=audit_entry(),
    )


def _lengths(factory: sessionmaker[Session]) -> list[tuple[float, str, str | None]]:
    with factory() as session:
        rows = session.scalars(select(CervicalLengthRow).order_by(CervicalLengthRow.id))
        return [(r.length_mm, r.source.value, r.source_ref) for r in rows]


def _audits(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEventRow)) or 0


def test_a_report_is_stored_once_for_her_and_a_correction_replaces_it(
    factory: sessionmaker[Session], readers: DeviceReaders
) -> None:
    woman = register(factory)
    first = build_sr(lengths_mm=(2.4, 2.2), unit="cm", fetuses=1)
    audits = _audits(factory)
    done = _send(factory, readers, sr_bytes(first))
    assert (done.outcome, done.patient_id) == ("stored", woman)
    assert [(mm, source) for mm, source, _ in _lengths(factory)] == [(22.0, "dicom-sr")]
    # The same SOP instance again: answered as before, nothing written but its audit entry.
    counts = row_counts(factory)
    again = _send(factory, readers, sr_bytes(first))
    assert again.outcome == "already"
    assert row_counts(factory) == counts
    assert _audits(factory) == audits + 2
    # A corrected report names the first: its value replaces the first's.
    corrected = build_sr(lengths_mm=(19.0,), replaces=str(first.SOPInstanceUID))
    assert _send(factory, readers, sr_bytes(corrected)).outcome == "stored"
    assert [(mm, source) for mm, source, _ in _lengths(factory)] == [(19.0, "dicom-sr")]
    with factory() as session:
        logged = session.scalars(select(DeviceMessageRow).order_by(DeviceMessageRow.id)).all()
        assert [r.status for r in logged] == [DeviceMessageStatus.STORED] * 2
        assert all(r.patient_id == woman and r.payload is None for r in logged)
        assert logged[0].device == "Synthetic Medical Sono 1"
        pregnancy = session.scalars(select(PregnancyRow)).one()
        assert pregnancy.fetuses == 1


def test_a_report_for_no_woman_stored_here_waits_for_review(
    factory: sessionmaker[Session], readers: DeviceReaders
) -> None:
    register(factory)
    raw = sr_bytes(build_sr("SYN-9999"))
    done = _send(factory, readers, raw)
    assert done.outcome == "review"
    assert done.reason is not None
    assert "no woman" in done.reason
    assert _lengths(factory) == []
    with factory() as session:
        row = session.get(DeviceMessageRow, done.message_row)
        assert row is not None
        assert (row.status, row.channel, row.payload) == (
            DeviceMessageStatus.REVIEW,
            RecordSource.DICOM_SR,
            raw,
        )
    # Without an issuer, and none configured for the device: she cannot be identified.
    unnamed = _send(factory, readers, sr_bytes(build_sr("SYN-0001", oid=None)))
    assert unnamed.outcome == "review"
    assert unnamed.reason is not None
    assert "issuer" in unnamed.reason
    # Her Patient ID, another birth date: not merged, kept for review.
    other = _send(factory, readers, sr_bytes(build_sr("SYN-0001", birth="19800101")))
    assert other.outcome == "review"
    assert _lengths(factory) == []


@pytest.mark.parametrize(
    ("report", "path"),
    [
        (lambda: sr_bytes(build_sr(lengths_mm=())), "ContentSequence"),
        (
            lambda: sr_bytes(build_sr(unit="[in_i]")),
            "ContentSequence[0].ContentSequence[0].MeasuredValueSequence[0]"
            ".MeasurementUnitsCodeSequence[0].CodeValue",
        ),
        (lambda: b"\x00" * 128 + b"DICM" + b"\xff" * 40, None),
        (lambda: b"not dicom at all", None),
    ],
    ids=["no-length", "wrong-unit", "corrupt", "not-dicom"],
)
def test_bad_reports_are_refused_naming_the_element_and_write_nothing(
    factory: sessionmaker[Session], readers: DeviceReaders, report: object, path: str | None
) -> None:
    register(factory)
    counts = row_counts(factory)
    assert callable(report)
    with pytest.raises(IntakeError) as refused:
        readers.read("dicom-sr", report())
    assert refused.value.path == path
    assert row_counts(factory) == counts


def test_a_length_dated_after_today_is_refused_and_writes_nothing(
    factory: sessionmaker[Session], readers: DeviceReaders
) -> None:
    register(factory)
    ds = build_sr()
    ds.StudyDate = (TODAY + dt.timedelta(days=3)).strftime("%Y%m%d")
    counts = row_counts(factory)
    with pytest.raises(Refused):
        _send(factory, readers, sr_bytes(ds))
    assert row_counts(factory) == counts
