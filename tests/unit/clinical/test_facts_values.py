"""Every fact of two pregnancies, one with nothing recorded and one with much recorded, pinned
value by value: a fact no rule of today's profiles reads (a local protocol may) is still a
clinical statement, and a wrong one must fail a test."""

from __future__ import annotations

import datetime as dt

from cervixwatch.clinical.facts import FACT_CATALOGUE
from cervixwatch.clinical.records import (
    CerclageIndication,
    CerclageRemoval,
    Complication,
    ExcisionKind,
    FetalFibronectin,
    LengthMethod,
    MaternalCondition,
    Medication,
    Onset,
    PriorOutcome,
    Symptom,
)
from tests.builders import woman

NOTHING = {
    "ga_days": 140,
    "fetus_count_recorded": True,
    "singleton": True,
    "prior_sptb": False,
    "prior_mtl": False,
    "prior_sptb_or_mtl": False,
    "prior_sptb_or_mtl_count": 0,
    "prior_painless_mtl": False,
    "prior_exam_indicated_cerclage": False,
    "prior_cerclage": False,
    "prior_pprom_before_34w": False,
    "prior_pprom": False,
    "prior_failed_transvaginal_cerclage": False,
    "cervical_excision": False,
    "trachelectomy": False,
    "significant_excision": False,
    "caesarean_full_dilatation": False,
    "uterine_anomaly": False,
    "intrauterine_adhesions": False,
    "nice_high_risk": False,
    "nice_intermediate_risk": False,
    "no_risk_factor": True,
    "tv_length_count": 0,
    "transabdominal_length_only": False,
    "shortest_tv_length_mm": None,
    "latest_tv_length_mm": None,
    "dilation_cm": None,
    "membranes_exposed": None,
    "dilated": None,
    "dilated_or_membranes_exposed": None,
    "preterm_labour": False,
    "ruptured_membranes": False,
    "chorioamnionitis": False,
    "active_bleeding": False,
    "fetal_death": False,
    "lethal_fetal_anomaly": False,
    "placenta_praevia": False,
    "uterine_contractions": False,
    "cerclage_in_situ": False,
    "transvaginal_cerclage_in_situ": False,
    "on_17ohpc": False,
    "on_vaginal_progesterone": False,
    "current_symptom_report": False,
    "current_symptom": False,
    "current_red_flag_symptom": False,
    "open_report_ga_days": None,
    "open_report_days_waiting": None,
    "tv_length_since_report_measured": False,
    "shortest_tv_length_since_report_mm": None,
    "ffn_since_report_ng_per_ml": None,
    "prior_sptb_before_34w": False,
    "prior_sptb_upto_34w": False,
    "prior_mtl_from_16w": False,
    "shortest_tv_length_before_24w_mm": None,
    "shortest_tv_length_16_to_24w_mm": None,
    "tv_length_before_24w_measured": False,
    "tv_length_from_18w_measured": False,
    "tv_length_from_16w_measured": False,
}


def test_every_fact_of_a_pregnancy_with_nothing_recorded() -> None:
    facts = woman("20+0").facts()
    assert {k: facts[k] for k in NOTHING} == NOTHING
    assert set(FACT_CATALOGUE) <= set(facts)


