"""The stored assessment is what `assess` says of the stored records; its worklist columns
are copied from it and agree with it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.reassessing import Written, refresh_assessments, write_records
from cervixwatch.clinical.assessment import assess
from cervixwatch.clinical.records import CervicalLengthMeasurement, LengthMethod, PregnancyRecords
from cervixwatch.knowledge import bundled_evidence, bundled_profiles
from cervixwatch.store.assessments import assessment_columns, stale_pregnancies
from cervixwatch.store.models import AssessmentRow, PatientRow, PregnancyRow, PregnancyStatus
from cervixwatch.store.records import PatientFields, load_records
from cervixwatch.views.json_view import assessment_json
from tests.builders import woman
from tests.strategies import PROPERTY_SETTINGS, RecordsOnDate, pregnancy_records

PROFILES = bundled_profiles()


def _json(document: Any) -> Any:
    """As a JSON column gives it back."""
    return json.loads(json.dumps(document))


def _write(factory: sessionmaker[Session], records: PregnancyRecords, as_of: dt.date) -> Written:
    return write_records(factory, PatientFields("H1"), records, as_of=as_of, profiles=PROFILES)


def _stored(factory: sessionmaker[Session]) -> list[AssessmentRow]:
    with factory() as session:
        return list(session.scalars(select(AssessmentRow)))


@PROPERTY_SETTINGS
@given(case=pregnancy_records())
def test_worklist_columns_agree_with_the_assessment(case: RecordsOnDate) -> None:
    assessment = assess(case.records, case.as_of, list(PROFILES.values()), bundled_evidence())
    result = assessment_json(assessment, case.records, PROFILES)
    columns = assessment_columns(assessment, case.records, PROFILES, result)
    facts = assessment.facts
    assert columns["ga_days"] == facts["ga_days"]
    assert columns["latest_length_mm"] == facts["latest_tv_length_mm"]
    assert columns["shortest_length_mm"] == facts["shortest_tv_length_mm"]
    assert (columns["latest_length_on"] is None) == (facts["latest_tv_length_mm"] is None)
    assert columns["next_scan_due"] == assessment.next_scan_due
    assert columns["risk_tier"] == assessment.risk.tier
    assert columns["urgent"] == any(
        "urgent-evaluation" in assessment.codes(g) for g in assessment.guidelines
    )
    assert columns["codes"] == {g: sorted(assessment.codes(g)) for g in ("acog", "nice")}
    assert columns["result"] == assessment_json(assessment, case.records, PROFILES)
    if columns["next_scan_status"] == "overdue":
        assert columns["overdue"]


def test_lengths_shown_are_transvaginal_and_dated() -> None:
    w = (
        woman(at="24+0")
        .with_length(30, at="18+0")
        .with_length(22, at="20+0")
        .with_length(25, at="22+0")
        .with_length(10, at="23+0", method=LengthMethod.TRANSABDOMINAL)
    )
    assessment = w.assess("acog", "nice")
    result = assessment_json(assessment, w.records, PROFILES)
    columns = assessment_columns(assessment, w.records, PROFILES, result)
    assert (columns["latest_length_mm"], columns["latest_length_on"]) == (25, w.day("22+0"))
    assert (columns["shortest_length_mm"], columns["shortest_length_on"]) == (22, w.day("20+0"))


def test_a_write_stores_the_assessment_of_the_stored_records(
    factory: sessionmaker[Session],
) -> None:
    w = woman(at="20+0").with_prior_sptb("30+0").with_length(22, at="19+0")
    written = _write(factory, w.records, w.as_of)
    with factory() as session:
        records = load_records(session, written.pregnancy_id)
    # As every write assesses: with the published risk figures that apply.
    expected = assess(records, w.as_of, list(PROFILES.values()), bundled_evidence())
    assert written.assessment == expected
    [row] = _stored(factory)
    assert row.pregnancy_id == written.pregnancy_id
    assert row.as_of == w.as_of
    assert row.knowledge == {p.id: p.version for p in PROFILES.values()}
    assert row.result == _json(assessment_json(expected, records, PROFILES))
    assert row.result["patient"] == written.patient_id
    assert row.computed_at.tzinfo is not None
    assert row.latest_length_mm == 22
    assert "ultrasound-indicated-cerclage" in row.codes["acog"]


def test_each_write_replaces_the_current_assessment(factory: sessionmaker[Session]) -> None:
    w = woman(at="18+0")
    first = _write(factory, w.records, w.as_of)
    later = w.with_length(18, at="20+0").at("20+1")
    _write(factory, later.records, later.as_of)
    [row] = _stored(factory)
    assert (row.pregnancy_id, row.as_of) == (first.pregnancy_id, later.as_of)
    assert row.latest_length_mm == 18


def test_a_write_that_fails_to_assess_stores_nothing(factory: sessionmaker[Session]) -> None:
    # The records are saved before the assessment is made: both go, or neither.
    w = woman(at="20+0").with_length(22, at="19+0")
    broken: Any = [object()]
    with pytest.raises(AttributeError):
        write_records(factory, PatientFields("H1"), w.records, as_of=w.as_of, profiles=broken)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(PatientRow)) == 0


def test_refresh_reassesses_what_is_stale(factory: sessionmaker[Session]) -> None:
    w = woman(at="16+0").with_prior_sptb("30+0")
    _write(factory, w.records, w.as_of)
    later = w.day("30+0")
    with factory() as session:
        assert len(stale_pregnancies(session, w.as_of, PROFILES)) == 0
        assert len(stale_pregnancies(session, later, PROFILES)) == 1
    assert refresh_assessments(factory, later, PROFILES) == 1
    assert refresh_assessments(factory, later, PROFILES) == 0
    [row] = _stored(factory)
    assert row.as_of == later
    assert row.ga_days == 30 * 7


def test_a_length_recorded_later_is_picked_up(factory: sessionmaker[Session]) -> None:
    w = woman(at="20+0")
    _write(factory, w.records, w.as_of)
    scan = PregnancyRecords(
        patient_id="form",
        cervical_lengths=(CervicalLengthMeasurement(w.day("20+0"), 15.0),),
    )
    written = _write(factory, scan, w.as_of)
    assert written.records.edd == w.edd  # the dating stored before stands
    [row] = _stored(factory)
    assert row.latest_length_mm == 15.0
    assert row.ga_days == 20 * 7


@pytest.mark.parametrize("version", ["9999.1", "0000.1"])
def test_another_guideline_version_makes_todays_assessments_stale(
    factory: sessionmaker[Session], version: str
) -> None:
    """A newer version, or an older one (a rollback): the probe asks "below or above",
    each direction must be seen."""
    w = woman(at="16+0").with_prior_sptb("30+0")
    _write(factory, w.records, w.as_of)
    current = list(PROFILES.values())
    for index in range(len(current)):
        changed = list(current)
        changed[index] = dataclasses.replace(current[index], version=version)
        with factory() as session:
            assert stale_pregnancies(session, w.as_of, current) == []
            assert len(stale_pregnancies(session, w.as_of, changed)) == 1


def test_an_assessment_made_for_a_later_day_is_stale(factory: sessionmaker[Session]) -> None:
    """The clinic's clock set back (or a refresh run with a later date): not of today."""
    w = woman(at="16+0").with_prior_sptb("30+0")
    written = _write(factory, w.records, w.day("17+0"))
    with factory() as session:
        assert stale_pregnancies(session, w.as_of, PROFILES) == [written.pregnancy_id]


