"""`interop.fhir_terminology`: the CodeSystem holds every code CervixWatch reads or writes under
its own system, once; the symptom Questionnaire asks what the reader reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.questionnaire import Questionnaire

from cervixwatch.clinical.assessment import assess
from cervixwatch.clinical.guidelines import RECOMMENDATION_CODES
from cervixwatch.clinical.records import (
    CerclageIndication,
    DeclinableCode,
    Onset,
    PriorOutcome,
    ReviewOutcome,
    Symptom,
)
from cervixwatch.interop.fhir_assessment import assessment_resources
from cervixwatch.interop.fhir_bundle import read_bundle, records_from_bundle
from cervixwatch.interop.fhir_terminology import code_system, questionnaire
from cervixwatch.interop.fhir_write import bundle_from_records
from cervixwatch.knowledge import bundled_evidence, bundled_profiles
from cervixwatch.knowledge import codes as c
from tests import fhir_builders as fb
from tests.r4_schema import assert_r4

SCENARIOS = Path(__file__).parents[2] / "scenarios"
PROFILES = list(bundled_profiles().values())


def _codes() -> dict[str, dict[str, Any]]:
    document = code_system(PROFILES, version="1.0")
    return {concept["code"]: concept for concept in document["concept"]}


def _cw_codes(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if value.get("system") == c.CW and "code" in value:
            yield value["code"]
        for inner in value.values():
            yield from _cw_codes(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _cw_codes(inner)


def test_the_code_system_is_valid_and_complete() -> None:
    document = code_system(PROFILES, version="1.0")
    CodeSystem.model_validate(document)
    assert_r4(document)
    assert (document["url"], document["content"]) == (c.CW, "complete")
    codes = [concept["code"] for concept in document["concept"]]
    assert len(codes) == len(set(codes)) == document["count"]
    for concept in document["concept"]:
        assert concept["display"]
        assert concept["definition"]


def test_every_recommendation_code_is_defined_by_its_rules() -> None:
    concepts = _codes()
    for code, meaning in RECOMMENDATION_CODES.items():
        assert concepts[code]["display"].lower() == meaning.lower()
        for profile in PROFILES:
            for rule in profile.rules:
                if rule.code == code:
                    assert rule.rule in concepts[code]["definition"]


def test_every_code_of_the_mapping_is_in_it() -> None:
    concepts = set(_codes())
    named = {
        code
        for value in vars(c).values()
        if isinstance(value, tuple) and len(value) == 2 and value[0] == c.CW
        for code in [value[1]]
    }
    enums = {
        e.value
        for kind in (PriorOutcome, Onset, CerclageIndication, ReviewOutcome, DeclinableCode)
        for e in kind
    }
    assert named
    assert named | enums <= concepts


def test_every_code_of_every_scenario_and_its_export_resolves() -> None:
    concepts = set(_codes())
    used: set[str] = set()
    for case in sorted(p.parent for p in SCENARIOS.glob("*/*/expected.json")):
        expected = orjson.loads((case / "expected.json").read_bytes())
        as_of = dt.date.fromisoformat(expected["as_of"])
        sent = orjson.loads((case / "bundle.json").read_bytes())
        records = read_bundle((case / "bundle.json").read_bytes(), as_of)
        assessment = assess(records, as_of, PROFILES, bundled_evidence())
        written = assessment_resources(
            assessment, PROFILES, resource_id="a", last_updated=dt.datetime.now(dt.UTC)
        )
        used |= set(_cw_codes([sent, bundle_from_records(records), written]))
    assert len(used) > 20
    assert used <= concepts, used - concepts


def test_a_response_to_the_questionnaire_is_read_as_every_symptom() -> None:
    document = questionnaire(version="1.0")
    Questionnaire.model_validate(document)
    assert_r4(document)
    assert document["url"] == c.SYMPTOMS_QUESTIONNAIRE
    answers = {
        "resourceType": "QuestionnaireResponse",
        "id": "r",
        "questionnaire": document["url"],
        "status": "completed",
        "subject": fb.subject(),
        "authored": "2026-03-01",
        "item": [
            {"linkId": item["linkId"], "answer": [{"valueBoolean": i % 2 == 0}]}
            for i, item in enumerate(document["item"])
        ],
    }
    records = records_from_bundle(fb.bundle(answers), dt.date(2026, 3, 2))
    (report,) = records.symptom_reports
    said = {item["linkId"]: i % 2 == 0 for i, item in enumerate(document["item"])}
    assert {s.value for s in report.present} == {k for k, yes in said.items() if yes}
    assert {s.value for s in report.absent} == {k for k, yes in said.items() if not yes}
    assert report.present | report.absent == frozenset(Symptom)
