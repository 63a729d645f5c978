"""The population audit's report (issue 15, part 3): an `AuditResult` as one self-contained
HTML document a quality lead can read, a PDF of the same HTML, and the counts as JSON.

Self-contained means it fetches nothing: the CSS is inline, each funnel plot is an inline SVG
drawn by matplotlib with its text as paths (no font needed), and there is no script. The PDF
is rendered with a URL fetcher that refuses every URL, so a reference that slipped in fails
the rendering instead of reaching out. Only counts appear, never a row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from cervixwatch.app.audit_stats import Z95, Z998, FunnelPosition, funnel_limits
from cervixwatch.app.population_audit import (
    AuditResult,
    Count,
    MeasureResult,
    Quarters,
    UnitPoint,
)
from cervixwatch.app.report_rendering import (
    REPORT_TEMPLATES,
    chart,
    chart_svg,
    report_pdf,
    write_report_files,
)

__all__ = ["funnel_svg", "report_html", "report_json", "report_pdf", "write_report"]

_TEMPLATE: Final = "population_report.html"

#: Shown where there is no value (no denominator), and between the bounds of an interval.
_DASH: Final = "\N{EN DASH}"
#: Drawn points of each control limit curve: enough for a smooth curve at any denominator,
#: few enough that a network of a million pregnancies does not make a heavy SVG.
_CURVE_POINTS: Final = 400

_QUARTER_WORDS: Final[Mapping[Quarters, str]] = {
    "calendar": "calendar quarters of the EDD",
    "financial": "UK financial-year quarters of the EDD (April to March)",
}

_POSITION_WORDS: Final[Mapping[FunnelPosition, str]] = {
    "within": "within the 95% limits",
    "alert-high": "between the 95% and 99.8% limits (above)",
    "alert-low": "between the 95% and 99.8% limits (below)",
    "alarm-high": "beyond the 99.8% limits (above)",
    "alarm-low": "beyond the 99.8% limits (below)",
}

#: Marker and colour by funnel position: the shape tells them apart without colour, and the
#: colours are of the Okabe-Ito palette, which readers with a colour vision deficiency see.
_POINT_STYLE: Final[Mapping[str, tuple[str, str, str]]] = {
    "within": ("o", "#0072B2", "within the 95% limits"),
    "alert": ("^", "#E69F00", "alert: between the 95% and 99.8% limits"),
    "alarm": ("s", "#D55E00", "alarm: beyond the 99.8% limits"),
}

_TIER_ORDER: Final = ("high", "intermediate", "low")


# --- the funnel plot ------------------------------------------------------------------------


def _severity(position: FunnelPosition) -> str:
    return position.partition("-")[0]


def _slug(measure_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", measure_id)


def _svg_prefix(measure_id: str) -> str:
    return f"funnel-{_slug(measure_id)}-"


_LIMIT_COLOUR: Final = "#555555"
#: Each control limit: its z and its dash pattern.
_LIMITS: Final = {"95% limits": (Z95, (0, (4, 2))), "99.8% limits": (Z998, (0, (1, 1.5)))}


def _draw_limits(axes: Axes, p0: float, x_max: float) -> None:
    ns = np.unique(np.geomspace(1, max(x_max, 2), _CURVE_POINTS).round().astype(int)).tolist()
    for z, dashes in _LIMITS.values():
        limits = [funnel_limits(p0, n, z) for n in ns]
        for bound in ([x.low for x in limits], [x.high for x in limits]):
            axes.plot(ns, [100 * b for b in bound], color=_LIMIT_COLOUR, lw=0.9, ls=dashes)
    axes.axhline(100 * p0, color="#000000", linewidth=1)


def _draw_units(axes: Axes, points: Sequence[tuple[int, UnitPoint]]) -> None:
    for number, point in points:
        marker, colour, _ = _POINT_STYLE[_severity(point.position)]
        xy = (point.count.denominator, 100 * point.count.met / point.count.denominator)
        axes.plot(
            *xy,
            marker=marker,
            markersize=6,
            color=colour,
            markeredgecolor="#000000",
            markeredgewidth=0.5,
            linestyle="none",
            # A unit at 0% or 100% sits on the frame: drawn whole, not cut in half.
            clip_on=False,
            # Names the point's group in the SVG, so that each unit's point can be found.
            gid=f"unit-{number}",
        )
        axes.annotate(str(number), xy, xytext=(4, 3), textcoords="offset points", fontsize=7)


def _legend(figure: Figure, p0: float) -> None:
    handles = [
        Line2D(
            [],
            [],
            marker=marker,
            color=colour,
            markeredgecolor="#000000",
            markeredgewidth=0.5,
            linestyle="none",
            label=label,
        )
        for marker, colour, label in _POINT_STYLE.values()
    ]
    handles.append(Line2D([], [], color="#000000", lw=1, label=f"network rate {100 * p0:.1f}%"))
    handles += [
        Line2D([], [], color=_LIMIT_COLOUR, lw=0.9, ls=dashes, label=label)
        for label, (_, dashes) in _LIMITS.items()
    ]
    figure.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=7, frameon=False)


def _rate_range(p0: float, points: Sequence[tuple[int, UnitPoint]]) -> tuple[float, float]:
    """The rates shown (%): every unit and the 99.8% limits at the smallest unit's size, with a
    margin, within 0-100. Drawn from 0 to 100, units all near 99% would sit on one another."""
    smallest = min(p.count.denominator for _, p in points)
    outer = funnel_limits(p0, smallest, Z998)
    rates = [100 * p.count.met / p.count.denominator for _, p in points]
    low, high = min(100 * outer.low, *rates), max(100 * outer.high, *rates)
    margin = max(2.0, (high - low) * 0.1)
    return max(0.0, low - margin), min(100.0, high + margin)


def funnel_svg(result: MeasureResult) -> str:
    """The measure's funnel plot as an inline SVG element: each unit's rate (%) against its
    denominator, numbered in the order of `result.funnel` (the unit tables give the same
    numbers: unit names beside the points would overlap), the network's rate and its 95% and
    99.8% control limits. Units without a denominator are not drawn."""
    p0 = result.network.rate
    if p0 is None:
        return '<p class="no-plot">No pregnancy was counted for this measure: nothing to plot.</p>'
    prefix = _svg_prefix(result.measure.id)
    points = [(i, p) for i, p in enumerate(result.funnel, 1) if p.count.denominator > 0]
    x_max = max(p.count.denominator for _, p in points) * 1.1 + 1
    with chart(prefix, 16, 9) as (figure, axes):
        _draw_limits(axes, p0, x_max)
        _draw_units(axes, points)
        axes.set_xlim(0, x_max)
        axes.set_ylim(*_rate_range(p0, points))
        axes.set_xlabel("Denominator (women counted in the unit)")
        axes.set_ylabel("Rate (%)")
        _legend(figure, p0)
        return chart_svg(figure, prefix, f"Funnel plot of {result.measure.id} by unit", "funnel")


# --- what the report says -------------------------------------------------------------------


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


@dataclass(frozen=True, slots=True)
class _Cells:
    """One count as the report's table cells show it."""

    label: str
    met: str
    rate: str
    interval: str
    excluded: int
    undetermined: int


