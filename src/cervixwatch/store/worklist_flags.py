"""The worklist row's flags, copied out of an assessment when it is stored (issue 13, parts 1
and 5): nothing here decides anything clinical, it reads what `assess` decided.

- the fetus count, a cerclage in situ, vaginal progesterone under way (the assessment's facts);
- the removal of the cerclage due or overdue (the state of its `remove-cerclage`
  recommendation, RCOG75-10 / ACOG142-12);
- why she is urgent: the `urgent-evaluation` recommendation's reason in the clinic's words
  (CD-07), what made it fire (a red-flag symptom she reported, an exam finding, other
  symptoms) and the day it began;
- the actions that need doing: due or overdue recommendations whose kind is a task
  (`knowledge.recommendation_kinds`), generic advice left to the pregnancy page;
- the rank the worklist is ordered by (docs/clinical-interpretations.md, I-W-1):
  0 a red-flag symptom reported and not yet reviewed (bleeding, fluid, contractions, fever:
  "immediate assessment", TRI-05), 1 an urgent exam finding (TRI-06), 2 other urgent
  symptoms (same-day, TRI-05), 3 a cerclage whose removal is overdue (RCOG75-10, ACOG142-12:
  before labour), 4 anything else overdue (a scan, any task: CD-05), 5 a scan or a
  removal due now, 6 the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from cervixwatch.clinical.assessment import Assessment
from cervixwatch.clinical.facts import open_reports
from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.knowledge.recommendation_kinds import is_open_task

URGENT_CODE: Final = "urgent-evaluation"
REMOVAL_CODE: Final = "remove-cerclage"
#: Facts of an exam that make `urgent-evaluation` fire (TRI-06); their names as the rule's
#: fired facts give them.
EXAM_FACTS: Final = frozenset({"membranes_exposed", "dilation_cm"})
(
    RANK_RED_FLAG,
    RANK_EXAM,
    RANK_SYMPTOMS,
    RANK_REMOVAL_OVERDUE,
    RANK_OVERDUE,
    RANK_DUE,
    RANK_REST,
) = range(7)


def _urgent_kind(assessment: Assessment) -> str | None:
    urgent = [r for r in assessment.recommendations if r.code == URGENT_CODE]
    if not urgent:
        return None
    if assessment.facts.get("current_red_flag_symptom") is True:
        return "red-flag"
    if any(EXAM_FACTS & set(r.facts) for r in urgent):
        return "exam"
    return "symptoms"


def _urgent_since(kind: str | None, records: PregnancyRecords, as_of: dt.date) -> dt.date | None:
    """The day the urgency began: the earliest unreviewed report (CD-07), else the latest
    exam."""
    if kind is None:
        return None
    reports = [r for r in open_reports(records.symptom_reports, as_of) if r.present]
    if reports and kind != "exam":
        return min(r.reported_on for r in reports)
    exams = [e.examined_on for e in records.exams if e.examined_on <= as_of]
    return max(exams, default=None)


def _removal(assessment: Assessment) -> str | None:
    states = {
        r.state
        for r in assessment.recommendations
        if r.code == REMOVAL_CODE and is_open_task(r.code, r.state)
    }
    return "overdue" if "overdue" in states else ("due" if states else None)


def _rank(kind: str | None, overdue: bool, scan_status: str | None, removal: str | None) -> int:
    if kind is not None:
        return {"red-flag": RANK_RED_FLAG, "exam": RANK_EXAM}.get(kind, RANK_SYMPTOMS)
    if removal == "overdue":
        return RANK_REMOVAL_OVERDUE
    if overdue:
        return RANK_OVERDUE
    if scan_status == "due" or removal == "due":
        return RANK_DUE
    return RANK_REST


def worklist_flags(
    assessment: Assessment, records: PregnancyRecords, result: Mapping[str, Any]
) -> dict[str, Any]:
    """The flag columns of the stored assessment (store.models.AssessmentRow)."""
    actions: dict[str, list[dict[str, str]]] = {g: [] for g in assessment.guidelines}
    for r in assessment.recommendations:
        if is_open_task(r.code, r.state):
            actions.setdefault(r.guideline, []).append({"code": r.code, "state": r.state})
    kind = _urgent_kind(assessment)
    urgent = next((r for r in assessment.recommendations if r.code == URGENT_CODE), None)
    removal = _removal(assessment)
    overdue = any(
        p.next_scan is not None and p.next_scan.status == "overdue" for p in assessment.scan_plans
    ) or any(a["state"] == "overdue" for tasks in actions.values() for a in tasks)
    return {
        "fetuses": records.fetuses,
        "cerclage_in_situ": assessment.facts.get("cerclage_in_situ") is True,
        "cerclage_removal": removal,
        "on_progesterone": assessment.facts.get("on_vaginal_progesterone") is True,
        "urgent_kind": kind,
        "urgent_reason": (urgent.reason or urgent.summary) if urgent is not None else None,
        "urgent_since": _urgent_since(kind, records, assessment.as_of),
        "worklist_rank": _rank(kind, overdue, result.get("next_scan_status"), removal),
        "actions": actions,
    }
