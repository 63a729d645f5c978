"""`interop.fhir_assessment`: every scenario's assessment as FHIR R4 resources, valid against
the R4B models, saying what the assessment says and proposing orders only where one is due."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from fhir.resources.R4B import get_fhir_model_class

from cervixwatch.clinical.assessment import Assessment, assess
from cervixwatch.clinical.facts import open_reports
from cervixwatch.interop.fhir_assessment import (
    ASSESSMENT_TYPES,
    NOTHING_TO_PROPOSE,
    assessment_resources,
)
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.knowledge import bundled_evidence, bundled_profiles
from cervixwatch.knowledge import codes as c

SCENARIOS = Path(__file__).parents[2] / "scenarios"
CASES = sorted(p.parent for p in SCENARIOS.glob("*/*/expected.json"))
STORED = dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC)


@cache
def _assessed(case: Path) -> tuple[Assessment, tuple[dict[str, Any], ...]]:
    expected = orjson.loads((case / "expected.json").read_bytes())
    as_of = dt.date.fromisoformat(expected["as_of"])
    records = read_bundle((case / "bundle.json").read_bytes(), as_of)
    profiles = list(bundled_profiles().values())
    assessment = assess(records, as_of, profiles, bundled_evidence())
    out = assessment_resources(
        assessment, profiles, resource_id="assessment-9", last_updated=STORED
    )
    return assessment, tuple(out)


def _by_type(resources: tuple[dict[str, Any], ...]) -> dict[str, dict[str, Any]]:
    return {r["resourceType"]: r for r in resources}


def test_there_are_scenarios() -> None:
    assert len(CASES) > 40


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_resource_is_valid_r4(case: Path) -> None:
    assessment, resources = _assessed(case)
    urgent = any(r.code == "urgent-evaluation" for r in assessment.recommendations)
    kinds = [r["resourceType"] for r in resources]
    assert kinds == list(ASSESSMENT_TYPES if urgent else ASSESSMENT_TYPES[:3])
    for resource in resources:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert resource["id"] == "assessment-9"
        assert resource["subject"] == {"reference": f"Patient/{assessment.patient_id}"}
        assert resource["meta"] == {"lastUpdated": "2026-03-02T10:30:00+00:00"}


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_resources_say_what_the_assessment_says(case: Path) -> None:
    assessment, resources = _assessed(case)
    found = _by_type(resources)
    response, group = found["GuidanceResponse"], found["RequestGroup"]
    assert response["status"] == ("data-required" if assessment.missing else "success")
    assert [d["extension"][0]["valueString"] for d in response.get("dataRequirement", [])] == list(
        assessment.missing
    )
    assert response["occurrenceDateTime"] == assessment.as_of.isoformat()
    assert response["result"] == {"reference": "RequestGroup/assessment-9"}
    actions = group.get("action", [])
    assert len(actions) == len(assessment.recommendations)
    contained = {r["id"]: r for r in group.get("contained", [])}
    referenced = set()
    for action, r in zip(actions, assessment.recommendations, strict=True):
        assert action["code"][0]["coding"][0] == {
            "system": c.CW,
            "code": r.code,
            "display": action["code"][0]["coding"][0]["display"],
        }
        states = [
            e["valueCode"]
            for e in action["extension"]
            if e["url"] == c.RECOMMENDATION_STATE_EXTENSION
        ]
        assert states == [r.state]
        assumed = [
            e["valueString"]
            for e in action["extension"]
            if e["url"] == c.RECOMMENDATION_ASSUMPTION_EXTENSION
        ]
        assert assumed == list(r.assumptions)
        assert action["priority"] == ("urgent" if r.code == "urgent-evaluation" else "routine")
        if r.window is not None:
            assert action["timingPeriod"] == {
                "start": r.window[0].isoformat(),
                "end": r.window[1].isoformat(),
            }
        if "resource" not in action:
            continue
        # A proposal only for what is still to be done, of the kind the code asks for.
        assert r.state not in NOTHING_TO_PROPOSE
        proposal = contained[action["resource"]["reference"].removeprefix("#")]
        referenced.add(proposal["id"])
        assert (proposal["status"], proposal["intent"]) == ("draft", "proposal")
        if r.code == "vaginal-progesterone":
            assert proposal["resourceType"] == "MedicationRequest"
        else:
            assert proposal["resourceType"] == "ServiceRequest"
            plan = next(
                p for p in assessment.scan_plans if (p.guideline, p.rule) == (r.guideline, r.rule)
            )
            assert plan.next_scan is not None
            assert proposal["occurrencePeriod"]["start"] == plan.next_scan.due.isoformat()
            assert proposal["occurrencePeriod"]["end"] == plan.next_scan.latest.isoformat()
    assert referenced == set(contained)  # every contained resource is referenced (dom-3)


def test_declined_progesterone_proposes_nothing_and_says_so() -> None:
    _, resources = _assessed(SCENARIOS / "course" / "declined-progesterone-stays-declined")
    group = _by_type(resources)["RequestGroup"]
    offered = [
        a for a in group["action"] if a["code"][0]["coding"][0]["code"] == "vaginal-progesterone"
    ]
    assert len(offered) == 2  # ACOG and NICE
    for action in offered:
        assert "resource" not in action
        assert "No order is proposed: she declined it." in action["description"]
    assert "contained" not in group


def test_progesterone_due_proposes_a_vaginal_order() -> None:
    cases = [
        case
        for case in CASES
        if any(
            r.code == "vaginal-progesterone" and r.state == "due"
            for r in _assessed(case)[0].recommendations
        )
    ]
    assert cases
    for case in cases:
        group = _by_type(_assessed(case)[1])["RequestGroup"]
        orders = [r for r in group["contained"] if r["resourceType"] == "MedicationRequest"]
        assert orders
        for order in orders:
            assert order["medicationCodeableConcept"]["coding"][0]["code"] == (
                "vaginal-progesterone"
            )
            route = order["dosageInstruction"][0]["route"]["coding"][0]
            assert (route["system"], route["code"]) == c.VAGINAL_ROUTE


def test_the_flag_starts_on_the_day_of_the_earliest_open_report() -> None:
    flagged = [case for case in CASES if len(_assessed(case)[1]) == 4]
    assert flagged
    from_reports = 0
    for case in flagged:
        assessment, resources = _assessed(case)
        flag = _by_type(resources)["Flag"]
        records = read_bundle((case / "bundle.json").read_bytes(), assessment.as_of)
        waiting = [
            r.reported_on
            for r in open_reports(records.symptom_reports, assessment.as_of)
            if r.present
        ]
        # Urgent on an examination's findings alone: from the assessment's day.
        start = min(waiting, default=assessment.as_of)
        from_reports += bool(waiting)
        assert flag["period"] == {"start": start.isoformat()}, case.name
        assert flag["code"]["coding"][0]["code"] == "urgent-evaluation"
        assert flag["status"] == "active"
    assert from_reports


def test_the_risk_tier_and_each_figure_are_predictions() -> None:
    for case in CASES:
        assessment, resources = _assessed(case)
        risk = _by_type(resources)["RiskAssessment"]
        predictions = risk.get("prediction", [])
        tiers = 1 if assessment.risk.tier is not None else 0
        assert len(predictions) == tiers + len(assessment.risk.evidence)
        if tiers:
            assert predictions[0]["qualitativeRisk"]["text"].startswith(assessment.risk.tier)
        for prediction, item in zip(predictions[tiers:], assessment.risk.evidence, strict=True):
            assert prediction["rationale"] == f"{item.figure}: {item.statement}"
