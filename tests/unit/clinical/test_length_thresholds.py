"""Cervical-length thresholds, each comparator as its source writes it (profiles.md): ACOG
142 "short" is < 25 mm, NICE/RCOG/SMFM #70 "short" is <= 25 mm; SMFM70-03 <= 20 mm, SMFM70-04
21-25 mm (read as > 20 and <= 25), SMFM70-06 10-25 mm inclusive. Lengths are held to 0.1 mm,
so each table puts one value on each side of the line."""

from __future__ import annotations

import pytest

from cervixwatch.clinical.records import ExcisionKind, LengthMethod
from tests.builders import Woman, woman

#: A singleton at 19+0 with a previous spontaneous preterm birth at 30+0.
PRIOR_SPTB = woman("19+0").with_prior_sptb("30+0")
#: A singleton at 20+0 whose only previous birth was spontaneous at term (no prior sPTB).
NO_PRIOR_SPTB = woman("20+0").with_prior()
#: A first pregnancy with no risk factor at all (RCOG75-04).
NULLIPAROUS = woman("20+0")


def gives(w: Woman, guideline: str, code: str) -> bool:
    return code in w.codes(guideline)


@pytest.mark.parametrize(("length_mm", "given"), [(24.9, True), (25.0, False)])
def test_acog_ultrasound_indicated_cerclage_needs_a_length_below_25_mm(
    length_mm: float, given: bool
) -> None:
    w = PRIOR_SPTB.with_length(length_mm, at="18+0")
    assert gives(w, "acog", "ultrasound-indicated-cerclage") is given


@pytest.mark.parametrize(("length_mm", "given"), [(25.0, True), (25.1, False)])
def test_nice_01_offers_cerclage_for_a_length_of_25_mm_or_less(
    length_mm: float, given: bool
) -> None:
    w = PRIOR_SPTB.with_length(length_mm, at="18+0")
    assert gives(w, "nice", "ultrasound-indicated-cerclage") is given


@pytest.mark.parametrize(
    ("length_mm", "rules"), [(25.0, {"NICE-01"}), (25.1, {"NICE-03"}), (40.0, {"NICE-03"})]
)
def test_nice_progesterone_is_offered_with_a_short_cervix_and_considered_on_history_alone(
    length_mm: float, rules: set[str]
) -> None:
    w = PRIOR_SPTB.with_length(length_mm, at="18+0")
    assert w.rules("nice", "vaginal-progesterone") == rules


@pytest.mark.parametrize(
    ("length_mm", "rule", "strength"),
    [
        (5.0, "SMFM70-03", "recommend"),
        (20.0, "SMFM70-03", "recommend"),
        (20.5, "SMFM70-04", "shared-decision"),
        (21.0, "SMFM70-04", "shared-decision"),
        (25.0, "SMFM70-04", "shared-decision"),
    ],
)
def test_acog_progesterone_without_prior_sptb_by_length_band(
    length_mm: float, rule: str, strength: str
) -> None:
    assessment = NO_PRIOR_SPTB.with_length(length_mm, at="19+0").assess("acog")
    [progesterone] = [r for r in assessment.recommendations if r.code == "vaginal-progesterone"]
    assert (progesterone.rule, progesterone.strength) == (rule, strength)


def test_acog_progesterone_without_prior_sptb_stops_above_25_mm() -> None:
    w = NO_PRIOR_SPTB.with_length(25.1, at="19+0")
    assert not gives(w, "acog", "vaginal-progesterone")


@pytest.mark.parametrize(
    ("length_mm", "rule", "provenance"),
    [
        (24.9, "FIGO-P1", "derived"),
        (25.0, "SMFM23-03", "verified"),
        (40.0, "SMFM23-03", "verified"),
    ],
)
def test_acog_progesterone_after_prior_sptb_is_derived_below_25_mm(
    length_mm: float, rule: str, provenance: str
) -> None:
    assessment = PRIOR_SPTB.with_length(length_mm, at="18+0").assess("acog")
    [progesterone] = [r for r in assessment.recommendations if r.code == "vaginal-progesterone"]
    assert (progesterone.rule, progesterone.provenance) == (rule, provenance)
    assert progesterone.strength == "shared-decision"


@pytest.mark.parametrize(
    ("length_mm", "given"), [(9.9, False), (10.0, True), (18.0, True), (25.0, True), (25.1, False)]
)
def test_smfm70_06_cerclage_not_recommended_for_10_to_25_mm_and_a_closed_cervix(
    length_mm: float, given: bool
) -> None:
    w = NO_PRIOR_SPTB.with_length(length_mm, at="19+0").with_closed_cervix("19+0")
    assert gives(w, "acog", "cerclage-not-recommended") is given


