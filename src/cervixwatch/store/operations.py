"""What the operator's probes and metrics read from the database: whether it answers, the
schema revision it is at, and how many urgent symptom reports wait for a clinician. Counts
only: nothing here reads a name, a hospital number or a clinical value."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, exists, func, select

from cervixwatch.store.models import AssessmentRow, SymptomReportRow, SymptomReviewRow


def schema_revision(connection: Connection) -> str | None:
    """The Alembic revision the database is at (None: never migrated). Reading it also
    proves the database answers."""
    return MigrationContext.configure(connection).get_current_revision()


#: Symptom reports with no review yet, of pregnancies whose current assessment asks for
#: same-day evaluation: a report stays open, and her pregnancy urgent, until a clinician's
#: review of it is recorded (CD-07).
_URGENT_WAITING = (
    select(func.count(SymptomReportRow.id))
    .join(AssessmentRow, AssessmentRow.pregnancy_id == SymptomReportRow.pregnancy_id)
    .where(AssessmentRow.urgent.is_(True))
    .where(~exists().where(SymptomReviewRow.symptom_report_id == SymptomReportRow.id))
)


def urgent_reports_waiting(connection: Connection) -> int:
    """How many symptom reports wait for review on an urgent pregnancy."""
    return int(connection.execute(_URGENT_WAITING).scalar_one())
