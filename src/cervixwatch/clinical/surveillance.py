"""The scan plan: when the next transvaginal cervical-length scans are due.

A rule that gives `serial-cervical-length` or `single-cervical-length-screen` carries a
`ScanSchedule` (its window in gestational age and, for serial scans, the interval). The plan
turns that into dates for this pregnancy and says whether the next scan is upcoming, due today
or overdue on `as_of`. Nothing here invents an interval: where the source leaves it to the
clinic, the plan gives the window and the first date only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from cervixwatch.clinical.frozen import quick_init
from cervixwatch.clinical.gestation import (
    GestationalAge,
    date_at_days,
    ga_days_on,
    ga_text,
    gestational_age,
)
from cervixwatch.clinical.guidelines import ScanSchedule
from cervixwatch.clinical.records import LengthMethod, PregnancyRecords

ScanStatus = Literal["upcoming", "due", "overdue"]
#: Bound once: `LengthMethod.TRANSVAGINAL` costs ~180 ns a read on Python 3.11 (facts.py says why).
_TRANSVAGINAL = LengthMethod.TRANSVAGINAL


@quick_init
@dataclass(frozen=True, slots=True)
class ScheduledScan:
    """The next scan: ideally on `due`, acceptable until `latest` (the same day for serial)."""

    due: dt.date
    latest: dt.date
    status: ScanStatus


@quick_init
@dataclass(frozen=True, slots=True)
class ScanPlan:
    guideline: str
    rule: str
    kind: Literal["serial", "single"]
    window_from: dt.date
    window_to: dt.date
    window_from_ga: GestationalAge
    window_to_ga: GestationalAge
    interval_days: int | None
    next_scan: ScheduledScan | None
    planned: tuple[dt.date, ...] = field(default=())
    note: str = ""
    #: The window, and the days after it when a scan would still change management, have
    #: passed without one (CD-05): shown and counted, no longer a task.
    missed: bool = False


def _status(as_of: dt.date, due: dt.date, latest: dt.date) -> ScanStatus:
    if as_of < due:
        return "upcoming"
    return "due" if as_of <= latest else "overdue"


def plan_scans(
    schedule: ScanSchedule,
    records: PregnancyRecords,
    as_of: dt.date,
    guideline: str,
    rule: str,
) -> ScanPlan | None:
    """The plan for one schedule, or None without an EDD (no dates can be set)."""
    edd = records.edd
    if edd is None:
        return None
    start = date_at_days(edd, schedule.from_days)
    end = date_at_days(edd, schedule.to_days)

    def plan(
        note: str = schedule.note,
        interval_days: int | None = None,
        next_scan: ScheduledScan | None = None,
        planned: tuple[dt.date, ...] = (),
        missed: bool = False,
    ) -> ScanPlan:
        # One constructor call per plan (not `replace` on a base): assessed for every rule
        # with a schedule, it is on the hot path (docs/performance.md).
        return ScanPlan(
            guideline=guideline,
            rule=rule,
            kind=schedule.kind,
            window_from=start,
            window_to=end,
            window_from_ga=gestational_age(schedule.from_days),
            window_to_ga=gestational_age(schedule.to_days),
            interval_days=interval_days,
            next_scan=next_scan,
            planned=planned,
            note=note,
            missed=missed,
        )

    if schedule.kind == "single":
        last_day = min(end, as_of)
        done = [
            m.measured_on
            for m in records.cervical_lengths
            if m.method is _TRANSVAGINAL and start <= m.measured_on <= last_day
        ]
        if done:
            return plan(note=f"Done: transvaginal length measured on {max(done)}.")
        if as_of > end and schedule.overdue_until_days is not None:
            last_useful = date_at_days(edd, schedule.overdue_until_days)
            if as_of > last_useful:
                return plan(
                    missed=True,
                    note=(
                        f"Missed: no transvaginal length in {ga_text(schedule.from_days)}-"
                        f"{ga_text(schedule.to_days)} ({start} to {end}), nor by "
                        f"{ga_text(schedule.overdue_until_days)} ({last_useful}), the "
                        "last day on which it would have changed management."
                    ),
                )
        return plan(
            next_scan=ScheduledScan(start, end, _status(as_of, start, end)), planned=(start,)
        )

    in_window = sorted(
        (
            m
            for m in records.cervical_lengths
            if m.method is _TRANSVAGINAL
            and m.measured_on <= as_of
            and ga_days_on(edd, m.measured_on) >= schedule.from_days
        ),
        key=lambda m: m.measured_on,
    )
    last = in_window[-1] if in_window else None
    stop = schedule.stop_below_mm
    if last is not None and stop is not None and last.length_mm < stop:
        return plan(
            note=(
                f"No further surveillance scan planned: the latest length, {last.length_mm:g} mm"
                f" on {last.measured_on}, is below {stop:g} mm, so the schedule gives way to a"
                " treatment decision (see the recommendations)."
            ),
        )
    interval = schedule.interval_days
    if (
        last is not None
        and schedule.shorter_interval_days is not None
        and schedule.shorter_at_least_mm is not None
        and schedule.shorter_below_mm is not None
        and schedule.shorter_at_least_mm <= last.length_mm < schedule.shorter_below_mm
    ):
        interval = schedule.shorter_interval_days
    if last is None:
        due = start
    elif interval is None:
        return plan()  # the clinic sets the interval: no date can be computed
    else:
        due = last.measured_on + dt.timedelta(days=interval)
    if due > end:
        return plan(
            interval_days=interval,
            note=(
                f"No further scan falls in {ga_text(schedule.from_days)}-"
                f"{ga_text(schedule.to_days)}."
            ),
        )
    planned = [due]
    if interval is not None:
        step = dt.timedelta(days=interval)
        while planned[-1] + step <= end:
            planned.append(planned[-1] + step)
    # "Every 2-4 weeks" (SBL v3.1): due at the first, overdue only after the second.
    grace = (
        schedule.overdue_after_days - interval
        if schedule.overdue_after_days is not None and interval is not None
        else 0
    )
    latest = min(due + dt.timedelta(days=grace), end)
    return plan(
        interval_days=interval,
        next_scan=ScheduledScan(due, latest, _status(as_of, due, latest)),
        planned=tuple(planned),
    )
