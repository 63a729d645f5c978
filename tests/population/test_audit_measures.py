"""The audit's measures (issue 15, part 3), each counted by DuckDB over a hand-built cohort
whose answer is known, written as the Parquet `population run` writes; the audit files'
checks; the Wilson interval against Newcombe's published values; funnel positions.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from cervixwatch.app.audit_measures import (
    AuditDefinition,
    AuditError,
    Measure,
    NotMeasurable,
    bundled_audit,
    load_audit,
)
from cervixwatch.app.audit_stats import funnel_position, wilson
from cervixwatch.app.population_audit import NO_UNIT, Count, run_audit
from cervixwatch.clinical.gestation import ga
from cervixwatch.knowledge import load_profiles
from tests.population.audit_rows import parquet_of, row


@pytest.fixture(scope="module")
def profiles() -> Mapping[str, Any]:
    return load_profiles()


@pytest.fixture(scope="module")
def sbl(profiles: Mapping[str, Any]) -> AuditDefinition:
    return load_audit(bundled_audit("sbl"), profiles)


@pytest.fixture(scope="module")
def acog(profiles: Mapping[str, Any]) -> AuditDefinition:
    return load_audit(bundled_audit("acog"), profiles)


def network(
    tmp_path: Path, audit: AuditDefinition, measure: str, rows: list[dict[str, Any]]
) -> Count:
    result = run_audit(parquet_of(tmp_path, rows), audit)
    return next(m for m in result.measures if m.measure.id == measure).network


# --- the audit files ------------------------------------------------------------------------


def test_both_bundled_audits_load_with_every_measure_cited(
    sbl: AuditDefinition, acog: AuditDefinition
) -> None:
    assert sbl.not_measurable
    for audit in (sbl, acog):
        assert audit.measures
        cited: list[Measure | NotMeasurable] = [*audit.measures, *audit.not_measurable]
        for item in cited:
            assert item.citation, item.id
            assert all(rule in item.citation for rule in item.rules), item.id
    assert {m.id for m in sbl.measures} >= {"SBL5-HR-SERIAL", "SBL5-IR-SINGLE"}
    assert {g.id for g in sbl.not_measurable} >= {"SBL5-5A", "SBL5-5B", "SBL5-5C"}


def test_scan_windows_are_read_from_the_profile_the_worklist_uses(
    sbl: AuditDefinition, profiles: Mapping[str, Any]
) -> None:
    serial = next(
        r.scan
        for r in profiles["nice"].rules
        if r.code == "serial-cervical-length" and r.rule == "SBL-04"
    )
    measure = next(m for m in sbl.measures if m.id == "SBL5-HR-SERIAL")
    assert (serial.from_days, serial.to_days, serial.overdue_after_days) == (
        ga("16+0"),
        ga("24+0"),
        28,
    )
    assert (
        measure.numerator
        == f"longest_gap(scan_ga_days, {serial.from_days}, {serial.to_days}) <= 28"
    )
    assert f"ga_days > {serial.to_days}" in measure.denominator


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "audit.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
audit: t
version: "1"
title: T
profile: nice
measures:
  - id: M1
    title: a measure
    rules: [SBL-04]
    definition: words
    denominator: "TRUE"
    numerator: "{numerator}"
"""


@pytest.mark.parametrize(
    ("numerator", "rules", "problem"),
    [
        ("scanned_between(scan_ga_days, {{from}}, {{to}})", "[SBL-04]", "needs a `schedule`"),
        ("ga_days > {{ga:40}}", "[SBL-04]", "unknown placeholder"),
        ("risk_tier IS NOT NULL", "[NOPE-01]", "NOPE-01 is cited by neither"),
        ("no_such_column = 1", "[SBL-04]", "M1.numerator"),
    ],
)
def test_an_audit_file_that_cannot_be_counted_is_refused_naming_the_measure(
    tmp_path: Path, profiles: Mapping[str, Any], numerator: str, rules: str, problem: str
) -> None:
    text = GOOD.format(numerator=numerator).replace("[SBL-04]", rules)
    with pytest.raises(AuditError, match=r"M1|measures\[0\]") as error:
        load_audit(_write(tmp_path, text), profiles)
    assert problem in str(error.value)


