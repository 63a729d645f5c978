"""The statistics of an external validation of a clinical risk model: each woman's predicted
probability (`risk`, 0-1) set against what happened to her (`outcome`, 1 for the event).
Pure functions of two equal-length arrays.

- Discrimination: the area under the ROC curve (the c statistic; tied risks count one half)
  with a 95% interval from DeLong's variance (DeLong, DeLong & Clarke-Pearson, Biometrics
  1988;44:837-45), computed by the midrank algorithm of Sun & Xu, IEEE Signal Process Lett
  2014;21:1389-93.
- Calibration: the calibration slope, the coefficient of logit(risk) in a logistic regression
  of outcome on it (Cox, Biometrika 1958;45:562-5), and calibration-in-the-large, the
  intercept of a logistic model whose only covariate is logit(risk) as an offset (Steyerberg,
  Clinical Prediction Models, 2nd ed. 2019, ch. 15); 95% Wald intervals. A table of observed
  against predicted by risk group, with Wilson intervals (see `audit_stats`).
- Overall accuracy: the Brier score (Brier, Mon Weather Rev 1950;78:1-3) and the scaled Brier
  score, its improvement on telling every woman the observed prevalence.
- Clinical usefulness: net benefit of decision curve analysis (Vickers & Elkin, Med Decis
  Making 2006;26:565-74).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import statsmodels.api as sm  # type: ignore[import-untyped]
from numpy.typing import ArrayLike, NDArray
from scipy.special import logit  # type: ignore[import-untyped]
from scipy.stats import rankdata  # type: ignore[import-untyped]
from statsmodels.tools.sm_exceptions import (  # type: ignore[import-untyped]
    ModelWarning,
    PerfectSeparationError,
)

from cervixwatch.app.audit_stats import Z95, wilson

__all__ = [
    "Calibration",
    "CalibrationGroup",
    "Interval",
    "NetBenefit",
    "auc",
    "brier",
    "calibration",
    "calibration_groups",
    "net_benefit",
    "scaled_brier",
]

#: Risks are kept this far from 0 and 1 before the logit, so that a model that says 0% or
#: 100% gives a large finite log-odds rather than an infinite one.
RISK_FLOOR = 1e-9


@dataclass(frozen=True, slots=True)
class Interval:
    """An estimate and its 95% confidence interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Calibration:
    """Calibration-in-the-large (0 when the model's risks are right on average; below 0 when
    they are too high) and the calibration slope (1 when right; below 1 when the risks are too
    extreme, as after overfitting; above 1 when too modest).

    `slope` is None when every woman was given the same risk: then logit(risk) does not vary
    and its coefficient cannot be estimated.
    """

    intercept: Interval
    slope: Interval | None


@dataclass(frozen=True, slots=True)
class CalibrationGroup:
    """One risk group: its women, their events, their mean predicted risk and the observed
    proportion with its Wilson interval."""

    n: int
    events: int
    mean_risk: float
    observed: Interval


@dataclass(frozen=True, slots=True)
class NetBenefit:
    """Net benefit, in true positives per woman, at one threshold risk: of acting on the
    model (acting for women whose risk is at or above the threshold) and of acting for all.
    Acting for none has net benefit 0."""

    threshold: float
    model: float
    treat_all: float


def auc(risk: ArrayLike, outcome: ArrayLike) -> Interval:
    """The area under the ROC curve, the chance that a woman with the event was given a higher
    risk than one without (ties count one half), with its DeLong 95% interval clipped to 0-1.

    DeLong's variance is 0, and the interval shrinks to a point, when every woman's placement
    value is the same: for a model that separates events from non-events perfectly (1, or 0),
    and for one that gives every woman the same risk (0.5, 0.5-0.5, though it has told us
    nothing). Needs at least two events and two non-events: with one, the variance of her
    placement values is undefined.
    """
    r, y = _checked(risk, outcome)
    events, non_events = r[y], r[~y]
    m, n = events.size, non_events.size
    _require_both_classes(m, n)
    if m < 2 or n < 2:
        raise ValueError(
            f"outcome has {m} events and {n} non-events: the DeLong interval needs at least two "
            "of each"
        )
    # Sun & Xu: midranks within each class and in the pooled sample give every woman's
    # placement value without comparing each pair.
    within_events = rankdata(events)
    within_non_events = rankdata(non_events)
    pooled = rankdata(np.concatenate([events, non_events]))
    v10 = (pooled[:m] - within_events) / n  # share of non-events each event outranks
    v01 = 1.0 - (pooled[m:] - within_non_events) / m  # share of events outranking each non-event
    value = float(v10.mean())
    variance = float(np.var(v10, ddof=1)) / m + float(np.var(v01, ddof=1)) / n
    half = Z95 * math.sqrt(variance)
    return Interval(value, max(0.0, value - half), min(1.0, value + half))


