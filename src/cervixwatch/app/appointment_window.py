"""When the next cervical-length scan is due, by the scan plans of the pregnancy's assessment
of today under the guidelines the clinic shows (`clinical.surveillance`): what a booking is
offered and kept with (`app.appointments`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.pregnancy_view import load_view
from cervixwatch.clinical.assessment import Assessment
from cervixwatch.clinical.guidelines import GuidelineProfile

__all__ = ["DueWindow", "due_window", "next_scan_window"]


@dataclass(frozen=True, slots=True)
class DueWindow:
    """When the next scan is due by the assessment's scan plans: the earliest next scan of
    any plan, the latest acceptable day, the plan's window and its rule."""

    due: dt.date
    latest: dt.date
    window_from: dt.date
    window_to: dt.date
    rule: str


def due_window(assessment: Assessment) -> DueWindow | None:
    """The earliest next scan of the assessment's scan plans (None: no scan is planned)."""
    planned = [p for p in assessment.scan_plans if p.next_scan is not None]
    if not planned:
        return None
    plan = min(planned, key=lambda p: p.next_scan.due if p.next_scan else dt.date.max)
    assert plan.next_scan is not None
    return DueWindow(
        plan.next_scan.due, plan.next_scan.latest, plan.window_from, plan.window_to, plan.rule
    )


def next_scan_window(
    sessions: sessionmaker[Session],
    pregnancy_id: str,
    today: dt.date,
    profiles: Mapping[str, GuidelineProfile],
) -> DueWindow | None:
    """The next scan's window of the pregnancy as assessed today (`NotFound`: no pregnancy)."""
    return due_window(load_view(sessions, pregnancy_id, today, profiles).assessment)