def test_smfm70_06_assumes_no_dilation_without_an_exam_says_so_and_asks_for_one() -> None:
    # CD-01: given, with the assumption stated; `missing` still asks for the exam.
    assessment = NO_PRIOR_SPTB.with_length(18.0, at="19+0").assess("acog")
    (given,) = [r for r in assessment.recommendations if r.code == "cerclage-not-recommended"]
    assert given.assumptions == ("no cervical dilation is assumed: no cervical exam is recorded",)
    assert any("cervical examination" in need for need in assessment.missing)


def test_smfm70_06_with_an_exam_recorded_assumes_nothing() -> None:
    w = NO_PRIOR_SPTB.with_length(18.0, at="19+0").with_closed_cervix("19+0")
    (given,) = [r for r in w.assess("acog").recommendations if r.code == "cerclage-not-recommended"]
    assert given.assumptions == ()
    assert not any("cervical examination" in need for need in w.assess("acog").missing)


def test_smfm70_06_is_not_given_when_the_cervix_is_dilated() -> None:
    w = NO_PRIOR_SPTB.with_length(18.0, at="19+0").with_exam("19+0", dilation_cm=1.0)
    assert not gives(w, "acog", "cerclage-not-recommended")


@pytest.mark.parametrize(("length_mm", "given"), [(24.9, True), (25.0, False)])
def test_acog_twins_cerclage_not_recommended_below_25_mm(length_mm: float, given: bool) -> None:
    w = woman("20+0", fetuses=2).with_length(length_mm, at="19+0")
    assert gives(w, "acog", "cerclage-not-recommended") is given


@pytest.mark.parametrize(("length_mm", "given"), [(25.0, True), (25.1, False)])
def test_nice_twins_cerclage_not_recommended_at_25_mm_or_less(
    length_mm: float, given: bool
) -> None:
    w = woman("20+0", fetuses=2).with_length(length_mm, at="19+0")
    assert gives(w, "nice", "cerclage-not-recommended") is given


@pytest.mark.parametrize(("length_mm", "given"), [(5.0, True), (25.0, True), (25.1, False)])
def test_rcog75_04_cerclage_not_recommended_for_an_incidental_short_cervix(
    length_mm: float, given: bool
) -> None:
    w = NULLIPAROUS.with_length(length_mm, at="19+0")
    assert gives(w, "nice", "cerclage-not-recommended") is given


def test_rcog75_04_does_not_apply_after_a_cervical_excision() -> None:
    w = NULLIPAROUS.with_excision(ExcisionKind.LLETZ, 8.0).with_length(20.0, at="19+0")
    assert not gives(w, "nice", "cerclage-not-recommended")


@pytest.mark.parametrize(("length_mm", "at"), [(25.0, "19+0"), (10.0, "19+0"), (25.0, "12+0")])
def test_nice_does_not_refer_for_a_short_cervix_alone(length_mm: float, at: str) -> None:
    # SBL v3.1 (CD-08): a short cervix without a risk history is not a referral criterion.
    w = NULLIPAROUS.with_length(length_mm, at=at).at("20+0")
    assert not gives(w, "nice", "refer-preterm-birth-clinic")


@pytest.mark.parametrize("guideline", ["acog", "nice"])
@pytest.mark.parametrize(("length_mm", "given"), [(25.0, True), (25.1, False)])
def test_no_activity_restriction_for_a_length_of_25_mm_or_less(
    guideline: str, length_mm: float, given: bool
) -> None:
    w = NULLIPAROUS.with_length(length_mm, at="19+0")
    assert gives(w, guideline, "no-activity-restriction") is given


@pytest.mark.parametrize("guideline", ["acog", "nice"])
@pytest.mark.parametrize(("dilation_cm", "given"), [(0.0, False), (0.9, False), (1.0, True)])
def test_no_activity_restriction_once_the_cervix_is_dilated_1_cm(
    guideline: str, dilation_cm: float, given: bool
) -> None:
    w = NULLIPAROUS.at("30+0").with_exam("30+0", dilation_cm=dilation_cm)
    assert gives(w, guideline, "no-activity-restriction") is given


@pytest.mark.parametrize("guideline", ["acog", "nice"])
@pytest.mark.parametrize(("dilation_cm", "given"), [(1.5, False), (2.0, True)])
def test_urgent_evaluation_for_dilation_of_2_cm_or_more(
    guideline: str, dilation_cm: float, given: bool
) -> None:
    w = NULLIPAROUS.at("30+0").with_exam("30+0", dilation_cm=dilation_cm)
    assert gives(w, guideline, "urgent-evaluation") is given


@pytest.mark.parametrize("guideline", ["acog", "nice"])
def test_a_transabdominal_length_never_decides(guideline: str) -> None:
    w = PRIOR_SPTB.with_length(10.0, at="18+0", method=LengthMethod.TRANSABDOMINAL)
    codes = w.codes(guideline)
    assert "ultrasound-indicated-cerclage" not in codes
    assert w.facts()["transabdominal_length_only"] is True
