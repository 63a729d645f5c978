"""One woman's resources to the population's rows: her resources read by the one FHIR reader
(`interop.fhir_bundle`, as the collection Bundle `bundle_of` makes of them), her pregnancy
assessed by the very same `assess` as the app's, and one row per guideline profile (issue 15,
part 2). No rule is restated here: every value is read off the assessment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from cervixwatch.clinical.assessment import Assessment, assess
from cervixwatch.clinical.gestation import ga_days_on, pregnancy_start
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.clinical.history import BIRTHS, is_spontaneous_preterm_birth
from cervixwatch.clinical.records import (
    CerclageRoute,
    LengthMethod,
    Medication,
    PregnancyRecords,
    PriorPregnancy,
)
from cervixwatch.clinical.risk import RiskEvidence
from cervixwatch.interop.fhir_bundle import collection_url, records_from_resources
from cervixwatch.interop.intake import IntakeError

__all__ = ["COLUMNS", "bundle_of", "own_end", "rows_of_woman", "unit_of"]

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
    # What the audit counts (`app.population_audit`), besides the assessment's own values:
    "unit": "VARCHAR",
    "rule_states": "MAP(VARCHAR, VARCHAR)",
    "prior_sptb": "BOOLEAN",
    "scan_ga_days": "INTEGER[]",
    "cerclage_placed_ga_days": "INTEGER",
    "cerclage_removed_ga_days": "INTEGER",
    # The treatments of preterm-birth prevention recorded in this pregnancy (`TREATMENTS`).
    "treatments": "VARCHAR[]",
    # What a risk model reads (`app.risk_models`): her transvaginal lengths and her last birth
    # before this pregnancy.
    "lengths": "STRUCT(ga_days INTEGER, mm DOUBLE, comparator VARCHAR)[]",
    "previous_births": "INTEGER",
    "previous_birth_ga_days": "INTEGER",
    "previous_birth_onset": "VARCHAR",
    "previous_birth_fetuses": "INTEGER",
    # How this pregnancy ended, when it has (`own_end`): assessed then on that day.
    "ended_on": "DATE",
    "ended_ga_days": "INTEGER",
    "outcome": "VARCHAR",
    "onset": "VARCHAR",
    "sptb": "BOOLEAN",
}

_URGENT = "urgent-evaluation"


def bundle_of(resources: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Her resources as a collection Bundle, each under `Type/id` (`Type/<its place>` without an
    id), as the reader takes them (the resources themselves, not copies: the reader only reads
    them). One that is not a resource (no resourceType) goes in without a fullUrl, for the
    reader to refuse naming it."""
    entries = [
        {"fullUrl": url, "resource": r} if (url := collection_url(r, i)) else {"resource": r}
        for i, r in enumerate(resources)
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def unit_of(resources: Sequence[Mapping[str, Any]]) -> str | None:
    """The unit caring for her: her Patient's `managingOrganization` (its display, else its
    reference, else its identifier's value); None when the export does not say."""
    for resource in resources:
        if resource.get("resourceType") != "Patient":
            continue
        organization = resource.get("managingOrganization")
        if not isinstance(organization, Mapping):
            return None
        identifier = organization.get("identifier")
        for value in (
            organization.get("display"),
            organization.get("reference"),
            identifier.get("value") if isinstance(identifier, Mapping) else None,
        ):
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None
    return None


def _ga(edd: dt.date | None, day: dt.date | None) -> int | None:
    return ga_days_on(edd, day) if edd is not None and day is not None else None


def _course_columns(records: PregnancyRecords) -> dict[str, Any]:
    """Her transvaginal lengths by gestational age (days), in the order measured, and the days
    she was scanned, for the audit's pathway measures and the risk models; her transvaginal
    cerclage's placement and removal. Nothing without an EDD (no gestational age can be
    given). A length given as a bound keeps its comparator ("<10" is under 10 mm, not 10)."""
    edd = records.edd
    measured = [
        (ga, m.length_mm, None if m.comparator is None else m.comparator.value)
        for m in records.cervical_lengths
        if m.method == LengthMethod.TRANSVAGINAL and (ga := _ga(edd, m.measured_on)) is not None
    ]
    # By day, then length (None and "<" cannot be compared: the comparator is not a key).
    lengths = sorted(measured, key=lambda found: (found[0], found[1]))
    placed = [
        _ga(edd, p.placed_on)
        for p in records.cerclage_placements
        if p.route == CerclageRoute.TRANSVAGINAL
    ]
    removed = [_ga(edd, r.removed_on) for r in records.cerclage_removals]
    return {
        "scan_ga_days": sorted({ga for ga, _, _ in lengths}),
        "lengths": [
            {"ga_days": ga, "mm": mm, "comparator": comparator} for ga, mm, comparator in lengths
        ],
        "cerclage_placed_ga_days": min((g for g in placed if g is not None), default=None),
        "cerclage_removed_ga_days": max((g for g in removed if g is not None), default=None),
    }


def _previous_birth_columns(records: PregnancyRecords) -> dict[str, Any]:
    """How many births (live or still) her history holds, and the last one's gestation,
    onset and fetuses. The last is known only when the dates order them: with two births
    and a date missing, or two in the same month with no day, which came last is unknown
    and its columns are empty (never a guess)."""
    births = [p for p in records.prior_pregnancies if p.outcome in BIRTHS]
    columns: dict[str, Any] = {"previous_births": len(births)}
    last = _last_of(births)
    if last is not None:
        columns.update(
            previous_birth_ga_days=last.gestation_days,
            previous_birth_onset=None if last.onset is None else last.onset.value,
            previous_birth_fetuses=last.fetuses,
        )
    return columns


def _last_of(births: Sequence[PriorPregnancy]) -> PriorPregnancy | None:
    if len(births) == 1:
        return births[0]
    for birth in births:
        if all(_surely_after(birth, other) for other in births if other is not birth):
            return birth
    return None


def _surely_after(a: PriorPregnancy, b: PriorPregnancy) -> bool:
    """`a` ended after `b` to the precision both dates are given to ("2021" is not surely
    after "2021-03")."""
    if a.ended is None or b.ended is None:
        return False
    for mine, theirs in (
        (a.ended.year, b.ended.year),
        (a.ended.month, b.ended.month),
        (a.ended.day, b.ended.day),
    ):
        if mine is None or theirs is None:
            return False
        if mine != theirs:
            return mine > theirs
    return False


#: The treatments a row lists, by the words the audit's tables use.
TREATMENTS: Mapping[Medication | str, str] = {
    "cerclage": "cerclage",
    Medication.VAGINAL_PROGESTERONE: "vaginal progesterone",
    Medication.HYDROXYPROGESTERONE_CAPROATE: "17-OHPC",
}


def _treatment_columns(records: PregnancyRecords, last_day: dt.date) -> dict[str, Any]:
    """The treatments given in this pregnancy up to `last_day` (its end, or the run's day),
    whether or not still in place: a cerclage of any route, each medication ordered (an order
    with no start date is this pregnancy's, so it counts)."""
    given: set[str] = set()
    if any(p.placed_on <= last_day for p in records.cerclage_placements):
        given.add(TREATMENTS["cerclage"])
    for order in records.medications:
        if order.started_on is None or order.started_on <= last_day:
            given.add(TREATMENTS[order.medication])
    return {"treatments": sorted(given)}


def own_end(records: PregnancyRecords) -> tuple[PregnancyRecords, PriorPregnancy | None]:
    """This pregnancy's end, when her records hold it, and her records without it.

    A registry holds an ended pregnancy's outcome as the pregnancy outcome Observation that
    closing it recorded (`CW#prior-pregnancy`, dated on the day it ended) among her previous
    pregnancies; one that ended on or after this pregnancy began (its EDD - 280 days: the
    same line `store.records.history_of` draws) is not her history but this pregnancy's end.
    Only a full date can say so; the earliest such is taken, any other stays in her history
    (a contradiction there is shown, not hidden)."""
    if records.edd is None:
        return records, None
    began = pregnancy_start(records.edd)
    ends = [
        (day, p)
        for p in records.prior_pregnancies
        if (day := _full_date(p)) is not None and day >= began
    ]
    if not ends:
        return records, None
    end = min(ends, key=lambda found: found[0])[1]
    history = tuple(p for p in records.prior_pregnancies if p is not end)
    return replace(records, prior_pregnancies=history), end


def _full_date(p: PriorPregnancy) -> dt.date | None:
    """The day a previous pregnancy ended, when known to the day."""
    if p.ended is None or p.ended.month is None or p.ended.day is None:
        return None
    return dt.date(p.ended.year, p.ended.month, p.ended.day)


def _outcome_columns(records: PregnancyRecords, end: PriorPregnancy | None) -> dict[str, Any]:
    day = None if end is None else _full_date(end)
    if end is None or day is None:
        return {}
    return {
        "ended_on": day.isoformat(),
        "ended_ga_days": end.gestation_days
        if end.gestation_days is not None
        else _ga(records.edd, day),
        "outcome": None if end.outcome is None else end.outcome.value,
        "onset": None if end.onset is None else end.onset.value,
        "sptb": is_spontaneous_preterm_birth(end),
    }


def _known_bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


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
        "rule_states": {f"{r.code}@{r.rule}": r.state for r in mine},
        "prior_sptb": _known_bool(assessment.facts.get("prior_sptb")),
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
        rule_states={},
        scan_ga_days=[],
        lengths=[],
        treatments=[],
    )
    return row