def _cells(label: str, count: Count) -> _Cells:
    interval = count.interval
    return _Cells(
        label=label,
        met=f"{count.met}/{count.denominator}" if count.denominator else _DASH,
        rate=_percent(count.rate) if count.rate is not None else _DASH,
        interval=(
            f"{100 * interval[0]:.1f}{_DASH}{100 * interval[1]:.1f}%"
            if interval is not None
            else _DASH
        ),
        excluded=count.excluded,
        undetermined=count.undetermined,
    )


def _worse(position: FunnelPosition, higher_is_better: bool) -> bool:
    return position.endswith("-low") == higher_is_better


def _position_words(position: FunnelPosition, higher_is_better: bool) -> tuple[str, str]:
    """Where a unit lies in words, and the verdict ("alert, worse") when outside the 95%."""
    severity = _severity(position)
    if severity == "within":
        return _POSITION_WORDS[position], ""
    judged = "worse" if _worse(position, higher_is_better) else "better"
    return _POSITION_WORDS[position], f"{severity}, {judged}"


def _outliers(result: MeasureResult, severity: str) -> str:
    if not result.network.denominator:
        return _DASH
    higher = result.measure.higher_is_better
    found = [p.position for p in result.funnel if _severity(p.position) == severity]
    worse = sum(_worse(position, higher) for position in found)
    return f"{worse} / {len(found) - worse}"


def _tiers(by_tier: Mapping[str, Count]) -> list[str]:
    known = [t for t in _TIER_ORDER if t in by_tier]
    return known + sorted(t for t in by_tier if t not in _TIER_ORDER)


def _unit_quarter(count: Count | None) -> tuple[str, str]:
    if count is None or not count.denominator:
        return _DASH, ""
    assert count.rate is not None
    return f"{count.met}/{count.denominator}", f"({_percent(count.rate)})"


def _section(result: MeasureResult, units: Sequence[str], quarters: Sequence[str]) -> Any:
    measure = result.measure
    numbers = {p.unit: i for i, p in enumerate(result.funnel, 1)}
    by_unit = []
    for unit in units:
        count = result.by_unit.get(unit, Count(0, 0, 0))
        point = next((p for p in result.funnel if p.unit == unit), None)
        if point is None or not count.denominator:
            words, verdict = "not plotted (no denominator)", ""
        else:
            words, verdict = _position_words(point.position, measure.higher_is_better)
        by_unit.append(
            {
                "number": numbers.get(unit, ""),
                "cells": _cells(unit, count),
                "position": words,
                "verdict": verdict,
            }
        )
    return {
        "measure": measure,
        "anchor": f"measure-{_slug(measure.id)}",
        "network": _cells("Network", result.network),
        "funnel": funnel_svg(result),
        "by_unit": by_unit,
        "by_quarter": [_cells(q, c) for q, c in result.by_quarter.items()],
        "by_tier": [_cells(t, result.by_tier[t]) for t in _tiers(result.by_tier)],
        "unit_quarter": [
            (unit, [_unit_quarter(result.by_unit_quarter.get((unit, q))) for q in quarters])
            for unit in units
            if any((unit, q) in result.by_unit_quarter for q in quarters)
        ],
        **_treatment_tables(result),
    }


