"""Records saved and loaded back are the same records: every part, every value, in order."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.clinical.records import LengthComparator, PregnancyRecords
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.store.database import session_factory, transaction
from cervixwatch.store.models import RecordSource
from cervixwatch.store.records import PatientFields, Saved, load_records, save_records
from tests.store.tables import delete_everything, row_counts
from tests.strategies import PROPERTY_SETTINGS, pregnancy_records

SCENARIOS = sorted(
    p.parent for p in (Path(__file__).parents[1] / "scenarios").glob("*/*/expected.json")
)
#: The parts of the records that are tuples of dated records, each of which has a source id.
DATED_PARTS = tuple(
    f.name
    for f in dataclasses.fields(PregnancyRecords)
    if f.name
    in {
        "prior_pregnancies",
        "excisions",
        "cervical_lengths",
        "exams",
        "fibronectin",
        "cerclage_placements",
        "cerclage_removals",
        "medications",
        "symptom_reports",
        "complications",
        "declined",
    }
)


def _with_ids(draw: st.DrawFn, part: str, items: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(
        dataclasses.replace(item, source_id=f"{part}-{i}") if draw(st.booleans()) else item
        for i, item in enumerate(items)
    )


@st.composite
def stored_records(draw: st.DrawFn) -> PregnancyRecords:
    """Generated records with what the shared strategy leaves out: source ids on some
    records and on some reviews of symptom reports (as an import gives), who reported a
    symptom, lengths given as a bound ("<10 mm"), history known only from a count, a birth
    date and notes."""
    records = draw(pregnancy_records()).records
    changes: dict[str, Any] = {}
    for part in DATED_PARTS:
        changes[part] = _with_ids(draw, part, getattr(records, part))
    changes["symptom_reports"] = tuple(
        dataclasses.replace(
            report,
            reviews=_with_ids(draw, f"review-{i}", report.reviews),
            reported_by=draw(st.none() | st.sampled_from(["the woman", "Dr A Obstetrician"])),
        )
        for i, report in enumerate(changes["symptom_reports"])
    )
    changes["cervical_lengths"] = tuple(
        dataclasses.replace(m, comparator=draw(st.none() | st.sampled_from(LengthComparator)))
        for m in changes["cervical_lengths"]
    )
    changes["prior_pregnancies"] = tuple(
        dataclasses.replace(p, counted_as=draw(st.none() | st.just("preterm birth")))
        for p in changes["prior_pregnancies"]
    )
    changes["birth_date"] = draw(st.none() | st.dates(dt.date(1970, 1, 1), dt.date(2010, 12, 31)))
    changes["notes"] = tuple(
        draw(st.lists(st.sampled_from(["1 resource ignored", "note"]), unique=True))
    )
    return dataclasses.replace(records, **changes)


def _save(
    factory: sessionmaker[Session],
    records: PregnancyRecords,
    hospital_number: str,
    source: RecordSource = RecordSource.FORM,
) -> Saved:
    with transaction(factory) as session:
        return save_records(session, PatientFields(hospital_number), records, source=source)


def _load(factory: sessionmaker[Session], pregnancy_id: str) -> PregnancyRecords:
    with factory() as session:
        return load_records(session, pregnancy_id)


@settings(PROPERTY_SETTINGS, max_examples=60)
@given(records=stored_records())
def test_save_then_load_gives_the_same_records(engine: Engine, records: PregnancyRecords) -> None:
    factory = session_factory(engine)
    try:
        saved = _save(factory, records, f"H-{uuid.uuid4()}")
        # The stored woman has CervixWatch's id; everything else is as saved, in order.
        stored = _load(factory, saved.pregnancy_id)
        assert stored == dataclasses.replace(records, patient_id=saved.patient_id)
        # A new woman's records are given back as stored without reading them again.
        assert saved.records == stored
    finally:
        delete_everything(engine)


@settings(PROPERTY_SETTINGS, max_examples=30)
@given(records=stored_records())
def test_saving_the_same_records_again_stores_nothing_new(
    engine: Engine, records: PregnancyRecords
) -> None:
    factory = session_factory(engine)
    try:
        first = _save(factory, records, "H1")
        patient_id, pregnancy_id = first.patient_id, first.pregnancy_id
        counts = row_counts(factory)
        again = _save(factory, records, "H1")
        assert (again.patient_id, again.pregnancy_id) == (patient_id, pregnancy_id)
        assert again.records is None  # she was known: her records are read back to assess
        assert row_counts(factory) == counts
        assert _load(factory, pregnancy_id) == dataclasses.replace(records, patient_id=patient_id)
    finally:
        delete_everything(engine)


def _bundle_records(case: Path) -> PregnancyRecords:
    as_of = dt.date.fromisoformat(json.loads((case / "expected.json").read_text())["as_of"])
    return read_bundle((case / "bundle.json").read_bytes(), as_of)


@pytest.mark.parametrize("case", SCENARIOS, ids=[c.name for c in SCENARIOS])
def test_every_scenario_bundle_round_trips_and_imports_once(
    factory: sessionmaker[Session], case: Path
) -> None:
    records = _bundle_records(case)
    saved = _save(factory, records, case.name, RecordSource.FHIR)
    stored = _load(factory, saved.pregnancy_id)
    assert stored == dataclasses.replace(records, patient_id=saved.patient_id)
    assert saved.records == stored
    counts = row_counts(factory)
    _save(factory, records, case.name, RecordSource.FHIR)
    assert row_counts(factory) == counts