def calibration(risk: ArrayLike, outcome: ArrayLike) -> Calibration:
    """Calibration-in-the-large and the calibration slope with 95% Wald intervals, from
    logistic regressions (statsmodels GLM, binomial family) on logit(risk), risks first kept
    within 1e-9 of 0 and 1. The slope is None when the risk takes a single value.

    Raises ValueError when there are no events or no non-events, or when a model cannot be
    fitted (perfect separation, no convergence).
    """
    r, y = _checked(risk, outcome)
    _require_both_classes(int(y.sum()), int((~y).sum()))
    log_odds = logit(np.clip(r, RISK_FLOOR, 1 - RISK_FLOOR))
    observed = y.astype(float)
    ones = np.ones((observed.size, 1))
    in_the_large = sm.GLM(observed, ones, family=sm.families.Binomial(), offset=log_odds)
    intercept = _wald(_fit("calibration-in-the-large", in_the_large), 0)
    if np.ptp(log_odds) == 0:
        return Calibration(intercept=intercept, slope=None)
    design = np.column_stack([ones, log_odds])
    on_log_odds = sm.GLM(observed, design, family=sm.families.Binomial())
    return Calibration(intercept=intercept, slope=_wald(_fit("calibration slope", on_log_odds), 1))


def brier(risk: ArrayLike, outcome: ArrayLike) -> float:
    """The Brier score: the mean squared difference between risk and outcome (0 is perfect)."""
    r, y = _checked(risk, outcome)
    return float(np.mean((r - y) ** 2))


def scaled_brier(risk: ArrayLike, outcome: ArrayLike) -> float:
    """1 - Brier / the Brier score of giving every woman the observed prevalence p, which is
    p(1-p): 0 for a model no better than the prevalence, 1 for a perfect one, below 0 for one
    that does worse. Raises ValueError when there are no events or no non-events."""
    r, y = _checked(risk, outcome)
    _require_both_classes(int(y.sum()), int((~y).sum()))
    prevalence = float(y.mean())
    return 1.0 - brier(r, y) / (prevalence * (1 - prevalence))


def calibration_groups(
    risk: ArrayLike, outcome: ArrayLike, groups: int = 10
) -> list[CalibrationGroup]:
    """Women ordered by risk and cut into at most `groups` groups of near-equal size, lowest
    risk first. Women with the same risk are never split between groups, so there may be fewer
    groups than asked for: a model whose risk takes two values gives two."""
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"groups must be a whole number of at least 1, not {groups!r}")
    r, y = _checked(risk, outcome)
    order = np.argsort(r, kind="stable")
    r, y = r[order], y[order]
    bounds = [0, *_cuts(r, groups), r.size]
    return [_group(r[a:b], y[a:b]) for a, b in pairwise(bounds)]


