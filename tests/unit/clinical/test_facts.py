"""Facts derived from a pregnancy's records on `as_of` (clinical/facts.py): definitions from
profiles.md and fhir-mapping.md, three-valued where the records cannot tell."""

from __future__ import annotations

import datetime as dt

import pytest

from cervixwatch.clinical.facts import NAMED_WINDOWS, derive_facts, windowed_fact
from cervixwatch.clinical.records import (
    CerclageIndication,
    CerclageRoute,
    CervicalExam,
    CervicalLengthMeasurement,
    Complication,
    ExcisionKind,
    MaternalCondition,
    Medication,
    Onset,
    PartialDate,
    PriorOutcome,
    Symptom,
)
from tests.builders import Woman, woman

HISTORY_NEED = "outcome, gestation and onset of each previous pregnancy"
EXAM_NEED = "a cervical examination (dilation and whether membranes are exposed)"


# --- previous pregnancies --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "onset", "expected"),
    [
        (PriorOutcome.LIVE_BIRTH, Onset.SPONTANEOUS_LABOUR, True),
        (PriorOutcome.STILLBIRTH, Onset.PPROM, True),
        (PriorOutcome.LIVE_BIRTH, Onset.PAINLESS_CERVICAL_DILATION, True),
        (PriorOutcome.LIVE_BIRTH, Onset.MEDICALLY_INDICATED, False),
        (PriorOutcome.MISCARRIAGE, Onset.SPONTANEOUS_LABOUR, False),
        (PriorOutcome.LIVE_BIRTH, Onset.UNKNOWN, None),
        (PriorOutcome.LIVE_BIRTH, None, None),
    ],
)
def test_prior_spontaneous_preterm_birth(
    outcome: PriorOutcome, onset: Onset | None, expected: bool | None
) -> None:
    w = woman("12+0").with_prior(outcome, "30+0", onset)
    assert w.facts()["prior_sptb"] is expected


def test_an_unknown_onset_leaves_rules_undecided_and_missing_names_the_history() -> None:
    w = woman("19+0").with_prior(PriorOutcome.LIVE_BIRTH, "30+0", Onset.UNKNOWN)
    result = w.assess()
    assert HISTORY_NEED in result.missing
    assert "serial-cervical-length" not in result.codes("acog")
    assert "single-cervical-length-screen" not in result.codes("acog")


def test_a_medically_indicated_preterm_birth_is_not_a_spontaneous_one() -> None:
    w = woman("19+0").with_prior(PriorOutcome.LIVE_BIRTH, "32+0", Onset.MEDICALLY_INDICATED)
    assert w.facts()["prior_sptb"] is False
    assert HISTORY_NEED not in w.assess().missing
    assert "single-cervical-length-screen" in w.codes("acog")


def test_one_known_sptb_decides_even_beside_an_unclassifiable_pregnancy() -> None:
    w = woman("19+0").with_prior_sptb("30+0").with_prior(None, None, None)
    assert w.facts()["prior_sptb"] is True
    assert w.facts()["prior_sptb_or_mtl_count"] is None


@pytest.mark.parametrize(("at", "expected"), [("13+6", False), ("14+0", True), ("24+0", False)])
def test_prior_mid_trimester_loss(at: str, expected: bool) -> None:
    assert woman("12+0").with_prior_loss(at).facts()["prior_mtl"] is expected


@pytest.mark.parametrize(("at", "expected"), [("15+6", False), ("16+0", True)])
def test_nice_counts_mid_trimester_losses_from_16_0(at: str, expected: bool) -> None:
    facts = woman("12+0").with_prior_loss(at).facts()
    assert facts["prior_mtl"] is True
    assert facts["prior_mtl_from_16w"] is expected


def test_the_rcog_count_adds_spontaneous_preterm_births_and_losses() -> None:
    w = woman("12+0").with_prior_loss("20+0").with_prior_sptb("30+0").with_prior_sptb("35+0")
    w = w.with_prior()  # a term birth does not count
    assert w.facts()["prior_sptb_or_mtl_count"] == 3


