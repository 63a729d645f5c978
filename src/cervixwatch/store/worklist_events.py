"""A cheap "has the worklist changed?" marker for the live update (issue 13, part 1).

Anything that changes what a worklist shows stores an assessment (a record written, a report
reviewed, the day's refresh) or ends a pregnancy. The marker is the latest instant an
assessment was stored (`ix_assessments_computed_at`, one index step) and how many are of
active pregnancies (the partial index of migration 0013): two index reads, whatever the number
of women, so every worker can ask once a second.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cervixwatch.store.models import AssessmentRow


def worklist_marker(session: Session) -> str:
    """A value that differs whenever any worklist may show something else."""
    latest = select(func.max(AssessmentRow.computed_at)).scalar_subquery()
    active = (
        select(func.count())
        .select_from(AssessmentRow)
        .where(AssessmentRow.pregnancy_active)
        .scalar_subquery()
    )
    found = session.execute(select(latest, active)).one()
    stored = found[0].isoformat() if found[0] is not None else "-"
    return f"{stored}/{found[1]}"