def _treatment_tables(result: MeasureResult) -> dict[str, Any]:
    """A `by_treatment` measure's tables: by treatment, and by tier and treatment."""
    if not result.measure.by_treatment:
        return {"by_treatment": [], "tier_treatment": None}
    tiers = _tiers({tier: Count(0, 0, 0) for tier, _ in result.by_tier_treatment})
    return {
        "by_treatment": [_cells(t, c) for t, c in result.by_treatment.items()],
        "tier_treatment": {
            "tiers": tiers,
            "rows": [
                (
                    treatment,
                    [
                        _unit_quarter(result.by_tier_treatment.get((tier, treatment)))
                        for tier in tiers
                    ],
                )
                for treatment in result.by_treatment
            ],
        },
    }


def _generated(moment: dt.datetime) -> str:
    text = moment.strftime("%Y-%m-%d %H:%M")
    return f"{text} {moment.tzname()}" if moment.tzinfo is not None else text


def report_html(
    result: AuditResult,
    *,
    generated_at: dt.datetime,
    links: Sequence[tuple[str, str]] = (),
) -> str:
    """The whole report as one HTML document, self-contained (inline CSS and SVG, no script,
    nothing fetched), laid out for A4 when printed. `links`: (text, local path) shown above
    it on screen (the web app's way back and the PDF); none in a file, nor in print."""
    audit = result.audit
    context = {
        "links": list(links),
        "audit": audit,
        "parquet_name": result.parquet.name,
        "as_of": ", ".join(day.isoformat() for day in result.as_of) or _DASH,
        "quarters": _QUARTER_WORDS[result.quarters],
        "generated_at": _generated(generated_at),
        "rows": result.rows,
        "refused": result.refused,
        "refused_by_unit": sorted(result.refused_by_unit.items()),
        "quarter_labels": result.quarter_labels,
        "summary": [
            {
                "measure": m.measure,
                "anchor": f"measure-{_slug(m.measure.id)}",
                "cells": _cells(m.measure.id, m.network),
                "alert": _outliers(m, "alert"),
                "alarm": _outliers(m, "alarm"),
            }
            for m in result.measures
        ],
        "sections": [_section(m, result.units, result.quarter_labels) for m in result.measures],
        "wide_quarters": len(result.quarter_labels) > 8,
    }
    return REPORT_TEMPLATES.get_template(_TEMPLATE).render(context)


# --- the PDF and the files ------------------------------------------------------------------


def _count_json(count: Count) -> dict[str, Any]:
    interval = count.interval
    return {
        "met": count.met,
        "denominator": count.denominator,
        "excluded": count.excluded,
        "undetermined": count.undetermined,
        "rate": count.rate,
        "ci_low": interval[0] if interval is not None else None,
        "ci_high": interval[1] if interval is not None else None,
    }


def report_json(result: AuditResult) -> dict[str, Any]:
    """The counts of the report (and nothing else: no row), for another tool to read."""
    audit = result.audit
    return {
        "audit": audit.id,
        "version": audit.version,
        "title": audit.title,
        "profile": audit.profile,
        "parquet": result.parquet.name,
        "as_of": [day.isoformat() for day in result.as_of],
        "quarters": result.quarters,
        "rows": result.rows,
        "refused": result.refused,
        "refused_by_unit": dict(result.refused_by_unit),
        "measures": {
            m.measure.id: {
                "title": m.measure.title,
                "higher_is_better": m.measure.higher_is_better,
                "network": _count_json(m.network),
                "by_unit": {k: _count_json(c) for k, c in m.by_unit.items()},
                "by_quarter": {k: _count_json(c) for k, c in m.by_quarter.items()},
                "by_tier": {k: _count_json(c) for k, c in m.by_tier.items()},
                "by_unit_quarter": {
                    f"{unit}|{quarter}": _count_json(c)
                    for (unit, quarter), c in m.by_unit_quarter.items()
                },
                "funnel": {p.unit: p.position for p in m.funnel},
                **(
                    {
                        "by_treatment": {k: _count_json(c) for k, c in m.by_treatment.items()},
                        "by_tier_treatment": {
                            f"{tier}|{treatment}": _count_json(c)
                            for (tier, treatment), c in m.by_tier_treatment.items()
                        },
                    }
                    if m.measure.by_treatment
                    else {}
                ),
            }
            for m in result.measures
        },
        "not_measurable": [g.id for g in audit.not_measurable],
    }


def write_report(
    result: AuditResult, out_dir: Path, *, generated_at: dt.datetime, pdf: bool = True
) -> list[Path]:
    """Write `<audit id>.html`, `.pdf` (when `pdf`) and `.json` into `out_dir` (made if
    missing); the paths written, in that order."""
    text = report_html(result, generated_at=generated_at)
    return write_report_files(out_dir, result.audit.id, text, report_json(result), pdf=pdf)
