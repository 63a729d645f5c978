"""Gestational-age windows of every rule, at the day each one opens and closes. Windows include
their first day: "before 24+0" ends at 23+6; "16+0-24+0" and "24+0 or less" include 24+0
(profiles.md, docs/clinical-interpretations.md I-10)."""

from __future__ import annotations

import pytest

from cervixwatch.clinical.records import (
    CerclageIndication,
    Complication,
    ExcisionKind,
    Onset,
    PriorOutcome,
    Symptom,
)
from tests.builders import Woman, woman

BOTH = pytest.mark.parametrize("guideline", ["acog", "nice"])


def gives(w: Woman, guideline: str, code: str) -> bool:
    return code in w.codes(guideline)


def state(w: Woman, guideline: str, code: str) -> str | None:
    """The state of the recommendation (due, in-place, declined, overdue, missed), or None."""
    states = {r.state for r in w.assess(guideline).recommendations if r.code == code}
    assert len(states) <= 1, states
    return states.pop() if states else None


# --- lengths: which measurements count ------------------------------------------------------


@pytest.mark.parametrize(("measured_at", "given"), [("15+6", False), ("16+0", True)])
def test_nice_counts_lengths_measured_from_16_0(measured_at: str, given: bool) -> None:
    w = woman("19+0").with_prior_sptb("30+0").with_length(20.0, at=measured_at)
    assert gives(w, "nice", "ultrasound-indicated-cerclage") is given
    assert w.rules("nice", "vaginal-progesterone") == ({"NICE-01"} if given else {"NICE-03"})


def test_acog_counts_a_length_measured_before_16_0() -> None:
    w = woman("19+0").with_prior_sptb("30+0").with_length(20.0, at="15+6")
    assert gives(w, "acog", "ultrasound-indicated-cerclage")


def test_nice_counts_a_length_measured_at_24_0_on_that_day() -> None:
    w = woman("24+0").with_prior_sptb("30+0").with_length(20.0, at="24+0")
    assert gives(w, "nice", "ultrasound-indicated-cerclage")
    assert w.rules("nice", "vaginal-progesterone") == {"NICE-01"}


@pytest.mark.parametrize(("measured_at", "given"), [("23+6", True), ("24+0", False)])
def test_acog_counts_lengths_measured_before_24_0(measured_at: str, given: bool) -> None:
    # SMFM70-06 has no limit on today's gestation, so only the length's own date decides.
    w = woman("24+0").with_prior().with_length(18.0, at=measured_at).with_closed_cervix("24+0")
    assert gives(w, "acog", "cerclage-not-recommended") is given


@pytest.mark.parametrize(("today", "given"), [("23+6", True), ("24+0", False), ("37+4", False)])
def test_acog_progesterone_is_started_only_before_24_0(today: str, given: bool) -> None:
    # profiles.md, "The course of care": the start window is data (CW-VP-START, derived).
    w = woman(today).with_prior().with_length(18.0, at="20+0")
    assert gives(w, "acog", "vaginal-progesterone") is given


@pytest.mark.parametrize(("today", "given"), [("24+0", True), ("24+1", False), ("37+4", False)])
def test_nice_progesterone_is_started_only_up_to_24_0(today: str, given: bool) -> None:
    w = woman(today).with_prior().with_length(18.0, at="20+0")
    assert gives(w, "nice", "vaginal-progesterone") is given


# --- gestational age today ----------------------------------------------------------------------


@pytest.mark.parametrize(("today", "given"), [("23+6", True), ("24+0", False)])
def test_acog_ultrasound_indicated_cerclage_before_24_0(today: str, given: bool) -> None:
    w = woman(today).with_prior_sptb("30+0").with_length(20.0, at="20+0")
    assert gives(w, "acog", "ultrasound-indicated-cerclage") is given


@pytest.mark.parametrize(("today", "expected"), [("23+6", "overdue"), ("24+0", "missed")])
def test_acog_serial_lengths_before_24_0(today: str, expected: str) -> None:
    # Never scanned: overdue since 16+1, then missed once the window has closed (CD-05).
    w = woman(today).with_prior_sptb("30+0")
    assert state(w, "acog", "serial-cervical-length") == expected