def net_benefit(risk: ArrayLike, outcome: ArrayLike, thresholds: ArrayLike) -> list[NetBenefit]:
    """Decision curve analysis at each threshold risk t, strictly between 0 and 1. A woman is
    treated when her risk is at or above t; the harm of treating one without the event is
    weighed at t/(1-t) of the benefit of treating one with it:
    net benefit = TP/n - FP/n * t/(1-t); for treating all, prevalence - (1-prevalence) * t/(1-t).
    """
    r, y = _checked(risk, outcome)
    ts = np.asarray(thresholds, dtype=float)
    if ts.ndim != 1:
        raise ValueError(f"thresholds must be a one-dimensional sequence, not shape {ts.shape}")
    outside = ts[~((ts > 0) & (ts < 1))]
    if outside.size:
        raise ValueError(f"thresholds must lie strictly between 0 and 1: {outside.tolist()}")
    n = r.size
    prevalence = float(y.mean())
    results = []
    for t in ts.tolist():
        harm = t / (1 - t)
        treated = r >= t
        true_pos = int(np.sum(treated & y))
        false_pos = int(np.sum(treated & ~y))
        results.append(
            NetBenefit(
                threshold=t,
                model=true_pos / n - false_pos / n * harm,
                treat_all=prevalence - (1 - prevalence) * harm,
            )
        )
    return results


def _checked(risk: ArrayLike, outcome: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The two arrays as floats and booleans, or ValueError naming what is wrong."""
    try:
        r = np.asarray(risk, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"risk must be numbers: {exc}") from exc
    if r.ndim != 1 or r.size == 0:
        raise ValueError(f"risk must be a non-empty one-dimensional array, not shape {r.shape}")
    if not np.all(np.isfinite(r)):
        raise ValueError("risk has missing or infinite values")
    if np.any((r < 0) | (r > 1)):
        raise ValueError("risk must lie between 0 and 1")
    o = np.asarray(outcome)
    if o.ndim != 1 or o.size == 0:
        raise ValueError(f"outcome must be a non-empty one-dimensional array, not shape {o.shape}")
    # Floats are refused rather than rounded: a 0.5 or a NaN outcome is a data error upstream.
    if not (o.dtype == np.bool_ or np.issubdtype(o.dtype, np.integer)):
        raise ValueError(f"outcome must be bool or integer 0/1, not {o.dtype}")
    if np.any((o != 0) & (o != 1)):
        raise ValueError("outcome must be 0 or 1")
    if o.size != r.size:
        raise ValueError(f"risk has {r.size} values but outcome has {o.size}")
    return r, o.astype(bool)


def _require_both_classes(events: int, non_events: int) -> None:
    if events == 0:
        raise ValueError("outcome has no events (every value is 0)")
    if non_events == 0:
        raise ValueError("outcome has no non-events (every value is 1)")


def _fit(what: str, model: Any) -> Any:
    """Fit a statsmodels GLM, turning its warnings of separation or failed
    convergence into ValueError: an estimate from such a fit is not one to report."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelWarning)
        warnings.simplefilter("error", RuntimeWarning)
        try:
            return model.fit()
        except (
            ModelWarning,
            RuntimeWarning,
            PerfectSeparationError,
            np.linalg.LinAlgError,
        ) as exc:
            raise ValueError(f"the {what} could not be estimated: {exc}") from exc


def _wald(result: Any, index: int) -> Interval:
    """The `index`th coefficient of a fitted GLM with its normal-theory (Wald) 95% interval."""
    low, high = result.conf_int(alpha=0.05)[index]
    return Interval(float(result.params[index]), float(low), float(high))


def _cuts(sorted_risk: NDArray[np.float64], groups: int) -> list[int]:
    """Where to cut the sorted risks into near-equal groups: each ideal cut moved to the
    nearest place where the risk changes, so no tied risks are split."""
    changes = np.flatnonzero(np.diff(sorted_risk)) + 1
    if changes.size == 0:
        return []
    n = sorted_risk.size
    cuts: set[int] = set()
    for k in range(1, groups):
        ideal = k * n / groups
        cuts.add(int(changes[np.argmin(np.abs(changes - ideal))]))
    return sorted(cuts)


def _group(risk: NDArray[np.float64], outcome: NDArray[np.bool_]) -> CalibrationGroup:
    n, events = int(risk.size), int(outcome.sum())
    bounds = wilson(events, n)
    if bounds is None:  # pragma: no cover - _cuts never makes an empty group
        raise AssertionError("empty risk group")
    return CalibrationGroup(n, events, float(risk.mean()), Interval(events / n, *bounds))