@pytest.mark.parametrize(
    ("ended", "counted"),
    [
        (PartialDate(2026), True),  # its first possible day, 1 January, is before as_of
        (PartialDate(2026, 2, 2), True),  # on as_of
        (PartialDate(2026, 2, 3), False),  # the day after
        (PartialDate(2026, 3), False),
        (PartialDate(2027), False),
        (None, True),
    ],
)
def test_a_previous_pregnancy_ending_after_as_of_is_ignored(
    ended: PartialDate | None, counted: bool
) -> None:
    w = woman("18+2").with_prior(PriorOutcome.LIVE_BIRTH, "30+0", Onset.PPROM, ended=ended)
    assert w.as_of == dt.date(2026, 2, 2)
    assert w.facts()["prior_sptb"] is counted


# --- Saving Babies' Lives tiers ----------------------------------------------------------------


HIGH_RISK = {
    "sPTB at 30+0": woman().with_prior_sptb("30+0"),
    "loss at 20+0": woman().with_prior_loss("20+0", Onset.SPONTANEOUS_LABOUR),
    "stillbirth at 34+0": woman().with_prior(PriorOutcome.STILLBIRTH, "34+0", None),
    "PPROM at 33+6": woman().with_prior(PriorOutcome.LIVE_BIRTH, "33+6", Onset.PPROM),
    "previous cerclage": woman().with_prior(cerclage=CerclageIndication.HISTORY),
    "uterine anomaly": woman().with_conditions(MaternalCondition.UTERINE_ANOMALY),
    "Asherman": woman().with_conditions(MaternalCondition.INTRAUTERINE_ADHESIONS),
    "trachelectomy": woman().with_excision(ExcisionKind.TRACHELECTOMY),
}
INTERMEDIATE_RISK = {
    # SBL v3.1 (CD-08): a single LLETZ counts when more than 15 mm deep.
    "LLETZ 15.1 mm": woman().with_excision(ExcisionKind.LLETZ, 15.1),
    "two LLETZ": woman().with_excision(depth_mm=5.0).with_excision(depth_mm=6.0),
    "cone biopsy": woman().with_excision(ExcisionKind.CONE_BIOPSY),
    "caesarean at full dilatation": woman().with_conditions(
        MaternalCondition.CAESAREAN_AT_FULL_DILATATION
    ),
}
LOW_RISK = {
    "nulliparous": woman(),
    "term birth": woman().with_prior(),
    "LLETZ 15 mm": woman().with_excision(ExcisionKind.LLETZ, 15.0),
    "LLETZ 12 mm (GTG75's older 10 mm cut-off)": woman().with_excision(ExcisionKind.LLETZ, 12.0),
    "sPTB at 35+0": woman().with_prior_sptb("35+0"),
    "indicated PTB at 30+0": woman().with_prior(
        PriorOutcome.LIVE_BIRTH, "30+0", Onset.MEDICALLY_INDICATED
    ),
}


@pytest.mark.parametrize("w", HIGH_RISK.values(), ids=HIGH_RISK.keys())
def test_sbl_high_risk(w: Woman) -> None:
    assert w.facts()["nice_high_risk"] is True
    assert w.assess().risk.tier == "high"
    assert "refer-preterm-birth-clinic" in w.codes("nice")


@pytest.mark.parametrize("w", INTERMEDIATE_RISK.values(), ids=INTERMEDIATE_RISK.keys())
def test_sbl_intermediate_risk(w: Woman) -> None:
    facts = w.facts()
    assert (facts["nice_high_risk"], facts["nice_intermediate_risk"]) == (False, True)
    assert w.assess().risk.tier == "intermediate"
    assert "single-cervical-length-screen" in w.codes("nice")


@pytest.mark.parametrize("w", LOW_RISK.values(), ids=LOW_RISK.keys())
def test_sbl_low_risk(w: Woman) -> None:
    assert w.assess().risk.tier == "low"
    assert not {"refer-preterm-birth-clinic", "serial-cervical-length"} & w.codes("nice")


