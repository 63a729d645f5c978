"""The review queue (`/intake/review`): a scan report that names no woman waits there; a
clinician matches it to a woman by her hospital number (then it is stored through the
import use case, for her) or discards it; both audited; a wrong number stores nothing."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cervixwatch.app.device_intake import receive
from cervixwatch.app.device_readers import DeviceReaders, load_device_codes
from cervixwatch.app.patient_identity import Sender
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.interop.fhir_patient import Identifier
from cervixwatch.store.database import session_factory, transaction
from cervixwatch.store.models import (
    AuditEventRow,
    CervicalLengthRow,
    DeviceMessageRow,
    DeviceMessageStatus,
)
from cervixwatch.store.records import PatientFields, save_records
from tests.integrations.conftest import PROFILES, audit_entry
from tests.integrations.hl7_builder import oru
from tests.integrations.sr_builder import build_sr, sr_bytes
from tests.store.tables import row_counts
from tests.web.accounts import under_team
from tests.web.conftest import TODAY

SCANNED = TODAY - dt.timedelta(days=2)


def _queue(engine: Engine, patient_id: str) -> int:
    raw = sr_bytes(build_sr(patient_id, lengths_mm=(17.0,), study_day=SCANNED))
    readers = DeviceReaders(load_device_codes())
    received = receive(
        session_factory(engine),
        readers.read("dicom-sr", raw),
        raw,
        sender=Sender("dicom:SONO1"),
        sender_label="dicom:SONO1",
        today=TODAY,
        profiles=PROFILES,
        audit=audit_entry(),
    )
    assert received.outcome == "review"
    return received.message_row


def _queue_hl7(engine: Engine, patient: str) -> int:
    observed = SCANNED.strftime("%Y%m%d") + "0930"
    raw = oru("R1", patient=patient, value="1.8", unit="cm^centimeter^UCUM", observed=observed)
    readers = DeviceReaders(load_device_codes())
    received = receive(
        session_factory(engine),
        readers.read("hl7v2", raw.encode()),
        raw.encode(),
        sender=Sender("hl7:VIEWPOINT"),
        sender_label="hl7:VIEWPOINT",
        today=TODAY,
        profiles=PROFILES,
        audit=audit_entry("MLLP"),
    )
    assert received.outcome == "review"
    return received.message_row


def _woman(client: TestClient, engine: Engine, number: str) -> str:
    system = client.app.state.settings.hospital_number_system  # type: ignore[attr-defined]
    fields = PatientFields(identifiers=(Identifier(number, system),), local_system=system)
    records = PregnancyRecords(patient_id="", edd=TODAY + dt.timedelta(days=150))
    with transaction(session_factory(engine)) as session:
        patient_id = save_records(session, fields, records).patient_id
    under_team(client, patient_id)
    return patient_id


def test_a_clinician_matches_one_report_and_discards_another(
    client: TestClient, engine: Engine
) -> None:
    factory = session_factory(engine)
    _woman(client, engine, "H-7001")
    first = _queue(engine, "UNKNOWN-1")
    second = _queue(engine, "UNKNOWN-2")
    page = client.get("/intake/review")
    assert page.status_code == 200
    assert "cervical length 17 mm" in page.text
    assert "UNKNOWN-1" in page.text

    counts = row_counts(factory)
    wrong = client.post(f"/intake/review/{first}/match", data={"hospital_number": "H-0000"})
    assert wrong.status_code == 422
    assert "no woman under your care teams has this hospital number" in wrong.text
    assert row_counts(factory) == counts

    audits = _audit_count(engine)
    matched = client.post(
        f"/intake/review/{first}/match", data={"hospital_number": "H-7001"}, follow_redirects=False
    )
    assert matched.status_code == 303
    assert matched.headers["location"].startswith("/intake/review?done=matched")
    discarded = client.post(f"/intake/review/{second}/discard", follow_redirects=False)
    assert discarded.status_code == 303
    with factory() as session:
        assert session.scalars(select(CervicalLengthRow.length_mm)).all() == [17.0]
        rows = {r.id: r for r in session.scalars(select(DeviceMessageRow))}
        assert rows[first].status is DeviceMessageStatus.MATCHED
        assert rows[second].status is DeviceMessageStatus.DISCARDED
        assert rows[first].payload is None
        assert rows[second].payload is None
    assert _audit_count(engine) == audits + 2
    after = client.get("/intake/review?done=discarded")
    assert "No report is waiting." in after.text
    # Matched already: a second try changes nothing.
    again = client.post(f"/intake/review/{first}/match", data={"hospital_number": "H-7001"})
    assert again.status_code == 409
    # An HL7 result waits and is matched the same way.
    result = _queue_hl7(engine, "UNKNOWN-3")
    assert "HL7 result" in client.get("/intake/review").text
    client.post(f"/intake/review/{result}/match", data={"hospital_number": "H-7001"})
    with factory() as session:
        lengths = session.scalars(
            select(CervicalLengthRow.length_mm).order_by(CervicalLengthRow.id)
        )
        assert lengths.all() == [17.0, 18.0]


def _audit_count(engine: Engine) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(AuditEventRow)) or 0
