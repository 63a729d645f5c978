"""An index in the worklist's default order (issue 12, part 3).

The worklist's first page is sorted urgent first, then overdue, then by the next scan due
(none due last). Without an index in that order, PostgreSQL read and sorted every
assessment, ended pregnancies' included, on every request: 133 ms of a single query at
50,000 women and 5,000 active (docs/performance.md). With it the page is read off the index
and stops once it has a page of active pregnancies (5.7 ms). PostgreSQL only: SQLite has no
NULLS LAST in an index.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no NULLS LAST in an index (store.models.AssessmentRow)
    op.create_index(
        "ix_assessments_worklist_order",
        "assessments",
        [sa.text("urgent DESC"), sa.text("overdue DESC"), sa.text("next_scan_due ASC NULLS LAST")],
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_assessments_worklist_order", table_name="assessments")
