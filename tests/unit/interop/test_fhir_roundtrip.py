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
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.interop.fhir_write import bundle_from_records
from cervixwatch.knowledge import bundled_profiles

SCENARIOS = sorted(
    p.parent for p in (Path(__file__).parents[2] / "scenarios").glob("*/*/expected.json")
)


def _clinical_content(records: PregnancyRecords) -> dict[str, Any]:
    """The records without the ids they came from (exported resources get their own ids)."""

    def strip(item: object) -> object:
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
