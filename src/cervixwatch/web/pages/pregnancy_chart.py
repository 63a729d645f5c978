"""The cervical-length chart of the pregnancy page, drawn on the server as SVG (no script):
length in mm against gestational age in weeks, the guides the clinic asked for (issue 5), a
line at today, and markers where a cerclage was placed or removed and where progesterone was
started or stopped (issue 13, part 6).

The axis follows the data: from 14 weeks (earlier if a scan was) to 30 weeks, or further to
the latest scan, treatment or today, never past 42 weeks. The measurements are also in the
table under the chart, which is what a screen reader reads; the SVG has a title and a
description that say so and summarise the points.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from cervixwatch.clinical.gestation import gestational_age_on

#: Gestational age shown at least (weeks), and never past: the clinic's view of issue 5 and
#: the end of pregnancy (issue 13: "the axis follows the data up to 42 weeks").
WEEKS_SHOWN: Final = (14, 30)
WEEKS_MOST: Final = 42
#: Lines at 25 mm (the short-cervix cut-off of ACOG142-04 and NICE-01) and 20 mm (SMFM70's);
#: the 16+0-24+0 window of serial surveillance (ACOG234-01, SBL-04) shaded.
LINES_MM: Final = (25, 20)
WINDOW_WEEKS: Final = (16, 24)
#: Millimetres shown at least (a normal cervix is 30-50 mm long).
MM_SHOWN: Final = 50

#: The drawing's size in SVG units; it scales to the width of its box.
WIDTH: Final = 720
HEIGHT: Final = 320
MARGIN: Final = {"left": 52, "right": 16, "top": 34, "bottom": 44}

METHOD_SHAPES: Final = {"transvaginal": "circle", "transabdominal": "square", "other": "triangle"}
METHOD_LABELS: Final = {
    "transvaginal": "Transvaginal",
    "transabdominal": "Transabdominal",
    "other": "Other approach",
}
MEDICATION_NAMES: Final = {
    "vaginal-progesterone": "Vaginal progesterone",
    "hydroxyprogesterone-caproate": "17-OHPC",
}


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    shape: str
    text: str


@dataclass(frozen=True, slots=True)
class Marker:
    """A treatment event drawn as a labelled vertical tick at the top of the plot."""

    x: float
    kind: str  # cerclage, progesterone
    label: str
    text: str


@dataclass(frozen=True, slots=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    """Everything the template draws, in SVG units."""

    width: int
    height: int
    plot: tuple[float, float, float, float]  # left, top, right, bottom
    weeks: tuple[int, int]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    lines: tuple[tuple[float, str], ...]  # (y, label)
    window: tuple[float, float, str]  # x from, x to, label
    series: tuple[tuple[str, str, tuple[Point, ...]], ...]  # (label, shape, points)
    markers: tuple[Marker, ...]
    today: tuple[float, str] | None
    description: str


def _weeks(edd: dt.date, day: dt.date) -> float:
    return gestational_age_on(edd, day).total_days / 7


def _span(weeks: Sequence[float]) -> tuple[int, int]:
    low = min([WEEKS_SHOWN[0], *(math.floor(w) for w in weeks)])
    high = max([WEEKS_SHOWN[1], *(math.floor(w) + 1 for w in weeks)])
    return max(low, 0), min(high, WEEKS_MOST)


def chart_of(
    lengths: Sequence[Any],
    placements: Sequence[Any],
    removals: Sequence[Any],
    medications: Sequence[Any],
    edd: dt.date | None,
    today: dt.date,
    shown_date: Callable[[dt.date], str] = dt.date.isoformat,
) -> Chart | None:
    """The chart of these records (rows), or None without an EDD (no gestational age); the
    days in its labels in `shown_date`'s format (the clinic's)."""
    if edd is None:
        return None
    events: list[tuple[float, str, str, str]] = []

    def event(day: dt.date, kind: str, label: str, what: str) -> None:
        when = f"{gestational_age_on(edd, day)} ({shown_date(day)})"
        events.append((_weeks(edd, day), kind, label, f"{what} at {when}"))

    for c in placements:
        event(c.placed_on, "cerclage", "Cerclage", "Cerclage placed")
    for r in removals:
        event(r.removed_on, "cerclage", "Removed", "Cerclage removed")
    for m in medications:
        name = MEDICATION_NAMES.get(m.medication.value, m.medication.value)
        if m.started_on is not None:
            event(m.started_on, "progesterone", name, f"{name} started")
        if m.stopped_on is not None:
            event(m.stopped_on, "progesterone", "Stopped", f"{name} stopped")
    now = _weeks(edd, today)
    scans = [(_weeks(edd, m.measured_on), m) for m in sorted(lengths, key=lambda m: m.measured_on)]
    shown = [w for w, _ in scans] + [w for w, *_ in events] + ([now] if now >= 0 else [])
    low, high = _span(shown)
    top_mm: int = max([MM_SHOWN, *(math.ceil(float(m.length_mm) / 10) * 10 for _, m in scans)])
    left, top = MARGIN["left"], MARGIN["top"]
    right, bottom = WIDTH - MARGIN["right"], HEIGHT - MARGIN["bottom"]

    def x(weeks: float) -> float:
        return round(left + (weeks - low) / (high - low) * (right - left), 1)

    def y(mm: float) -> float:
        return round(bottom - float(mm) / top_mm * (bottom - top), 1)

    def inside(weeks: float) -> bool:
        return low <= weeks <= high

    series: dict[str, list[Point]] = {}
    for weeks, m in scans:
        if not inside(weeks):
            continue  # before 0 or after 42 weeks: in the table only
        ga = gestational_age_on(edd, m.measured_on)
        method = m.method.value
        text = f"{ga} ({shown_date(m.measured_on)}): {m.length_mm:g} mm, {method}"
        shape = METHOD_SHAPES.get(method, "triangle")
        series.setdefault(method, []).append(Point(x(weeks), y(m.length_mm), shape, text))
    markers = tuple(
        Marker(x(w), kind, label, text) for w, kind, label, text in sorted(events) if inside(w)
    )
    step = 2 if high - low <= 30 else 4
    x_ticks = tuple(Tick(x(w), str(w)) for w in range(low + low % 2, high + 1, step))
    y_ticks = tuple(Tick(y(mm), str(mm)) for mm in range(0, top_mm + 1, 10))
    w_low, w_high = WINDOW_WEEKS
    drawn = [m.length_mm for w, m in scans if inside(w)]
    description = (
        f"{len(drawn)} measurement{'s' * (len(drawn) != 1)} drawn, {low} to {high} weeks"
        + (f", the shortest {min(drawn):g} mm" if drawn else "")
        + ". Every measurement is in the table below the chart."
    )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        plot=(left, top, right, bottom),
        weeks=(low, high),
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        lines=tuple((y(mm), f"{mm} mm") for mm in LINES_MM),
        window=(x(max(w_low, low)), x(min(w_high, high)), f"{w_low}+0 to {w_high}+0 weeks"),
        series=tuple(
            (METHOD_LABELS.get(method, method), METHOD_SHAPES.get(method, "triangle"), tuple(ps))
            for method, ps in series.items()
        ),
        markers=markers,
        today=(x(now), f"Today {gestational_age_on(edd, today)}") if inside(now) else None,
        description=description,
    )