def test_a_schedule_the_profile_does_not_have_is_refused(
    tmp_path: Path, profiles: Mapping[str, Any]
) -> None:
    text = GOOD.format(numerator="TRUE").replace(
        "    definition: words",
        "    schedule: serial-cervical-length@NICE-01\n    definition: words",
    )
    with pytest.raises(AuditError, match="schedule: the profile 'nice' has no scan rule"):
        load_audit(_write(tmp_path, text), profiles)


# --- each measure on a cohort whose answer is known ------------------------------------------


def test_high_risk_serial_scans_every_2_to_4_weeks_from_16_to_24(
    tmp_path: Path, sbl: AuditDefinition
) -> None:
    rows = [
        row(1, ga_days=200, scan_ga_days=[112, 140, 168]),  # met
        row(2, ga_days=200, scan_ga_days=[112, 154]),  # 6 weeks without a scan: not met
        row(3, ga_days=200, scan_ga_days=[]),  # never scanned: not met
        row(4, ga_days=200, scan_ga_days=[140, 168]),  # 16+0 to 20+0 is 4 weeks: met
        row(5, ga_days=200, scan_ga_days=[141, 168]),  # 4 weeks and a day: not met
        row(6, ga_days=200, scan_ga_days=[112, 126], cerclage_placed_ga_days=130),  # excluded
        row(7, ga_days=150, scan_ga_days=[112, 140]),  # window still open: not counted
        row(8, ga_days=200, fetuses=2, scan_ga_days=[]),  # twins: another rule
        row(9, ga_days=200, risk_tier="intermediate"),  # another pathway
        row(10, ga_days=200, fetuses=None),  # fetus count unknown: undetermined
        row(11, ga_days=200, scan_ga_days=[100, 150, 200]),  # scans outside count as none
    ]
    count = network(tmp_path, sbl, "SBL5-HR-SERIAL", rows)
    assert (count.eligible, count.excluded, count.met, count.undetermined) == (7, 1, 2, 1)
    assert count.denominator == 6


def test_intermediate_risk_single_scan_at_18_to_22(tmp_path: Path, sbl: AuditDefinition) -> None:
    rows = [
        row(1, risk_tier="intermediate", ga_days=160, scan_ga_days=[130]),  # met
        row(2, risk_tier="intermediate", ga_days=160, scan_ga_days=[120]),  # too early
        row(3, risk_tier="intermediate", ga_days=160, scan_ga_days=[154]),  # 22+0: met
        row(4, risk_tier="intermediate", ga_days=160, scan_ga_days=[155]),  # 22+1: not met
        row(5, risk_tier="intermediate", ga_days=150, scan_ga_days=[]),  # window open
        row(6, risk_tier="intermediate", ga_days=None),  # no EDD: undetermined
    ]
    count = network(tmp_path, sbl, "SBL5-IR-SINGLE", rows)
    assert (count.eligible, count.excluded, count.met, count.undetermined) == (4, 0, 2, 1)


def test_short_cervix_treated_counts_either_treatment_and_excludes_declining_both(
    tmp_path: Path, sbl: AuditDefinition
) -> None:
    vp, uic = "vaginal-progesterone@NICE-01", "ultrasound-indicated-cerclage@NICE-01"
    rows = [
        row(1, rule_states={vp: "in-place", uic: "due"}),  # met
        row(2, rule_states={vp: "due", uic: "due"}),  # offered, nothing in place
        row(3, rule_states={vp: "declined", uic: "declined"}),  # her choice: excluded
        row(4, rule_states={vp: "declined", uic: "overdue"}),  # not met
        row(5, rule_states={uic: "in-place"}),  # met
        row(6, rule_states={"vaginal-progesterone@NICE-03": "due"}),  # another rule
    ]
    count = network(tmp_path, sbl, "SBL5-SHORT-CERVIX-TREATED", rows)
    assert (count.eligible, count.excluded, count.met) == (5, 1, 2)


def test_cerclage_removed_at_36_1_to_37_0(tmp_path: Path, sbl: AuditDefinition) -> None:
    rows = [
        row(1, cerclage_placed_ga_days=100, cerclage_removed_ga_days=ga("36+3"), ga_days=270),
        row(2, cerclage_placed_ga_days=100, cerclage_removed_ga_days=ga("37+3"), ga_days=270),
        row(3, cerclage_placed_ga_days=100, cerclage_removed_ga_days=ga("34+2"), ga_days=270),
        row(4, cerclage_placed_ga_days=100, ga_days=ga("37+4")),  # not removed by 37+0
        row(5, cerclage_placed_ga_days=100, ga_days=ga("36+5")),  # not yet due
        row(6, ga_days=270),  # no cerclage
        row(7, cerclage_placed_ga_days=100, cerclage_removed_ga_days=ga("36+0"), ga_days=270),
    ]
    count = network(tmp_path, sbl, "SBL5-CERCLAGE-REMOVAL", rows)
    # 36+0 is before the window "36+1 to 37+0": an early removal, excluded like row 3.
    assert (count.eligible, count.excluded, count.met, count.undetermined) == (5, 2, 1, 0)