def test_serial_scans_done_to_the_end_of_the_window_are_not_missed() -> None:
    w = woman("16+0").with_prior_sptb("30+0")
    for at in ("16+0", "18+0", "20+0", "22+0"):
        w = w.with_length(30.0, at=at)
    assert state(w.at("24+2"), "acog", "serial-cervical-length") is None
    # NICE (every 2-4 weeks): after a scan at 22+0 the next is acceptable until 26+0.
    assert state(w.at("24+2"), "nice", "serial-cervical-length") is None


def test_a_nice_serial_scan_overdue_in_the_window_is_missed_after_it() -> None:
    w = woman("16+0").with_prior_sptb("30+0").with_length(30.0, at="16+0")
    w = w.with_length(30.0, at="18+0").with_length(30.0, at="20+0")
    # Next due 22+0, acceptable until 24+0: none by the end of the window (CD-05).
    assert state(w.at("24+1"), "nice", "serial-cervical-length") == "missed"
    assert (
        state(w.with_length(30.0, at="23+0").at("24+1"), "nice", "serial-cervical-length") is None
    )


@pytest.mark.parametrize(("today", "given"), [("23+6", True), ("24+0", False)])
def test_acog_history_indicated_cerclage_before_24_0(today: str, given: bool) -> None:
    w = woman(today).with_prior_loss("20+0")
    assert gives(w, "acog", "history-indicated-cerclage") is given


def test_acog_history_indicated_cerclage_is_planned_at_13_0_to_14_6() -> None:
    w = woman("10+0").with_prior_loss("20+0")
    [cerclage] = [
        r for r in w.assess("acog").recommendations if r.code == "history-indicated-cerclage"
    ]
    assert cerclage.window == (w.day("13+0"), w.day("14+6"))


@pytest.mark.parametrize(
    ("today", "given"), [("13+6", False), ("14+0", True), ("23+6", True), ("24+0", False)]
)
def test_acog_exam_indicated_cerclage_at_14_0_to_23_6(today: str, given: bool) -> None:
    w = woman(today).with_exam(today, dilation_cm=2.0, membranes_exposed=True)
    assert gives(w, "acog", "exam-indicated-cerclage") is given


@pytest.mark.parametrize(
    ("today", "given"), [("15+6", False), ("16+0", True), ("27+6", True), ("28+0", False)]
)
def test_nice_exam_indicated_cerclage_at_16_0_to_27_6(today: str, given: bool) -> None:
    w = woman(today).with_exam(today, dilation_cm=2.0, membranes_exposed=True)
    assert gives(w, "nice", "exam-indicated-cerclage") is given


def test_nice_exam_indicated_cerclage_needs_both_dilation_and_exposed_membranes() -> None:
    dilated_only = woman("20+0").with_exam("20+0", dilation_cm=2.0, membranes_exposed=False)
    exposed_only = woman("20+0").with_exam("20+0", dilation_cm=0.0, membranes_exposed=True)
    assert not gives(dilated_only, "nice", "exam-indicated-cerclage")
    assert not gives(exposed_only, "nice", "exam-indicated-cerclage")
    assert gives(dilated_only, "acog", "exam-indicated-cerclage")
    assert gives(exposed_only, "acog", "exam-indicated-cerclage")


@pytest.mark.parametrize(("today", "given"), [("24+0", True), ("24+1", False)])
def test_nice_01_applies_up_to_and_including_24_0(today: str, given: bool) -> None:
    w = woman(today).with_prior_sptb("30+0").with_length(20.0, at="20+0")
    assert gives(w, "nice", "ultrasound-indicated-cerclage") is given
    assert gives(w, "nice", "vaginal-progesterone") is given


@pytest.mark.parametrize(("today", "given"), [("24+0", True), ("24+1", False)])
def test_nice_03_progesterone_on_history_alone_up_to_24_0(today: str, given: bool) -> None:
    w = woman(today).with_prior_sptb("30+0")
    assert gives(w, "nice", "vaginal-progesterone") is given