def test_every_fact_of_a_pregnancy_with_much_recorded() -> None:
    w = woman("31+0")
    w = (
        w.with_prior(PriorOutcome.LIVE_BIRTH, "26+0", Onset.PPROM, cerclage=CerclageIndication.EXAM)
        .with_prior_loss("20+0")
        .with_excision(ExcisionKind.TRACHELECTOMY)
        .with_conditions(
            MaternalCondition.UTERINE_ANOMALY,
            MaternalCondition.INTRAUTERINE_ADHESIONS,
            MaternalCondition.CAESAREAN_AT_FULL_DILATATION,
        )
        .with_length(30.0, at="16+0", method=LengthMethod.TRANSABDOMINAL)
        .with_length(24.0, at="20+0")
        .with_length(14.0, at="31+0")
        .with_exam("30+6", dilation_cm=3.0, membranes_exposed=True)
        .with_cerclage("14+0", removed_at="30+0")
        .with_medication(Medication.HYDROXYPROGESTERONE_CAPROATE, started_at="16+0")
        .with_medication(Medication.VAGINAL_PROGESTERONE, started_at="20+1")
        .with_complications(Complication.PLACENTA_PRAEVIA, Complication.FETAL_DEATH)
        .with_complication(Complication.LETHAL_FETAL_ANOMALY, noted_on=w.as_of)
        .with_symptoms(Symptom.CONTRACTIONS, reported_on=w.day("30+5"))
        .with_symptoms(Symptom.SPOTTING, reported_on=w.day("30+6"))
        .with_records(fibronectin=(FetalFibronectin(w.day("31+0"), ng_per_ml=80.0),))
    )
    facts = w.facts()
    expected = {
        "ga_days": 217,
        "prior_sptb": True,
        "prior_mtl": True,
        "prior_sptb_or_mtl": True,
        "prior_sptb_or_mtl_count": 2,
        "prior_painless_mtl": True,
        "prior_exam_indicated_cerclage": True,
        "prior_cerclage": True,
        "prior_pprom_before_34w": True,
        "prior_pprom": True,
        "prior_failed_transvaginal_cerclage": True,
        "cervical_excision": True,
        "trachelectomy": True,
        "significant_excision": False,
        "caesarean_full_dilatation": True,
        "uterine_anomaly": True,
        "intrauterine_adhesions": True,
        "nice_high_risk": True,
        "nice_intermediate_risk": False,
        "no_risk_factor": False,
        "tv_length_count": 2,
        "transabdominal_length_only": False,
        "shortest_tv_length_mm": 14.0,
        "latest_tv_length_mm": 14.0,
        "dilation_cm": 3.0,
        "membranes_exposed": True,
        "dilated": True,
        "dilated_or_membranes_exposed": True,
        "fetal_death": True,
        "lethal_fetal_anomaly": True,
        "placenta_praevia": True,
        "preterm_labour": False,
        "active_bleeding": False,
        "uterine_contractions": True,
        "cerclage_in_situ": False,
        "transvaginal_cerclage_in_situ": False,
        "on_17ohpc": True,
        "on_vaginal_progesterone": True,
        "current_symptom_report": True,
        "current_symptom": True,
        "current_red_flag_symptom": True,
        "open_report_ga_days": 216,
        "open_report_days_waiting": 2,
        "tv_length_since_report_measured": True,
        "shortest_tv_length_since_report_mm": 14.0,
        "ffn_since_report_ng_per_ml": 80.0,
        "prior_sptb_before_34w": True,
        "prior_sptb_upto_34w": True,
        "prior_mtl_from_16w": True,
        "shortest_tv_length_before_24w_mm": 24.0,
        "shortest_tv_length_16_to_24w_mm": 24.0,
        "tv_length_before_24w_measured": True,
        "tv_length_from_18w_measured": True,
        "tv_length_from_16w_measured": True,
    }
    assert {k: facts[k] for k in expected} == expected


def test_records_of_another_pregnancy_or_after_as_of_do_not_count() -> None:
    w = woman("20+0")
    before = w.edd - dt.timedelta(days=281)
    w = (
        w.with_length(10.0, at="20+0", method=LengthMethod.TRANSABDOMINAL)
        .with_records(exams=())
        .with_cerclage(placed_on=before)
        .with_exam("20+0")
    )
    w = w.with_records(cerclage_removals=(CerclageRemoval(w.as_of + dt.timedelta(days=1)),))
    facts = w.facts()
    assert facts["transabdominal_length_only"] is True
    assert facts["tv_length_count"] == 0
    assert facts["cerclage_in_situ"] is False  # placed before this pregnancy began
    assert facts["dilated"] is False


def test_a_cerclage_removed_on_the_day_it_was_placed_is_not_in_situ() -> None:
    w = woman("20+0").with_cerclage("19+0", removed_at="19+0")
    assert w.facts()["cerclage_in_situ"] is False
    assert woman("20+0").with_cerclage("20+0").facts()["cerclage_in_situ"] is True