def test_an_assessment_stored_before_the_worklist_flags_is_stale(
    factory: sessionmaker[Session],
) -> None:
    w = woman(at="16+0").with_prior_sptb("30+0")
    written = _write(factory, w.records, w.as_of)
    with factory.begin() as session:
        session.execute(update(AssessmentRow).values(worklist_rank=None))
    with factory() as session:
        assert stale_pregnancies(session, w.as_of, PROFILES) == [written.pregnancy_id]


def test_an_active_pregnancy_without_an_assessment_is_stale(
    factory: sessionmaker[Session],
) -> None:
    """Its assessment gone (an operator's SQL, a restore): the counts of active rows differ,
    and the long way finds it."""
    w = woman(at="16+0").with_prior_sptb("30+0")
    written = _write(factory, w.records, w.as_of)
    with factory.begin() as session:
        session.execute(delete(AssessmentRow))
    with factory() as session:
        assert stale_pregnancies(session, w.as_of, PROFILES) == [written.pregnancy_id]


def test_an_ended_pregnancy_is_never_stale(factory: sessionmaker[Session]) -> None:
    """Ended, its assessment is left as it was (the database unmarks it: migration 0013),
    however old."""
    w = woman(at="16+0").with_prior_sptb("30+0")
    written = _write(factory, w.records, w.as_of)
    with factory.begin() as session:
        session.execute(
            update(PregnancyRow)
            .where(PregnancyRow.id == written.pregnancy_id)
            .values(status=PregnancyStatus.ENDED)
        )
    with factory() as session:
        assert stale_pregnancies(session, w.day("30+0"), PROFILES) == []
        [active] = session.scalars(select(AssessmentRow.pregnancy_active))
        assert active is False
