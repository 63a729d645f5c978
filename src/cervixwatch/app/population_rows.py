"""One woman's resources to the population's rows: her resources as a Bundle read by the one
FHIR reader (`interop.fhir_bundle`), her pregnancy assessed by the very same `assess` as the
app's, and one row per guideline profile (issue 15, part 2). No rule is restated here: every
value is read off the assessment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from cervixwatch.clinical.assessment import Assessment, assess
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.clinical.risk import RiskEvidence
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.interop.intake import IntakeError

__all__ = ["COLUMNS", "as_bundle", "rows_of_woman"]

#: The Parquet columns, in order, with their DuckDB types.
COLUMNS: Mapping[str, str] = {
    "patient_id": "VARCHAR",
    "profile": "VARCHAR",
    "profile_version": "VARCHAR",
    "as_of": "DATE",
    "edd": "DATE",
    "ga_days": "INTEGER",
    "fetuses": "INTEGER",
    "risk_tier": "VARCHAR",
    "codes": "VARCHAR[]",
    "states": "MAP(VARCHAR, VARCHAR)",
    "next_scan_due": "DATE",
    "next_scan_status": "VARCHAR",
    "overdue": "BOOLEAN",
    "missed": "BOOLEAN",
    "urgent": "BOOLEAN",
    "missing": "VARCHAR[]",
    "error": "VARCHAR",
}

_URGENT = "urgent-evaluation"


def as_bundle(resources: Sequence[Mapping[str, Any]]) -> bytes:
    """Her resources as a collection Bundle, each under `Type/id`, as the reader takes them."""
    entries = [
        {"fullUrl": f"{r['resourceType']}/{r.get('id', i)}", "resource": r}
        for i, r in enumerate(resources)
    ]
    return orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _profile_row(
    assessment: Assessment, profile: GuidelineProfile, edd: dt.date | None, fetuses: int | None
) -> dict[str, Any]:
    mine = [r for r in assessment.recommendations if r.guideline == profile.id]
    plans = [p for p in assessment.scan_plans if p.guideline == profile.id]
    next_scans = sorted(
        (p.next_scan for p in plans if p.next_scan is not None), key=lambda s: s.due
    )
    ga = assessment.facts.get("ga_days")
    return {
        "patient_id": assessment.patient_id,
        "profile": profile.id,
        "profile_version": profile.version,
        "as_of": assessment.as_of.isoformat(),
        "edd": _day(edd),
        "ga_days": ga if isinstance(ga, int) else None,
        "fetuses": fetuses,
        "risk_tier": assessment.risk.tier,
        "codes": sorted({r.code for r in mine}),
        "states": {r.code: r.state for r in mine},
        "next_scan_due": _day(next_scans[0].due) if next_scans else None,
        "next_scan_status": next_scans[0].status if next_scans else None,
        "overdue": any(s.status == "overdue" for s in next_scans),
        "missed": any(p.missed for p in plans),
        "urgent": any(r.code == _URGENT for r in mine),
        "missing": list(assessment.missing),
        "error": None,
    }


def _error_row(
    patient_id: str, profile: GuidelineProfile, as_of: dt.date, error: str
) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(
        patient_id=patient_id,
        profile=profile.id,
        profile_version=profile.version,
        as_of=as_of.isoformat(),
        codes=[],
        states={},
        missing=[],
        error=error,
    )
    return row


def rows_of_woman(
    patient_id: str,
    resources: Sequence[Mapping[str, Any]],
    as_of: dt.date,
    profiles: Sequence[GuidelineProfile],
    evidence: RiskEvidence,
) -> list[dict[str, Any]]:
    """Her rows, one per profile. Data the reader refuses gives rows that say why (`error`,
    the reader's own message) and nothing else: a refused record is never read as absent."""
    try:
        records = read_bundle(as_bundle(resources), as_of)
    except IntakeError as error:
        return [_error_row(patient_id, p, as_of, str(error)) for p in profiles]
    assessment = assess(records, as_of, profiles, evidence)
    return [_profile_row(assessment, p, records.edd, records.fetuses) for p in profiles]
