"""Issue 14, part 5: a value's source on the pregnancy page. A length from a scan report
(DICOM SR) and one from an HL7 result are shown as such beside one typed on the form, with
who measured it when the report names the operator."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cervixwatch.app.device_intake import receive
from cervixwatch.app.device_readers import DeviceReaders, load_device_codes
from cervixwatch.app.patient_identity import Sender
from cervixwatch.store.database import session_factory
from cervixwatch.store.models import PregnancyRow
from tests.integrations.conftest import PROFILES, audit_entry, register
from tests.integrations.hl7_builder import oru
from tests.integrations.sr_builder import build_sr, sr_bytes
from tests.web.accounts import under_team
from tests.web.conftest import TODAY


def _receive(engine: Engine, channel: str, raw: bytes) -> None:
    readers = DeviceReaders(load_device_codes())
    done = receive(
        session_factory(engine),
        readers.read(channel, raw),  # type: ignore[arg-type]
        raw,
        sender=Sender("device:test"),
        sender_label="device:test",
        today=TODAY,
        profiles=PROFILES,
        audit=audit_entry(),
    )
    assert done.outcome == "stored"


def test_the_pregnancy_page_says_where_each_length_came_from(
    client: TestClient, engine: Engine
) -> None:
    factory = session_factory(engine)
    woman = register(factory, edd=TODAY + dt.timedelta(days=140))
    under_team(client, woman)
    scanned = TODAY - dt.timedelta(days=7)
    _receive(engine, "dicom-sr", sr_bytes(build_sr(lengths_mm=(27.0,), study_day=scanned)))
    day = (TODAY - dt.timedelta(days=1)).strftime("%Y%m%d") + "0930"
    _receive(engine, "hl7v2", oru("P1", value="26", observed=day).encode())
    with factory() as session:
        pregnancy = session.scalars(select(PregnancyRow.id)).one()
    page = client.get(f"/pregnancies/{pregnancy}")
    assert page.status_code == 200
    assert "Scan report (DICOM SR)" in page.text
    assert "HL7 result" in page.text
    assert "Synthetic Sonographer" in page.text
