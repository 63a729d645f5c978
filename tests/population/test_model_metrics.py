"""The statistics of a risk model's external validation (`app.model_metrics`), each checked
against an answer found another way: scipy's Mann-Whitney U for the AUC, DeLong's structural
components computed pair by pair, data simulated from a known logistic model for calibration,
hand-computed Brier scores and net benefits, statsmodels' Wilson interval, and the `dcurves`
package's decision curves.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.special import expit, logit  # type: ignore[import-untyped]
from scipy.stats import mannwhitneyu, norm  # type: ignore[import-untyped]
from statsmodels.stats.proportion import proportion_confint  # type: ignore[import-untyped]

from cervixwatch.app.model_metrics import (
    Interval,
    auc,
    brier,
    calibration,
    calibration_groups,
    net_benefit,
    scaled_brier,
)

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]


def _scored(seed: int, n: int, ties: bool = False) -> tuple[Floats, Bools]:
    """Risks that carry some signal about the outcome; with `ties`, rounded so many are shared."""
    rng = np.random.default_rng(seed)
    outcome = rng.uniform(size=n) < 0.3
    risk = expit(-1 + 1.2 * outcome + rng.normal(size=n))
    return (np.round(risk, 1) if ties else risk), outcome


def _simulated(seed: int = 20240601, n: int = 20_000) -> tuple[Floats, Bools]:
    """True log-odds of a well-specified logistic model, and outcomes drawn from it."""
    rng = np.random.default_rng(seed)
    log_odds = -1.5 + rng.normal(size=n)
    return log_odds, rng.uniform(size=n) < expit(log_odds)


# --- AUC ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("ties", [False, True])
def test_auc_is_mann_whitney_u_over_pairs(ties: bool) -> None:
    risk, outcome = _scored(1, 400, ties)
    u = mannwhitneyu(risk[outcome], risk[~outcome]).statistic
    assert auc(risk, outcome).value == pytest.approx(u / (outcome.sum() * (~outcome).sum()))


@pytest.mark.parametrize("ties", [False, True])
def test_auc_interval_is_delong_variance_computed_pair_by_pair(ties: bool) -> None:
    risk, outcome = _scored(2, 300, ties)
    events, non_events = risk[outcome], risk[~outcome]
    m, n = events.size, non_events.size
    # psi[i, j]: event i ranked above non-event j, a tie counting one half.
    psi = (events[:, None] > non_events[None, :]) + 0.5 * (events[:, None] == non_events[None, :])
    area = psi.mean()
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    s10 = ((v10 - area) ** 2).sum() / (m - 1)
    s01 = ((v01 - area) ** 2).sum() / (n - 1)
    half = norm.ppf(0.975) * math.sqrt(s10 / m + s01 / n)
    # The interval is well inside 0-1, so no clipping could hide a wrong variance.
    assert area - half > 0
    assert area + half < 1

    result = auc(risk, outcome)

    assert result.value == pytest.approx(area)
    assert result.low == pytest.approx(area - half)
    assert result.high == pytest.approx(area + half)


def test_auc_of_perfect_separation_is_one_and_of_reversed_is_zero() -> None:
    risk = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    outcome = np.array([0, 0, 0, 1, 1, 1])
    # DeLong's variance is 0 here: the interval shrinks to the point.
    assert auc(risk, outcome) == Interval(1.0, 1.0, 1.0)
    assert auc(risk, 1 - outcome) == Interval(0.0, 0.0, 0.0)


def test_auc_of_one_risk_for_all_is_one_half() -> None:
    # Every placement value is 1/2, so DeLong's variance is 0 (as documented): a point interval.
    assert auc(np.full(8, 0.3), np.array([0, 1, 0, 1, 1, 0, 0, 1])) == Interval(0.5, 0.5, 0.5)


def test_auc_counts_a_tie_one_half() -> None:
    # Event risks 0.2, 0.5, 0.8 against non-events 0.2, 0.5, 0.5: pairs won 0.5 + 0 + 0 (0.2),
    # 1 + 0.5 + 0.5 (0.5) and 3 (0.8): 5.5 of 9.
    result = auc([0.2, 0.5, 0.8, 0.2, 0.5, 0.5], [1, 1, 1, 0, 0, 0])
    assert result.value == pytest.approx(5.5 / 9)


@pytest.mark.parametrize(
    ("outcome", "problem"),
    [
        ([0, 0, 0, 0], "no events"),
        ([1, 1, 1, 1], "no non-events"),
        ([1, 0, 0, 0], "at least two"),
    ],
)
def test_auc_needs_events_and_non_events(outcome: list[int], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        auc([0.1, 0.2, 0.3, 0.4], outcome)


@st.composite
def _untied(draw: st.DrawFn) -> tuple[Floats, Bools]:
    """Distinct risks (whole millionths, so that 1 - risk stays distinct) and outcomes with at
    least two events and two non-events."""
    n = draw(st.integers(4, 60))
    events = draw(st.integers(2, n - 2))
    risk = np.array(draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n, unique=True)))
    outcome = draw(st.permutations([True] * events + [False] * (n - events)))
    return risk / 10**6, np.array(outcome)


@given(_untied())
def test_auc_lies_in_0_1_and_reversing_the_risk_gives_its_complement(
    data: tuple[Floats, Bools],
) -> None:
    risk, outcome = data
    forward, backward = auc(risk, outcome), auc(1 - risk, outcome)
    assert 0 <= forward.low <= forward.value <= forward.high <= 1
    assert forward.value + backward.value == pytest.approx(1)


# --- calibration -------------------------------------------------------------------------------


def test_true_risks_have_slope_one_and_intercept_zero() -> None:
    log_odds, outcome = _simulated()
    result = calibration(expit(log_odds), outcome)
    assert result.slope is not None
    assert result.slope.low < 1 < result.slope.high
    assert result.slope.value == pytest.approx(1, abs=0.05)
    assert result.intercept.low < 0 < result.intercept.high
    assert result.intercept.value == pytest.approx(0, abs=0.05)


def test_risks_twice_too_extreme_have_slope_one_half() -> None:
    log_odds, outcome = _simulated()
    result = calibration(expit(2 * log_odds), outcome)
    assert result.slope is not None
    assert result.slope.low < 0.5 < result.slope.high
    assert result.slope.value == pytest.approx(0.5, abs=0.03)


def test_risks_too_high_by_one_in_log_odds_have_intercept_minus_one() -> None:
    log_odds, outcome = _simulated()
    result = calibration(expit(log_odds + 1), outcome)
    assert result.intercept.low < -1 < result.intercept.high
    assert result.intercept.value == pytest.approx(-1, abs=0.05)
    # Shifting every risk alike leaves the slope alone.
    assert result.slope is not None
    assert result.slope.low < 1 < result.slope.high


def test_one_risk_for_all_has_no_slope_and_the_intercept_in_closed_form() -> None:
    outcome = np.array([1] * 30 + [0] * 70)
    result = calibration(np.full(100, 0.2), outcome)
    assert result.slope is None
    # With only an offset, the fitted log-odds equal the observed ones: logit(0.3) - logit(0.2).
    assert result.intercept.value == pytest.approx(logit(0.3) - logit(0.2))
    assert result.intercept.low < result.intercept.value < result.intercept.high


def test_risks_of_exactly_0_and_1_are_kept_off_the_edges() -> None:
    risk = np.array([0.0, 0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.0])
    outcome = np.array([0, 1, 0, 1, 0, 1, 1, 0])
    result = calibration(risk, outcome)
    assert result.slope is not None
    assert all(math.isfinite(x) for x in (result.intercept.value, result.slope.value))


def test_perfect_separation_is_refused() -> None:
    with pytest.raises(ValueError, match="calibration slope could not be estimated"):
        calibration([0.1, 0.2, 0.3, 0.7, 0.8, 0.9], [0, 0, 0, 1, 1, 1])


def test_calibration_needs_events() -> None:
    with pytest.raises(ValueError, match="no events"):
        calibration([0.1, 0.2, 0.3], [0, 0, 0])


# --- Brier -------------------------------------------------------------------------------------


def test_brier_by_hand() -> None:
    risk, outcome = [0.1, 0.9, 0.5, 0.3], [0, 1, 1, 0]
    # Squared errors 0.01, 0.01, 0.25, 0.09: mean 0.09; prevalence 0.5, so reference 0.25.
    assert brier(risk, outcome) == pytest.approx(0.09)
    assert scaled_brier(risk, outcome) == pytest.approx(1 - 0.09 / 0.25)


def test_brier_of_a_perfect_model_is_zero() -> None:
    assert brier([0.0, 1.0, 1.0], [False, True, True]) == 0.0


def test_scaled_brier_of_predicting_the_prevalence_is_zero() -> None:
    outcome = [1, 0, 0, 0, 0]
    assert scaled_brier([0.2] * 5, outcome) == pytest.approx(0.0)
    assert scaled_brier([0.8] * 5, outcome) < 0


# --- calibration groups ------------------------------------------------------------------------


def test_two_valued_risk_gives_two_groups() -> None:
    risk = np.array([0.3, 0.1, 0.1, 0.3, 0.1, 0.1, 0.3, 0.1])
    outcome = np.array([1, 0, 1, 1, 0, 0, 0, 0])
    groups = calibration_groups(risk, outcome)
    assert [(g.n, g.events) for g in groups] == [(5, 1), (3, 2)]
    assert [g.mean_risk for g in groups] == pytest.approx([0.1, 0.3])


def test_groups_are_near_equal_ordered_and_hold_every_woman() -> None:
    risk, outcome = _scored(3, 1000)
    groups = calibration_groups(risk, outcome)
    assert [g.n for g in groups] == [100] * 10
    assert sum(g.events for g in groups) == outcome.sum()
    means = [g.mean_risk for g in groups]
    assert means == sorted(means)
    top = np.sort(risk)[-100:]
    assert groups[-1].mean_risk == pytest.approx(top.mean())


def test_uneven_division_cuts_at_the_nearest_place() -> None:
    groups = calibration_groups(np.linspace(0.05, 0.95, 10), [0, 1] * 5, groups=3)
    assert [g.n for g in groups] == [3, 4, 3]


def test_tied_risks_are_never_split() -> None:
    rng = np.random.default_rng(4)
    values = np.array([0.05, 0.1, 0.2, 0.4, 0.6])
    risk = np.repeat(values, 200)
    outcome = rng.uniform(size=risk.size) < risk
    groups = calibration_groups(rng.permutation(risk), outcome, groups=10)
    assert [g.n for g in groups] == [200] * 5
    assert [g.mean_risk for g in groups] == pytest.approx(values.tolist())


def test_more_groups_than_women_gives_one_woman_each() -> None:
    groups = calibration_groups([0.7, 0.2, 0.5], [1, 0, 1], groups=10)
    assert [(g.n, g.mean_risk) for g in groups] == [(1, 0.2), (1, 0.5), (1, 0.7)]


def test_observed_proportion_has_the_wilson_interval() -> None:
    risk, outcome = _scored(5, 500)
    for g in calibration_groups(risk, outcome, groups=4):
        low, high = proportion_confint(g.events, g.n, alpha=0.05, method="wilson")
        assert g.observed.value == g.events / g.n
        assert (g.observed.low, g.observed.high) == pytest.approx((low, high))


@pytest.mark.parametrize("groups", [0, -1])
def test_groups_must_be_at_least_one(groups: int) -> None:
    with pytest.raises(ValueError, match="groups"):
        calibration_groups([0.1, 0.2], [0, 1], groups=groups)


# --- net benefit -------------------------------------------------------------------------------


def test_net_benefit_by_hand() -> None:
    risk = [0.9, 0.6, 0.4, 0.2, 0.1]
    outcome = [1, 0, 1, 0, 0]
    # At 0.25 and at 0.4 (a risk equal to the threshold is treated): TP 2, FP 1 of 5.
    # At 0.5: TP 1, FP 1. Prevalence 0.4.
    result = net_benefit(risk, outcome, [0.25, 0.4, 0.5])
    assert [r.threshold for r in result] == [0.25, 0.4, 0.5]
    assert [r.model for r in result] == pytest.approx(
        [2 / 5 - 1 / 5 * (1 / 3), 2 / 5 - 1 / 5 * (2 / 3), 1 / 5 - 1 / 5]
    )
    assert [r.treat_all for r in result] == pytest.approx(
        [0.4 - 0.6 * (1 / 3), 0.4 - 0.6 * (2 / 3), 0.4 - 0.6]
    )


def test_treating_all_is_the_model_that_gives_everyone_risk_one() -> None:
    risk, outcome = _scored(6, 200)
    thresholds = [0.05, 0.3, 0.7]
    everyone = net_benefit(np.ones_like(risk), outcome, thresholds)
    assert [r.model for r in everyone] == pytest.approx([r.treat_all for r in everyone])
    prevalence = outcome.mean()
    assert [r.treat_all for r in net_benefit(risk, outcome, thresholds)] == pytest.approx(
        [prevalence - (1 - prevalence) * t / (1 - t) for t in thresholds]
    )


def test_net_benefit_agrees_with_dcurves() -> None:
    import pandas as pd  # type: ignore[import-untyped]
    from dcurves import dca  # type: ignore[import-untyped]

    risk, outcome = _scored(7, 500)
    thresholds = [0.05, 0.1, 0.2, 0.3, 0.5, 0.8]
    theirs = dca(
        data=pd.DataFrame({"outcome": outcome.astype(int), "model": risk}),
        outcome="outcome",
        modelnames=["model"],
        thresholds=thresholds,
    )
    ours = net_benefit(risk, outcome, thresholds)
    for name, ours_by_threshold in (
        ("model", [r.model for r in ours]),
        ("all", [r.treat_all for r in ours]),
    ):
        rows = theirs[theirs["model"] == name]
        assert rows["threshold"].tolist() == pytest.approx(thresholds)
        assert ours_by_threshold == pytest.approx(rows["net_benefit"].tolist())


@pytest.mark.parametrize("threshold", [0.0, 1.0, -0.1, 1.5, math.nan])
def test_thresholds_must_lie_strictly_between_0_and_1(threshold: float) -> None:
    with pytest.raises(ValueError, match="thresholds must lie strictly between 0 and 1"):
        net_benefit([0.1, 0.9], [0, 1], [0.5, threshold])


# --- inputs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("risk", "outcome", "problem"),
    [
        ([], [], "risk must be a non-empty"),
        ([[0.1, 0.2]], [0, 1], "risk must be a non-empty one-dimensional"),
        (["low", "high"], [0, 1], "risk must be numbers"),
        ([0.1, math.nan], [0, 1], "risk has missing"),
        ([0.1, 1.2], [0, 1], "risk must lie between 0 and 1"),
        ([0.1, -0.2], [0, 1], "risk must lie between 0 and 1"),
        ([0.1, 0.2], [], "outcome must be a non-empty"),
        ([0.1, 0.2], [0.0, 1.0], "outcome must be bool or integer"),
        ([0.1, 0.2], [0, 2], "outcome must be 0 or 1"),
        ([0.1, 0.2, 0.3], [0, 1], "risk has 3 values but outcome has 2"),
    ],
)
def test_bad_inputs_are_named(risk: Any, outcome: Any, problem: str) -> None:
    for metric in (auc, calibration, brier, scaled_brier, calibration_groups):
        with pytest.raises(ValueError, match=problem):
            metric(risk, outcome)
    with pytest.raises(ValueError, match=problem):
        net_benefit(risk, outcome, [0.5])