@pytest.mark.parametrize(("today", "given"), [("24+0", True), ("24+1", False)])
def test_nice_05_cerclage_after_excision_up_to_24_0(today: str, given: bool) -> None:
    w = woman(today).with_excision(ExcisionKind.LLETZ, 8.0).with_length(20.0, at="20+0")
    assert w.rules("nice", "ultrasound-indicated-cerclage") == ({"NICE-05"} if given else set())


@pytest.mark.parametrize(("today", "given"), [("23+6", True), ("24+0", False)])
def test_nice_serial_lengths_before_24_0(today: str, given: bool) -> None:
    w = woman(today).with_prior_sptb("30+0")
    assert gives(w, "nice", "serial-cervical-length") is given


@pytest.mark.parametrize(("today", "given"), [("23+6", True), ("24+0", False)])
def test_nice_history_indicated_cerclage_before_24_0(today: str, given: bool) -> None:
    w = woman(today).with_prior_loss("18+0").with_prior_loss("20+0").with_prior_sptb("26+0")
    assert gives(w, "nice", "history-indicated-cerclage") is given


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("17+6", "due"),
        ("22+0", "due"),
        ("22+1", "overdue"),
        ("24+0", "overdue"),
        ("24+1", "missed"),
    ],
)
def test_nice_single_screen_is_due_overdue_then_missed(today: str, expected: str) -> None:
    # SBL-05 at 18+0-22+0; CD-05: overdue until 24+0, then missed.
    w = woman(today).with_excision(ExcisionKind.LLETZ, 16.0)
    assert state(w, "nice", "single-cervical-length-screen") == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [("22+6", "due"), ("23+0", "overdue"), ("23+6", "overdue"), ("24+0", "missed")],
)
def test_acog_single_screen_is_due_overdue_then_missed(today: str, expected: str) -> None:
    # ACOG234-02 at 18+0-22+6; CD-05: overdue until 23+6, then missed.
    w = woman(today).with_prior()
    assert state(w, "acog", "single-cervical-length-screen") == expected
    missed = [p for p in w.assess("acog").scan_plans if p.missed]
    assert bool(missed) is (expected == "missed")
    if expected == "missed":
        assert w.assess("acog").next_scan_due is None  # not a worklist task


@pytest.mark.parametrize(("measured_at", "given"), [("17+6", True), ("18+0", False)])
def test_acog_single_screen_is_done_by_a_length_from_18_0(measured_at: str, given: bool) -> None:
    w = woman("19+0").with_length(35.0, at=measured_at)
    assert gives(w, "acog", "single-cervical-length-screen") is given


@pytest.mark.parametrize(
    ("guideline", "today", "expected"),
    [
        ("acog", "35+6", None),
        ("acog", "36+0", "due"),
        ("acog", "37+0", "due"),
        ("acog", "37+1", "overdue"),
        ("nice", "36+0", None),
        ("nice", "36+1", "due"),
        ("nice", "37+0", "due"),
        ("nice", "37+1", "overdue"),
    ],
)
def test_remove_a_transvaginal_cerclage_in_its_window(
    guideline: str, today: str, expected: str | None
) -> None:
    # ACOG142-12 36+0-37+0; RCOG75-10 "usually between 36+1 and 37+0" (CD-08).
    w = woman(today).with_cerclage("13+0")
    assert state(w, guideline, "remove-cerclage") == expected


@BOTH
def test_remove_a_cerclage_in_preterm_labour(guideline: str) -> None:
    w = woman("30+0").with_cerclage("13+0").with_complications(Complication.PRETERM_LABOUR)
    assert gives(w, guideline, "remove-cerclage")


@BOTH
@pytest.mark.parametrize(
    ("today", "given"), [("13+6", False), ("14+0", True), ("36+6", True), ("37+0", False)]
)
def test_urgent_evaluation_for_symptoms_at_14_0_to_36_6(
    guideline: str, today: str, given: bool
) -> None:
    w = woman(today).with_symptoms(Symptom.PELVIC_PRESSURE)
    assert gives(w, guideline, "urgent-evaluation") is given


