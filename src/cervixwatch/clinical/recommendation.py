"""What an assessment says: recommendations with their state in the course of care, what a
suppression withheld, and the treatments under way. Plain data, made by `assessment` and
`course`, read by every view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cervixwatch.clinical.frozen import quick_init
from cervixwatch.clinical.gestation import GestationalAge

RecommendationState = Literal["due", "in-place", "declined", "overdue", "missed"]
STATES: tuple[RecommendationState, ...] = ("due", "in-place", "declined", "overdue", "missed")


@quick_init
@dataclass(frozen=True, slots=True)
class Recommendation:
    """One guideline's recommendation, traceable to its rule, source and the facts behind it."""

    code: str
    guideline: str
    strength: str
    rule: str
    rules: tuple[str, ...]
    citation: str
    provenance: str
    summary: str
    facts: Mapping[str, Any]
    window: tuple[dt.date, dt.date] | None = None
    #: The course of care (profiles.md): due, in-place, declined, overdue or missed.
    state: RecommendationState = "due"
    #: The state in plain words, with its dates and rule ("declined on 2026-02-01").
    state_note: str = ""
    #: Plain sentences, one per usual value assumed for an unknown fact (CD-01).
    assumptions: tuple[str, ...] = ()
    #: Why, in the clinic's words, where the rule's facts alone do not say (the symptoms of
    #: an unreviewed report, who reported them and how long they have waited: CD-07).
    reason: str = ""


@quick_init
@dataclass(frozen=True, slots=True)
class CurrentTreatment:
    """A treatment under way on the assessment's day: a cerclage in situ, an active order."""

    treatment: str  # "cerclage", "vaginal-progesterone", "hydroxyprogesterone-caproate"
    since: dt.date | None
    since_ga: GestationalAge | None
    detail: str


@quick_init
@dataclass(frozen=True, slots=True)
class Withheld:
    """A recommendation a rule would give but a suppression withholds (shown for review)."""

    code: str
    guideline: str
    rule: str
    withheld_by: str
    reason: str
