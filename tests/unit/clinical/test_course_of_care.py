"""The course of care (profiles.md, "The course of care"; decisions.md CD-01..CD-08): each
recommendation knows what has been done. One test per defect the clinicians found (issue 10)."""

from __future__ import annotations

import datetime as dt

import pytest

from cervixwatch.clinical.assessment import Recommendation
from cervixwatch.clinical.records import (
    CervicalLengthMeasurement,
    Complication,
    DeclinableCode,
    FetalFibronectin,
    LengthComparator,
    Medication,
    PriorPregnancy,
    Symptom,
)
from tests.builders import Woman, woman

PRIOR_SPTB = woman("18+0").with_prior_sptb("30+0")


def recs(w: Woman, guideline: str, code: str) -> list[Recommendation]:
    return [r for r in w.assess(guideline).recommendations if r.code == code]


def one(w: Woman, guideline: str, code: str) -> Recommendation:
    (r,) = recs(w, guideline, code)
    return r


# --- in place: never an offer ---------------------------------------------------------------------


def test_a_woman_with_both_treatments_is_offered_neither() -> None:
    w = (
        PRIOR_SPTB.with_length(22.0, at="18+0")
        .with_medication(Medication.VAGINAL_PROGESTERONE, started_at="18+1")
        .with_cerclage("18+3")
        .at("19+0")
    )
    progesterone = one(w, "nice", "vaginal-progesterone")
    assert progesterone.state == "in-place"
    assert "not an offer" in progesterone.state_note
    assert "18+1" in progesterone.state_note  # since when
    assert "34+0" in progesterone.state_note  # until when (NICE-04)
    assert not recs(w, "nice", "ultrasound-indicated-cerclage")  # a cerclage is in situ
    treatments = {t.treatment for t in w.assess("nice").current_treatments}
    assert treatments == {"cerclage", "vaginal-progesterone"}


@pytest.mark.parametrize(
    ("today", "words"),
    [
        ("30+0", "continue until"),
        ("34+0", "May stop now"),
        ("37+4", "Review stopping"),
    ],
)
def test_progesterone_in_place_continues_then_may_stop_then_is_reviewed(
    today: str, words: str
) -> None:
    w = (
        woman("20+0")
        .with_length(18.0, at="20+0")
        .with_medication(Medication.VAGINAL_PROGESTERONE, started_at="20+1")
        .at(today)
    )
    for guideline in ("acog", "nice"):
        progesterone = one(w, guideline, "vaginal-progesterone")
        assert progesterone.state == "in-place"
        assert words.lower() in progesterone.state_note.lower(), progesterone.state_note
        assert "20+1" in progesterone.state_note  # since when


def test_a_choice_of_either_is_made_once_one_is_under_way() -> None:
    # NICE-01: a choice of vaginal progesterone or cerclage, not both.
    short = PRIOR_SPTB.with_length(22.0, at="18+0").at("19+0")
    on_progesterone = short.with_medication(Medication.VAGINAL_PROGESTERONE, started_at="18+2")
    cerclage = one(on_progesterone, "nice", "ultrasound-indicated-cerclage")
    assert cerclage.state == "in-place"
    assert cerclage.state_note.startswith("The choice is made: vaginal progesterone")
    with_cerclage = short.with_cerclage("18+3")
    progesterone = one(with_cerclage, "nice", "vaginal-progesterone")
    assert (progesterone.rule, progesterone.state) == ("NICE-01", "in-place")
    assert "cerclage is in situ" in progesterone.state_note
    # acog gives the two separately (ACOG142-04; FIGO-P1, derived): no choice to be made.
    assert one(with_cerclage, "acog", "vaginal-progesterone").state == "due"


def test_progesterone_is_never_offered_to_start_at_37_4() -> None:
    w = woman("20+0").with_length(18.0, at="20+0").at("37+4")
    for guideline in ("acog", "nice"):
        assert not recs(w, guideline, "vaginal-progesterone")


def test_an_order_no_rule_indicated_is_a_current_treatment_only() -> None:
    # No history, a normal length: nothing indicated progesterone when it was started.
    w = (
        woman("20+0")
        .with_length(40.0, at="20+0")
        .with_medication(Medication.VAGINAL_PROGESTERONE, started_at="20+1")
        .at("28+0")
    )
    assert not recs(w, "nice", "vaginal-progesterone")
    assert [t.treatment for t in w.assess("nice").current_treatments] == ["vaginal-progesterone"]


