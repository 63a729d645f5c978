"""A woman's data goes with her: deleting her deletes every record and assessment of hers."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.accounts import assign_patient
from cervixwatch.app.reassessing import write_records
from cervixwatch.clinical.records import (
    CerclagePlacement,
    CerclageRemoval,
    CerclageRoute,
    CervicalExam,
    CervicalExcision,
    CervicalLengthMeasurement,
    Complication,
    ComplicationRecord,
    DeclinableCode,
    DeclinedDecision,
    ExcisionKind,
    FetalFibronectin,
    MaternalCondition,
    Medication,
    MedicationOrder,
    PartialDate,
    PregnancyRecords,
    PriorOutcome,
    PriorPregnancy,
    ReviewOutcome,
    Symptom,
    SymptomReport,
    SymptomReview,
)
from cervixwatch.knowledge import bundled_profiles
from cervixwatch.store import notifications as store
from cervixwatch.store import transaction
from cervixwatch.store.accounts import team_by_name
from cervixwatch.store.models import (
    AppointmentRow,
    AppointmentStatus,
    CorrectionChange,
    DeviceMessageRow,
    DeviceMessageStatus,
    NotificationKind,
    NotifyChannel,
    NotifyContactRow,
    PatientRow,
    RecordCorrectionRow,
    RecordSource,
    SymptomReportRow,
)
from cervixwatch.store.records import PatientFields
from tests.store.tables import row_counts

DAY = dt.date(2026, 3, 2)
#: One of every kind of record, each with a source id (so identifiers are stored too).
EVERYTHING = PregnancyRecords(
    patient_id="p1",
    edd=dt.date(2026, 7, 20),
    fetuses=1,
    birth_date=dt.date(1990, 5, 1),
    prior_pregnancies=(
        PriorPregnancy(PartialDate(2022), PriorOutcome.LIVE_BIRTH, 30 * 7, None, source_id="pp"),
    ),
    excisions=(CervicalExcision(ExcisionKind.LLETZ, 12.0, source_id="ex"),),
    maternal_conditions=frozenset({MaternalCondition.UTERINE_ANOMALY}),
    cervical_lengths=(CervicalLengthMeasurement(DAY, 22.0, source_id="cl"),),
    exams=(CervicalExam(DAY, dilation_cm=1.0, source_id="exam"),),
    fibronectin=(FetalFibronectin(DAY, ng_per_ml=30.0, source_id="ffn"),),
    complications=(ComplicationRecord(Complication.PLACENTA_PRAEVIA, DAY, source_id="cx"),),
    cerclage_placements=(CerclagePlacement(DAY, CerclageRoute.TRANSVAGINAL, source_id="cp"),),
    cerclage_removals=(CerclageRemoval(DAY, source_id="cr"),),
    medications=(MedicationOrder(Medication.VAGINAL_PROGESTERONE, DAY, source_id="med"),),
    symptom_reports=(
        SymptomReport(
            DAY,
            frozenset({Symptom.BACKACHE}),
            source_id="sr",
            reviews=(SymptomReview(DAY, ReviewOutcome.ADVISED_BY_PHONE, source_id="rv"),),
        ),
    ),
    declined=(DeclinedDecision(DeclinableCode.VAGINAL_PROGESTERONE, DAY, source_id="dd"),),
    notes=("a note",),
)


def _notified(factory: sessionmaker[Session], pregnancy_id: str) -> None:
    """A red-flag report of hers notified to her team, and a delivery of it tried once."""
    with transaction(factory) as session:
        report = SymptomReportRow(
            pregnancy_id=pregnancy_id,
            reported_on=DAY,
            present=["bleeding"],
            absent=[],
            source=RecordSource.FORM,
        )
        session.add(report)
        team = team_by_name(session, "Care team")
        assert team is not None
        contact = store.same_contact(session, team.id, NotifyChannel.EMAIL, "team@h.test")
        if contact is None:
            contact = NotifyContactRow(
                team_id=team.id, channel=NotifyChannel.EMAIL, address="team@h.test"
            )
            session.add(contact)
        session.flush()
        now = dt.datetime.now(dt.UTC)
        [notification] = [
            store.add_notification(
                session, NotificationKind.RED_FLAG_REPORT, report, "-", [contact], now
            )
        ]
        [delivery] = store.deliveries_of(session, notification.id)
        store.add_attempt(session, delivery.id, now, sent=False, detail="HTTP 500")


def _booked_corrected_and_scanned(
    factory: sessionmaker[Session], patient_id: str, pregnancy_id: str
) -> None:
    """A scan booked for her, a correction of one of her records and a device's report
    stored for her (issues 13 and 14)."""
    now = dt.datetime.now(dt.UTC)
    with transaction(factory) as session:
        session.add(
            AppointmentRow(
                pregnancy_id=pregnancy_id,
                scheduled_on=DAY,
                scheduled_at=dt.time(9, 30),
                status=AppointmentStatus.BOOKED,
            )
        )
        session.add(
            RecordCorrectionRow(
                patient_id=patient_id,
                record_table="cervical_lengths",
                record_id=1,
                change=CorrectionChange.AMENDED,
                reason="typed 22 for 23",
                corrected_at=now,
                before={"length_mm": 22.0},
            )
        )
        session.add(
            DeviceMessageRow(
                channel=RecordSource.HL7V2,
                message_id=f"VIEWPOINT|{patient_id}",
                sender="hl7:VIEWPOINT",
                status=DeviceMessageStatus.STORED,
                patient_value="SYN-1",
                summary="cervical length 23 mm",
                patient_id=patient_id,
            )
        )


def test_deleting_a_patient_deletes_all_her_data(factory: sessionmaker[Session]) -> None:
    profiles = bundled_profiles()
    kept = write_records(
        factory,
        PatientFields("KEEP"),
        dataclasses.replace(EVERYTHING, patient_id="p2"),
        as_of=DAY,
        profiles=profiles,
        source=RecordSource.FHIR,
    )
    written = write_records(
        factory, PatientFields("GONE"), EVERYTHING, as_of=DAY, profiles=profiles
    )
    for woman in (kept, written):
        assign_patient(factory, "Care team", woman.patient_id)
        _notified(factory, woman.pregnancy_id)
        _booked_corrected_and_scanned(factory, woman.patient_id, woman.pregnancy_id)
    with_both = row_counts(factory)
    assert all(count >= 1 for count in with_both.values()), with_both

    with factory() as session:
        session.execute(delete(PatientRow).where(PatientRow.id == written.patient_id))
        session.commit()

    assert {name: count * 2 for name, count in row_counts(factory).items()} == with_both
    with factory() as session:
        assert session.get(PatientRow, kept.patient_id) is not None
