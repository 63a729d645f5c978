"""Records written as FHIR and read back are the same records, and assess the same: the basis
of `$everything` export (a bundle exported by CervixWatch assesses as the original did)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from fhir.resources.R4B.bundle import Bundle

from cervixwatch.clinical.assessment import assess
from cervixwatch.clinical.records import (
    CervicalLengthMeasurement,
    Complication,
    ComplicationRecord,
    DeclinableCode,
    DeclinedDecision,
    LengthComparator,
    Medication,
    MedicationOrder,
    PregnancyRecords,
    PriorOutcome,
    PriorPregnancy,
    ReviewOutcome,
    Symptom,
    SymptomReport,
    SymptomReview,
)
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.interop.fhir_write import bundle_from_records
from cervixwatch.knowledge import bundled_profiles

SCENARIOS = sorted(
    p.parent for p in (Path(__file__).parents[2] / "scenarios").glob("*/*/expected.json")
)


def _clinical_content(records: PregnancyRecords) -> dict[str, Any]:
    """The records without the ids they came from (exported resources get their own ids)."""

    def strip(item: object) -> object:
        if isinstance(item, SymptomReport):
            reviews = tuple(dataclasses.replace(r, source_id=None) for r in item.reviews)
            item = dataclasses.replace(item, reviews=reviews)
        if dataclasses.is_dataclass(item) and hasattr(item, "source_id"):
            return dataclasses.replace(item, source_id=None)  # type: ignore[type-var]
        return item

    out: dict[str, Any] = {}
    for field in dataclasses.fields(records):
        value = getattr(records, field.name)
        if field.name == "notes":
            continue
        out[field.name] = (
            sorted((strip(v) for v in value), key=repr) if isinstance(value, tuple) else value
        )
    return out


@pytest.mark.parametrize("case", SCENARIOS, ids=[c.name for c in SCENARIOS])
def test_export_then_import_gives_the_same_records_and_assessment(case: Path) -> None:
    as_of = dt.date.fromisoformat(json.loads((case / "expected.json").read_text())["as_of"])
    original = read_bundle((case / "bundle.json").read_bytes(), as_of)

    exported = orjson.dumps(bundle_from_records(original))
    again = read_bundle(exported, as_of)

    assert _clinical_content(again) == _clinical_content(original)
    profiles = list(bundled_profiles().values())
    before = [
        (r.guideline, r.code, r.rule) for r in assess(original, as_of, profiles).recommendations
    ]
    after = [(r.guideline, r.code, r.rule) for r in assess(again, as_of, profiles).recommendations]
    assert after == before


@pytest.mark.parametrize("case", SCENARIOS[:5], ids=[c.name for c in SCENARIOS[:5]])
def test_exported_bundle_is_valid_fhir(case: Path) -> None:
    as_of = dt.date.fromisoformat(json.loads((case / "expected.json").read_text())["as_of"])
    records = read_bundle((case / "bundle.json").read_bytes(), as_of)
    Bundle.model_validate_json(orjson.dumps(bundle_from_records(records)))


D = dt.date.fromisoformat
AS_OF = D("2026-02-02")
COURSE_OF_CARE = PregnancyRecords(
    patient_id="p1",
    edd=D("2026-07-04"),
    fetuses=1,
    prior_pregnancies=(
        PriorPregnancy(None, PriorOutcome.LIVE_BIRTH, 210, None, source_id="detailed"),
        PriorPregnancy(None, None, None, None, source_id="ips", counted_as="preterm birth"),
        PriorPregnancy(None, PriorOutcome.MISCARRIAGE, None, None, counted_as="miscarriage"),
    ),
    cervical_lengths=(
        CervicalLengthMeasurement(D("2026-01-20"), 10.0, comparator=LengthComparator.BELOW),
        CervicalLengthMeasurement(D("2026-02-02"), 30.0, comparator=LengthComparator.AT_LEAST),
    ),
    complications=(
        ComplicationRecord(Complication.VAGINAL_BLEEDING, D("2026-01-02"), D("2026-01-09")),
        ComplicationRecord(Complication.VAGINAL_BLEEDING, D("2026-01-20")),
        ComplicationRecord(Complication.CHORIOAMNIONITIS, None, D("2026-01-15")),
        ComplicationRecord(Complication.PLACENTA_PRAEVIA),
    ),
    medications=(MedicationOrder(Medication.HYDROXYPROGESTERONE_CAPROATE, D("2026-01-05")),),
    declined=tuple(
        DeclinedDecision(code, D("2026-01-21"), source_id="one-procedure")
        for code in DeclinableCode
    ),
    symptom_reports=(
        SymptomReport(
            D("2026-01-30"),
            frozenset({Symptom.BLEEDING}),
            frozenset({Symptom.FEVER}),
            reported_by="the woman",
            reviews=(
                SymptomReview(D("2026-01-30"), ReviewOutcome.ADVISED_BY_PHONE, "Midwife A. Jones"),
                SymptomReview(D("2026-01-31"), ReviewOutcome.SEEN_IN_TRIAGE),
            ),
        ),
        SymptomReport(
            D("2026-02-01"), frozenset({Symptom.CONTRACTIONS}), reported_by="Dr B. Smith"
        ),
    ),
)


def test_the_course_of_care_is_written_and_read_back_unchanged() -> None:
    """Dated complications, comparators, counted history, declined decisions of every code,
    reviews and reporters survive export and import (issue 10)."""
    exported = bundle_from_records(COURSE_OF_CARE)
    again = read_bundle(orjson.dumps(exported), AS_OF)
    assert _clinical_content(again) == _clinical_content(COURSE_OF_CARE)
    assert again.notes == ()


def test_the_course_of_care_is_valid_fhir() -> None:
    exported = bundle_from_records(COURSE_OF_CARE)
    Bundle.model_validate_json(orjson.dumps(exported))
    ids = [e["fullUrl"] for e in exported["entry"]]
    assert len(ids) == len(set(ids))


def test_a_stopped_order_is_written_stopped_with_its_dates() -> None:
    records = PregnancyRecords(
        patient_id="p1",
        medications=(
            MedicationOrder(
                Medication.VAGINAL_PROGESTERONE, D("2026-01-05"), "vp", D("2026-01-25")
            ),
        ),
    )
    exported = bundle_from_records(records)
    Bundle.model_validate_json(orjson.dumps(exported))
    [request] = [e["resource"] for e in exported["entry"][1:]]
    assert request["status"] == "stopped"
    assert request["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"] == {
        "start": "2026-01-05",
        "end": "2026-01-25",
    }
    assert read_bundle(orjson.dumps(exported), AS_OF).medications == ()  # active orders only