def test_risk_tier_assessable(tmp_path: Path, sbl: AuditDefinition) -> None:
    rows = [row(1), row(2, risk_tier="low"), row(3, risk_tier=None)]
    count = network(tmp_path, sbl, "SBL5-TIER", rows)
    assert (count.eligible, count.met) == (3, 2)


def test_acog_serial_scans_counted_as_the_worklist_judged_them(
    tmp_path: Path, acog: AuditDefinition
) -> None:
    key = "serial-cervical-length@SMFM40-01"
    rows = [
        row(1, profile="acog", prior_sptb=True, ga_days=175),  # none missed: met
        row(2, profile="acog", prior_sptb=True, ga_days=175, rule_states={key: "missed"}),
        row(3, profile="acog", prior_sptb=False, ga_days=175),  # no prior sPTB
        row(4, profile="acog", prior_sptb=None, ga_days=175),  # history unknown
        row(5, profile="acog", prior_sptb=True, ga_days=160),  # window open
        row(6, profile="acog", prior_sptb=True, ga_days=175, cerclage_placed_ga_days=120),
        row(7, prior_sptb=True, ga_days=175),  # the NICE profile's row: another audit
    ]
    count = network(tmp_path, acog, "ACOG-SERIAL", rows)
    assert (count.eligible, count.excluded, count.met, count.undetermined) == (3, 1, 1, 1)


def test_acog_17ohpc_in_use_is_a_measure_where_lower_is_better(
    tmp_path: Path, acog: AuditDefinition
) -> None:
    measure = next(m for m in acog.measures if m.id == "ACOG-17OHPC")
    assert measure.higher_is_better is False
    rows = [
        row(1, profile="acog", rule_states={"discontinue-17ohpc@FDA-01": "due"}),
        row(2, profile="acog"),
        row(3, profile="acog"),
    ]
    count = network(tmp_path, acog, "ACOG-17OHPC", rows)
    assert (count.met, count.denominator) == (1, 3)


# --- groups ------------------------------------------------------------------------------------


def test_counts_per_unit_quarter_and_tier_and_refused_rows_apart(
    tmp_path: Path, sbl: AuditDefinition
) -> None:
    rows = [
        row(1, unit="Unit A", edd="2027-02-10", risk_tier="high"),
        row(2, unit="Unit A", edd="2027-04-10", risk_tier="low"),
        row(3, unit="Unit B", edd="2027-04-20", risk_tier=None),
        row(4, unit=None, edd=None, risk_tier="low"),
        row(5, unit="Unit B", error="Observation/x: no value", risk_tier=None, fetuses=None),
    ]
    parquet = parquet_of(tmp_path, rows)
    calendar = run_audit(parquet, sbl)
    tier = next(m for m in calendar.measures if m.measure.id == "SBL5-TIER")
    assert (calendar.rows, calendar.refused) == (5, 1)
    assert calendar.refused_by_unit == {"Unit B": 1}
    assert {u: (c.met, c.denominator) for u, c in tier.by_unit.items()} == {
        "Unit A": (2, 2),
        "Unit B": (0, 1),
        NO_UNIT: (1, 1),
    }
    assert {q: c.denominator for q, c in tier.by_quarter.items()} == {
        "2027 Q1": 1,
        "2027 Q2": 2,
        "EDD not recorded": 1,
    }
    assert tier.by_unit_quarter[("Unit A", "2027 Q2")].met == 1
    assert {t: c.denominator for t, c in tier.by_tier.items()} == {
        "high": 1,
        "low": 2,
        "tier unknown": 1,
    }
    financial = run_audit(parquet, sbl, quarters="financial")
    tier = next(m for m in financial.measures if m.measure.id == "SBL5-TIER")
    assert set(tier.by_quarter) == {"2026/27 Q4", "2027/28 Q1", "EDD not recorded"}