def test_a_stopped_order_is_no_longer_in_place() -> None:
    w = (
        woman("20+0")
        .with_length(18.0, at="20+0")
        .with_medication(Medication.VAGINAL_PROGESTERONE, started_at="20+1", stopped_at="21+0")
        .at("22+0")
    )
    assert one(w, "nice", "vaginal-progesterone").state == "due"


def test_in_place_needs_an_active_order() -> None:
    w = woman("20+0").with_length(18.0, at="20+0")
    assert one(w, "nice", "vaginal-progesterone").state == "due"


# --- declined -------------------------------------------------------------------------------------


def test_a_declined_offer_is_shown_as_declined_not_as_a_task() -> None:
    w = (
        PRIOR_SPTB.with_length(22.0, at="18+0")
        .with_declined(DeclinableCode.ULTRASOUND_INDICATED_CERCLAGE, "18+2")
        .at("19+0")
    )
    cerclage = one(w, "nice", "ultrasound-indicated-cerclage")
    assert cerclage.state == "declined"
    assert "declined" in cerclage.state_note.lower()
    assert one(w, "nice", "vaginal-progesterone").state == "due"


def test_a_declined_offer_is_due_again_when_a_rule_fires_it_on_newer_findings() -> None:
    # Declined when only her history gave progesterone (NICE-03); a short cervix since then
    # fires NICE-01 (a choice of progesterone or cerclage): due again, and it says so.
    w = (
        PRIOR_SPTB.with_length(30.0, at="16+0")
        .with_declined(DeclinableCode.VAGINAL_PROGESTERONE, "16+1")
        .with_length(22.0, at="18+0")
        .at("18+2")
    )
    progesterone = one(w, "nice", "vaginal-progesterone")
    assert progesterone.rule == "NICE-01"
    assert progesterone.state == "due"
    assert "due again" in progesterone.state_note


def test_a_decline_recorded_after_as_of_is_not_yet_known() -> None:
    w = PRIOR_SPTB.with_length(22.0, at="18+0").with_declined(
        DeclinableCode.VAGINAL_PROGESTERONE, "19+0"
    )
    assert one(w.at("18+5"), "nice", "vaginal-progesterone").state == "due"
    assert one(w.at("19+0"), "nice", "vaginal-progesterone").state == "declined"


# --- single screens: who is past screening (CD-02, CD-03) -----------------------------------------


@pytest.mark.parametrize("guideline", ["acog"])
def test_no_routine_screen_once_a_short_cervix_is_known(guideline: str) -> None:
    w = woman("16+0").with_length(20.1, at="16+0").at("17+0")
    assert not recs(w, guideline, "single-cervical-length-screen")


@pytest.mark.parametrize("guideline", ["acog", "nice"])
def test_no_routine_screen_with_dilation_and_membranes_visible(guideline: str) -> None:
    w = woman("17+0").with_excision(depth_mm=16.0).with_exam("17+0", 3.0, True)
    assert not recs(w, guideline, "single-cervical-length-screen")


@pytest.mark.parametrize("guideline", ["acog", "nice"])
def test_no_routine_screen_with_a_cerclage_in_situ(guideline: str) -> None:
    w = woman("17+0").with_excision(depth_mm=16.0).with_cerclage("14+0")
    assert not recs(w, guideline, "single-cervical-length-screen")


def test_a_mid_trimester_loss_alone_keeps_the_acog_screen() -> None:
    # CD-02: a mid-trimester loss is not a preterm birth in ACOG234-02's sense.
    w = woman("17+0").with_prior_loss("20+0")
    assert one(w, "acog", "single-cervical-length-screen").state == "due"


# --- texts state their bounds as evaluated; plan and text agree -----------------------------------


def test_a_length_of_20_1_mm_is_not_called_21_to_25_mm() -> None:
    w = woman("20+0").with_length(20.1, at="20+0")
    progesterone = one(w, "acog", "vaginal-progesterone")
    assert progesterone.rule == "SMFM70-04"
    assert "21" not in progesterone.summary
    assert "more than 20" in progesterone.summary


