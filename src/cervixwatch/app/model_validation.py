"""`cervixwatch validate-model` (issue 15, part 4): a risk model kept as data
(`app.risk_models`) checked against a cohort's outcomes, the population run's Parquet
(`app.population`): discrimination (AUC with DeLong's 95% interval), calibration (slope,
calibration-in-the-large, observed against predicted by group), the Brier score and a decision
curve (`app.model_metrics`).

Each woman is counted once: her pregnancy's row of one profile (the columns a model reads,
her lengths, history and outcome, are the same in every profile's row). A woman the model does
not apply to, or whose outcome cannot be said, is excluded and counted under her reason; the
report lists them, so a validation on a few hundred of a cohort's thousands is never mistaken
for one on all of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import duckdb
import numpy as np

from cervixwatch.app.audit_stats import wilson
from cervixwatch.app.model_metrics import (
    Calibration,
    CalibrationGroup,
    Interval,
    NetBenefit,
    auc,
    brier,
    calibration,
    calibration_groups,
    net_benefit,
    scaled_brier,
)
from cervixwatch.app.population import PARQUET_NAME, missing_columns, stale_rows_message
from cervixwatch.app.risk_models import (
    Applicable,
    ModelKind,
    NotApplicable,
    RiskModel,
    applicability,
    outcome_of,
    risk_of,
)

__all__ = ["DEFAULT_THRESHOLDS", "MIN_EVENTS", "BandTest", "Validation", "validate"]

#: Decision-curve thresholds: 1% to 50%, the range in which a clinician would act on a risk
#: of preterm birth (Vickers & Elkin 2006 draw the curve over the reasonable range).
DEFAULT_THRESHOLDS: Final = tuple(round(t / 100, 2) for t in range(1, 51))
#: Fewer events than this and the report says the intervals are wide: Collins GS, Ogundimu
#: EO, Altman DG. Sample size considerations for the external validation of a multivariable
#: prognostic model: a resampling study. Stat Med 2016;35:214-26 (at least 100 events).
MIN_EVENTS: Final = 100

#: Rows read from DuckDB at a time.
_BATCH: Final = 10_000
#: The columns a model reads, from the population run's Parquet (`population_rows.COLUMNS`).
_COLUMNS: Final = (
    "patient_id",
    "error",
    "fetuses",
    "prior_sptb",
    "ended_on",
    "ended_ga_days",
    "outcome",
    "sptb",
)
#: Read only for a model that needs them: her lengths are most of a row's bytes.
_LENGTH_COLUMNS: Final = ("lengths",)
_HISTORY_COLUMNS: Final = (
    "previous_births",
    "previous_birth_ga_days",
    "previous_birth_onset",
    "previous_birth_fetuses",
)


def _columns(model: RiskModel) -> tuple[str, ...]:
    lengths = _LENGTH_COLUMNS if model.length is not None else ()
    history = _HISTORY_COLUMNS if model.needs_previous_birth else ()
    return (*_COLUMNS, *lengths, *history)


@dataclass(frozen=True, slots=True)
class BandTest:
    """A likelihood-ratio model's shortest band read as a test: positive when her length is
    in it. Sensitivity and specificity with Wilson 95% intervals, beside the source's."""

    at_most_mm: float
    sensitivity: Interval
    specificity: Interval


@dataclass(frozen=True, slots=True)
class Validation:
    model: RiskModel
    cohort: str
    #: Women in the cohort (rows of one profile).
    women: int
    #: Why women were left out, most frequent first.
    excluded: Mapping[str, int]
    n: int
    events: int
    #: The pre-test probability a likelihood-ratio model was given (the cohort's prevalence).
    pretest: float | None
    auc: Interval | None
    calibration: Calibration | None
    brier: float | None
    scaled_brier: float | None
    groups: Sequence[CalibrationGroup]
    decision_curve: Sequence[NetBenefit]
    band_test: BandTest | None
    #: What limits the reading: too few events, a statistic that could not be estimated.
    cautions: tuple[str, ...]


