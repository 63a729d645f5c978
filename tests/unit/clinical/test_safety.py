"""Safety invariants that hold for every pregnancy (profiles.md, "Always"): no cerclage beside a
contraindication, no progesterone or cerclage for twins or more, never 17-OHPC or bed rest, and
no gestational age - said so - without an EDD."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from cervixwatch.clinical.assessment import Assessment, assess
from cervixwatch.clinical.records import Complication
from cervixwatch.knowledge import bundled_profiles
from tests.builders import woman
from tests.strategies import PROPERTY_SETTINGS, RecordsOnDate, pregnancy_records

PROFILES = list(bundled_profiles().values())
CERCLAGE_CODES = frozenset(
    {"history-indicated-cerclage", "ultrasound-indicated-cerclage", "exam-indicated-cerclage"}
)
EDD_NEED = "estimated due date (EDD), for gestational age"


def assess_all(case: RecordsOnDate) -> Assessment:
    return assess(case.records, case.as_of, PROFILES)


#: Women with a contraindication to cerclage, often in the weeks when one would be placed.
CONTRAINDICATED = pregnancy_records(
    fetuses=st.just(1),
    as_of_days=st.integers(12 * 7, 28 * 7),
    complications=st.frozensets(st.sampled_from(Complication), min_size=1, max_size=2),
)


def _no_cerclage_beside_a_contraindication(result: Assessment) -> None:
    for profile in PROFILES:
        codes = result.codes(profile.id)
        if "cerclage-contraindicated" in codes:
            assert not codes & CERCLAGE_CODES, f"{profile.id}: {sorted(codes)}"


@PROPERTY_SETTINGS
@given(pregnancy_records())
def test_never_a_cerclage_beside_cerclage_contraindicated(case: RecordsOnDate) -> None:
    _no_cerclage_beside_a_contraindication(assess_all(case))


@PROPERTY_SETTINGS
@given(CONTRAINDICATED)
def test_never_a_cerclage_beside_cerclage_contraindicated_when_complications_abound(
    case: RecordsOnDate,
) -> None:
    _no_cerclage_beside_a_contraindication(assess_all(case))


def test_a_contraindication_withholds_the_cerclage_and_says_why() -> None:
    w = (
        woman("21+0")
        .with_exam("21+0", dilation_cm=2.0, membranes_exposed=True)
        .with_complications(Complication.CHORIOAMNIONITIS)
    )
    result = w.assess()
    for guideline in ("acog", "nice"):
        assert "cerclage-contraindicated" in result.codes(guideline)
        assert "exam-indicated-cerclage" not in result.codes(guideline)
    assert {(h.guideline, h.code) for h in result.withheld} == {
        ("acog", "exam-indicated-cerclage"),
        ("nice", "exam-indicated-cerclage"),
    }


@PROPERTY_SETTINGS
@given(pregnancy_records(fetuses=st.integers(2, 3)))
def test_twins_or_more_never_get_a_cerclage_nor_progesterone_in_acog(case: RecordsOnDate) -> None:
    # ACOG234-06, ACOG142-08; NG137 1.5.6, RCOG75-11. NICE offers vaginal progesterone to
    # twins only by NG137 1.5.3 (CD-08): a length of 25 mm or less at 16+0-24+0.
    result = assess_all(case)
    for profile in PROFILES:
        forbidden = result.codes(profile.id) & CERCLAGE_CODES
        if profile.id == "acog":
            forbidden |= result.codes(profile.id) & {"vaginal-progesterone"}
        assert not forbidden, f"{profile.id}: {sorted(forbidden)} for {case.records.fetuses}"
    for r in result.recommendations:
        if r.guideline == "nice" and r.code == "vaginal-progesterone" and r.state != "in-place":
            assert r.rule == "NICE-T1", r.rule


def test_twins_with_a_short_cervix_and_a_prior_sptb_get_no_cerclage() -> None:
    w = woman("19+0", fetuses=2).with_prior_sptb("30+0").with_length(15.0, at="18+0")
    result = w.assess()
    for guideline in ("acog", "nice"):
        codes = result.codes(guideline)
        assert "cerclage-not-recommended" in codes
        assert not codes & CERCLAGE_CODES
    assert "vaginal-progesterone" not in result.codes("acog")  # ACOG234-06
    assert w.rules("nice", "vaginal-progesterone") == {"NICE-T1"}  # NG137 1.5.3 (CD-08)


@PROPERTY_SETTINGS
@given(pregnancy_records())
def test_never_17ohpc_except_to_stop_it_and_never_bed_rest(case: RecordsOnDate) -> None:
    for r in assess_all(case).recommendations:
        if "17ohpc" in r.code:
            assert r.code == "discontinue-17ohpc"
        assert "bed-rest" not in r.code
        if "bed rest" in r.summary.lower():
            assert r.code == "no-activity-restriction", r.summary


def test_no_bundled_rule_could_recommend_17ohpc_or_bed_rest() -> None:
    for profile in PROFILES:
        for rule in profile.rules:
            assert "17ohpc" not in rule.code or rule.code == "discontinue-17ohpc"
            assert "bed-rest" not in rule.code
            assert "activity-restriction" not in rule.code or rule.code == (
                "no-activity-restriction"
            )


@PROPERTY_SETTINGS
@given(pregnancy_records())
def test_without_an_edd_there_is_no_gestational_age_and_missing_says_so(
    case: RecordsOnDate,
) -> None:
    records = dataclasses.replace(case.records, edd=None)
    result = assess(records, case.as_of, PROFILES)
    assert result.gestational_age is None
    assert EDD_NEED in result.missing
    assert result.scan_plans == ()
    assert result.next_scan_due is None
    for r in result.recommendations:
        assert r.window is None
