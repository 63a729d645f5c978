"""What the intake tests share: a woman registered as the hospital's EHR would (her hospital
number under the hospital's system, as the synthetic SRs name her), the readers' codes, and
the audit entry an intake starts from."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.device_readers import DeviceReaders, load_device_codes
from cervixwatch.app.patient_identity import Sender
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.interop.fhir_patient import Identifier
from cervixwatch.knowledge import load_profiles
from cervixwatch.store.audit import AuditEntry
from cervixwatch.store.database import transaction
from cervixwatch.store.records import PatientFields, save_records
from cervixwatch.web.app import create_app
from tests.store.tables import delete_everything
from tests.web.accounts import sign_in_as_clinician, test_settings
from tests.web.conftest import TODAY as WEB_TODAY

#: The hospital's patient-ID issuer, as the synthetic SRs carry it (an ISO OID).
HOSPITAL_OID = "1.2.826.0.1.999999.1"
HOSPITAL_SYSTEM = f"urn:oid:{HOSPITAL_OID}"
TODAY = dt.date(2026, 11, 25)
EDD = dt.date(2027, 3, 20)
PROFILES = load_profiles()
SENDER = Sender("device:SONO1")


def register(factory: sessionmaker[Session], value: str = "SYN-0001", edd: dt.date = EDD) -> str:
    """A woman with an active pregnancy, known by `value` under the hospital's system."""
    fields = PatientFields(
        identifiers=(Identifier(value, HOSPITAL_SYSTEM),),
        names=({"family": "Synthetic", "given": ["Ada"]},),
    )
    with transaction(factory) as session:
        saved = save_records(
            session,
            fields,
            PregnancyRecords(patient_id="", edd=edd, birth_date=dt.date(1990, 1, 1)),
        )
        return saved.patient_id


def audit_entry(method: str = "C-STORE") -> AuditEntry:
    return AuditEntry(
        action="device-intake",
        method=method,
        route="dicom",
        path="",
        status=0,
        request_id=str(uuid.uuid4()),
        via="test",
    )


@pytest.fixture
def readers() -> DeviceReaders:
    return DeviceReaders(load_device_codes())


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    """The app, as tests/web's `client`: acting for a clinician by a bearer token (the FHIR
    API's and STOW-RS's way in), the clinic's clock at tests/web's day."""
    delete_everything(engine)
    with TestClient(create_app(test_settings(engine), today=lambda: WEB_TODAY)) as test_client:
        sign_in_as_clinician(test_client)
        yield test_client
    delete_everything(engine)