def _rows(parquet: Path, columns: Sequence[str]) -> Iterator[dict[str, Any]]:
    """One row per woman: the first profile's (the columns read are the same in each), read
    a batch at a time (a million women's lengths, held at once, take gigabytes)."""
    if not parquet.is_file():
        raise ValueError(f"{parquet}: no population run here (run `cervixwatch population run`)")
    connection = duckdb.connect()
    try:
        missing = [c for c in missing_columns(connection, parquet) if c in columns]
        if missing:
            raise ValueError(stale_rows_message(parquet, missing))
        result = connection.execute(
            f"SELECT {', '.join(columns)} FROM read_parquet($path) "
            "WHERE profile = (SELECT min(profile) FROM read_parquet($path)) ORDER BY patient_id",
            {"path": str(parquet)},
        )
        names = [d[0] for d in result.description]
        while batch := result.fetchmany(_BATCH):
            for values in batch:
                yield dict(zip(names, values, strict=True))
    except duckdb.Error as error:
        raise ValueError(f"{parquet}: cannot be read ({error})") from None
    finally:
        connection.close()


def _band_test(model: RiskModel, cases: Sequence[tuple[Applicable, bool]]) -> BandTest | None:
    if model.kind is not ModelKind.LIKELIHOOD_RATIO:
        return None
    first = model.bands[0]
    positive = [case.band == 0 for case, _ in cases]
    events = [event for _, event in cases]
    true_pos = sum(p and e for p, e in zip(positive, events, strict=True))
    true_neg = sum(not p and not e for p, e in zip(positive, events, strict=True))
    n_events = sum(events)
    n_none = len(events) - n_events

    def interval(met: int, n: int) -> Interval:
        low, high = wilson(met, n) or (0.0, 1.0)
        return Interval(met / n, low, high)

    assert first.at_most_mm is not None
    return BandTest(first.at_most_mm, interval(true_pos, n_events), interval(true_neg, n_none))


def _estimate(
    risk: np.ndarray, outcome: np.ndarray
) -> tuple[Interval | None, Calibration | None, list[str]]:
    cautions = []
    try:
        area = auc(risk, outcome)
    except ValueError as error:
        area = None
        cautions.append(f"AUC not estimated: {error}")
    try:
        fitted = calibration(risk, outcome)
    except ValueError as error:
        fitted = None
        cautions.append(f"calibration not estimated: {error}")
    if fitted is not None and fitted.slope is None:
        cautions.append("calibration slope not estimated: the model gives every woman one risk")
    return area, fitted, cautions


def validate(
    model: RiskModel, cohort: Path, *, thresholds: Sequence[float] = DEFAULT_THRESHOLDS
) -> Validation:
    """The model against the cohort (a population run's directory or its Parquet file)."""
    parquet = cohort / PARQUET_NAME if cohort.is_dir() else cohort
    women = 0
    excluded: Counter[str] = Counter()
    cases: list[tuple[Applicable, bool]] = []
    for row in _rows(parquet, _columns(model)):
        women += 1
        case = applicability(model, row)
        if isinstance(case, NotApplicable):
            excluded[case.reason] += 1
            continue
        event = outcome_of(model, row)
        if isinstance(event, NotApplicable):
            excluded[event.reason] += 1
            continue
        cases.append((case, event))
    events = sum(e for _, e in cases)
    ordered = dict(sorted(excluded.items(), key=lambda kv: (-kv[1], kv[0])))
    if not cases or events == 0 or events == len(cases):
        why = (
            "no woman could be assessed by this model"
            if not cases
            else "every woman had the outcome"
            if events
            else "no woman had the outcome"
        )
        return Validation(
            model,
            str(parquet),
            women,
            ordered,
            len(cases),
            events,
            None,
            None,
            None,
            None,
            None,
            [],
            [],
            None,
            (f"Nothing to validate: {why}.",),
        )
    pretest = None
    if model.kind is ModelKind.LIKELIHOOD_RATIO:
        pretest = events / len(cases)
    odds = None if pretest is None else pretest / (1 - pretest)
    risk = np.array([risk_of(model, case, odds) for case, _ in cases])
    outcome = np.array([event for _, event in cases], dtype=bool)
    area, fitted, cautions = _estimate(risk, outcome)
    if events < MIN_EVENTS:
        cautions.insert(
            0,
            f"Only {events} women had the outcome: below the 100 events an external validation "
            "needs (Collins 2016), the intervals are wide and the figures unstable.",
        )
    return Validation(
        model=model,
        cohort=str(parquet),
        women=women,
        excluded=ordered,
        n=len(cases),
        events=events,
        pretest=pretest,
        auc=area,
        calibration=fitted,
        brier=brier(risk, outcome),
        scaled_brier=scaled_brier(risk, outcome),
        groups=calibration_groups(risk, outcome),
        decision_curve=net_benefit(risk, outcome, thresholds),
        band_test=_band_test(model, cases),
        cautions=tuple(cautions),
    )
