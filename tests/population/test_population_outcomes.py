"""Outcomes in the population run (issue 15, part 4): a registry's past patient carries her
pregnancy's end as the pregnancy outcome record closing it wrote; the run reads it as this
pregnancy's outcome, never as her history, and assesses the pregnancy on the day it ended."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cervixwatch.app.population import run_population
from cervixwatch.app.population_rows import _treatment_columns, own_end
from cervixwatch.clinical.assessment import assess
from cervixwatch.clinical.history import is_spontaneous_preterm_birth
from cervixwatch.clinical.records import (
    CerclagePlacement,
    CerclageRoute,
    Medication,
    MedicationOrder,
    Onset,
    PartialDate,
    PregnancyRecords,
    PriorOutcome,
    PriorPregnancy,
)
from cervixwatch.cohort import iter_cohort
from cervixwatch.cohort.bulk import bulk_resources, with_its_end, write_bulk
from cervixwatch.knowledge import bundled_evidence, bundled_profiles

AS_OF = dt.date(2026, 12, 1)
WOMEN = 80
PROFILES = list(bundled_profiles().values())


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict[str, Any]]:
    """A registry of 80 women, 60 of them delivered, through the DuckDB engine."""
    directory: Path = tmp_path_factory.mktemp("registry")
    write_bulk(iter_cohort(WOMEN, 11, AS_OF, active=20), directory / "export", AS_OF)
    run = run_population(directory / "export", directory / "out", AS_OF, PROFILES, workers=1)
    relation = duckdb.sql(f"SELECT * FROM read_parquet('{run.parquet}')")
    names = relation.columns
    found = [dict(zip(names, r, strict=True)) for r in relation.fetchall()]
    return {(r["patient_id"], r["profile"]): r for r in found}


def test_a_delivered_womans_export_carries_her_pregnancys_end() -> None:
    past = next(p for p in iter_cohort(30, 11, AS_OF, active=0) if p.outcome is not None)
    assert past.outcome is not None
    ends = [
        r
        for r in bulk_resources(past)
        if r["resourceType"] == "Observation"
        and r.get("effectiveDateTime") == past.outcome.delivered_on.isoformat()
        and r["code"]["coding"][0]["code"] == "prior-pregnancy"
    ]
    assert len(ends) == 1
    active = next(iter(iter_cohort(1, 11, AS_OF)))
    assert with_its_end(active) is active


def test_each_ended_pregnancy_has_its_outcome_and_is_assessed_on_its_last_day(
    rows: dict[tuple[str, str], dict[str, Any]],
) -> None:
    evidence = bundled_evidence()
    ended = 0
    for patient in iter_cohort(WOMEN, 11, AS_OF, active=20):
        pid = patient.records.patient_id
        if patient.outcome is None:
            for profile in PROFILES:
                row = rows[(pid, profile.id)]
                assert row["ended_on"] is None
                assert row["outcome"] is None
                assert row["as_of"] == AS_OF
            continue
        if patient.records.edd is None:
            continue  # no EDD: no pregnancy to place the end in (kept as her history)
        ended += 1
        outcome = patient.outcome
        # Her own records at birth, without the end, assessed on the day she gave birth: the
        # end must change nothing of the assessment (it is not her history).
        expected = assess(patient.records, outcome.delivered_on, PROFILES, evidence)
        for profile in PROFILES:
            row = rows[(pid, profile.id)]
            assert row["ended_on"] == outcome.delivered_on
            assert row["ended_ga_days"] == outcome.gestation_days
            assert row["outcome"] == "live-birth"
            assert row["onset"] == outcome.onset.value
            assert row["as_of"] == outcome.delivered_on
            assert row["risk_tier"] == expected.risk.tier
            assert row["prior_sptb"] == expected.facts.get("prior_sptb")
            mine = {r.code for r in expected.recommendations if r.guideline == profile.id}
            assert row["codes"] == sorted(mine)
            end = PriorPregnancy(
                ended=None,
                outcome=PriorOutcome.LIVE_BIRTH,
                gestation_days=outcome.gestation_days,
                onset=outcome.onset,
            )
            assert row["sptb"] == is_spontaneous_preterm_birth(end)
    assert ended >= 40


def _records(*priors: PriorPregnancy) -> PregnancyRecords:
    return PregnancyRecords(patient_id="w", edd=dt.date(2026, 6, 1), prior_pregnancies=priors)


def _prior(year: int, month: int | None = None, day: int | None = None) -> PriorPregnancy:
    return PriorPregnancy(
        ended=PartialDate(year, month, day),
        outcome=PriorOutcome.LIVE_BIRTH,
        gestation_days=230,
        onset=Onset.SPONTANEOUS_LABOUR,
    )


def test_only_an_end_dated_inside_this_pregnancy_is_its_end() -> None:
    # The pregnancy began on 2025-08-25 (EDD 2026-06-01 less 280 days).
    before = _prior(2025, 8, 24)
    year_only = _prior(2026)
    inside = _prior(2026, 4, 20)
    later = _prior(2026, 5, 2)
    records, end = own_end(_records(before, year_only, later, inside))
    assert end is inside  # the earliest inside it
    assert records.prior_pregnancies == (before, year_only, later)
    assert own_end(_records(before, year_only)) == (_records(before, year_only), None)
    no_edd = replace(_records(inside), edd=None)
    assert own_end(no_edd) == (no_edd, None)


def test_the_treatments_given_before_the_pregnancy_ended_are_listed() -> None:
    """A cerclage of any route and each medication ordered up to the last day (an order with
    no start date is this pregnancy's); what began after it is not."""
    last_day = dt.date(2026, 6, 1)
    records = PregnancyRecords(
        patient_id="w1",
        edd=dt.date(2026, 8, 1),
        cerclage_placements=(CerclagePlacement(dt.date(2026, 3, 1), CerclageRoute.TRANSABDOMINAL),),
        medications=(
            MedicationOrder(Medication.VAGINAL_PROGESTERONE, None, stopped_on=dt.date(2026, 4, 1)),
            MedicationOrder(Medication.HYDROXYPROGESTERONE_CAPROATE, dt.date(2026, 6, 2)),
        ),
    )
    assert _treatment_columns(records, last_day) == {
        "treatments": ["cerclage", "vaginal progesterone"]
    }
    later = replace(records, cerclage_placements=(), medications=records.medications[1:])
    assert _treatment_columns(later, last_day) == {"treatments": []}
    assert _treatment_columns(later, dt.date(2026, 6, 2)) == {"treatments": ["17-OHPC"]}
