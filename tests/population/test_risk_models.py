"""Risk models kept as data (`app.risk_models`): the bundled files agree with the evidence the
clinical pages show, a file with an error is refused naming its field, a model is applied only
inside its valid range, and a length given as a bound settles a threshold only when it can."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from cervixwatch.app.risk_models import (
    BUNDLED_MODELS,
    Applicable,
    Condition,
    NotApplicable,
    RiskModel,
    RiskModelError,
    _satisfies,
    applicability,
    bundled_models,
    load_model,
    model_from_data,
    outcome_of,
    risk_of,
)
from cervixwatch.clinical.gestation import ga
from cervixwatch.knowledge import bundled_evidence

EVIDENCE = bundled_evidence()
MODELS = {m.id: m for m in bundled_models(EVIDENCE)}
ANDRADE = Path(__file__).parent / "models" / "andrade-2023.yaml"


def _row(**values: Any) -> dict[str, Any]:
    """A cohort row as `validate` reads it: a twin pregnancy, nothing else recorded."""
    row: dict[str, Any] = {
        "patient_id": "w1",
        "error": None,
        "fetuses": 2,
        "prior_sptb": None,
        "lengths": [],
        "previous_births": 0,
        "previous_birth_ga_days": None,
        "previous_birth_onset": None,
        "previous_birth_fetuses": None,
        "ended_on": None,
        "ended_ga_days": None,
        "outcome": None,
        "sptb": None,
    }
    row.update(values)
    return row


def _length(week: str, mm: float, comparator: str | None = None) -> dict[str, Any]:
    return {"ga_days": ga(week), "mm": mm, "comparator": comparator}


# --- the bundled files ------------------------------------------------------------------------


def test_the_bundled_models_are_those_the_evidence_supports() -> None:
    assert sorted(MODELS) == [
        "conde-agudelo-2010-twins-32",
        "conde-agudelo-2010-twins-34",
        "kazemier-2014-recurrence",
    ]


def test_the_twin_ratios_are_the_evidence_files() -> None:
    """The ratio for 20 mm or less is the one the clinical pages show (knowledge/evidence):
    the two files cannot drift apart unnoticed."""
    shown = {b.cutoff_mm: b for b in EVIDENCE.conde_agudelo_bands}
    model = MODELS["conde-agudelo-2010-twins-32"]
    assert model.bands[0].at_most_mm == 20
    assert model.bands[0].ratio == shown[20].value
    assert model.outcome_before_days == ga("32+0")
    assert MODELS["conde-agudelo-2010-twins-34"].bands[0].ratio == 9.0
    assert "9.0 before 34 weeks" in shown[20].also


def test_the_recurrence_table_is_kazemiers() -> None:
    table = MODELS["kazemier-2014-recurrence"].table
    assert table[("singleton", "preterm singleton")] == pytest.approx(0.20)
    assert table[("twins", "preterm singleton")] == pytest.approx(0.57)
    assert len(table) == len(EVIDENCE.kazemier_recurrence)


# --- refused files ------------------------------------------------------------------------------


def _data(path: Path = ANDRADE) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(kind="cox"), "kind: 'cox' is not one of"),
        (lambda d: d.pop("citation"), "'citation' is required"),
        (lambda d: d.update(id="../x"), ".id: '../x'"),
        (lambda d: d["outcome"].update(spontaneous_birth_before="38+0"), "before 37+0"),
        (lambda d: d["outcome"].update(spontaneous_birth_before="soon"), "not a gestation"),
        (lambda d: d["valid_range"].update(fetuses="one"), "valid_range.fetuses"),
        (lambda d: d["valid_range"]["length"].update(take="shortest"), "only 'first'"),
        (lambda d: d["terms"][0].update(coefficient=1.9), "is not ln(odds ratio 5.971)"),
        (lambda d: d["terms"][1].update(below=1), "one condition at most"),
        (lambda d: d["terms"][2].update(coefficient="big"), "coefficient: 'big' is not a number"),
    ],
)
def test_a_wrong_logistic_file_is_refused_naming_the_field(change: Any, message: str) -> None:
    data = _data()
    change(data)
    with pytest.raises(RiskModelError, match=re.escape(message)):
        model_from_data(data, EVIDENCE, "andrade-2023.yaml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("pretest"), "pretest: 'cohort'"),
        (lambda d: d["likelihood_ratios"].reverse(), "last band, and only it"),
        (lambda d: d["likelihood_ratios"][0].update(ratio=0), "above 0"),
        (lambda d: d["valid_range"].pop("length"), "the length the ratios are for"),
    ],
)
def test_a_wrong_ratio_file_is_refused_naming_the_field(change: Any, message: str) -> None:
    data = _data(BUNDLED_MODELS / "conde-agudelo-2010-twins-32.yaml")
    change(data)
    with pytest.raises(RiskModelError, match=re.escape(message)):
        model_from_data(data, EVIDENCE, "twins.yaml")


def test_a_file_that_is_not_yaml_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(RiskModelError, match=r"broken\.yaml: not YAML"):
        load_model(broken, EVIDENCE)


# --- the logistic evaluator (Andrade 2023, a fixture) -----------------------------------------


def test_the_fixture_loads_and_says_what_cervixwatch_does_not_record() -> None:
    model = load_model(ANDRADE, EVIDENCE)
    assert model.unrecorded_predictors == (
        "cervical_length_to_uterocervical_angle_index",
        "funneling",
        "no_antibiotic_in_pregnancy",
        "non_smoker",
        "one_prior_curettage",
        "prior_preterm_birth",
        "weight_kg",
    )
    found = applicability(model, _row(fetuses=1, lengths=[_length("20+0", 25)]))
    assert isinstance(found, NotApplicable)
    assert found.reason.startswith("not recorded: cervical_length_to_uterocervical_angle_index")


def test_the_logistic_risk_is_the_papers_equation() -> None:
    model = load_model(ANDRADE, EVIDENCE)
    predictors = {
        "funneling": 1.0,
        "cervical_length_to_uterocervical_angle_index": 0.15,  # at most 0.200: counts
        "no_antibiotic_in_pregnancy": 0.0,
        "prior_preterm_birth": 1.0,
        "one_prior_curettage": 0.0,
        "weight_kg": 70.0,  # above 58: does not count
        "non_smoker": 1.0,
    }
    case = Applicable(predictors, length=_length("20+0", 28.0))  # below 30.9: counts
    logit = -3.116 + 1.787 + 0.427 + 1.579 - 0.949 + 0.622
    assert risk_of(model, case) == pytest.approx(1 / (1 + math.exp(-logit)), abs=1e-12)
    longer = Applicable(predictors, length=_length("20+0", 31.0))
    assert risk_of(model, longer) == pytest.approx(1 / (1 + math.exp(-(logit - 0.622))))


# --- lengths given as bounds ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comparator", "mm", "kind", "threshold", "expected"),
    [
        (None, 20, "at_most", 20, True),
        (None, 20, "below", 20, False),
        ("<", 10, "at_most", 20, True),
        ("<", 20, "at_most", 20, True),
        ("<", 20, "below", 20, True),
        ("<=", 20, "below", 20, None),
        ("<", 25, "at_most", 20, None),
        ("<", 25, "above", 30, False),
        (">", 30, "at_most", 20, False),
        (">", 20, "at_most", 20, False),
        (">=", 20, "at_most", 20, None),
        (">=", 21, "at_most", 20, False),
        (">", 15, "at_most", 20, None),
        (">=", 30, "at_least", 30, True),
        (">", 29, "above", 30, None),
    ],
)
def test_a_bound_settles_a_threshold_only_when_every_length_it_allows_agrees(
    comparator: str | None, mm: float, kind: str, threshold: float, expected: bool | None
) -> None:
    measured = {"mm": mm, "comparator": comparator}
    assert _satisfies(measured, Condition(kind, threshold)) is expected


# --- where a model applies --------------------------------------------------------------------


def _twins32() -> RiskModel:
    return MODELS["conde-agudelo-2010-twins-32"]


def test_a_ratio_model_reads_the_first_length_of_its_window() -> None:
    lengths = [_length("18+0", 15), _length("20+3", 32), _length("23+0", 12)]
    found = applicability(_twins32(), _row(lengths=lengths))
    assert isinstance(found, Applicable)
    assert found.ratio == 0.64
    assert found.predictors == {"length_mm": 32}


def test_a_short_length_takes_the_positive_ratio_and_the_cohorts_odds() -> None:
    found = applicability(_twins32(), _row(lengths=[_length("21+0", 18)]))
    assert isinstance(found, Applicable)
    assert found.ratio == 10.1
    # Pre-test 10% (odds 1/9): post-test odds 10.1/9.
    assert risk_of(_twins32(), found, 1 / 9) == pytest.approx((10.1 / 9) / (1 + 10.1 / 9))
    with pytest.raises(ValueError, match="pre-test odds"):
        risk_of(_twins32(), found)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (_row(fetuses=1), "outside the model's range: singleton"),
        (_row(fetuses=3), "outside the model's range: 3 fetuses"),
        (_row(fetuses=None), "number of fetuses not recorded"),
        (
            _row(lengths=[_length("19+6", 10), _length("25+0", 10)]),
            "no transvaginal length at 20+0-24+6",
        ),
        (_row(lengths=[_length("22+0", 25, "<")]), "length given only as <25"),
        (_row(error="bad bundle", lengths=[_length("22+0", 10)]), "records refused by the reader"),
    ],
)
def test_outside_its_range_a_model_gives_a_reason_not_a_risk(
    row: dict[str, Any], reason: str
) -> None:
    found = applicability(_twins32(), row)
    assert found == NotApplicable(reason)


def test_a_length_under_a_bound_that_settles_the_band_is_read() -> None:
    found = applicability(_twins32(), _row(lengths=[_length("22+0", 10, "<")]))
    assert isinstance(found, Applicable)
    assert found.ratio == 10.1
    assert found.predictors == {}


def _recurrence(**values: Any) -> Applicable | NotApplicable:
    return applicability(MODELS["kazemier-2014-recurrence"], _row(**values))


def test_the_recurrence_table_reads_her_last_birth() -> None:
    last = {"previous_births": 2, "previous_birth_fetuses": 1}
    spontaneous = _recurrence(
        fetuses=1, previous_birth_ga_days=ga("30+0"), previous_birth_onset="pprom", **last
    )
    assert isinstance(spontaneous, Applicable)
    assert spontaneous.table_risk == pytest.approx(0.20)
    twins_after_term = _recurrence(fetuses=2, previous_birth_ga_days=ga("39+0"), **last)
    assert isinstance(twins_after_term, Applicable)
    assert twins_after_term.table_risk == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"previous_births": 0}, "no previous birth"),
        ({"previous_births": 2}, "last birth: gestation not recorded (or which birth was last)"),
        (
            {"previous_births": 1, "previous_birth_ga_days": ga("39+0")},
            "last birth: number of babies not recorded",
        ),
        (
            {
                "previous_births": 1,
                "previous_birth_ga_days": ga("30+0"),
                "previous_birth_fetuses": 1,
            },
            "last birth preterm: its onset not recorded",
        ),
        (
            {
                "previous_births": 1,
                "previous_birth_ga_days": ga("30+0"),
                "previous_birth_fetuses": 1,
                "previous_birth_onset": "medically-indicated",
            },
            "last birth preterm but not spontaneous: no row in the table",
        ),
        (
            {
                "previous_births": 1,
                "previous_birth_ga_days": ga("39+0"),
                "previous_birth_fetuses": 1,
            },
            "no row in the table for singleton after term singleton",
        ),
    ],
)
def test_without_her_last_birth_the_table_gives_no_risk(
    values: dict[str, Any], reason: str
) -> None:
    assert _recurrence(fetuses=1, **values) == NotApplicable(reason)


# --- the outcome --------------------------------------------------------------------------------


def _ended(days: str, outcome: str = "live-birth", sptb: bool | None = False) -> dict[str, Any]:
    return _row(ended_on="2026-06-01", ended_ga_days=ga(days), outcome=outcome, sptb=sptb)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (_ended("30+0", sptb=True), True),
        (_ended("32+0", sptb=True), False),
        (_ended("39+0"), False),
        (_ended("30+0", outcome="stillbirth", sptb=True), True),
        (_row(), NotApplicable("pregnancy not ended: no outcome yet")),
        (_ended("30+0", sptb=None), NotApplicable("preterm birth: onset not recorded")),
        (
            _ended("30+0", sptb=False),
            NotApplicable("medically indicated birth before the outcome's gestation"),
        ),
        (_ended("20+0", outcome="miscarriage"), NotApplicable("ended other than by a birth")),
        (
            _row(ended_on="2026-06-01", outcome="live-birth"),
            NotApplicable("gestation at the end not recorded"),
        ),
    ],
)
def test_the_outcome_is_a_spontaneous_birth_before_the_models_gestation(
    row: dict[str, Any], expected: bool | NotApplicable
) -> None:
    assert outcome_of(_twins32(), row) == expected
