"""A risk model's validation (`app.model_validation`) as a report: one self-contained HTML
document (inline CSS, the calibration plot and the decision curve as inline SVG drawn by
matplotlib, no script, nothing fetched), a PDF of the same HTML, and the figures as JSON.
Only counts and statistics appear, never a woman's row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from cervixwatch.app.model_metrics import Interval
from cervixwatch.app.model_validation import MIN_EVENTS, Validation
from cervixwatch.app.report_rendering import (
    REPORT_TEMPLATES,
    chart,
    chart_svg,
    write_report_files,
)
from cervixwatch.app.risk_models import ModelKind, RiskModel
from cervixwatch.clinical.gestation import ga_text

__all__ = ["calibration_svg", "decision_curve_svg", "report_html", "report_json", "write_report"]

_TEMPLATE: Final = "model_validation_report.html"
_DASH: Final = "\N{EN DASH}"
#: The decision curve's thresholds shown as a table beside the plot.
_TABLE_THRESHOLDS: Final = (0.05, 0.1, 0.2, 0.3, 0.5)
_KIND_WORDS: Final = {
    ModelKind.LOGISTIC: "Logistic regression",
    ModelKind.LIKELIHOOD_RATIO: "Likelihood ratios by cervical length",
    ModelKind.RISK_TABLE: "Table of absolute risks",
}


def calibration_svg(validation: Validation) -> str:
    """Observed against predicted risk (%), one point per group of women with its Wilson 95%
    interval, and the line where they are equal."""
    groups = validation.groups
    if not groups:
        return '<p class="no-plot">Nothing to plot: no woman was validated.</p>'
    prefix = f"calibration-{validation.model.id}-"
    top = max(max(g.observed.high for g in groups), max(g.mean_risk for g in groups))
    limit = min(100.0, top * 110) or 1.0
    with chart(prefix, 12, 10) as (figure, axes):
        axes.plot(
            [0, limit],
            [0, limit],
            color="#777777",
            linestyle=(0, (4, 2)),
            linewidth=0.8,
            label="Predicted = observed",
        )
        xs = [g.mean_risk * 100 for g in groups]
        ys = [g.observed.value * 100 for g in groups]
        below = [max(0.0, (g.observed.value - g.observed.low) * 100) for g in groups]
        above = [max(0.0, (g.observed.high - g.observed.value) * 100) for g in groups]
        axes.errorbar(
            xs,
            ys,
            yerr=[below, above],
            fmt="o",
            color="#1f4e79",
            markersize=4,
            capsize=2,
            linewidth=0.8,
            label="Groups of women (95% interval)",
        )
        axes.set_xlim(0, limit)
        axes.set_ylim(0, limit)
        axes.set_xlabel("Predicted risk (%)")
        axes.set_ylabel("Observed (%)")
        axes.legend(loc="upper left", frameon=False)
        return chart_svg(figure, prefix, f"Calibration plot of {validation.model.id}", "chart")


def decision_curve_svg(validation: Validation) -> str:
    """Net benefit against the threshold probability: the model, treating every woman, and
    treating none."""
    curve = validation.decision_curve
    if not curve:
        return '<p class="no-plot">Nothing to plot: no woman was validated.</p>'
    prefix = f"decision-{validation.model.id}-"
    xs = [c.threshold * 100 for c in curve]
    prevalence = validation.events / validation.n
    with chart(prefix, 14, 9) as (figure, axes):
        axes.plot(xs, [c.model for c in curve], color="#1f4e79", linewidth=1.4, label="Model")
        axes.plot(
            xs,
            [c.treat_all for c in curve],
            color="#a33b00",
            linewidth=0.9,
            linestyle=(0, (4, 2)),
            label="Treat every woman",
        )
        axes.axhline(0, color="#555555", linewidth=0.9, linestyle=(0, (1, 1.5)), label="Treat none")
        axes.set_ylim(-prevalence * 0.25, prevalence * 1.1)
        axes.set_xlim(xs[0], xs[-1])
        axes.set_xlabel("Threshold probability (%)")
        axes.set_ylabel("Net benefit")
        axes.legend(loc="upper right", frameon=False)
        return chart_svg(figure, prefix, f"Decision curve of {validation.model.id}", "chart")


def _percent(value: float, decimals: int = 1) -> str:
    return f"{value * 100:.{decimals}f}%"


def _interval(value: Interval | None, *, percent: bool = False, decimals: int = 3) -> str:
    if value is None:
        return "not estimated"
    if percent:
        return f"{_percent(value.value)} ({_percent(value.low)}{_DASH}{_percent(value.high)})"
    # Rounded first, and + 0.0: a value that rounds to zero is shown as 0.000, not -0.000.
    low, value_, high = (
        f"{round(v, decimals) + 0.0:.{decimals}f}" for v in (value.low, value.value, value.high)
    )
    return f"{value_} ({low}{_DASH}{high})"


def _valid_range(model: RiskModel) -> str:
    plurality = {1: "singletons", 2: "twins"}
    parts = [" and ".join(plurality.get(f, f"{f} fetuses") for f in sorted(model.fetuses))]
    if model.length is not None:
        parts.append(
            f"the first transvaginal length at {ga_text(model.length.from_days)}{_DASH}"
            f"{ga_text(model.length.upto_days)} weeks"
        )
    if model.needs_previous_birth:
        parts.append("a previous birth")
    return "; ".join(parts)


def _decision_rows(validation: Validation) -> list[tuple[str, str, str]]:
    by_threshold = {round(c.threshold, 4): c for c in validation.decision_curve}
    rows = []
    for threshold in _TABLE_THRESHOLDS:
        point = by_threshold.get(round(threshold, 4))
        if point is not None:
            rows.append((_percent(threshold, 0), f"{point.model:.4f}", f"{point.treat_all:.4f}"))
    return rows


def report_html(
    validation: Validation,
    *,
    generated_at: dt.datetime,
    links: Sequence[tuple[str, str]] = (),
) -> str:
    """The report as one self-contained HTML document; `links` (text, href) are shown above
    it on screen only (the web app's way back and its PDF), never in print."""
    model = validation.model
    fitted = validation.calibration
    context = {
        "model": model,
        "kind": _KIND_WORDS[model.kind],
        "valid_range": _valid_range(model),
        "cohort_name": "/".join(Path(validation.cohort).parts[-2:]),
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "v": validation,
        "prevalence": _percent(validation.events / validation.n) if validation.n else _DASH,
        "pretest": None if validation.pretest is None else _percent(validation.pretest),
        "auc": _interval(validation.auc),
        "intercept": _interval(None if fitted is None else fitted.intercept),
        "slope": _interval(None if fitted is None else fitted.slope),
        "brier": _DASH if validation.brier is None else f"{validation.brier:.4f}",
        "scaled_brier": _DASH
        if validation.scaled_brier is None
        else f"{validation.scaled_brier:.3f}",
        "groups": [
            (g.n, g.events, _percent(g.mean_risk), _interval(g.observed, percent=True))
            for g in validation.groups
        ],
        "band_test": None
        if validation.band_test is None
        else {
            "at_most_mm": f"{validation.band_test.at_most_mm:g}",
            "sensitivity": _interval(validation.band_test.sensitivity, percent=True),
            "specificity": _interval(validation.band_test.specificity, percent=True),
            "published_sensitivity": model.published.get("sensitivity_percent"),
            "published_specificity": model.published.get("specificity_percent"),
        },
        "decision_rows": _decision_rows(validation),
        "calibration_svg": calibration_svg(validation),
        "decision_svg": decision_curve_svg(validation),
        "min_events": MIN_EVENTS,
        "links": list(links),
    }
    return REPORT_TEMPLATES.get_template(_TEMPLATE).render(context)


def _interval_json(value: Interval | None) -> dict[str, float] | None:
    return None if value is None else {"value": value.value, "low": value.low, "high": value.high}


def report_json(validation: Validation) -> dict[str, Any]:
    """The validation's figures: what the HTML shows, as numbers."""
    model = validation.model
    fitted = validation.calibration
    band = validation.band_test
    return {
        "model": {
            "id": model.id,
            "title": model.title,
            "kind": model.kind.value,
            "citation": model.citation,
            "source": model.source,
            "outcome": model.outcome_words,
            "published": dict(model.published),
        },
        "cohort": validation.cohort,
        "women": validation.women,
        "excluded": dict(validation.excluded),
        "n": validation.n,
        "events": validation.events,
        "pretest": validation.pretest,
        "auc": _interval_json(validation.auc),
        "calibration": None
        if fitted is None
        else {
            "intercept": _interval_json(fitted.intercept),
            "slope": _interval_json(fitted.slope),
        },
        "brier": validation.brier,
        "scaled_brier": validation.scaled_brier,
        "groups": [
            {
                "n": g.n,
                "events": g.events,
                "mean_risk": g.mean_risk,
                "observed": _interval_json(g.observed),
            }
            for g in validation.groups
        ],
        "decision_curve": [
            {"threshold": c.threshold, "model": c.model, "treat_all": c.treat_all}
            for c in validation.decision_curve
        ],
        "band_test": None
        if band is None
        else {
            "at_most_mm": band.at_most_mm,
            "sensitivity": _interval_json(band.sensitivity),
            "specificity": _interval_json(band.specificity),
        },
        "cautions": list(validation.cautions),
    }


def write_report(
    validation: Validation, out_dir: Path, *, generated_at: dt.datetime, pdf: bool = True
) -> Sequence[Path]:
    """Write `<model id>-validation.html`, `.pdf` (when `pdf`) and `.json` into `out_dir`
    (made if missing); the paths written, in that order."""
    text = report_html(validation, generated_at=generated_at)
    stem = f"{validation.model.id}-validation"
    return write_report_files(out_dir, stem, text, report_json(validation), pdf=pdf)