def rows_of_woman(
    patient_id: str,
    resources: Sequence[Mapping[str, Any]],
    as_of: dt.date,
    profiles: Sequence[GuidelineProfile],
    evidence: RiskEvidence,
    *,
    modifiers: bool = True,
) -> list[dict[str, Any]]:
    """Her rows, one per profile. Data the reader refuses gives rows that say why (`error`,
    the reader's own message) and nothing else: a refused record is never read as absent.
    `modifiers=False`: her resources' text holds no "modifierExtension" (the caller looked),
    so the reader need not search them for one (as `read_bundle` decides from the text)."""
    unit = unit_of(resources)
    try:
        records = records_from_resources(resources, as_of, modifiers=modifiers)
    except IntakeError as error:
        return [{**_error_row(patient_id, p, as_of, str(error)), "unit": unit} for p in profiles]
    records, end = own_end(records)
    # An ended pregnancy is assessed on the day it ended: the pathway as it stood at its end,
    # not a pregnancy of 50 weeks on the day of the run.
    ended_on = None if end is None else _full_date(end)
    day = min(as_of, ended_on) if ended_on is not None else as_of
    assessment = assess(records, day, profiles, evidence)
    course = {
        **_course_columns(records),
        **_treatment_columns(records, day),
        **_previous_birth_columns(records),
        **_outcome_columns(records, end),
    }
    return [
        {**_profile_row(assessment, p, records.edd, records.fetuses), "unit": unit, **course}
        for p in profiles
    ]