def test_high_risk_outranks_intermediate() -> None:
    w = woman().with_prior_sptb("30+0").with_excision(ExcisionKind.CONE_BIOPSY)
    assert (w.facts()["nice_intermediate_risk"], w.assess().risk.tier) == (False, "high")


def test_a_lletz_of_unknown_depth_leaves_the_tier_unknown() -> None:
    w = woman().with_excision(ExcisionKind.LLETZ, None)
    assert w.facts()["nice_intermediate_risk"] is None
    assert w.assess().risk.tier is None
    assert "the depth of each LLETZ" in w.assess().missing


def test_no_risk_factor_needs_a_classifiable_history() -> None:
    assert woman().facts()["no_risk_factor"] is True
    assert woman().with_excision(ExcisionKind.LLETZ, 5.0).facts()["no_risk_factor"] is False
    unknown = woman().with_prior(PriorOutcome.LIVE_BIRTH, "30+0", Onset.UNKNOWN)
    assert unknown.facts()["no_risk_factor"] is None


# --- this pregnancy's cervix -------------------------------------------------------------------


def test_shortest_lengths_by_window() -> None:
    w = (
        woman("25+0")
        .with_length(30.0, at="15+0")
        .with_length(24.0, at="16+0")
        .with_length(20.0, at="24+0")
        .with_length(10.0, at="25+0")
    )
    facts = w.facts()
    assert facts["shortest_tv_length_mm"] == 10.0
    assert facts["shortest_tv_length_before_24w_mm"] == 24.0
    assert facts["shortest_tv_length_16_to_24w_mm"] == 20.0
    assert facts["latest_tv_length_mm"] == 10.0
    assert facts["tv_length_count"] == 4


def test_lengths_after_as_of_and_before_the_pregnancy_are_ignored() -> None:
    w = woman("20+0").with_length(10.0, at="21+0")
    before_pregnancy = CervicalLengthMeasurement(w.day("0+0") - dt.timedelta(days=1), 9.0)
    w = w.with_records(cervical_lengths=(*w.records.cervical_lengths, before_pregnancy))
    facts = w.facts()
    assert facts["tv_length_count"] == 0
    assert facts["shortest_tv_length_mm"] is None


@pytest.mark.parametrize(("dilation_cm", "dilated"), [(0.0, False), (0.9, False), (1.0, True)])
def test_dilation_means_1_cm_or_more(dilation_cm: float, dilated: bool) -> None:
    facts = woman().with_exam("20+0", dilation_cm=dilation_cm).facts()
    assert facts["dilated"] is dilated


def test_the_latest_recorded_value_of_each_exam_finding_stands() -> None:
    w = (
        woman("20+0")
        .with_exam("18+0", dilation_cm=0.0, membranes_exposed=False)
        .with_exam("19+0", dilation_cm=2.0, membranes_exposed=None)
        .with_exam("21+0", dilation_cm=4.0, membranes_exposed=True)  # after as_of
    )
    facts = w.facts()
    assert (facts["dilation_cm"], facts["membranes_exposed"]) == (2.0, False)


def test_without_an_exam_dilation_is_unknown() -> None:
    facts = woman().facts()
    assert facts["dilated"] is None
    assert facts["dilated_or_membranes_exposed"] is None


def test_an_exam_from_before_this_pregnancy_is_not_todays_cervix() -> None:
    w = woman("20+0")
    old_exam = CervicalExam(dt.date(2024, 3, 1), dilation_cm=4.0, membranes_exposed=True)
    w = w.with_records(exams=(old_exam,))
    assert w.facts()["dilated"] is None
    assert "exam-indicated-cerclage" not in w.codes("acog")
    assert "urgent-evaluation" not in w.codes("nice")


# --- cerclage in situ ------------------------------------------------------------------------


def test_a_cerclage_placed_this_pregnancy_is_in_situ() -> None:
    facts = woman("20+0").with_cerclage("13+0").facts()
    assert facts["cerclage_in_situ"] is True
    assert facts["transvaginal_cerclage_in_situ"] is True


