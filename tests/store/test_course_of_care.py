"""The records of the course of care in the store: complications with their dates (every one
loaded, resolved or not, so the assessment of any day is right: CD-06), medication orders with
their stop dates, declined offers, and reviews of symptom reports (CD-07), each saved, loaded
back and merged like any record."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.reassessing import reassess, write_records
from cervixwatch.clinical.assessment import assess
from cervixwatch.clinical.facts import derive_facts
from cervixwatch.clinical.records import (
    Complication,
    ComplicationRecord,
    DeclinableCode,
    DeclinedDecision,
    Medication,
    MedicationOrder,
    PregnancyRecords,
    ReviewOutcome,
    Symptom,
    SymptomReport,
    SymptomReview,
)
from cervixwatch.knowledge import bundled_profiles
from cervixwatch.store.crud import delete_row
from cervixwatch.store.database import transaction
from cervixwatch.store.models import (
    ComplicationRow,
    MedicationRow,
    MedicationStatus,
    RecordSource,
    SourceIdentifierRow,
    SymptomReportRow,
    SymptomReviewRow,
)
from cervixwatch.store.records import PatientFields, load_records, save_records
from cervixwatch.store.retractions import Retractions, retract
from tests.builders import woman

PROFILES = list(bundled_profiles().values())
#: The day before the infection below is noted, and that day.
BEFORE, NOTED = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
INFECTION = ComplicationRecord(Complication.CHORIOAMNIONITIS, NOTED, source_id="cx-1")


def _save(
    factory: sessionmaker[Session], records: PregnancyRecords, number: str = "H1"
) -> tuple[str, str]:
    with transaction(factory) as session:
        saved = save_records(session, PatientFields(number), records, source=RecordSource.FHIR)
    return saved.patient_id, saved.pregnancy_id


def _load(factory: sessionmaker[Session], pregnancy_id: str) -> PregnancyRecords:
    with factory() as session:
        return load_records(session, pregnancy_id)


def _count(factory: sessionmaker[Session], table: type[object]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def _short_cervix_after_a_loss() -> PregnancyRecords:
    """A woman offered cerclage on 2026-03-01: a mid-trimester loss and a 20 mm cervix."""
    her = woman("19+0").with_prior_loss("20+0").with_length(20, at="18+0")
    assert her.as_of < BEFORE
    return her.records


# --- complications: the as_of cut is the clinical core's ---------------------------------------


def test_an_assessment_does_not_see_an_infection_noted_the_next_day(
    factory: sessionmaker[Session],
) -> None:
    records = dataclasses.replace(_short_cervix_after_a_loss(), complications=(INFECTION,))
    _, pregnancy_id = _save(factory, records)
    stored = _load(factory, pregnancy_id)
    assert stored.complications == (INFECTION,)

    assert derive_facts(stored, BEFORE)["chorioamnionitis"] is False
    assert derive_facts(stored, NOTED)["chorioamnionitis"] is True
    before = assess(stored, BEFORE, PROFILES)
    on_the_day = assess(stored, NOTED, PROFILES)
    for profile in PROFILES:
        assert "cerclage-contraindicated" not in before.codes(profile.id)
        assert "cerclage-contraindicated" in on_the_day.codes(profile.id)


def test_the_stored_assessment_is_made_of_the_rows_with_their_dates(
    factory: sessionmaker[Session],
) -> None:
    records = dataclasses.replace(_short_cervix_after_a_loss(), complications=(INFECTION,))
    written = write_records(factory, PatientFields("H1"), records, as_of=BEFORE, profiles=PROFILES)
    assert all("cerclage-contraindicated" not in written.assessment.codes(p.id) for p in PROFILES)
    with transaction(factory) as session:
        _, assessment = reassess(session, written.pregnancy_id, NOTED, PROFILES)
    assert all("cerclage-contraindicated" in assessment.codes(p.id) for p in PROFILES)


def test_a_resolved_complication_is_loaded_so_an_earlier_day_still_sees_it(
    factory: sessionmaker[Session],
) -> None:
    bleeding = ComplicationRecord(
        Complication.VAGINAL_BLEEDING, dt.date(2026, 2, 10), dt.date(2026, 2, 20)
    )
    records = dataclasses.replace(_short_cervix_after_a_loss(), complications=(bleeding,))
    _, pregnancy_id = _save(factory, records)
    stored = _load(factory, pregnancy_id)
    assert stored.complications == (bleeding,)
    assert derive_facts(stored, dt.date(2026, 2, 15))["active_bleeding"] is True
    assert derive_facts(stored, dt.date(2026, 2, 20))["active_bleeding"] is False


def test_a_complication_sent_again_resolved_updates_its_row(
    factory: sessionmaker[Session],
) -> None:
    _, pregnancy_id = _save(factory, PregnancyRecords("p1", complications=(INFECTION,)))
    resolved = dataclasses.replace(INFECTION, resolved_on=dt.date(2026, 3, 9))
    _save(factory, PregnancyRecords("p1", complications=(resolved,)))
    assert _load(factory, pregnancy_id).complications == (resolved,)
    assert _count(factory, ComplicationRow) == 1


def test_resolving_by_code_leaves_a_later_episode_alone(factory: sessionmaker[Session]) -> None:
    """A source saying "the bleeding resolved on 3 March" resolves the bleeding stored from a
    form, but not one noted after that day (it is another episode)."""
    earlier = ComplicationRecord(Complication.VAGINAL_BLEEDING, dt.date(2026, 3, 1))
    later = ComplicationRecord(Complication.VAGINAL_BLEEDING, dt.date(2026, 3, 5))
    patient_id, pregnancy_id = _save(
        factory, PregnancyRecords("p1", complications=(earlier, later))
    )
    day = dt.date(2026, 3, 3)
    with transaction(factory) as session:
        retractions = Retractions(resolved={Complication.VAGINAL_BLEEDING: day})
        retract(session, patient_id, pregnancy_id, "urn:test", retractions, day)
    stored = _load(factory, pregnancy_id).complications
    assert stored == (dataclasses.replace(earlier, resolved_on=day), later)


# --- medications: stopped on a known day ----------------------------------------------------


def test_a_stopped_order_is_loaded_with_its_stop_date_one_stopped_on_no_known_day_is_not(
    factory: sessionmaker[Session],
) -> None:
    started, stopped = dt.date(2026, 2, 1), dt.date(2026, 2, 20)
    order = MedicationOrder(
        Medication.VAGINAL_PROGESTERONE, started, source_id="m1", stopped_on=stopped
    )
    _, pregnancy_id = _save(factory, PregnancyRecords("p1", medications=(order,)))
    assert _load(factory, pregnancy_id).medications == (order,)
    with factory() as session:
        assert session.scalars(select(MedicationRow.status)).one() == MedicationStatus.STOPPED
        row = session.scalars(select(MedicationRow)).one()
        row.stopped_on = None  # as a form may leave it: stopped, day unknown
        session.commit()
    assert _load(factory, pregnancy_id).medications == ()


# --- declined offers --------------------------------------------------------------------------


def test_a_declined_offer_is_stored_once_and_read_back(factory: sessionmaker[Session]) -> None:
    declined = DeclinedDecision(DeclinableCode.VAGINAL_PROGESTERONE, BEFORE, source_id="d1")
    undated_id = DeclinedDecision(DeclinableCode.HISTORY_INDICATED_CERCLAGE, BEFORE)
    records = PregnancyRecords("p1", declined=(declined, undated_id))
    _, pregnancy_id = _save(factory, records)
    _save(factory, records)
    assert _load(factory, pregnancy_id).declined == (declined, undated_id)


# --- reviews of symptom reports ----------------------------------------------------------------

REPORT = SymptomReport(BEFORE, frozenset({Symptom.CONTRACTIONS}), source_id="qr-1")
REVIEW = SymptomReview(NOTED, ReviewOutcome.SEEN_IN_TRIAGE, "Dr A", source_id="task-1")


def test_a_review_sent_later_closes_the_stored_report(factory: sessionmaker[Session]) -> None:
    records = woman("30+0").with_records(symptom_reports=(REPORT,)).records
    _, pregnancy_id = _save(factory, records)
    assert _load(factory, pregnancy_id).symptom_reports[0].review_by(NOTED) is None
    assert all(
        "urgent-evaluation" in assess(records, NOTED, PROFILES).codes(p.id) for p in PROFILES
    )

    reviewed = dataclasses.replace(REPORT, reviews=(REVIEW,))
    _save(factory, dataclasses.replace(records, symptom_reports=(reviewed,)))
    stored = _load(factory, pregnancy_id)
    assert stored.symptom_reports == (reviewed,)
    assert stored.symptom_reports[0].review_by(NOTED) == REVIEW
    assert stored.symptom_reports[0].review_by(BEFORE) is None  # not yet known the day before
    assert all(
        "urgent-evaluation" not in assess(stored, NOTED, PROFILES).codes(p.id) for p in PROFILES
    )

    # Sent again, amended: the same rows, the later values.
    amended = dataclasses.replace(REVIEW, outcome=ReviewOutcome.ADMITTED)
    _save(
        factory,
        dataclasses.replace(
            records, symptom_reports=(dataclasses.replace(REPORT, reviews=(amended,)),)
        ),
    )
    assert _load(factory, pregnancy_id).symptom_reports[0].reviews == (amended,)
    assert (_count(factory, SymptomReportRow), _count(factory, SymptomReviewRow)) == (1, 1)


def test_reviews_without_ids_are_matched_by_their_values(factory: sessionmaker[Session]) -> None:
    review = SymptomReview(NOTED, ReviewOutcome.ADVISED_BY_PHONE, "Midwife B")
    report = SymptomReport(BEFORE, frozenset({Symptom.BACKACHE}), reviews=(review,))
    records = PregnancyRecords("p1", symptom_reports=(report,))
    _, pregnancy_id = _save(factory, records)
    _save(factory, records)
    second = SymptomReview(NOTED + dt.timedelta(days=1), ReviewOutcome.NO_ACTION_NEEDED)
    _save(
        factory,
        PregnancyRecords(
            "p1", symptom_reports=(dataclasses.replace(report, reviews=(review, second)),)
        ),
    )
    assert _load(factory, pregnancy_id).symptom_reports == (
        dataclasses.replace(report, reviews=(review, second)),
    )
    assert (_count(factory, SymptomReportRow), _count(factory, SymptomReviewRow)) == (1, 2)


def test_deleting_a_report_deletes_its_reviews_and_their_identifiers(
    factory: sessionmaker[Session],
) -> None:
    records = PregnancyRecords(
        "p1", symptom_reports=(dataclasses.replace(REPORT, reviews=(REVIEW,)),)
    )
    _, pregnancy_id = _save(factory, records)
    assert _count(factory, SourceIdentifierRow) == 3  # the Patient, the report, the review
    with transaction(factory) as session:
        delete_row(session, session.scalars(select(SymptomReportRow)).one())
    assert (_count(factory, SymptomReviewRow), _count(factory, SourceIdentifierRow)) == (0, 1)
    # Sent again, both are stored afresh.
    _save(factory, records)
    assert _load(factory, pregnancy_id).symptom_reports == records.symptom_reports
