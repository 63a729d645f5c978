"""A review's note and instant, and who took a report by telephone (issue 13, part 1).

`symptom_reviews.note`: what the clinician wrote when recording the review (CD-07 asks who,
when and the outcome; the clinic asked for a note beside them). `symptom_reviews.reviewed_at`:
the instant the review was recorded, when it was recorded in CervixWatch (`reviewed_on` stays
the clinic's calendar day). `symptom_reports.taken_by`: the clinician who took the report by
telephone and entered it (none: the woman or a feed entered it), so the page can say where the
report came from. All nullable: rows written before say nothing of these.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("symptom_reviews") as batch:
        batch.add_column(sa.Column("note", sa.String(1000), nullable=True))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("symptom_reports") as batch:
        batch.add_column(sa.Column("taken_by", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("symptom_reports") as batch:
        batch.drop_column("taken_by")
    with op.batch_alter_table("symptom_reviews") as batch:
        batch.drop_column("reviewed_at")
        batch.drop_column("note")
