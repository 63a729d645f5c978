"""Assessing a stored pregnancy: the assessment JSON on any day (nothing is written), and the
short summary of the assessment a write has just stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.notifications import queue_red_flag_notifications
from cervixwatch.app.reassessing import Profiles, reassess
from cervixwatch.clinical.assessment import Assessment, assess
from cervixwatch.clinical.gestation import GestationalAge
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.knowledge import bundled_evidence
from cervixwatch.store import load_records
from cervixwatch.store.assessments import URGENT_CODE as URGENT_CODE  # re-exported, for the web
from cervixwatch.store.crud import plausible_id
from cervixwatch.store.records import NotFound
from cervixwatch.views.json_view import assessment_json


@dataclass(frozen=True, slots=True)
class AssessmentSummary:
    """The current assessment of a pregnancy in brief: codes by guideline and the flags the
    worklist shows (the full assessment is `assess_pregnancy`'s)."""

    pregnancy_id: str
    as_of: dt.date
    gestational_age: GestationalAge | None
    risk_tier: str | None
    codes: dict[str, list[str]]
    urgent: bool
    next_scan_due: dt.date | None
    overdue: bool


def summarise(pregnancy_id: str, assessment: Assessment) -> AssessmentSummary:
    return AssessmentSummary(
        pregnancy_id=pregnancy_id,
        as_of=assessment.as_of,
        gestational_age=assessment.gestational_age,
        risk_tier=assessment.risk.tier,
        codes={g: sorted(assessment.codes(g)) for g in assessment.guidelines},
        urgent=any(r.code == URGENT_CODE for r in assessment.recommendations),
        next_scan_due=assessment.next_scan_due,
        overdue=any(
            p.next_scan is not None and p.next_scan.status == "overdue"
            for p in assessment.scan_plans
        ),
    )


def reassess_pregnancy(
    session: Session, pregnancy_id: str | None, today: dt.date, profiles: Profiles
) -> AssessmentSummary | None:
    """Recompute and store the pregnancy's assessment in the writer's transaction (nothing to
    do for a woman with no active pregnancy: `pregnancy_id` None).

    Every write of a form or the JSON API ends here, so here her care team's notification of
    a red-flag symptom report just stored (or amended to name one) is queued, in the same
    transaction (`app.notifications`, issue 13 part 1): nothing queued for a report rolled
    back, nothing lost for one committed. A report already notified is not notified again."""
    if pregnancy_id is None:
        return None
    _, assessment = reassess(session, pregnancy_id, today, profiles)
    queue_red_flag_notifications(session, pregnancy_id)
    return summarise(pregnancy_id, assessment)


def assess_pregnancy(
    sessions: sessionmaker[Session],
    pregnancy_id: str,
    as_of: dt.date,
    profiles: Sequence[GuidelineProfile],
) -> dict[str, Any]:
    """The assessment of a stored pregnancy on `as_of` by `profiles`, as the JSON that
    `cervixwatch assess --format json` prints. Reads only: the stored assessment stays."""
    if not plausible_id(pregnancy_id):
        raise NotFound(f"no pregnancy {pregnancy_id}")
    with sessions() as session:
        records = load_records(session, pregnancy_id)
    assessment = assess(records, as_of, profiles, bundled_evidence())
    return assessment_json(assessment, records, profiles)