@BOTH
@pytest.mark.parametrize(("today", "given"), [("36+6", True), ("37+0", False)])
def test_urgent_evaluation_for_dilation_of_2_cm_before_37_0(
    guideline: str, today: str, given: bool
) -> None:
    w = woman(today).with_exam(today, dilation_cm=2.0)
    assert gives(w, guideline, "urgent-evaluation") is given


# --- the previous pregnancy's gestation ---------------------------------------------------------


@pytest.mark.parametrize(("prior_at", "given"), [("33+6", True), ("34+0", False)])
def test_acog_cerclage_needs_a_prior_sptb_before_34_0(prior_at: str, given: bool) -> None:
    w = woman("19+0").with_prior_sptb(prior_at).with_length(20.0, at="18+0")
    assert gives(w, "acog", "ultrasound-indicated-cerclage") is given


@pytest.mark.parametrize(("prior_at", "given"), [("34+0", True), ("34+1", False)])
def test_nice_cerclage_needs_a_prior_sptb_up_to_34_0(prior_at: str, given: bool) -> None:
    w = woman("19+0").with_prior_sptb(prior_at).with_length(20.0, at="18+0")
    assert gives(w, "nice", "ultrasound-indicated-cerclage") is given


@pytest.mark.parametrize(("prior_at", "given"), [("15+6", False), ("16+0", True)])
def test_nice_01_counts_mid_trimester_losses_from_16_0(prior_at: str, given: bool) -> None:
    w = woman("19+0").with_prior_loss(prior_at).with_length(20.0, at="18+0")
    assert gives(w, "nice", "ultrasound-indicated-cerclage") is given


@pytest.mark.parametrize(
    ("prior_at", "given"), [("15+6", False), ("16+0", True), ("34+0", True), ("34+1", False)]
)
def test_nice_high_risk_referral_for_a_prior_sptb_at_16_0_to_34_0(
    prior_at: str, given: bool
) -> None:
    w = woman("12+0").with_prior_sptb(prior_at)
    assert gives(w, "nice", "refer-preterm-birth-clinic") is given


@pytest.mark.parametrize(("prior_at", "given"), [("33+6", True), ("34+0", False)])
def test_nice_high_risk_counts_a_prior_pprom_before_34_0(prior_at: str, given: bool) -> None:
    w = woman("12+0").with_prior(PriorOutcome.LIVE_BIRTH, prior_at, Onset.PPROM)
    assert w.facts()["prior_pprom_before_34w"] is given


@pytest.mark.parametrize(
    ("loss_at", "given"), [("13+6", False), ("14+0", True), ("23+6", True), ("24+0", False)]
)
def test_acog_history_indicated_cerclage_for_a_painless_loss_at_14_0_to_23_6(
    loss_at: str, given: bool
) -> None:
    w = woman("10+0").with_prior_loss(loss_at)
    assert gives(w, "acog", "history-indicated-cerclage") is given


@pytest.mark.parametrize(("prior_at", "given"), [("36+6", True), ("37+0", False)])
def test_acog_serial_lengths_after_a_spontaneous_birth_before_37_0(
    prior_at: str, given: bool
) -> None:
    w = woman("14+0").with_prior_sptb(prior_at)
    assert gives(w, "acog", "serial-cervical-length") is given


@BOTH
@pytest.mark.parametrize(("ended_at", "given"), [("27+6", True), ("28+0", False)])
def test_consider_abdominal_cerclage_after_a_vaginal_cerclage_that_failed_before_28_0(
    guideline: str, ended_at: str, given: bool
) -> None:
    w = woman("10+0").with_prior(
        PriorOutcome.LIVE_BIRTH,
        ended_at,
        Onset.SPONTANEOUS_LABOUR,
        cerclage=CerclageIndication.HISTORY,
    )
    assert gives(w, guideline, "consider-abdominal-cerclage") is given


@pytest.mark.parametrize(("count", "given"), [(2, False), (3, True)])
def test_rcog75_01_history_indicated_cerclage_after_three_preterm_births_or_losses(
    count: int, given: bool
) -> None:
    w = woman("11+0")
    for i in range(count):
        w = w.with_prior_sptb("30+0") if i % 2 else w.with_prior_loss("20+0")
    assert gives(w, "nice", "history-indicated-cerclage") is given