def test_serial_scans_beside_no_planned_scan_say_why() -> None:
    w = PRIOR_SPTB.with_length(22.0, at="18+0").at("19+0")
    serial = one(w, "acog", "serial-cervical-length")
    (plan,) = [p for p in w.assess("acog").scan_plans if p.kind == "serial"]
    assert plan.next_scan is None
    assert serial.state_note == plan.note
    assert "No further surveillance scan planned" in serial.state_note


# --- urgency until reviewed (CD-07) ---------------------------------------------------------------


def test_an_unreviewed_report_from_last_week_is_urgent_and_says_how_old() -> None:
    w = woman("24+0")
    w = w.with_symptoms(Symptom.PELVIC_PRESSURE, reported_on=w.as_of - dt.timedelta(days=7))
    for guideline in ("acog", "nice"):
        urgent = one(w, guideline, "urgent-evaluation")
        assert "pelvic pressure" in urgent.reason
        assert "7 days ago" in urgent.reason
        assert "not yet reviewed" in urgent.reason


def test_a_reviewed_report_is_no_longer_urgent() -> None:
    w = woman("24+0")
    w = w.with_symptoms(
        Symptom.PELVIC_PRESSURE,
        reported_on=w.as_of - dt.timedelta(days=7),
        reviewed_on=w.as_of - dt.timedelta(days=6),
    )
    assert not recs(w, "nice", "urgent-evaluation")


def test_urgency_does_not_wait_for_a_known_gestation() -> None:
    w = woman("24+0").with_symptoms(Symptom.BLEEDING).without_edd()
    assert recs(w, "nice", "urgent-evaluation")


# --- dated complications (CD-06) ------------------------------------------------------------------


def test_an_infection_noted_the_next_day_does_not_contraindicate_a_cerclage_today() -> None:
    w = woman("21+0").with_exam("21+0", 2.0, True)
    today = w.as_of
    w = w.with_complication(Complication.CHORIOAMNIONITIS, noted_on=today + dt.timedelta(days=1))
    assert one(w, "nice", "exam-indicated-cerclage")
    assert not recs(w, "nice", "cerclage-contraindicated")
    tomorrow = w.on_day(today + dt.timedelta(days=1))
    assert recs(tomorrow, "nice", "cerclage-contraindicated")
    assert not recs(tomorrow, "nice", "exam-indicated-cerclage")


def test_a_resolved_complication_no_longer_suppresses() -> None:
    w = woman("21+0").with_exam("20+3", 2.0, True)
    today = w.as_of
    w = w.with_complication(
        Complication.VAGINAL_BLEEDING,
        noted_on=today - dt.timedelta(days=5),
        resolved_on=today - dt.timedelta(days=1),
    )
    assert one(w, "nice", "exam-indicated-cerclage")
    before = w.on_day(today - dt.timedelta(days=2))
    assert recs(before, "nice", "cerclage-contraindicated")


# --- NICE corrections of 2026-12 (CD-08) ----------------------------------------------------------


def test_nice_twins_get_a_single_screen_then_progesterone_at_25_mm_or_less() -> None:
    twins = woman("16+2", fetuses=2)
    assert one(twins, "nice", "single-cervical-length-screen").rule == "NICE-T1"
    short = twins.with_length(25.0, at="17+0").at("17+1")
    assert one(short, "nice", "vaginal-progesterone").rule == "NICE-T1"
    assert not recs(short, "nice", "single-cervical-length-screen")
    assert not recs(short, "nice", "ultrasound-indicated-cerclage")
    assert not recs(short, "acog", "vaginal-progesterone")


@pytest.mark.parametrize(
    ("length_mm", "comparator", "at", "given"),
    [
        (15.0, None, "30+0", True),
        (15.1, None, "30+0", False),
        (15.0, None, "29+6", False),
        (10.0, LengthComparator.BELOW, "31+0", True),
        (20.0, LengthComparator.ABOVE, "31+0", False),
    ],
)
def test_preterm_labour_diagnosed_at_30_0_with_a_length_of_15_mm_or_less(
    length_mm: float, comparator: LengthComparator | None, at: str, given: bool
) -> None:
    w = woman(at).with_symptoms(Symptom.CONTRACTIONS)
    m = CervicalLengthMeasurement(w.as_of, length_mm, comparator=comparator)
    w = w.with_records(cervical_lengths=(m,))
    assert bool(recs(w, "nice", "preterm-labour-diagnosed")) is given
    assert not recs(w, "acog", "preterm-labour-diagnosed")