# --- statistics ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("met", "n", "low", "high"),
    # Newcombe, Stat Med 1998;17:857-72, Table I, method 3 (Wilson score, no correction).
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (29, 29, 0.8830, 1.0),
    ],
)
def test_wilson_interval_matches_newcombe(met: int, n: int, low: float, high: float) -> None:
    interval = wilson(met, n)
    assert interval is not None
    assert (round(interval[0], 4), round(interval[1], 4)) == (low, high)


def test_no_interval_without_a_denominator() -> None:
    assert wilson(0, 0) is None


def test_funnel_positions_against_the_network_rate() -> None:
    # p0 = 0.5, n = 100: 95% limits 0.402-0.598, 99.8% limits 0.345-0.655.
    assert funnel_position(50, 100, 0.5) == "within"
    assert funnel_position(62, 100, 0.5) == "alert-high"
    assert funnel_position(38, 100, 0.5) == "alert-low"
    assert funnel_position(70, 100, 0.5) == "alarm-high"
    assert funnel_position(30, 100, 0.5) == "alarm-low"
    # The same rate in a small unit is within its wider limits.
    assert funnel_position(7, 10, 0.5) == "within"


def test_births_before_37_and_34_and_spontaneous_preterm(
    tmp_path: Path, sbl: AuditDefinition
) -> None:
    rows = [
        row(1, outcome="live-birth", ended_ga_days=ga("36+6"), sptb=True),
        row(2, outcome="live-birth", ended_ga_days=ga("37+0"), sptb=False),
        row(3, outcome="stillbirth", ended_ga_days=ga("33+6"), sptb=None),
        row(4, outcome="live-birth", ended_ga_days=ga("35+2"), sptb=False),
        row(5, outcome="miscarriage", ended_ga_days=ga("15+0")),  # not a birth
        row(6),  # under way: in no outcome measure
        row(7, outcome="live-birth", ended_ga_days=None),  # no gestational age: not counted
    ]
    parquet = parquet_of(tmp_path, rows)
    result = {m.measure.id: m.network for m in run_audit(parquet, sbl).measures}
    before_37, before_34 = result["SBL5-BIRTH-BEFORE-37"], result["SBL5-BIRTH-BEFORE-34"]
    assert (before_37.met, before_37.denominator) == (3, 4)
    assert (before_34.met, before_34.denominator) == (1, 4)
    spontaneous = result["SBL5-SPONTANEOUS-PRETERM"]
    # Row 3's onset is unknown: excluded, neither spontaneous nor not.
    assert (spontaneous.met, spontaneous.excluded, spontaneous.denominator) == (1, 1, 3)


def test_births_counted_by_the_treatments_given_and_by_tier(
    tmp_path: Path, sbl: AuditDefinition
) -> None:
    """Outcome measures by each combination of treatments given in the pregnancy, and by tier
    and treatments; "none recorded" is its own group, and measures of care have no such table."""
    birth = {"outcome": "live-birth"}
    rows = [
        row(1, **birth, ended_ga_days=ga("33+0"), treatments=["cerclage"]),
        row(2, **birth, ended_ga_days=ga("38+0"), treatments=["cerclage"]),
        row(3, **birth, ended_ga_days=ga("30+0"), treatments=["vaginal progesterone", "cerclage"]),
        row(4, **birth, ended_ga_days=ga("39+0"), treatments=[], risk_tier="low"),
        row(5, **birth, ended_ga_days=ga("32+0"), treatments=None, risk_tier="low"),
        row(6, treatments=["vaginal progesterone"]),  # under way: in no outcome measure
    ]
    result = {m.measure.id: m for m in run_audit(parquet_of(tmp_path, rows), sbl).measures}
    before_34 = result["SBL5-BIRTH-BEFORE-34"]
    counted = {k: (c.met, c.denominator) for k, c in before_34.by_treatment.items()}
    assert counted == {
        "cerclage": (1, 2),
        "cerclage + vaginal progesterone": (1, 1),
        "none recorded": (1, 2),
    }
    by_tier = {k: (c.met, c.denominator) for k, c in before_34.by_tier_treatment.items()}
    assert by_tier == {
        ("high", "cerclage"): (1, 2),
        ("high", "cerclage + vaginal progesterone"): (1, 1),
        ("low", "none recorded"): (1, 2),
    }
    assert result["SBL5-HR-SERIAL"].by_treatment == {}
    assert not any(g.id.endswith("BY-INTERVENTION") for g in sbl.not_measurable)
