"""What needs doing, at the top of the pregnancy page (issue 13, part 6): the urgent alert, once
however many guidelines give it, with the reports that keep it open (CD-07); then the actions
the clinic's guidelines leave to do today, each once however many guidelines say it, in order
of urgency.

An action is a recommendation whose kind is a task and whose state is due or overdue
(`knowledge.recommendation_kinds`: advice and the referral pathway stay in the full list
below). Several guidelines giving the same code are one action, with each guideline's rule and
citation. Order: overdue before due, then the earliest date it is due by (its window's start
or its next scan), then the order of the codes in the contract. Nothing here decides a state:
each is the assessment's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from cervixwatch.app.assessing import URGENT_CODE
from cervixwatch.clinical.assessment import Assessment, Recommendation
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.knowledge.recommendation_kinds import RECOMMENDATION_KINDS, is_open_task
from cervixwatch.web.pages.worklist import code_label, guideline_name

_CODE_ORDER: Final = {code: n for n, code in enumerate(RECOMMENDATION_KINDS)}


@dataclass(frozen=True, slots=True)
class Source:
    """One guideline's word on an action: its summary, rule(s) and citation."""

    guideline: str
    summary: str
    rules: tuple[str, ...]
    citation: str


@dataclass(frozen=True, slots=True)
class Action:
    code: str
    label: str
    overdue: bool
    #: The state in words, with its dates (the first guideline's; they agree on the state).
    note: str
    #: The earliest day it is due by, where a window or scan plan gives one.
    due: dt.date | None
    sources: tuple[Source, ...]

    @property
    def guidelines(self) -> str:
        return ", ".join(s.guideline for s in self.sources)


@dataclass(frozen=True, slots=True)
class UrgentAlert:
    """Same-day evaluation (CD-07): why, once; each guideline's words and rule folded."""

    reasons: tuple[str, ...]
    assumptions: tuple[str, ...]
    sources: tuple[Source, ...]

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r for s in self.sources for r in s.rules))


def _source(r: Recommendation, profiles: Mapping[str, GuidelineProfile]) -> Source:
    return Source(guideline_name(profiles, r.guideline), r.summary, tuple(r.rules), r.citation)


def _due(r: Recommendation, assessment: Assessment) -> dt.date | None:
    days = [
        p.next_scan.due
        for p in assessment.scan_plans
        if p.guideline == r.guideline and p.rule == r.rule and p.next_scan is not None
    ]
    if r.window is not None:
        days.append(r.window[0])
    return min(days) if days else None


def urgent_alert(
    assessment: Assessment, profiles: Mapping[str, GuidelineProfile]
) -> UrgentAlert | None:
    """The one urgent alert of the page, or None when no guideline asks for it today."""
    urgent = [r for r in assessment.recommendations if r.code == URGENT_CODE]
    if not urgent:
        return None
    return UrgentAlert(
        reasons=tuple(dict.fromkeys(r.reason for r in urgent if r.reason)),
        assumptions=tuple(dict.fromkeys(a for r in urgent for a in r.assumptions)),
        sources=tuple(_source(r, profiles) for r in urgent),
    )


def due_actions(assessment: Assessment, profiles: Mapping[str, GuidelineProfile]) -> list[Action]:
    """The open tasks of the assessment, one per code, most urgent first."""
    by_code: dict[str, list[Recommendation]] = {}
    for r in assessment.recommendations:
        if is_open_task(r.code, r.state):
            by_code.setdefault(r.code, []).append(r)
    actions = []
    for code, given in by_code.items():
        dues = [d for d in (_due(r, assessment) for r in given) if d is not None]
        overdue = any(r.state == "overdue" for r in given)
        first = next((r for r in given if r.state == "overdue"), given[0])
        actions.append(
            Action(
                code=code,
                label=code_label(code),
                overdue=overdue,
                note=first.state_note,
                due=min(dues) if dues else None,
                sources=tuple(_source(r, profiles) for r in given),
            )
        )
    return sorted(
        actions,
        key=lambda a: (
            not a.overdue,
            a.due is None,
            a.due or dt.date.min,
            _CODE_ORDER.get(a.code, len(_CODE_ORDER)),
        ),
    )


def summaries(sources: Sequence[Source]) -> list[str]:
    """The distinct summaries of an action's guidelines, in their order."""
    return list(dict.fromkeys(s.summary for s in sources))