def test_preterm_labour_diagnosed_by_fibronectin_only_without_a_length() -> None:
    w = woman("31+0").with_symptoms(Symptom.CONTRACTIONS)
    ffn = (FetalFibronectin(w.as_of, ng_per_ml=60.0),)
    assert recs(w.with_records(fibronectin=ffn), "nice", "preterm-labour-diagnosed")
    # Never both in combination (NG25 1.7.7): a length above 15 mm since the report decides.
    both = w.with_records(fibronectin=ffn).with_length(25.0, at="31+0")
    assert not recs(both, "nice", "preterm-labour-diagnosed")


def test_a_length_measured_before_the_report_does_not_diagnose_preterm_labour() -> None:
    w = woman("31+0").with_length(12.0, at="30+6").with_symptoms(Symptom.CONTRACTIONS)
    assert not recs(w, "nice", "preterm-labour-diagnosed")


# --- inputs an EHR sends --------------------------------------------------------------------------


def test_a_length_under_10_mm_counts_as_under_10() -> None:
    w = woman("19+0")
    m = CervicalLengthMeasurement(w.day("19+0"), 10.0, comparator=LengthComparator.BELOW)
    w = w.with_records(cervical_lengths=(m,)).with_closed_cervix("19+0")
    # SMFM70-06 is 10-25 mm: "<10 mm" is outside it; SMFM70-03 (<=20 mm) applies.
    assert not recs(w, "acog", "cerclage-not-recommended")
    assert one(w, "acog", "vaginal-progesterone").rule == "SMFM70-03"


@pytest.mark.parametrize("comparator", [LengthComparator.ABOVE, LengthComparator.AT_LEAST])
def test_a_lower_bound_is_never_short(comparator: LengthComparator) -> None:
    w = woman("19+0")
    m = CervicalLengthMeasurement(w.day("19+0"), 20.0, comparator=comparator)
    w = w.with_records(cervical_lengths=(m,))
    for guideline in ("acog", "nice"):
        assert not recs(w, guideline, "vaginal-progesterone")
    assert w.facts()["tv_length_from_18w_measured"] is True  # the screen was done


def test_a_counted_preterm_birth_asks_for_its_details() -> None:
    counted = PriorPregnancy(None, None, None, None, counted_as="preterm birth")
    w = woman("12+0").with_records(prior_pregnancies=(counted,))
    assessment = w.assess()
    assert assessment.risk.tier is None
    assert any("details of 1 previous preterm birth" in need for need in assessment.missing)


# --- the risk tier for what it is -----------------------------------------------------------------


def test_the_tier_is_labelled_and_shown_beside_current_findings() -> None:
    w = woman("20+0", fetuses=2).with_length(20.1, at="20+0")
    risk = w.assess().risk
    assert risk.tier == "low"
    assert "Saving Babies' Lives" in risk.tier_label
    assert "history" in risk.tier_label
    assert any("20.1 mm" in f for f in risk.current_findings)
    assert "twins" in risk.current_findings


@pytest.mark.parametrize(
    "complication", [Complication.CHORIOAMNIONITIS, Complication.VAGINAL_BLEEDING]
)
def test_a_contraindication_withholds_a_cerclage_given_by_history_or_length_without_an_exam(
    complication: Complication,
) -> None:
    # The contraindication rule looks at what the first pass gave (`fired`): with no exam
    # recorded, only the ordering of the two passes lets it see the ultrasound-indicated
    # cerclage (ACOG142-07, NICE-06).
    w = PRIOR_SPTB.with_length(20.0, at="18+0").with_complications(complication)
    for guideline in ("acog", "nice"):
        assert recs(w, guideline, "cerclage-contraindicated"), guideline
        assert not recs(w, guideline, "ultrasound-indicated-cerclage"), guideline
        withheld = [
            x for x in w.assess(guideline).withheld if x.code == "ultrasound-indicated-cerclage"
        ]
        assert withheld, guideline
