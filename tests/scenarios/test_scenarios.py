"""Scenario folders as tests: each `tests/scenarios/<area>/<case>/` holds a FHIR `bundle.json`
and an `expected.json` with what each guideline profile must and must not give.

A clinician adds a case by adding a folder; nothing here changes. `expected.json` may say:

- `as_of` (required), `gestational_age` ("19+3");
- per guideline (`"acog": {...}`, `"nice": {...}`):
  - `must`, `must_not`: recommendation codes given or not given;
  - `states`: `{"<code>": "due|in-place|declined|overdue|missed"}`, the state of that code's
    recommendation (profiles.md, "The course of care"); the code must be given;
  - `rules`: `{"<code>": ["RULE-ID", ...]}`, exactly the rule ids that give the code;
  - `assumptions`, `state_note_includes`, `reason_includes`, `summary_includes`:
    `{"<code>": ["text", ...]}`, each text found in that recommendation's assumptions, state
    note, reason or summary; `summary_excludes`: texts its summary must not contain;
- at the top level:
  - `missing_includes`, `missing_excludes`: items `missing` must (not) list, word for word;
  - `current_treatments`: the treatments under way on `as_of` ("cerclage",
    "vaginal-progesterone", "hydroxyprogesterone-caproate"), in any order;
  - `risk_tier` ("high", "intermediate", "low" or null: the Saving Babies' Lives history tier)
    and `current_findings_includes` (texts found among the findings shown beside the tier);
  - `next_scan_due` (a date, or null when no scan is planned) and `scan_plan_missed`
    (whether any scan plan is marked missed: CD-05);
  - `xfail`: why the implementation disagrees with the expectation, which follows the shared
    clinical documents; the case is then expected to fail (strictly: a pass is an error, so
    the mark is removed once the code is fixed).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from cervixwatch.clinical.assessment import STATES, Assessment, Recommendation, assess
from cervixwatch.clinical.gestation import GestationalAge
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.knowledge import bundled_evidence, bundled_profiles

SCENARIOS = Path(__file__).parent
CASES = sorted(p.parent for p in SCENARIOS.glob("*/*/expected.json"))
#: Texts a recommendation must carry, by expected.json key and Recommendation field.
_TEXT_KEYS = {
    "assumptions": "assumptions",
    "state_note_includes": "state_note",
    "reason_includes": "reason",
    "summary_includes": "summary",
}


def _expected(case: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((case / "expected.json").read_text())
    return data


def _param(case: Path) -> Any:
    reason = _expected(case).get("xfail")
    marks = [pytest.mark.xfail(reason=reason, strict=True, raises=AssertionError)] if reason else []
    return pytest.param(case, marks=marks, id=f"{case.parent.name}/{case.name}")


def _given(assessment: Assessment, guideline: str, code: str) -> list[Recommendation]:
    found = [r for r in assessment.recommendations if r.guideline == guideline and r.code == code]
    assert found, f"{guideline}: {code} is not given, so it has no state or text to check"
    return found


def _check_guideline(assessment: Assessment, guideline: str, expected: Mapping[str, Any]) -> None:
    given = assessment.codes(guideline)
    must = set(expected.get("must", []))
    must_not = set(expected.get("must_not", []))
    assert must <= given, f"{guideline}: missing {sorted(must - given)}; gave {sorted(given)}"
    assert not (must_not & given), f"{guideline}: must not give {sorted(must_not & given)}"
    for code, state in expected.get("states", {}).items():
        assert state in STATES, f"{guideline}: {state!r} is not a state ({', '.join(STATES)})"
        for r in _given(assessment, guideline, code):
            assert r.state == state, (
                f"{guideline}: {code} ({r.rule}) is {r.state!r}, expected {state!r};"
                f" state note: {r.state_note!r}"
            )
    for code, rules in expected.get("rules", {}).items():
        fired = {r.rule for r in _given(assessment, guideline, code)}
        assert fired == set(rules), f"{guideline}: {code} given by {sorted(fired)}, not {rules}"
    for key, field in _TEXT_KEYS.items():
        for code, texts in expected.get(key, {}).items():
            for r in _given(assessment, guideline, code):
                value = getattr(r, field)
                said = " | ".join(value) if isinstance(value, tuple) else value
                for text in texts:
                    assert text in said, f"{guideline}: {code} {field} lacks {text!r}: {said!r}"
    for code, texts in expected.get("summary_excludes", {}).items():
        for r in _given(assessment, guideline, code):
            for text in texts:
                assert text not in r.summary, f"{guideline}: {code} summary says {text!r}"


def _check_top_level(assessment: Assessment, expected: Mapping[str, Any]) -> None:
    for item in expected.get("missing_includes", []):
        assert item in assessment.missing, f"missing should name {item!r}: {assessment.missing}"
    for item in expected.get("missing_excludes", []):
        assert item not in assessment.missing, f"missing should not name {item!r}"
    if "current_treatments" in expected:
        under_way = sorted(t.treatment for t in assessment.current_treatments)
        assert under_way == sorted(expected["current_treatments"]), (
            f"current treatments: {under_way}"
        )
    if "risk_tier" in expected:
        assert assessment.risk.tier == expected["risk_tier"], f"tier: {assessment.risk.tier!r}"
    for text in expected.get("current_findings_includes", []):
        findings = assessment.risk.current_findings
        assert any(text in f for f in findings), f"current findings lack {text!r}: {findings}"
    if "next_scan_due" in expected:
        due = expected["next_scan_due"]
        want = dt.date.fromisoformat(due) if due is not None else None
        assert assessment.next_scan_due == want, f"next scan due: {assessment.next_scan_due}"
    if "scan_plan_missed" in expected:
        missed = any(p.missed for p in assessment.scan_plans)
        assert missed is expected["scan_plan_missed"], (
            f"scan plans missed: {[(p.guideline, p.rule, p.missed) for p in assessment.scan_plans]}"
        )


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_scenario(case: Path) -> None:
    expected = _expected(case)
    as_of = dt.date.fromisoformat(expected["as_of"])
    records = read_bundle((case / "bundle.json").read_bytes(), as_of)
    profiles = bundled_profiles()
    assessment = assess(records, as_of, list(profiles.values()), bundled_evidence())

    if "gestational_age" in expected:
        assert assessment.gestational_age == GestationalAge.parse(expected["gestational_age"])
    for guideline in profiles:
        if guideline in expected:
            _check_guideline(assessment, guideline, expected[guideline])
    _check_top_level(assessment, expected)


def test_there_are_scenarios() -> None:
    assert len(CASES) >= 91
