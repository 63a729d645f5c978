"""The assessment as JSON: the `cervixwatch assess --format json` contract (DESIGN.md).

Keys named in the contract keep their meaning; others may be added.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from cervixwatch.clinical.assessment import Assessment, Recommendation
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.clinical.summary import describe_history, describe_length
from cervixwatch.clinical.surveillance import ScanPlan


def _date(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def recommendation_json(r: Recommendation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": r.code,
        "guideline": r.guideline,
        "strength": r.strength,
        "rule": r.rule,
        "rules": list(r.rules),
        "citation": r.citation,
        "provenance": r.provenance,
        "summary": r.summary,
        "facts": dict(r.facts),
        "state": r.state,
        "state_note": r.state_note,
        "assumptions": list(r.assumptions),
    }
    if r.reason:
        out["reason"] = r.reason
    if r.window is not None:
        out["window"] = {"from": _date(r.window[0]), "to": _date(r.window[1])}
    return out


def scan_plan_json(p: ScanPlan) -> dict[str, Any]:
    return {
        "guideline": p.guideline,
        "rule": p.rule,
        "kind": p.kind,
        "window": {
            "from": _date(p.window_from),
            "to": _date(p.window_to),
            "from_ga": str(p.window_from_ga),
            "to_ga": str(p.window_to_ga),
        },
        "interval_days": p.interval_days,
        "next": None
        if p.next_scan is None
        else {
            "due": _date(p.next_scan.due),
            "latest": _date(p.next_scan.latest),
            "status": p.next_scan.status,
        },
        "planned": [_date(d) for d in p.planned],
        "note": p.note,
        "missed": p.missed,
    }


def assessment_json(
    assessment: Assessment,
    records: PregnancyRecords,
    profiles: Sequence[GuidelineProfile] | Mapping[str, GuidelineProfile],
) -> dict[str, Any]:
    """One JSON object per assessment, as `cervixwatch assess --format json` prints it."""
    chosen = profiles.values() if isinstance(profiles, Mapping) else profiles
    ga = assessment.gestational_age
    as_of = assessment.as_of
    next_plans = [p for p in assessment.scan_plans if p.next_scan is not None]
    soonest = min(next_plans, key=lambda p: p.next_scan.due if p.next_scan else as_of, default=None)
    return {
        "patient": assessment.patient_id,
        "as_of": _date(as_of),
        "gestational_age": None
        if ga is None
        else {"weeks": ga.weeks, "days": ga.days, "text": str(ga)},
        "edd": _date(records.edd),
        "fetuses": records.fetuses,
        "chorionicity": records.chorionicity and str(records.chorionicity),
        "dating_method": records.dating_method and str(records.dating_method),
        "history": describe_history(records, as_of),
        "cervical_lengths": [
            describe_length(m, records.edd)
            for m in records.cervical_lengths
            if m.measured_on <= as_of
        ],
        "guidelines": [{"id": p.id, "version": p.version, "title": p.title} for p in chosen],
        "recommendations": [recommendation_json(r) for r in assessment.recommendations],
        "withheld": [
            {
                "code": w.code,
                "guideline": w.guideline,
                "rule": w.rule,
                "withheld_by": w.withheld_by,
                "reason": w.reason,
            }
            for w in assessment.withheld
        ],
        "missing": list(assessment.missing),
        "current_treatments": [
            {
                "treatment": t.treatment,
                "since": _date(t.since),
                "since_ga": str(t.since_ga) if t.since_ga is not None else None,
                "detail": t.detail,
            }
            for t in assessment.current_treatments
        ],
        "risk": {
            "tier": assessment.risk.tier,
            "tier_label": assessment.risk.tier_label,
            "tier_rule": assessment.risk.tier_rule,
            "current_findings": list(assessment.risk.current_findings),
            "evidence": [
                {
                    "id": e.id,
                    "figure": e.figure,
                    "statement": e.statement,
                    "population": e.population,
                    "citation": e.citation,
                }
                for e in assessment.risk.evidence
            ],
        },
        "next_scan_due": _date(assessment.next_scan_due),
        "next_scan_status": soonest.next_scan.status if soonest and soonest.next_scan else None,
        "scan_plan": [scan_plan_json(p) for p in assessment.scan_plans],
        "notes": list(records.notes),
    }