def test_a_cerclage_placed_then_removed_is_not_in_situ() -> None:
    w = woman("30+0").with_cerclage("13+0", removed_at="29+0")
    assert w.facts()["cerclage_in_situ"] is False
    assert w.facts()["transvaginal_cerclage_in_situ"] is False


def test_a_removal_after_as_of_has_not_happened_yet() -> None:
    w = woman("30+0").with_cerclage("13+0", removed_at="31+0")
    assert w.facts()["cerclage_in_situ"] is True


def test_a_cerclage_placed_after_as_of_is_not_in_situ_yet() -> None:
    assert woman("12+0").with_cerclage("13+0").facts()["cerclage_in_situ"] is False


def test_a_cerclage_from_before_this_pregnancy_began_is_not_in_situ() -> None:
    w = woman("12+0")
    placed = w.day("0+0") - dt.timedelta(days=1)
    assert w.with_cerclage(placed_on=placed).facts()["cerclage_in_situ"] is False
    assert w.with_cerclage(placed_on=w.day("0+0")).facts()["cerclage_in_situ"] is True


def test_a_cerclage_replaced_after_a_removal_is_in_situ() -> None:
    w = woman("20+0").with_cerclage("13+0", removed_at="15+0").with_cerclage("16+0")
    assert w.facts()["cerclage_in_situ"] is True


def test_an_abdominal_cerclage_is_in_situ_but_not_removed_at_36_weeks() -> None:
    w = woman("36+0").with_cerclage("13+0", CerclageRoute.TRANSABDOMINAL)
    assert w.facts()["cerclage_in_situ"] is True
    assert "remove-cerclage" not in w.codes("acog")


def test_a_cerclage_of_unknown_route_leaves_removal_undecided_and_asks_for_the_route() -> None:
    w = woman("36+0").with_cerclage("13+0", CerclageRoute.UNKNOWN)
    assert w.facts()["transvaginal_cerclage_in_situ"] is None
    result = w.assess()
    assert "remove-cerclage" not in result.codes("acog")
    assert any("route of the cerclage" in need for need in result.missing)


# --- symptoms, complications, medications --------------------------------------------------------


@pytest.mark.parametrize(
    ("days_before", "current"), [(-1, False), (0, True), (1, True), (2, True), (30, True)]
)
def test_a_symptom_report_stays_current_until_reviewed_whatever_its_age(
    days_before: int, current: bool
) -> None:
    # CD-07: urgency never lapses with the calendar; a report made after as_of is not known.
    w = woman("20+0")
    w = w.with_symptoms(Symptom.CRAMPING, reported_on=w.as_of - dt.timedelta(days=days_before))
    facts = w.facts()
    assert facts["current_symptom_report"] is current
    assert facts["current_symptom"] is current
    assert ("urgent-evaluation" in w.codes("acog")) is current
    assert ("urgent-evaluation" in w.codes("nice")) is current


@pytest.mark.parametrize(("reviewed_days_after", "open_"), [(0, False), (1, False), (-1, True)])
def test_a_review_closes_the_report_from_its_day_on(reviewed_days_after: int, open_: bool) -> None:
    # A review dated after as_of is not yet known (fhir-mapping.md): the report is still open.
    w = woman("20+0")
    reported = w.as_of - dt.timedelta(days=3)
    w = w.with_symptoms(
        Symptom.PELVIC_PRESSURE,
        reported_on=reported,
        reviewed_on=w.as_of - dt.timedelta(days=reviewed_days_after),
    )
    assert w.facts()["current_symptom"] is open_
    assert ("urgent-evaluation" in w.codes("acog")) is open_


def test_a_report_with_every_symptom_answered_no_is_no_symptom() -> None:
    w = woman("20+0").with_symptoms()
    assert (w.facts()["current_symptom_report"], w.facts()["current_symptom"]) == (True, False)
    assert "urgent-evaluation" not in w.codes("acog")


