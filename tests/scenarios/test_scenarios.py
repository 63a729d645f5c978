"""Scenario folders as tests: each `tests/scenarios/<area>/<case>/` holds a FHIR `bundle.json`
and an `expected.json` with the codes each guideline profile must and must not give.

A clinician adds a case by adding a folder; nothing here changes.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from cervixwatch.clinical.assessment import assess
from cervixwatch.clinical.gestation import GestationalAge
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.knowledge import bundled_profiles

SCENARIOS = Path(__file__).parent
CASES = sorted(p.parent for p in SCENARIOS.glob("*/*/expected.json"))


def _expected(case: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((case / "expected.json").read_text())
    return data


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_scenario(case: Path) -> None:
    expected = _expected(case)
    as_of = dt.date.fromisoformat(expected["as_of"])
    records = read_bundle((case / "bundle.json").read_bytes(), as_of)
    profiles = bundled_profiles()
    assessment = assess(records, as_of, list(profiles.values()))

    if "gestational_age" in expected:
        assert assessment.gestational_age == GestationalAge.parse(expected["gestational_age"])
    for guideline in profiles:
        if guideline not in expected:
            continue
        given = assessment.codes(guideline)
        must = set(expected[guideline].get("must", []))
        must_not = set(expected[guideline].get("must_not", []))
        assert must <= given, f"{guideline}: missing {sorted(must - given)}; gave {sorted(given)}"
        assert not (must_not & given), f"{guideline}: must not give {sorted(must_not & given)}"
    for item in expected.get("missing_includes", []):
        assert item in assessment.missing, f"missing should name {item!r}: {assessment.missing}"


def test_there_are_scenarios() -> None:
    assert len(CASES) >= 25