def test_reported_bleeding_and_contractions_count_as_contraindications() -> None:
    facts = woman().with_symptoms(Symptom.BLEEDING, Symptom.CONTRACTIONS).facts()
    assert facts["active_bleeding"] is True
    assert facts["uterine_contractions"] is True
    assert facts["current_red_flag_symptom"] is True


def test_complications_become_facts() -> None:
    facts = woman().with_complications(*Complication).facts()
    for name in (
        "preterm_labour",
        "ruptured_membranes",
        "chorioamnionitis",
        "active_bleeding",
        "fetal_death",
        "lethal_fetal_anomaly",
        "placenta_praevia",
        "uterine_contractions",
    ):
        assert facts[name] is True, name


@pytest.mark.parametrize(("started_at", "active"), [(None, True), ("19+0", True), ("21+0", False)])
def test_a_medication_started_after_as_of_is_not_active_yet(
    started_at: str | None, active: bool
) -> None:
    w = woman("20+0").with_medication(Medication.HYDROXYPROGESTERONE_CAPROATE, started_at)
    assert w.facts()["on_17ohpc"] is active
    assert ("discontinue-17ohpc" in w.codes("nice")) is active


@pytest.mark.parametrize(
    ("fetuses", "singleton"), [(None, True), (1, True), (2, False), (3, False)]
)
def test_without_a_fetus_count_the_pregnancy_is_taken_as_singleton(
    fetuses: int | None, singleton: bool
) -> None:
    w = woman(fetuses=fetuses)
    assert w.facts()["singleton"] is singleton
    assert ("the number of fetuses (taken as one)" in w.assess().missing) is (fetuses is None)


def test_without_an_edd_the_gestational_age_is_unknown_and_missing_says_so() -> None:
    result = woman().with_prior_sptb("30+0").without_edd().assess()
    assert result.gestational_age is None
    assert any("EDD" in need for need in result.missing)
    assert "serial-cervical-length" not in result.codes("acog")


def test_without_an_exam_missing_asks_for_one_only_when_a_rule_needs_it() -> None:
    # SMFM70-06 needs "no dilation" when there is no prior sPTB; after one it cannot apply.
    no_prior_sptb = woman().with_prior().with_length(18.0, at="19+0").assess()
    assert EXAM_NEED in no_prior_sptb.missing
    prior_sptb = woman().with_prior_sptb("30+0").with_length(18.0, at="19+0").assess()
    assert EXAM_NEED not in prior_sptb.missing


# --- which windows are worked out --------------------------------------------------------------


def test_only_the_windows_asked_for_are_worked_out_under_the_names_asked() -> None:
    w = woman("19+0").with_prior_sptb("31+0")
    facts = derive_facts(w.records, w.as_of, ["prior_sptb[..223]", "prior_sptb_before_34w"])
    assert facts["prior_sptb[..223]"] is True
    assert facts["prior_sptb_before_34w"] is facts["prior_sptb[..237]"] is True
    assert "prior_sptb_upto_34w" not in facts
    assert "prior_sptb[..238]" not in facts


def test_by_default_every_2026_11_name_of_a_window_is_there() -> None:
    w = woman("19+0").with_prior_sptb("31+0")
    facts = derive_facts(w.records, w.as_of)
    assert {name: facts[name] for name in NAMED_WINDOWS} == {
        name: facts[fact.key] for name, fact in NAMED_WINDOWS.items()
    }


def test_a_name_that_is_no_window_is_refused() -> None:
    w = woman("19+0")
    assert windowed_fact("prior_sptb") is None
    assert windowed_fact("made_up[..3]") is None
    with pytest.raises(KeyError, match="not a windowed fact"):
        derive_facts(w.records, w.as_of, ["prior_sptb"])


def test_no_previous_pregnancy_gives_what_the_general_rule_gives_for_none() -> None:
    w = woman("19+0")
    facts = derive_facts(w.records, w.as_of)
    assert facts["prior_sptb"] is False
    assert facts["prior_sptb_or_mtl_count"] == 0
    assert facts["prior_sptb[..237]"] is False
    assert facts["nice_high_risk"] is False
